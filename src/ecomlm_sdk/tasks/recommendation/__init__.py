"""The ``recommendation`` task and its building blocks (sparse matrices, scorers, metrics)."""

from __future__ import annotations

from ecomlm_sdk.tasks.recommendation.metrics import ranking_metrics
from ecomlm_sdk.tasks.recommendation.task import (
    DEFAULT_DISCOVER_WEIGHTS,
    DEFAULT_WEIGHTS,
    Recommendation,
    RecommendationOptions,
)

__all__ = [
    "DEFAULT_DISCOVER_WEIGHTS",
    "DEFAULT_WEIGHTS",
    "Recommendation",
    "RecommendationOptions",
    "ranking_metrics",
]
