"""Customer segments for marketing copy, from purchase history only (no personal data).

Each customer with purchases gets one segment, the first rule that matches, measured at
``as_of`` (default: the last order in the store):

==============  =============================================================================
segment         rule
==============  =============================================================================
``vip``         revenue in the top 10% of customers and a purchase in the last 90 days
``loyal``       5 or more orders and a purchase in the last 90 days
``new``         exactly 1 order, placed in the last 90 days
``at_risk``     2 or more orders, the last 90 to 180 days ago
``lapsed``      last purchase more than 180 days ago
``regular``     everyone else with purchases
``prospect``    a customer with no purchases
==============  =============================================================================
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import polars as pl

from ecomlm_sdk.data.store import Cutoff, EcomStore, to_utc_datetime

__all__ = ["SEGMENTS", "SEGMENT_PHRASES", "customer_segments"]

SEGMENTS: Final = ("vip", "loyal", "new", "at_risk", "lapsed", "regular", "prospect")

#: How each segment is described to the generator (prompt text, no personal data).
SEGMENT_PHRASES: Final[dict[str, str]] = {
    "vip": "top customer",
    "loyal": "loyal customer",
    "new": "new customer",
    "at_risk": "customer drifting away",
    "lapsed": "lapsed customer",
    "regular": "regular customer",
    "prospect": "prospect",
}


def customer_segments(store: EcomStore, *, as_of: Cutoff | None = None) -> pl.DataFrame:
    """One segment per customer of ``store`` (see the module docstring for the rules).

    Args:
        store: The store; purchases are :meth:`EcomStore.purchases` before ``as_of``.
        as_of: When to measure recency; default the time of the store's last purchase.

    Returns:
        Columns ``customer_id, segment, orders, revenue, recency_days`` (nulls for prospects),
        one row per customer in ``store.customers`` or with purchases.
    """
    purchases = store.purchases()
    if as_of is not None:
        purchases = purchases.filter(pl.col("created_at") < to_utc_datetime(as_of))
    if purchases.height:
        now = to_utc_datetime(as_of) if as_of is not None else purchases["created_at"].max()
    else:
        now = dt.datetime.now(dt.UTC)
    stats = purchases.group_by("customer_id").agg(
        pl.col("order_id").n_unique().alias("orders"),
        pl.col("revenue").sum().alias("revenue"),
        pl.col("created_at").max().alias("_last"),
    )
    stats = stats.with_columns(
        ((pl.lit(now) - pl.col("_last")).dt.total_seconds() / 86_400).alias("recency_days")
    ).drop("_last")
    top = stats.get_column("revenue").quantile(0.9) if stats.height else None
    recent = pl.col("recency_days") <= 90
    segment = (
        pl.when(pl.col("orders").is_null())
        .then(pl.lit("prospect"))
        .when(recent & (pl.col("revenue") >= (top if top is not None else float("inf"))))
        .then(pl.lit("vip"))
        .when(recent & (pl.col("orders") >= 5))
        .then(pl.lit("loyal"))
        .when(recent & (pl.col("orders") == 1))
        .then(pl.lit("new"))
        .when((pl.col("orders") >= 2) & (pl.col("recency_days") <= 180) & ~recent)
        .then(pl.lit("at_risk"))
        .when(pl.col("recency_days") > 180)
        .then(pl.lit("lapsed"))
        .otherwise(pl.lit("regular"))
    )
    everyone = pl.concat(
        [store.customers.select("customer_id"), stats.select("customer_id")]
    ).unique(maintain_order=True)
    return (
        everyone.join(stats, on="customer_id", how="left")
        .with_columns(segment.alias("segment"))
        .select("customer_id", "segment", "orders", "revenue", "recency_days")
    )
