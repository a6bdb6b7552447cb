"""A synthetic randomized experiment whose true per-customer uplift is known exactly.

The data-generating process, per customer (all ``x`` independent, uniform on [0, 1]):

* baseline conversion probability ``p0 = 0.05 + 0.10 * x1``;
* treatment arm ``k`` (``k = 1, 2, ...``) adds ``tau_k = a_k + 2 * a_k * (x_{k+2} - 0.5)``,
  so ``tau_k`` runs from 0 to ``2 * a_k`` around its mean ``a_k`` (with ``heterogeneity=2``;
  larger values make some customers respond negatively, the "sleeping dogs");
* an order, when there is one, is worth ``40 + 40 * x2`` (mean 60), independent of conversion;
* ``x_noise*`` columns carry no signal.

So the true average effects are exact, not simulated: conversion uplift ``a_k`` and revenue
uplift ``a_k * 60`` per customer. Tests use it to check that estimates and intervals recover
the truth.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict

from ecomlm_sdk.errors import RoiError

__all__ = ["MEAN_ORDER_VALUE", "SyntheticExperiment", "SyntheticTruth", "synthetic_experiment"]

MEAN_ORDER_VALUE = 60.0
_BASE_LOW, _BASE_SPAN = 0.05, 0.10


class SyntheticTruth(BaseModel):
    """The true population quantities of a synthetic experiment.

    Attributes:
        baseline_conversion: Mean conversion probability without treatment.
        mean_order_value: Mean value of an order.
        conversion_uplift: Treatment arm -> true average conversion uplift.
        revenue_uplift: Treatment arm -> true average revenue uplift per customer.
    """

    model_config = ConfigDict(frozen=True)

    baseline_conversion: float
    mean_order_value: float
    conversion_uplift: dict[str, float]
    revenue_uplift: dict[str, float]


class SyntheticExperiment(BaseModel):
    """A synthetic experiment: the customer table and the truth behind it.

    ``frame`` columns: ``customer_id``, features ``x1``, ``x2``, ``x3``, ..., ``arm``,
    ``converted`` (0/1), ``revenue`` (null where ``missing_rate`` removed it), and per treatment
    arm ``true_uplift_<arm>`` (conversion probability) and ``true_revenue_uplift_<arm>``.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    frame: pl.DataFrame
    truth: SyntheticTruth
    control: str
    features: tuple[str, ...]


def synthetic_experiment(
    n: int = 10_000,
    *,
    uplift: Mapping[str, float] | None = None,
    control: str = "control",
    split: Mapping[str, float] | None = None,
    heterogeneity: float = 2.0,
    noise_features: int = 2,
    missing_rate: float = 0.0,
    seed: int | None = 0,
) -> SyntheticExperiment:
    """Generate a randomized experiment with known uplift (see the module docstring).

    Args:
        n: Customers.
        uplift: Treatment arm -> average conversion uplift ``a_k`` (default
            ``{"treatment": 0.02}``).
        control: Name of the control arm.
        split: Arm -> assignment share (default: equal shares).
        heterogeneity: Spread of the per-customer uplift: ``tau_k`` runs over
            ``a_k * (1 ± heterogeneity / 2)``.
        noise_features: Extra features without signal.
        missing_rate: Share of rows whose revenue is set to null (to exercise missing data).
        seed: Random seed; the same seed gives the same table.

    Raises:
        RoiError: Probabilities would leave [0, 1], or the split does not match the arms.
    """
    uplift = dict(uplift or {"treatment": 0.02})
    arms = [control, *uplift]
    if control in uplift or n < 1:
        raise RoiError(
            f"synthetic_experiment: need n >= 1 and a control arm distinct from {list(uplift)}"
        )
    for arm, a in uplift.items():
        low, high = a * (1 - heterogeneity / 2), a * (1 + heterogeneity / 2)
        if _BASE_LOW + low < 0 or _BASE_LOW + _BASE_SPAN + high > 1:
            raise RoiError(
                f"synthetic_experiment: uplift {a} for arm {arm!r} with heterogeneity "
                f"{heterogeneity} puts conversion probabilities outside [0, 1]"
            )
    shares = np.array([(split or {}).get(arm, 1.0) if split else 1.0 for arm in arms], float)
    if split and set(split) != set(arms):
        raise RoiError(f"synthetic_experiment: split {dict(split)} must name exactly {arms}")
    shares /= shares.sum()
    rng = np.random.default_rng(seed)
    n_features = 2 + len(uplift) + noise_features
    x = rng.random((n, n_features))
    assigned = rng.choice(len(arms), size=n, p=shares)
    p0 = _BASE_LOW + _BASE_SPAN * x[:, 0]
    value = 40.0 + 40.0 * x[:, 1]
    p = p0.copy()
    columns: dict[str, object] = {"customer_id": [f"s{i}" for i in range(n)]}
    features = tuple(f"x{j + 1}" for j in range(n_features))
    for j, name in enumerate(features):
        columns[name] = x[:, j]
    truth_cols: dict[str, np.ndarray] = {}
    for k, (arm, a) in enumerate(uplift.items(), start=1):
        tau = a + heterogeneity * a * (x[:, k + 1] - 0.5)
        p = np.where(assigned == k, p0 + tau, p)
        truth_cols[f"true_uplift_{arm}"] = tau
        truth_cols[f"true_revenue_uplift_{arm}"] = tau * value
    converted = (rng.random(n) < p).astype(np.int64)
    revenue = np.where(converted == 1, value, 0.0)
    if missing_rate > 0:
        revenue = np.where(rng.random(n) < missing_rate, np.nan, revenue)
    columns["arm"] = np.array(arms, dtype=object)[assigned]
    columns["converted"] = converted
    columns["revenue"] = revenue
    frame = pl.DataFrame({**columns, **truth_cols}).with_columns(
        pl.col("arm").cast(pl.String()), pl.col("revenue").fill_nan(None)
    )
    truth = SyntheticTruth(
        baseline_conversion=_BASE_LOW + _BASE_SPAN / 2,
        mean_order_value=MEAN_ORDER_VALUE,
        conversion_uplift=dict(uplift),
        revenue_uplift={arm: a * MEAN_ORDER_VALUE for arm, a in uplift.items()},
    )
    return SyntheticExperiment(frame=frame, truth=truth, control=control, features=features)
