"""Built-in tasks. Each is registered by the SDK's own plugin and resolved by name."""

from __future__ import annotations

from ecomlm_sdk.tasks.base import EvaluationReport, Task, TaskOptions
from ecomlm_sdk.tasks.copy import CopyTask
from ecomlm_sdk.tasks.prediction import PurchasePrediction
from ecomlm_sdk.tasks.recommendation import Recommendation
from ecomlm_sdk.tasks.support import SupportTask

__all__ = ["BUILTIN_TASKS", "EvaluationReport", "Task", "TaskOptions"]

#: Task classes the SDK registers through ``register_tasks``.
BUILTIN_TASKS: tuple[type[Task], ...] = (SupportTask, CopyTask, PurchasePrediction, Recommendation)
