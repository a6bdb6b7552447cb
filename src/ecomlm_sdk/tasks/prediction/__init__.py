"""The ``purchase-prediction`` task, its learners and its metrics."""

from __future__ import annotations

from ecomlm_sdk.tasks.prediction.metrics import (
    calibration_table,
    classification_metrics,
    lift_at,
)
from ecomlm_sdk.tasks.prediction.task import PurchasePrediction, PurchasePredictionOptions

__all__ = [
    "PurchasePrediction",
    "PurchasePredictionOptions",
    "calibration_table",
    "classification_metrics",
    "lift_at",
]
