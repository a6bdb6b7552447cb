"""ecomlm-sdk: language models that earn money for e-commerce.

The public API is re-exported here::

    import ecomlm_sdk

    store = ecomlm_sdk.load_store("shopify_csv", path="exports/")
    model = ecomlm_sdk.load_model("bert-classifier")
    pp = ecomlm_sdk.task("purchase-prediction")
"""

from __future__ import annotations

from ecomlm_sdk._version import API_VERSION, __version__
from ecomlm_sdk.api import (
    embed_products,
    load_model,
    load_store,
    load_task,
    plugins,
    roi_metric,
    sample_store,
    task,
    write_table,
)
from ecomlm_sdk.data.report import FileLoadReport, LoadReport
from ecomlm_sdk.data.schema import SCHEMA, TABLES
from ecomlm_sdk.data.source import DataSource, DataSourceOptions
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import (
    DataSourceError,
    DeviceError,
    EcomlmError,
    EngineError,
    IncompatiblePluginError,
    InvalidValueError,
    ModelError,
    NotFittedError,
    PluginError,
    RoiError,
    SchemaError,
    TaskError,
    UnknownComponentError,
)
from ecomlm_sdk.hookspecs import hookimpl
from ecomlm_sdk.models.base import (
    ClassificationReport,
    Embedder,
    GenerationOptions,
    ModelOptions,
    Prediction,
    TextClassifier,
    TextGenerator,
)
from ecomlm_sdk.models.device import DeviceChoice, DeviceManager, resolve_device
from ecomlm_sdk.plugins import PluginInfo
from ecomlm_sdk.roi.base import RoiMetric
from ecomlm_sdk.roi.campaign import campaign_roi
from ecomlm_sdk.roi.experiment import analyze_experiment
from ecomlm_sdk.roi.planner import plan_campaign
from ecomlm_sdk.tasks.base import EvaluationReport, Task, TaskOptions
from ecomlm_sdk.tasks.fingerprint import StoreMismatchWarning

__all__ = [
    "API_VERSION",
    "SCHEMA",
    "TABLES",
    "ClassificationReport",
    "DataSource",
    "DataSourceError",
    "DataSourceOptions",
    "DeviceChoice",
    "DeviceError",
    "DeviceManager",
    "EcomStore",
    "EcomlmError",
    "Embedder",
    "EngineError",
    "EvaluationReport",
    "FileLoadReport",
    "GenerationOptions",
    "IncompatiblePluginError",
    "InvalidValueError",
    "LoadReport",
    "ModelError",
    "ModelOptions",
    "NotFittedError",
    "PluginError",
    "PluginInfo",
    "Prediction",
    "RoiError",
    "RoiMetric",
    "SchemaError",
    "StoreMismatchWarning",
    "Task",
    "TaskError",
    "TaskOptions",
    "TextClassifier",
    "TextGenerator",
    "UnknownComponentError",
    "__version__",
    "analyze_experiment",
    "campaign_roi",
    "embed_products",
    "hookimpl",
    "load_model",
    "load_store",
    "load_task",
    "plan_campaign",
    "plugins",
    "resolve_device",
    "roi_metric",
    "sample_store",
    "task",
    "write_table",
]
