"""check_task and check_roi_metric pass on good tasks and metrics (a plugin's and the built-in
support task on fakes) and fail on a broken task for each mistake."""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest

import ecomlm_sdk
from ecomlm_sdk import EcomStore, EvaluationReport, Task, hookimpl, testing


class OrderCount(Task):
    """A plugin's task: orders per customer, learned at fit time (state saved as JSON)."""

    name: ClassVar[str] = "order-count"

    def _fit(self, store: EcomStore) -> None:
        counts = store.orders.group_by("customer_id").len().drop_nulls().sort("customer_id")
        self.counts = dict(counts.iter_rows())

    def _predict(self, store: EcomStore) -> pl.DataFrame:
        ids = sorted(store.customers.get_column("customer_id").to_list())
        return pl.DataFrame(
            {"customer_id": ids, "orders": [self.counts.get(i, 0) for i in ids]},
            schema={"customer_id": pl.String, "orders": pl.Int64},
        )

    def _evaluate(self, store: EcomStore, cutoff: Any, **kwargs: Any) -> EvaluationReport:
        history, future = store.split(cutoff or "2011-05-01")
        copy = type(self)(**dict(self.options)).fit(history)
        predicted = copy.predict(future).get_column("orders").mean()
        actual = future.orders.height / max(future.customers.height, 1)
        return EvaluationReport(
            task=self.name, metrics={"abs_error": abs(float(predicted or 0) - actual)}
        )

    def _save(self, folder: Path) -> None:
        pl.DataFrame(
            {"customer_id": list(self.counts), "orders": list(self.counts.values())}
        ).write_parquet(folder / "counts.parquet")

    def _load(self, folder: Path) -> None:
        self.counts = dict(pl.read_parquet(folder / "counts.parquet").iter_rows())


def test_tasks_pass(store: EcomStore, tmp_path: Path) -> None:
    predictions = testing.check_task(OrderCount(), store, tmp_path / "plugin")
    assert predictions.get_column("orders").to_list() == [3, 2, 1, 1]
    # fitted already: the NotFittedError checks run on a fresh copy
    testing.check_task(OrderCount().fit(store), store, tmp_path / "fitted")


class Fakes:
    @hookimpl
    def register_models(self, register: Any) -> None:
        register(testing.FakeClassifier)
        register(testing.FakeEmbedder)


@pytest.fixture
def fakes() -> Iterator[None]:
    with testing.registered_plugin(Fakes(), name="kit-fakes"):
        yield


def test_the_builtin_support_task_passes(fakes: None, store: EcomStore, tmp_path: Path) -> None:
    task = ecomlm_sdk.task("support", classifier="fake-classifier", embedder="fake-embedder")
    predictions = testing.check_task(task, store, tmp_path)
    assert predictions.height == store.tickets.height


def test_a_save_that_forgets_state_is_caught(store: EcomStore, tmp_path: Path) -> None:
    class Forgetful(OrderCount):
        def _save(self, folder: Path) -> None:
            (folder / "counts.json").write_text("{}")

        def _load(self, folder: Path) -> None:
            self.counts = {}

    with pytest.raises(AssertionError, match="saved and loaded task must predict the same"):
        testing.check_task(Forgetful(), store, tmp_path)


def test_a_pickled_save_is_caught(store: EcomStore, tmp_path: Path) -> None:
    class Pickled(OrderCount):
        def _save(self, folder: Path) -> None:
            (folder / "state.pkl").write_bytes(pickle.dumps(self.counts))

        def _load(self, folder: Path) -> None:
            self.counts = pickle.loads((folder / "state.pkl").read_bytes())

    with pytest.raises(AssertionError, match=r"pickle files \['state.pkl'\]"):
        testing.check_task(Pickled(), store, tmp_path)


def test_a_schema_that_changes_after_load_is_caught(store: EcomStore, tmp_path: Path) -> None:
    class FloatAfterLoad(OrderCount):
        def _load(self, folder: Path) -> None:
            super()._load(folder)
            self.loaded = True

        def _predict(self, store: EcomStore) -> pl.DataFrame:
            frame = super()._predict(store)
            return frame.cast({"orders": pl.Float64}) if getattr(self, "loaded", False) else frame

    with pytest.raises(AssertionError, match="a loaded task predicts with schema"):
        testing.check_task(FloatAfterLoad(), store, tmp_path)


def test_non_finite_metrics_are_caught(store: EcomStore, tmp_path: Path) -> None:
    class NanMetric(OrderCount):
        def _evaluate(self, store: EcomStore, cutoff: Any, **kwargs: Any) -> EvaluationReport:
            return EvaluationReport(task=self.name, metrics={"auc": math.nan})

    with pytest.raises(AssertionError, match=r"metrics are not finite: \{'auc': nan\}"):
        testing.check_task(NanMetric(), store, tmp_path)


def test_evaluate_refitting_the_task_in_place_is_caught(store: EcomStore, tmp_path: Path) -> None:
    class RefitsSelf(OrderCount):
        def _evaluate(self, store: EcomStore, cutoff: Any, **kwargs: Any) -> EvaluationReport:
            history, _ = store.split("2011-03-01")
            self._fit(history)  # overwrites what fit() learned
            return EvaluationReport(task=self.name, metrics={"abs_error": 0.0})

    with pytest.raises(AssertionError, match=r"evaluate\(\) changed the fitted task"):
        testing.check_task(RefitsSelf(), store, tmp_path)


def test_predicting_before_fit_must_raise(store: EcomStore, tmp_path: Path) -> None:
    class Eager(OrderCount):
        counts: ClassVar[dict[str, int]] = {}

        def predict(self, store: EcomStore) -> pl.DataFrame:
            return self._predict(store)  # skips the fitted guard

    with pytest.raises(AssertionError, match=r"predict\(\) before fit\(\) must raise"):
        testing.check_task(Eager(), store, tmp_path)


def test_roi_metric_contract() -> None:
    roi = ecomlm_sdk.roi_metric("roi")
    assert testing.check_roi_metric(roi, revenue=150.0, investment=100.0) == pytest.approx(0.5)
