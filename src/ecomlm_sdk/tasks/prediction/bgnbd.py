"""BG/NBD ("beta-geometric / negative binomial") expected purchases, in closed form.

Fader, Hardie and Lee (2005), "Counting your customers the easy way". Each customer buys at a
Poisson rate ``lambda ~ Gamma(r, alpha)`` while alive and drops out after any purchase with
probability ``p ~ Beta(a, b)``. From three numbers per customer (in days, measured at an
instant ``as_of``):

* ``x``: repeat purchases (distinct purchase days after the first),
* ``t_x``: days from the first to the last purchase day,
* ``T``: days from the first purchase day to ``as_of``,

the four parameters are fitted by maximum likelihood over all customers (scipy's L-BFGS-B on
their logarithms), and the expected purchases in the next ``t`` days is (their eq. 10)::

    E[Y(t)] = (a + b + x - 1) / (a - 1)
              * [1 - ((alpha + T) / (alpha + T + t))^(r + x)
                     * 2F1(r + x, b + x; a + b + x - 1; t / (alpha + T + t))]
              / (1 + [x > 0] * a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x))

Everything is numpy/scipy; nothing here reads a label.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import betaln, gammaln, hyp2f1

from ecomlm_sdk.data.store import EcomStore

__all__ = ["BgNbd", "bgnbd_features", "rfm_summary"]

_DAY = 86_400.0


def rfm_summary(store: EcomStore, as_of: dt.datetime) -> pl.DataFrame:
    """``customer_id, x, t_x, T`` (days) of every customer with a purchase before ``as_of``."""
    days = (
        store.purchases()
        .filter(pl.col("created_at") < as_of)
        .select("customer_id", pl.col("created_at").dt.truncate("1d").alias("day"))
        .unique()
    )
    return (
        days.group_by("customer_id")
        .agg(
            (pl.len() - 1).cast(pl.Float64).alias("x"),
            ((pl.col("day").max() - pl.col("day").min()).dt.total_seconds() / _DAY).alias("t_x"),
            ((pl.lit(as_of) - pl.col("day").min()).dt.total_seconds() / _DAY).alias("T"),
        )
        .sort("customer_id")
    )


@dataclass
class BgNbd:
    """The fitted population parameters ``r, alpha, a, b``."""

    r: float = 1.0
    alpha: float = 1.0
    a: float = 1.0
    b: float = 1.0

    @staticmethod
    def _log_likelihood(
        params: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
    ) -> np.ndarray:
        r, alpha, a, b = np.exp(params)
        shared = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        shared += betaln(a, b + x) - betaln(a, b)
        alive = -(r + x) * np.log(alpha + big_t)
        dropped = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
        out: np.ndarray = shared + np.logaddexp(alive, dropped)
        return out

    def fit(self, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> BgNbd:
        """Maximum-likelihood fit (returns ``self``); the starting point is the unit prior."""

        def loss(params: np.ndarray) -> float:
            # A small ridge on the log-parameters keeps a degenerate shop (everyone bought
            # once) from running a parameter off to infinity.
            penalty = 1e-4 * float(params @ params)
            return -float(self._log_likelihood(params, x, t_x, big_t).mean()) + penalty

        from scipy.optimize import minimize  # lazy: scipy.optimize costs ~0.7 s to import

        result = minimize(
            loss,
            x0=np.zeros(4),
            method="L-BFGS-B",
            bounds=[(-8.0, 8.0)] * 4,
        )
        self.r, self.alpha, self.a, self.b = (float(v) for v in np.exp(result.x))
        return self

    def expected_purchases(
        self, t: float, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
    ) -> np.ndarray:
        """Expected purchases in the next ``t`` days of each customer (eq. 10)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        # a <= 1 makes the leading factor undefined; nudge it (the fit rarely lands there).
        a = max(a, 1.0 + 1e-6)
        z = t / (alpha + big_t + t)
        head = (a + b + x - 1) / (a - 1)
        decay = ((alpha + big_t) / (alpha + big_t + t)) ** (r + x)
        body = 1.0 - decay * hyp2f1(r + x, b + x, a + b + x - 1, z)
        tail = 1.0 + (x > 0) * a / np.maximum(b + x - 1, 1e-12) * (
            (alpha + big_t) / (alpha + t_x)
        ) ** (r + x)
        out: np.ndarray = np.nan_to_num(head * body / tail, nan=0.0, posinf=0.0, neginf=0.0)
        clipped: np.ndarray = np.clip(out, 0.0, None)
        return clipped

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        """Probability that each customer is still active at ``as_of``."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        ratio = a / np.maximum(b + x - 1, 1e-12) * ((alpha + big_t) / (alpha + t_x)) ** (r + x)
        out: np.ndarray = np.where(x > 0, 1.0 / (1.0 + ratio), 1.0)
        return out


def bgnbd_features(store: EcomStore, as_of: dt.datetime, horizon_days: float) -> pl.DataFrame:
    """``customer_id, bgnbd_expected, bgnbd_p_alive`` from a BG/NBD fitted at ``as_of``.

    The model is fitted on the customers' purchase days before ``as_of`` only, so the feature
    is as leak-free as the rest of :mod:`ecomlm_sdk.tasks.features`.
    """
    summary = rfm_summary(store, as_of)
    schema = {"customer_id": pl.String, "bgnbd_expected": pl.Float64, "bgnbd_p_alive": pl.Float64}
    if summary.height == 0:
        return pl.DataFrame(schema=schema)
    x, t_x, big_t = (summary.get_column(c).to_numpy() for c in ("x", "t_x", "T"))
    model = BgNbd().fit(x, t_x, big_t)
    return pl.DataFrame(
        {
            "customer_id": summary.get_column("customer_id"),
            "bgnbd_expected": model.expected_purchases(horizon_days, x, t_x, big_t),
            "bgnbd_p_alive": model.p_alive(x, t_x, big_t),
        },
        schema=schema,
    )
