"""The ``ray`` engine on a local cluster: the same results as in-process, errors, resources.

Every test has a timeout: a scheduling hang fails in minutes instead of stalling CI.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

import ecomlm_sdk
from ecomlm_sdk import EngineError
from ecomlm_sdk.engines import ParquetInput, PredictorSpec, choose_engine, get_engine

from .test_engines import Doubler

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]


@pytest.fixture(scope="module")
def store() -> ecomlm_sdk.EcomStore:
    return ecomlm_sdk.sample_store()


def test_map_batches_keeps_order_with_two_workers(ray_cluster: ModuleType) -> None:
    engine = get_engine("ray", workers=2, batch_size=50, quiet=True)
    out = engine.map_batches(pa.table({"x": list(range(1000))}), PredictorSpec(factory=Doubler))
    assert out.column("y").to_pylist() == [2 * i for i in range(1000)]
    assert engine.parallelism() == 2


def test_a_failing_block_is_reported_with_its_rows(ray_cluster: ModuleType) -> None:
    engine = get_engine("ray", workers=2, batch_size=100, quiet=True)
    values = list(range(400))
    values[250] = -1
    with pytest.raises(EngineError, match=r"doubling failed on engine 'ray'.*rows 200-299.*-1"):
        engine.map_batches(pa.table({"x": values}), PredictorSpec(factory=Doubler, job="doubling"))


def test_actor_pool_next_to_a_parquet_read_does_not_hang(
    ray_cluster: ModuleType, tmp_path: Path
) -> None:
    """Two actors on a 2-CPU cluster plus the read tasks: actors reserve fractional CPUs."""
    for i in range(4):
        pq.write_table(
            pa.table({"x": list(range(i * 500, (i + 1) * 500)), "other": ["z"] * 500}),
            tmp_path / f"part-{i}.parquet",
        )
    engine = get_engine("ray", workers=2, quiet=True)
    source = ParquetInput(paths=(str(tmp_path),), columns=("x",))
    out = engine.map_batches(source, PredictorSpec(factory=Doubler))
    assert sorted(out.column("y").to_pylist()) == [2 * i for i in range(2000)]


def test_purchase_prediction_on_ray_equals_in_process(
    ray_cluster: ModuleType, store: ecomlm_sdk.EcomStore
) -> None:
    pp = ecomlm_sdk.task("purchase-prediction", quiet=True).fit(store)
    on_ray = pp.predict(store, engine="ray")
    assert_frame_equal(
        on_ray.sort("customer_id"),
        pp.predict(store).sort("customer_id"),
        check_exact=False,
        rel_tol=1e-9,
        abs_tol=1e-12,
    )


def test_recommendations_on_ray_equal_in_process(
    ray_cluster: ModuleType, store: ecomlm_sdk.EcomStore
) -> None:
    rec = ecomlm_sdk.task("recommendation", quiet=True).fit(store)
    ids = [*store.customers.get_column("customer_id").head(1500).to_list(), "never-seen"]
    for exclude_owned in (False, True):
        assert_frame_equal(
            rec.recommend(ids, k=5, exclude_owned=exclude_owned, engine="ray"),
            rec.recommend(ids, k=5, exclude_owned=exclude_owned),
            check_exact=False,
            rel_tol=1e-6,
        )


def test_text_models_on_ray_equal_in_process(
    ray_cluster: ModuleType, tiny_bert_dir: str, store: ecomlm_sdk.EcomStore
) -> None:
    texts = store.products.get_column("title").head(600).to_list()
    embedder = ecomlm_sdk.load_model("minilm-embedder", name_or_path=tiny_bert_dir, quiet=True)
    np.testing.assert_allclose(
        embedder.embed(texts, engine="ray"), embedder.embed(texts), atol=1e-5
    )
    catalogue = ecomlm_sdk.embed_products(
        store, "minilm-embedder", name_or_path=tiny_bert_dir, quiet=True, engine="ray"
    )
    assert catalogue.height == store.products.height
    assert catalogue.schema["embedding"] == pl.Array(pl.Float32, embedder.dimension)
    classifier = ecomlm_sdk.load_model("bert-classifier", backbone=tiny_bert_dir, quiet=True)
    labels = ["gift" if "CARD" in t or "BAG" in t else "home" for t in texts]
    classifier.fit(texts[:200], labels[:200], mode="head", epochs=2)
    np.testing.assert_allclose(
        classifier.predict_proba(texts, engine="ray"), classifier.predict_proba(texts), atol=1e-5
    )


def test_support_backlog_on_ray_equals_in_process(
    ray_cluster: ModuleType, tiny_bert_dir: str, store: ecomlm_sdk.EcomStore
) -> None:
    support = ecomlm_sdk.task(
        "support",
        examples_per_intent=5,
        classifier_options={"backbone": tiny_bert_dir, "device": "cpu", "quiet": True},
        classifier_fit_options={"mode": "head", "epochs": 2},
        embedder_options={"name_or_path": tiny_bert_dir, "device": "cpu", "quiet": True},
        quiet=True,
    ).fit(store)
    customer = store.orders.get_column("customer_id").drop_nulls()[0]
    order = store.orders.filter(pl.col("customer_id") == customer).get_column("order_id")[0]
    messages = [f"where is my order {order}", "I want a refund", "hello", "cancel my order"] * 30
    ids = [customer, None, "nobody", customer] * 30
    local = support.answer_many(messages, ids, store=store, act=False)
    remote = support.answer_many(messages, ids, store=store, act=False, engine="ray")
    assert len(remote) == len(local)
    for got, want in zip(remote, local, strict=True):
        # decisions and texts exactly; probabilities within float noise of another batch shape
        floats = {"confidence", "margin", "similarity", "neighbour_similarity", "alternatives"}
        assert got.model_dump(exclude=floats) == want.model_dump(exclude=floats)
        assert got.confidence == pytest.approx(want.confidence, abs=1e-5)
        assert got.alternatives == pytest.approx(want.alternatives, abs=1e-5)
    with pytest.raises(ecomlm_sdk.TaskError, match="pass act=False"):
        support.answer_many(messages[:2], ids[:2], store=store, engine="ray")


def test_auto_keeps_small_jobs_in_process(ray_cluster: ModuleType) -> None:
    # A 2-CPU cluster on a machine with at least as many cores: in-process measured faster.
    assert choose_engine("auto", kind="texts", rows=10**6) is None
    assert choose_engine("auto", kind="texts", rows=10) is None


def test_cli_engine_option_runs_on_ray(ray_cluster: ModuleType, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ecomlm_sdk.cli import main

    runner = CliRunner()
    out_ray, out_local = tmp_path / "ray.csv", tmp_path / "local.csv"
    for engine, out in (("ray", out_ray), ("local", out_local)):
        args = ["recommend", "--engine", engine, "-k", "3", "--output", str(out)]
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
    assert_frame_equal(pl.read_csv(out_ray), pl.read_csv(out_local), check_exact=False)


def test_predict_dataset_on_ray_reads_partitions_on_the_workers(
    ray_cluster: ModuleType, store: ecomlm_sdk.EcomStore, tmp_path: Path
) -> None:
    from ecomlm_sdk.data.partition import write_parquet_dataset

    folder = write_parquet_dataset(store, tmp_path / "shop", partitions=4, quiet=True)
    pp = ecomlm_sdk.task("purchase-prediction", quiet=True).fit(store)
    assert_frame_equal(
        pp.predict_dataset(folder, engine="ray").sort("customer_id"),
        pp.predict(store).sort("customer_id"),
        check_exact=False,
        rel_tol=1e-9,
    )
