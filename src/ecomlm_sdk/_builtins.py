"""The SDK's own plugin ``ecomlm_sdk``: the built-in tasks and ROI metrics.

Loaded through the ``ecomlm_sdk`` entry point of the ``ecomlm-sdk`` distribution
(``[project.entry-points.ecomlm_sdk]`` in ``pyproject.toml``), exactly as a third-party plugin
is; the plugin manager never imports it by name. The task-stage runner and timing wrapper are
runtime, not components, and live in :mod:`ecomlm_sdk.stages`.
"""

from __future__ import annotations

from typing import Any, Final

from ecomlm_sdk.engines import LocalEngine
from ecomlm_sdk.hookspecs import Register, hookimpl
from ecomlm_sdk.roi.metrics import BUILTIN_METRICS
from ecomlm_sdk.tasks.base import Task
from ecomlm_sdk.tasks.copy import CopyTask
from ecomlm_sdk.tasks.prediction import PurchasePredictionTask
from ecomlm_sdk.tasks.recommendation import RecommendationTask
from ecomlm_sdk.tasks.support import SupportTask

__all__ = ["BUILTIN_TASKS", "register_engines", "register_roi_metrics", "register_tasks"]

ecomlm_sdk_api = ">=1,<2"

#: Task classes the SDK registers through ``register_tasks``.
BUILTIN_TASKS: Final[tuple[type[Task[Any]], ...]] = (
    SupportTask,
    CopyTask,
    PurchasePredictionTask,
    RecommendationTask,
)


@hookimpl
def register_roi_metrics(register: Register) -> None:
    for metric in BUILTIN_METRICS:
        register(metric)


@hookimpl
def register_tasks(register: Register) -> None:
    for task in BUILTIN_TASKS:
        register(task)


@hookimpl
def register_engines(register: Register) -> None:
    register(LocalEngine, aliases=("in-process",))
