"""The top-level entry points: ``load_store``, ``load_model``, ``task``, ``load_task``, ``plugins``,
and ``write_table`` (a result frame to CSV, Parquet or JSON Lines by the file's extension).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, overload

import polars as pl

from ecomlm_sdk.data.source import DataSource
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.datasets import sample_store
from ecomlm_sdk.engines import EngineArg
from ecomlm_sdk.errors import TaskError
from ecomlm_sdk.models.base import Embedder, Model
from ecomlm_sdk.plugins import PluginInfo, plugin_report, resolve
from ecomlm_sdk.roi.base import RoiMetric
from ecomlm_sdk.tasks.base import Task

if TYPE_CHECKING:
    # Only for the overloads below: the built-in names and the classes they give. Imported for
    # type checkers only, so ``import ecomlm_sdk`` loads neither the tasks nor the plugins.
    from ecomlm_bert.classifier import BertClassifier
    from ecomlm_bert.embedder import MiniLmEmbedder
    from ecomlm_gpt2.generator import Gpt2Generator
    from ecomlm_sdk.tasks.copy.task import CopyTask
    from ecomlm_sdk.tasks.prediction.task import PurchasePredictionTask
    from ecomlm_sdk.tasks.recommendation.task import RecommendationTask
    from ecomlm_sdk.tasks.support.task import SupportTask

__all__ = [
    "TABLE_FORMATS",
    "embed_products",
    "load_model",
    "load_store",
    "load_task",
    "plugins",
    "roi_metric",
    "sample_store",
    "task",
    "write_table",
]

#: File extensions :func:`write_table` writes.
TABLE_FORMATS: Final = (".csv", ".parquet", ".jsonl")


def embed_products(
    store: EcomStore,
    embedder: str = "minilm-embedder",
    *,
    engine: EngineArg = None,
    **options: Any,
) -> pl.DataFrame:
    """Embed the catalogue: one vector per product title.

    Args:
        store: The store whose ``products`` are embedded.
        embedder: A registered embedder (``options`` go to it).
        engine: Where to run: ``None`` (``ECOMLM_ENGINE`` from 1,000 products, else
            in-process), ``"local"``, ``"ray"`` (an actor pool: one model load per actor) or an
            engine.

    Returns:
        ``product_id``, ``title`` and ``embedding`` (a fixed-size float32 array).

    Example:
        ```py
        vectors = ecomlm_sdk.embed_products(store, engine="ray")
        ```
    """
    model = resolve("model", embedder, Embedder, **options)
    products = store.products.select("product_id", pl.col("title").fill_null(""))
    vectors = model.embed(products.get_column("title"), engine=engine)
    return products.with_columns(
        pl.Series("embedding", vectors, dtype=pl.Array(pl.Float32, vectors.shape[1]))
    )


def load_store(source: str, **options: Any) -> EcomStore:
    """Load a store through the data source registered as ``source``.

    Example:
        ```python
        store = ecomlm_sdk.load_store("shopify_csv", path="exports/")
        ```

    Raises:
        UnknownComponentError: No data source has that name (the message lists those that do).
        DataSourceError: The data could not be read (the message names file, line, column).
    """
    return resolve("data_source", source, DataSource, **options).load()


@overload
def load_model(name: Literal["bert-classifier"], **options: Any) -> BertClassifier: ...
@overload
def load_model(name: Literal["minilm-embedder"], **options: Any) -> MiniLmEmbedder: ...
@overload
def load_model(name: Literal["gpt2"], **options: Any) -> Gpt2Generator: ...
@overload
def load_model(name: str, **options: Any) -> Any: ...
def load_model(name: str, **options: Any) -> Any:
    """Create the model registered as ``name`` with ``options`` (weights load lazily or here).

    For a built-in name, type checkers know the class returned (``load_model("gpt2")`` is a
    ``Gpt2Generator``); another name gives ``Any``.

    Example:
        ```python
        clf = ecomlm_sdk.load_model("bert-classifier", device="cpu")
        ```
    """
    return resolve("model", name, Model, **options)


@overload
def task(name: Literal["purchase-prediction"], **options: Any) -> PurchasePredictionTask: ...
@overload
def task(name: Literal["recommendation"], **options: Any) -> RecommendationTask: ...
@overload
def task(name: Literal["support"], **options: Any) -> SupportTask: ...
@overload
def task(name: Literal["generate-copy"], **options: Any) -> CopyTask: ...
@overload
def task(name: str, **options: Any) -> Any: ...
def task(name: str, **options: Any) -> Any:
    """Create the task registered as ``name`` with ``options``.

    For a built-in name, type checkers know the class returned (``task("support")`` is a
    ``SupportTask``, so ``.answer(...)`` is checked); another name gives ``Any``.

    Example:
        ```python
        pp = ecomlm_sdk.task("purchase-prediction", horizon_days=90)
        ```
    """
    return resolve("task", name, Task, **options)


def load_task(path: str | Path, *, trust_remote_code: bool = False) -> Any:
    """Load any task saved with ``task.save(folder)``, without knowing its class.

    The task name is read from the folder's ``ecomlm_task.json`` and its class resolved through
    the registry, then loaded with every check of :meth:`Task.load
    <ecomlm_sdk.tasks.base.Task.load>`.

    Example:
        ```python
        pp = ecomlm_sdk.load_task("models/prediction")
        scores = pp.predict(ecomlm_sdk.load_store("shopify_csv", path="exports/"))
        ```

    Args:
        path: The folder ``save`` wrote.
        trust_remote_code: Allow code shipped inside the folder's model files to run.

    Raises:
        TaskError: The folder holds no saved task, or it cannot be loaded (the message says why).
        UnknownComponentError: No task registered under the saved name (its plugin is missing).
    """
    return Task.load(path, trust_remote_code=trust_remote_code)


def write_table(frame: pl.DataFrame, path: str | Path, *, list_separator: str = "|") -> Path:
    """Write ``frame`` as CSV, Parquet or JSON Lines, chosen by the extension of ``path``.

    CSV has no list type: list columns (a copy row's ``products``) are joined with
    ``list_separator``. Parquet and JSON Lines keep them as lists. Parent folders are created.

    Raises:
        TaskError: The extension is not one of :data:`TABLE_FORMATS`.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise TaskError(
            f"Cannot write {target}: unknown extension {suffix or '(none)'!r}; use one of "
            f"{', '.join(TABLE_FORMATS)}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        frame.write_parquet(target)
    elif suffix == ".jsonl":
        frame.write_ndjson(target)
    else:
        lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
        flat = frame.with_columns(
            pl.col(name).cast(pl.List(pl.String)).list.join(list_separator) for name in lists
        )
        flat.write_csv(target)
    return target


def roi_metric(name: str) -> RoiMetric:
    """The ROI metric registered as ``name``, e.g. ``roi_metric("roi").compute(revenue=.., investment=..)``."""
    return resolve("roi_metric", name, RoiMetric)


def plugins() -> list[PluginInfo]:
    """The plugin load report: every plugin seen, loaded or skipped, with its components."""
    return plugin_report()
