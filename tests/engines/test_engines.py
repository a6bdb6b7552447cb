"""Engines without a cluster: choosing one, the local engine, snapshots, errors, the hook."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

import ecomlm_sdk
from ecomlm_sdk import EcomStore, EngineError, EvaluationReport, Task, TaskError, hookimpl, testing
from ecomlm_sdk.engines import (
    Engine,
    LocalEngine,
    ParquetInput,
    PredictorSpec,
    Snapshot,
    choose_engine,
    get_engine,
)


class Doubler:
    """A picklable predictor: ``x`` -> ``y = 2x``; fails on a negative value."""

    def __init__(self, factor: int = 2) -> None:
        self.factor = factor

    def __call__(self, batch: pa.Table) -> pa.Table:
        values = batch.column("x").to_pylist()
        if any(v < 0 for v in values):
            raise RuntimeError(f"negative value {min(values)}")
        return pa.table({"y": pa.array([v * self.factor for v in values], pa.int64())})


def test_local_engine_maps_batches_in_order_and_names_the_failing_rows() -> None:
    engine = get_engine("local", batch_size=3, quiet=True)
    out = engine.map_batches(pa.table({"x": list(range(10))}), PredictorSpec(factory=Doubler))
    assert out.column("y").to_pylist() == [2 * i for i in range(10)]
    bad = pa.table({"x": [1, 2, 3, 4, -5, 6, 7]})
    with pytest.raises(EngineError, match=r"rows 3-5: RuntimeError: negative value -5"):
        engine.map_batches(bad, PredictorSpec(factory=Doubler, job="doubling"))


def test_local_engine_reads_only_the_asked_columns_of_parquet(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": [1, 2, 3], "secret": ["a", "b", "c"]}), path)
    source = ParquetInput(paths=(str(path),), columns=("x",))
    assert source.read().column_names == ["x"]
    out = get_engine("local", quiet=True).map_batches(source, PredictorSpec(factory=Doubler))
    assert out.column("y").to_pylist() == [2, 4, 6]


def test_choose_engine_defaults_env_and_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECOMLM_ENGINE", raising=False)
    assert choose_engine(None, kind="texts", rows=10**6) is None
    assert choose_engine("local", kind="texts", rows=10**6) is None
    assert choose_engine("in-process", kind="texts", rows=10) is None
    # "auto" stays in-process when no engine says it suits the job (no cluster connected)
    assert choose_engine("auto", kind="texts", rows=10**6) is None
    engine = LocalEngine()
    assert choose_engine(engine, kind="texts", rows=1) is engine  # an engine object is used
    monkeypatch.setenv("ECOMLM_ENGINE", "nope")
    assert choose_engine(None, kind="texts", rows=10) is None  # small jobs stay here
    with pytest.raises(ecomlm_sdk.UnknownComponentError, match="Unknown engine 'nope'"):
        choose_engine(None, kind="texts", rows=5_000)
    with pytest.raises(EngineError, match="unknown job kind"):
        choose_engine(None, kind="videos", rows=1)
    with pytest.raises(EngineError, match="engine must be a name"):
        choose_engine(3, kind="texts", rows=1)  # type: ignore[arg-type]


def test_engine_options_are_validated() -> None:
    with pytest.raises(EngineError, match="Invalid options for engine 'local'"):
        get_engine("local", batch_size=0)


def test_snapshot_round_trip_refuses_paths_leaving_the_folder(tmp_path: Path) -> None:
    (tmp_path / "m" / "sub").mkdir(parents=True)
    (tmp_path / "m" / "a.json").write_text("{}")
    (tmp_path / "m" / "sub" / "b.bin").write_bytes(b"\x00\x01")
    snapshot = Snapshot.of_folder(tmp_path / "m")
    assert dict(snapshot.files) == {"a.json": b"{}", "sub/b.bin": b"\x00\x01"}
    assert snapshot.nbytes == 4
    out = snapshot.write(tmp_path / "copy")
    assert (out / "sub" / "b.bin").read_bytes() == b"\x00\x01"
    for name in ("../evil.py", "/etc/evil"):
        with pytest.raises(EngineError, match="leaves its folder"):
            Snapshot(((name, b"x"),)).write(tmp_path / "bad")
    assert not (tmp_path / "evil.py").exists()


def test_predictors_on_the_local_engine_equal_in_process(tiny_bert_dir: str) -> None:
    store = ecomlm_sdk.sample_store()
    engine = LocalEngine(batch_size=500, quiet=True)
    pp = ecomlm_sdk.task("purchase-prediction", quiet=True).fit(store)
    assert_frame_equal(
        pp.predict(store, engine=engine).sort("customer_id"),
        pp.predict(store).sort("customer_id"),
        check_exact=False,
        rel_tol=1e-9,
    )
    rec = ecomlm_sdk.task("recommendation", quiet=True).fit(store)
    ids = store.customers.get_column("customer_id").head(700).to_list()
    assert_frame_equal(rec.recommend(ids, engine=engine), rec.recommend(ids), check_exact=False)
    embedder = ecomlm_sdk.load_model("minilm-embedder", name_or_path=tiny_bert_dir, quiet=True)
    texts = store.products.get_column("title").head(300).to_list()
    np.testing.assert_allclose(
        embedder.embed(texts, engine=LocalEngine(batch_size=64)), embedder.embed(texts), atol=1e-5
    )


class OrderCount(Task):
    """A task with no engine path (it does not override ``_predict_on``)."""

    name: ClassVar[str] = "order-count"

    def _fit(self, store: EcomStore) -> None:
        pass

    def _predict(self, store: EcomStore) -> pl.DataFrame:
        return pl.DataFrame({"orders": [store.orders.height]})

    def _evaluate(self, store: EcomStore, cutoff: Any, **kwargs: Any) -> EvaluationReport:
        return EvaluationReport(task=self.name, metrics={})

    def _save(self, folder: Path) -> None:
        pass

    def _load(self, folder: Path) -> None:
        pass


def test_a_task_without_an_engine_path_says_so(store: EcomStore) -> None:
    task = OrderCount().fit(store)
    assert task.predict(store, engine="local").item() == store.orders.height
    with pytest.raises(TaskError, match="'order-count' runs in-process only"):
        task.predict(store, engine=LocalEngine())


class Counting(Engine):
    """An engine of a test plugin: runs in-process and counts the calls."""

    name: ClassVar[str] = "counting"
    calls: ClassVar[list[str]] = []

    def map_batches(self, table: Any, predictor: PredictorSpec) -> pa.Table:
        self.calls.append(predictor.job)
        return LocalEngine().map_batches(table, predictor)

    def map_partitions(
        self,
        partitions: Sequence[Mapping[str, pa.Table]],
        predictor: PredictorSpec,
        shared: Mapping[str, pa.Table] | None = None,
    ) -> pa.Table:
        self.calls.append(predictor.job)
        return LocalEngine().map_partitions(partitions, predictor, shared)


def test_hook_register_engines(fresh_plugins: None, tiny_bert_dir: str) -> None:
    class Plugin:
        @hookimpl
        def register_engines(self, register: Callable[..., None]) -> None:
            register(Counting)

    with testing.registered_plugin(Plugin(), name="counting-plugin"):
        embedder = ecomlm_sdk.load_model("minilm-embedder", name_or_path=tiny_bert_dir)
        vectors = embedder.embed(["red mug", "blue lamp"], engine="counting")
        assert Counting.calls == ["minilm-embedder.embed"]
        np.testing.assert_allclose(vectors, embedder.embed(["red mug", "blue lamp"]), atol=1e-5)
        assert isinstance(get_engine("counting"), Counting)
    with pytest.raises(ecomlm_sdk.UnknownComponentError):
        get_engine("counting")


def test_cli_engine_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from ecomlm_sdk.cli import main

    monkeypatch.delenv("ECOMLM_ENGINE", raising=False)
    out = tmp_path / "recs.csv"
    runner = CliRunner()
    result = runner.invoke(
        main, ["recommend", "--engine", "local", "-k", "3", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out).get_column("rank").max() == 3
    result = runner.invoke(main, ["recommend", "--engine", "nope", "-k", "3", "--output", str(out)])
    assert result.exit_code == 1 and "Unknown engine 'nope'" in result.output


@pytest.mark.timeout(60)
def test_echo_warnings_replays_a_library_warning_once(capsys: pytest.CaptureFixture[str]) -> None:
    """A library's warning in a CLI command is shown once after it, not recorded forever.

    (Replaying it inside the recording block appended it to the list being read: the
    ``--engine ray`` CLI hung on Ray Data's DeprecationWarnings.)
    """
    import warnings

    from ecomlm_sdk.cli.common import echo_warnings

    with warnings.catch_warnings(record=True) as outer:
        warnings.simplefilter("always")
        with echo_warnings():
            warnings.warn_explicit("library says hi", UserWarning, "/lib/other.py", 7)
            warnings.warn("ecomlm says hi", ecomlm_sdk.StoreMismatchWarning, stacklevel=1)
    assert [str(w.message) for w in outer] == ["library says hi"]
    assert "warning: ecomlm says hi" in capsys.readouterr().err


def test_predict_dataset_scores_a_parquet_dataset_as_the_store(tmp_path: Path) -> None:
    from ecomlm_sdk.data.partition import write_parquet_dataset

    store = ecomlm_sdk.sample_store()
    folder = write_parquet_dataset(store, tmp_path / "shop", partitions=3, quiet=True)
    pp = ecomlm_sdk.task("purchase-prediction", quiet=True).fit(store)
    assert_frame_equal(
        pp.predict_dataset(folder).sort("customer_id"),
        pp.predict(store).sort("customer_id"),
        check_exact=False,
        rel_tol=1e-9,
    )
    with pytest.raises(ecomlm_sdk.NotFittedError):
        ecomlm_sdk.task("purchase-prediction").predict_dataset(folder)
