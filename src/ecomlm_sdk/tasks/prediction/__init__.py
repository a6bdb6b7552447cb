"""The ``purchase-prediction`` task, its learners and its metrics."""

from __future__ import annotations

from ecomlm_sdk._deprecated import renamed
from ecomlm_sdk.tasks.prediction.metrics import (
    calibration_table,
    classification_metrics,
    lift_at,
)
from ecomlm_sdk.tasks.prediction.task import PurchasePredictionOptions, PurchasePredictionTask

__all__ = [
    "PurchasePredictionOptions",
    "PurchasePredictionTask",
    "calibration_table",
    "classification_metrics",
    "lift_at",
]

#: ``PurchasePrediction`` was renamed ``PurchasePredictionTask`` (kept, with a warning, for 0.x).
__getattr__ = renamed(__name__, {"PurchasePrediction": "PurchasePredictionTask"}, globals())
