"""The top-level entry points: ``load_store``, ``load_model``, ``task``, ``plugins``."""

from __future__ import annotations

from typing import Any

from ecomlm_sdk.data.source import DataSource
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.datasets import sample_store
from ecomlm_sdk.models.base import Model
from ecomlm_sdk.plugins import PluginInfo, plugin_report, resolve
from ecomlm_sdk.roi.base import RoiMetric
from ecomlm_sdk.tasks.base import Task

__all__ = ["load_model", "load_store", "plugins", "roi_metric", "sample_store", "task"]


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


def load_model(name: str, **options: Any) -> Any:
    """Create the model registered as ``name`` with ``options`` (weights load lazily or here).

    Example:
        ```python
        clf = ecomlm_sdk.load_model("bert-classifier", device="cpu")
        ```
    """
    return resolve("model", name, Model, **options)


def task(name: str, **options: Any) -> Any:
    """Create the task registered as ``name`` with ``options``.

    Example:
        ```python
        pp = ecomlm_sdk.task("purchase-prediction", horizon_days=90)
        ```
    """
    return resolve("task", name, Task, **options)


def roi_metric(name: str) -> RoiMetric:
    """The ROI metric registered as ``name``, e.g. ``roi_metric("roi").compute(revenue=.., investment=..)``."""
    return resolve("roi_metric", name, RoiMetric)


def plugins() -> list[PluginInfo]:
    """The plugin load report: every plugin seen, loaded or skipped, with its components."""
    return plugin_report()
