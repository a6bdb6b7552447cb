"""Built-in ROI metrics, each with its formula."""

from __future__ import annotations

from typing import ClassVar

from ecomlm_sdk.errors import RoiError
from ecomlm_sdk.roi.base import RoiMetric

__all__ = ["BUILTIN_METRICS", "Roi"]


def _positive(metric: str, name: str, value: float) -> None:
    if value <= 0:
        raise RoiError(f"Metric {metric!r}: {name} must be > 0, got {value}")


class Roi(RoiMetric):
    """Return on investment."""

    name: ClassVar[str] = "roi"
    formula: ClassVar[str] = "(revenue - investment) / investment"
    inputs: ClassVar[tuple[str, ...]] = ("revenue", "investment")

    def _compute(self, **values: float) -> float:
        _positive(self.name, "investment", values["investment"])
        return (values["revenue"] - values["investment"]) / values["investment"]


BUILTIN_METRICS: tuple[type[RoiMetric], ...] = (Roi,)
