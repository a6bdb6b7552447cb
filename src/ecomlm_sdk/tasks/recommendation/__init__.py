"""The ``recommendation`` task and its building blocks (sparse matrices, scorers, metrics)."""

from __future__ import annotations

from ecomlm_sdk._deprecated import renamed
from ecomlm_sdk.tasks.recommendation.metrics import ranking_metrics
from ecomlm_sdk.tasks.recommendation.task import (
    DEFAULT_DISCOVER_WEIGHTS,
    DEFAULT_WEIGHTS,
    RecommendationOptions,
    RecommendationTask,
)

__all__ = [
    "DEFAULT_DISCOVER_WEIGHTS",
    "DEFAULT_WEIGHTS",
    "RecommendationOptions",
    "RecommendationTask",
    "ranking_metrics",
]

#: ``Recommendation`` was renamed ``RecommendationTask`` (kept, with a warning, for 0.x).
__getattr__ = renamed(__name__, {"Recommendation": "RecommendationTask"}, globals())
