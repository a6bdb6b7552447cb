"""The shared validated ``__init__`` (``ecomlm_sdk.options``), the Task chores the base does, and
compatibility with subclasses written against the 0.1 API (issue 14, items 6, 7, 14, 15)."""

from __future__ import annotations

import inspect
import sys
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pytest
from pydantic import Field

import ecomlm_sdk
from ecomlm_sdk import EcomStore, testing
from ecomlm_sdk.data.source import DataSource, DataSourceOptions
from ecomlm_sdk.errors import DataSourceError, ModelError, NotFittedError, TaskError
from ecomlm_sdk.hookspecs import Register, hookimpl
from ecomlm_sdk.models.base import ModelOptions, TextClassifier
from ecomlm_sdk.options import Configurable
from ecomlm_sdk.tasks.base import EvaluateOptions, EvaluationReport, Task, TaskOptions


class PathOptions(DataSourceOptions):
    path: str = Field(description="Where the data is.")


class TypedSource(DataSource[PathOptions]):
    """Options come from the type parameter: no ``Options =`` line."""

    name: ClassVar[str] = "typed-source"

    def _load(self) -> EcomStore:
        return testing.fixture_store()


class LegacySource(DataSource):
    """Written against 0.1: no type parameter, ``Options`` set as a class attribute."""

    name: ClassVar[str] = "legacy-source"
    Options: ClassVar[type[DataSourceOptions]] = PathOptions

    def _load(self) -> EcomStore:
        assert isinstance(self.options, PathOptions)
        return testing.fixture_store()


class LegacyClassifier(TextClassifier):
    """A 0.1 classifier: nested ``Options``, ``_fit`` and ``_predict_proba``, no type parameter."""

    name: ClassVar[str] = "legacy-classifier"

    class Options(ModelOptions):
        smoothing: float = Field(default=1.0, description="Add-k smoothing.")

    def _fit(self, texts: list[str], labels: list[str], **kwargs: Any) -> None:
        self.labels = sorted(set(labels))

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        torch_loaded = "torch" in sys.modules
        if torch_loaded:
            import torch

            # The base entered inference mode around the private method.
            assert torch.is_inference_mode_enabled()
        return np.full((len(texts), len(self.labels)), 1 / len(self.labels))


def test_options_typed_from_the_type_parameter() -> None:
    source = TypedSource(path="exports/")
    assert TypedSource.Options is PathOptions
    assert isinstance(source.options, PathOptions) and source.options.path == "exports/"
    with pytest.raises(DataSourceError, match="Invalid options for data source 'typed-source'"):
        TypedSource(path="x", colour="red")


def test_legacy_subclasses_work_unchanged() -> None:
    source = LegacySource(path="exports/")
    assert source.options.path == "exports/"  # type: ignore[attr-defined]
    assert source.load().orders.height > 0
    classifier = LegacyClassifier(smoothing=0.5).fit(["a", "b"], ["x", "y"])
    assert classifier.options.smoothing == 0.5  # type: ignore[attr-defined]
    assert classifier.predict_proba(["a"]).shape == (1, 2)
    assert classifier.fast_fit_options == {} and classifier.calibrated is False
    with pytest.raises(ModelError, match="Invalid options for model 'legacy-classifier'"):
        LegacyClassifier(smoothing="lots")


def test_one_validated_init_for_every_base() -> None:
    for base in (DataSource, TextClassifier, Task):
        assert issubclass(base, Configurable)
        assert "__init__" not in vars(base) or "super().__init__" in inspect.getsource(
            vars(base)["__init__"]
        )


class _AliasPlugin:
    @hookimpl
    def register_models(self, register: Register) -> None:
        register(LegacyClassifier, name="renamed-classifier")


def test_errors_use_the_registered_name() -> None:
    with testing.registered_plugin(_AliasPlugin(), name="alias-test"):
        with pytest.raises(ModelError, match="model 'renamed-classifier'") as caught:
            ecomlm_sdk.load_model("renamed-classifier", colour="red")
        assert "legacy-classifier" not in str(caught.value)
        model = ecomlm_sdk.load_model("renamed-classifier")
        assert model.display_name == "renamed-classifier"
        with pytest.raises(NotFittedError, match="'renamed-classifier' has no labels"):
            model.predict_proba(["a"])
    # Created directly, a component is called by its class's name.
    assert LegacyClassifier().display_name == "legacy-classifier"


# ------------------------------------------------------------------------------------- tasks
class CountOptions(TaskOptions):
    scale: int = Field(default=1, ge=1, description="Multiplier of the counts.")


class CountEvaluateOptions(EvaluateOptions):
    top: int | None = Field(default=None, ge=1, description="Customers judged; None: all.")


class CountTask(Task[CountOptions]):
    """Orders per customer: the smallest task using every chore of the base."""

    name: ClassVar[str] = "count-orders"
    EvaluateOptions = CountEvaluateOptions
    requires_cutoff = True
    output_schema: ClassVar[dict[str, type[pl.DataType]]] = {
        "customer_id": pl.String,
        "orders": pl.Int64,
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.counts: pl.DataFrame | None = None
        self.broken = False

    def _fit(self, store: EcomStore) -> None:
        self.counts = store.orders.group_by("customer_id").agg(
            (pl.len().cast(pl.Int64) * self.options.scale).alias("orders")
        )

    def _predict(self, store: EcomStore) -> pl.DataFrame:
        counts = self.require_fitted(self.counts)
        return counts.with_columns(pl.col("orders").cast(pl.Float64)) if self.broken else counts

    def _evaluate(self, store: EcomStore, cutoff: Any, **kwargs: Any) -> EvaluationReport:
        trainee = self.clone()
        history, _ = store.split(cutoff)
        trainee._fit(history)
        return EvaluationReport(task=self.name, metrics={"given": float(len(kwargs))})

    def _save(self, folder: Path) -> None:
        self.require_fitted(self.counts).write_parquet(folder / "counts.parquet")

    def _load(self, folder: Path) -> None:
        self.counts = pl.read_parquet(folder / "counts.parquet")


def test_task_chores_in_the_base(store: EcomStore) -> None:
    task = CountTask(scale=2)
    assert task.options.scale == 2  # typed as CountOptions, no ignore needed
    with pytest.raises(NotFittedError, match="'count-orders' is not fitted"):
        task.predict(store)
    with pytest.raises(TaskError, match="needs a cutoff"):
        task.evaluate(store)
    with pytest.raises(TaskError, match=r"unknown argument\(s\) \['k'\]; it takes cutoff, top"):
        task.evaluate(store, cutoff="2011-06-01", k=3)
    with pytest.raises(TaskError, match="invalid arguments"):
        task.evaluate(store, cutoff="2011-06-01", top=0)
    report = task.evaluate(store, cutoff="2011-06-01", top=2)
    assert report.metrics == {"given": 1.0}  # only the arguments given reach _evaluate
    assert not task.fitted  # evaluate trained a clone
    clone = task.fit(store).clone()
    assert clone.options == task.options and not clone.fitted and clone is not task
    task.broken = True
    with pytest.raises(TaskError, match=r"output_schema.*orders is Float64, not Int64"):
        task.predict(store)


def test_saved_model_options_drop_weight_sources() -> None:
    task = CountTask()
    given = {"backbone": "bert-base", "name_or_path": "x", "trust_remote_code": True, "k": 1}
    assert task.saved_model_options(given) == {"k": 1}
    task.trust_remote_code = True
    assert task.saved_model_options(given) == {"k": 1, "trust_remote_code": True}


def test_task_docstring_names_the_abstract_methods() -> None:
    doc = Task.__doc__ or ""
    assert sorted(Task.__abstractmethods__) == ["_evaluate", "_fit", "_load", "_predict", "_save"]
    for method in Task.__abstractmethods__:
        assert f"``{method}``" in doc
    assert "_state" not in doc and "_restore" not in doc


def test_old_task_names_warn_and_resolve() -> None:
    from ecomlm_sdk.tasks import prediction, recommendation
    from ecomlm_sdk.tasks.prediction import task as prediction_task

    with pytest.warns(DeprecationWarning, match="use ecomlm_sdk.tasks.prediction.Purchase"):
        assert prediction.PurchasePrediction is prediction.PurchasePredictionTask
    with pytest.warns(DeprecationWarning, match="RecommendationTask"):
        assert recommendation.Recommendation is recommendation.RecommendationTask
    with pytest.warns(DeprecationWarning):
        assert prediction_task.PurchasePrediction is prediction.PurchasePredictionTask
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ecomlm_sdk.task("purchase-prediction").__class__.__name__ == (
            "PurchasePredictionTask"
        )
        with pytest.raises(AttributeError):
            _ = prediction.NoSuchName  # type: ignore[attr-defined]


def test_classifier_declares_its_fast_fit() -> None:
    from ecomlm_bert.classifier import BertClassifier

    assert BertClassifier.fast_fit_options == {"mode": "head"}
    import ecomlm_sdk.tasks.support.task as support

    assert not hasattr(support, "FAST_FIT")  # no table keyed by model name in the task


def test_fit_options_are_checked_by_the_base() -> None:
    fake = testing.FakeClassifier()
    with pytest.raises(ModelError, match=r"Invalid fit\(\) arguments for model 'fake-classifier'"):
        fake.fit(["a", "b"], ["x", "y"], epochs=3)
    assert fake.fit(["a", "b"], ["x", "y"], smoothing=0.5).smoothing == 0.5
    # Without FitOptions (a 0.1 classifier) the arguments reach _fit unchecked, as before.
    assert LegacyClassifier().fit(["a", "b"], ["x", "y"], anything=1).labels == ["x", "y"]
