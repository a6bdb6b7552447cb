"""Interval estimates shared by the ROI modules: the :class:`Estimate` result and the formulas.

Every interval here is two-sided at the requested confidence (0.95 by default). The formulas:

* **Proportion** (conversion rate): Wilson score interval, which stays inside [0, 1] and keeps
  its coverage for small arms and rates near 0 or 1, unlike the Wald interval.
* **Mean** (mean outcome per customer): ``mean ± t(n-1) * s / sqrt(n)``.
* **Difference of means** (incremental outcome per customer): Welch's unequal-variance t
  interval and t-test, with Welch-Satterthwaite degrees of freedom.
* **Difference of proportions** (incremental conversion): the unpooled Wald interval, with the
  pooled two-proportion z-test for the p-value (the textbook pairing).
* **Ratio of means** (relative lift): a seeded percentile bootstrap, or the delta method on arms
  too large for the bootstrap to matter (their sampling distributions are normal to within a
  fraction of the interval width).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Estimate",
    "bootstrap_ratio_of_means",
    "delta_ratio_of_means",
    "mean_interval",
    "proportion_difference",
    "welch_difference",
    "wilson_interval",
]


class Estimate(BaseModel):
    """A point estimate with its interval.

    Attributes:
        value: The point estimate.
        low: Lower end of the interval.
        high: Upper end of the interval.
        p_value: Two-sided p-value of the test named in ``method`` (``None`` when no test).
        method: How the interval was made (``"wilson"``, ``"t"``, ``"welch"``, ``"wald"``,
            ``"bootstrap"``, ``"delta"``, or a derivation such as ``"welch, linear"``).
    """

    model_config = ConfigDict(frozen=True)

    value: float = Field(description="Point estimate.")
    low: float = Field(description="Lower end of the interval.")
    high: float = Field(description="Upper end of the interval.")
    p_value: float | None = Field(default=None, description="Two-sided p-value, when tested.")
    method: str = Field(description="Interval method.")

    def covers(self, truth: float) -> bool:
        """Whether ``truth`` lies inside the interval (ends included)."""
        return self.low <= truth <= self.high

    def scaled(self, factor: float, shift: float = 0.0, method: str | None = None) -> Estimate:
        """The estimate of ``factor * x + shift``: exact for a linear function of ``x``."""
        low, high = sorted((self.low * factor + shift, self.high * factor + shift))
        return Estimate(
            value=self.value * factor + shift,
            low=low,
            high=high,
            p_value=self.p_value,
            method=method or f"{self.method}, linear",
        )


def _z(confidence: float) -> float:
    from scipy import special  # lazy: scipy.special costs ~0.5 s to import

    return float(special.ndtri(0.5 + confidence / 2))


def wilson_interval(successes: float, n: int, confidence: float = 0.95) -> Estimate:
    """Wilson score interval for a proportion ``successes / n``."""
    z = _z(confidence)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Estimate(
        value=p, low=max(0.0, centre - half), high=min(1.0, centre + half), method="wilson"
    )


def mean_interval(mean: float, var: float, n: int, confidence: float = 0.95) -> Estimate:
    """Student t interval for a mean with sample variance ``var`` over ``n`` values."""
    from scipy import special  # lazy: scipy.special costs ~0.5 s to import

    se = math.sqrt(var / n)
    t = float(special.stdtrit(n - 1, 0.5 + confidence / 2))
    return Estimate(value=mean, low=mean - t * se, high=mean + t * se, method="t")


def welch_difference(
    mean_a: float,
    var_a: float,
    n_a: int,
    mean_b: float,
    var_b: float,
    n_b: int,
    confidence: float = 0.95,
    null: float = 0.0,
) -> Estimate:
    """Welch interval and t-test for ``mean_a - mean_b`` (H0: difference equals ``null``)."""
    from scipy import special  # lazy: scipy.special costs ~0.5 s to import

    diff = mean_a - mean_b
    va, vb = var_a / n_a, var_b / n_b
    se = math.sqrt(va + vb)
    if se == 0:
        p = 1.0 if diff == null else 0.0
        return Estimate(value=diff, low=diff, high=diff, p_value=p, method="welch")
    df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    t = float(special.stdtrit(df, 0.5 + confidence / 2))
    p = float(2 * special.stdtr(df, -abs(diff - null) / se))
    return Estimate(value=diff, low=diff - t * se, high=diff + t * se, p_value=p, method="welch")


def proportion_difference(
    x_a: float, n_a: int, x_b: float, n_b: int, confidence: float = 0.95
) -> Estimate:
    """Wald interval for ``p_a - p_b`` with the pooled two-proportion z-test p-value."""
    from scipy import special  # lazy: scipy.special costs ~0.5 s to import

    pa, pb = x_a / n_a, x_b / n_b
    diff = pa - pb
    se = math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)
    pooled = (x_a + x_b) / (n_a + n_b)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    p = float(2 * special.ndtr(-abs(diff) / se0)) if se0 > 0 else 1.0
    z = _z(confidence)
    return Estimate(value=diff, low=diff - z * se, high=diff + z * se, p_value=p, method="wald")


def delta_ratio_of_means(
    mean_a: float,
    var_a: float,
    n_a: int,
    mean_b: float,
    var_b: float,
    n_b: int,
    confidence: float = 0.95,
) -> Estimate:
    """Delta-method interval for the relative lift ``mean_a / mean_b - 1``."""
    ratio = mean_a / mean_b
    var = (var_a / n_a) / mean_b**2 + (mean_a**2 / mean_b**4) * (var_b / n_b)
    half = _z(confidence) * math.sqrt(var)
    return Estimate(value=ratio - 1, low=ratio - 1 - half, high=ratio - 1 + half, method="delta")


def _bootstrap_means(
    values: np.ndarray, samples: int, rng: np.random.Generator, chunk_cells: int = 4_000_000
) -> np.ndarray:
    n = len(values)
    out = np.empty(samples)
    step = max(1, chunk_cells // n)
    for start in range(0, samples, step):
        stop = min(samples, start + step)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = values[idx].mean(axis=1)
    return out


def bootstrap_ratio_of_means(
    a: np.ndarray,
    b: np.ndarray,
    *,
    samples: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    statistic: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> Estimate:
    """Percentile bootstrap for ``mean(a) / mean(b) - 1`` (or ``statistic(means_a, means_b)``).

    Each arm is resampled independently, as it was sampled in the experiment.

    Args:
        a: Outcomes of the treated arm.
        b: Outcomes of the control arm.
        samples: Bootstrap resamples.
        seed: Seed of the random generator; the same seed gives the same interval.
        confidence: Interval coverage.
        statistic: Maps arrays of resampled means to the statistic (default: relative lift).
    """
    rng = np.random.default_rng(seed)
    stat = statistic or (lambda ma, mb: ma / mb - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        point = float(stat(np.array([a.mean()]), np.array([b.mean()]))[0])
        draws = stat(_bootstrap_means(a, samples, rng), _bootstrap_means(b, samples, rng))
    # A resample whose control mean is 0 gives an infinite ratio: it stays in, so the interval
    # honestly reaches infinity when that happens often; 0/0 resamples carry no information.
    draws = draws[~np.isnan(draws)]
    alpha = (1 - confidence) / 2
    if len(draws) == 0:
        return Estimate(value=point, low=math.nan, high=math.nan, method="bootstrap")
    low, high = np.quantile(draws, [alpha, 1 - alpha], method="inverted_cdf")
    return Estimate(value=point, low=float(low), high=float(high), method="bootstrap")
