"""Built-in ROI metrics, each with its formula.

=================  =========================================  ==================================
name               formula                                    inputs
=================  =========================================  ==================================
``roi``            (revenue - investment) / investment        revenue, investment
``roas``           revenue / investment                       revenue, investment
``profit``         revenue * margin - investment              revenue, margin, investment
``margin_roi``     (revenue * margin - investment) / investment  revenue, margin, investment
``cpa``            investment / acquisitions                  investment, acquisitions
=================  =========================================  ==================================

``margin`` is the gross margin as a fraction of revenue, in (0, 1]: revenue times margin is the
gross profit the revenue brings, before the campaign's cost (the investment). Plain ``roi``
treats every unit of revenue as profit, so it overstates the return of any shop whose goods cost
something; prefer ``margin_roi`` when the margin is known.
"""

from __future__ import annotations

from typing import ClassVar

from ecomlm_sdk.errors import RoiError
from ecomlm_sdk.roi.base import RoiMetric

__all__ = ["BUILTIN_METRICS", "Cpa", "MarginRoi", "Profit", "Roas", "Roi", "check_margin"]


def _positive(metric: str, name: str, value: float) -> None:
    if value <= 0:
        raise RoiError(f"Metric {metric!r}: {name} must be > 0, got {value}")


def _non_negative(metric: str, name: str, value: float) -> None:
    if value < 0:
        raise RoiError(f"Metric {metric!r}: {name} must be >= 0, got {value}")


def check_margin(margin: float, where: str = "margin") -> float:
    """Return ``margin`` when it lies in (0, 1]; raise :class:`RoiError` naming it otherwise.

    Args:
        margin: Gross margin as a fraction of revenue (0.35 for 35%).
        where: What to call the value in the message (a metric, a CLI option, ...).
    """
    if not 0 < margin <= 1:
        raise RoiError(
            f"{where}={margin!r} is outside (0, 1]: give the gross margin as a fraction of "
            "revenue, e.g. 0.35 for 35% (1.0 treats all revenue as profit)"
        )
    return margin


class Roi(RoiMetric):
    """Return on investment: every unit of revenue counted as profit."""

    name: ClassVar[str] = "roi"
    formula: ClassVar[str] = "(revenue - investment) / investment"
    inputs: ClassVar[tuple[str, ...]] = ("revenue", "investment")

    def _compute(self, **values: float) -> float:
        _positive(self.name, "investment", values["investment"])
        return (values["revenue"] - values["investment"]) / values["investment"]


class Roas(RoiMetric):
    """Return on ad spend: revenue per unit of spend (1.0 means the spend came back as revenue)."""

    name: ClassVar[str] = "roas"
    formula: ClassVar[str] = "revenue / investment"
    inputs: ClassVar[tuple[str, ...]] = ("revenue", "investment")

    def _compute(self, **values: float) -> float:
        _positive(self.name, "investment", values["investment"])
        return values["revenue"] / values["investment"]


class Profit(RoiMetric):
    """Gross profit the revenue brings, less the investment, in money."""

    name: ClassVar[str] = "profit"
    formula: ClassVar[str] = "revenue * margin - investment"
    inputs: ClassVar[tuple[str, ...]] = ("revenue", "margin", "investment")

    def _compute(self, **values: float) -> float:
        check_margin(values["margin"], "metric 'profit': margin")
        _non_negative(self.name, "investment", values["investment"])
        return values["revenue"] * values["margin"] - values["investment"]


class MarginRoi(RoiMetric):
    """Margin-aware ROI: profit per unit of investment, counting only the gross margin as gain."""

    name: ClassVar[str] = "margin_roi"
    formula: ClassVar[str] = "(revenue * margin - investment) / investment"
    inputs: ClassVar[tuple[str, ...]] = ("revenue", "margin", "investment")

    def _compute(self, **values: float) -> float:
        check_margin(values["margin"], "metric 'margin_roi': margin")
        _positive(self.name, "investment", values["investment"])
        return (values["revenue"] * values["margin"] - values["investment"]) / values["investment"]


class Cpa(RoiMetric):
    """Cost per acquisition: spend per converted customer (or per incremental conversion)."""

    name: ClassVar[str] = "cpa"
    formula: ClassVar[str] = "investment / acquisitions"
    inputs: ClassVar[tuple[str, ...]] = ("investment", "acquisitions")

    def _compute(self, **values: float) -> float:
        _non_negative(self.name, "investment", values["investment"])
        _positive(self.name, "acquisitions", values["acquisitions"])
        return values["investment"] / values["acquisitions"]


BUILTIN_METRICS: tuple[type[RoiMetric], ...] = (Roi, Roas, Profit, MarginRoi, Cpa)
