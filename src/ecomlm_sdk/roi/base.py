"""``RoiMetric``: a named money formula, registered through ``register_roi_metrics``."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import ClassVar

from ecomlm_sdk.errors import RoiError
from ecomlm_sdk.registry import register_kind

__all__ = ["RoiMetric"]


class RoiMetric(ABC):
    """A money metric such as ROI = (revenue - investment) / investment.

    Subclasses set ``name``, ``formula`` (shown in docs and ``ecomlm``), ``inputs`` (names of
    the keyword arguments :meth:`compute` takes) and implement :meth:`_compute`.
    """

    name: ClassVar[str]
    formula: ClassVar[str]
    inputs: ClassVar[tuple[str, ...]]

    def compute(self, **values: float) -> float:
        """Compute the metric from named inputs; raises :class:`RoiError` on bad input."""
        missing = [k for k in self.inputs if k not in values]
        extra = [k for k in values if k not in self.inputs]
        if missing or extra:
            raise RoiError(
                f"Metric {self.name!r} ({self.formula}) takes {list(self.inputs)}; "
                f"missing {missing}, unexpected {extra}"
            )
        for key, value in values.items():
            if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
                raise RoiError(f"Metric {self.name!r}: {key}={value!r} is not a number")
        return float(self._compute(**{k: float(v) for k, v in values.items()}))

    @abstractmethod
    def _compute(self, **values: float) -> float:
        """Compute from validated floats."""


register_kind("roi_metric", RoiMetric)
