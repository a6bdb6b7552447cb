"""Per-customer features at a point in time, computed only from what happened before it.

Every function here takes an ``as_of`` instant and looks only at purchases, cancellations and
returns strictly before it, so a caller that passes ``store.split(cutoff)[0]`` (or any store)
and ``as_of <= cutoff`` cannot leak the future into a feature.

The feature families are those practitioners use for "will this customer buy again":
recency, frequency, monetary value, tenure, inter-purchase times (mean, spread, median, last
gap, how overdue the customer is), recent activity windows and half-life-decayed order counts,
basket shape, returns and, when the catalogue has categories, the category mix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

import polars as pl

from ecomlm_sdk.data.store import EcomStore

__all__ = [
    "BASE_FEATURES",
    "NON_PRODUCT_CODES",
    "category_shares",
    "customer_features",
    "purchase_labels",
    "top_categories",
]

#: Stock codes that are fees or services rather than products (postage, manual adjustments,
#: bank charges, ...), as used by the Online Retail sample store; excluded from recommendations.
NON_PRODUCT_CODES: Final[tuple[str, ...]] = (
    "POST",
    "DOT",
    "M",
    "m",
    "C2",
    "D",
    "S",
    "B",
    "CRUK",
    "PADS",
    "BANK CHARGES",
    "AMAZONFEE",
    "ADJUST",
    "ADJUST2",
    "TEST001",
    "TEST002",
)

_DAY: Final = 86_400.0

#: The feature columns :func:`customer_features` always returns, in order.
BASE_FEATURES: Final[tuple[str, ...]] = (
    "recency_days",
    "tenure_days",
    "n_orders",
    "revenue_total",
    "revenue_per_order",
    "revenue_max_order",
    "orders_30d",
    "orders_90d",
    "orders_180d",
    "orders_365d",
    "revenue_90d",
    "revenue_365d",
    "ipt_mean_days",
    "ipt_std_days",
    "ipt_last_days",
    "ipt_median_days",
    "ipt_cv",
    "recency_over_ipt",
    "recency_gap_z",
    "purchase_days",
    "decayed_orders_30d",
    "decayed_orders_90d",
    "orders_per_month",
    "lines_per_order",
    "units_per_order",
    "mean_unit_price",
    "distinct_products",
    "returned_lines",
    "returned_share",
    "cancelled_orders",
    "home_country",
)


def _days_before(as_of: dt.datetime, column: str) -> pl.Expr:
    return (pl.lit(as_of) - pl.col(column)).dt.total_seconds() / _DAY


def _decayed(as_of: dt.datetime, half_life_days: int) -> pl.Expr:
    """Each order counted 0.5 ** (age / half-life): recent orders weigh most."""
    return pl.lit(0.5).pow(_days_before(as_of, "created_at") / half_life_days)


def customer_features(store: EcomStore, as_of: dt.datetime) -> pl.DataFrame:
    """Features of every customer with at least one purchase before ``as_of``.

    Args:
        store: The shop's data; only rows strictly before ``as_of`` are read.
        as_of: The instant the features describe (timezone-aware UTC).

    Returns:
        ``customer_id`` then the :data:`BASE_FEATURES` columns (Float64; inter-purchase
        features are null for one-order customers), one row per customer, sorted by id.
    """
    purchases = store.purchases().filter(pl.col("created_at") < as_of)
    orders = purchases.group_by("customer_id", "order_id").agg(
        pl.col("created_at").min(),
        pl.col("revenue").sum().alias("value"),
        pl.len().alias("lines"),
        pl.col("quantity").sum().alias("units"),
    )
    gaps = (
        orders.sort("customer_id", "created_at")
        .with_columns(
            (pl.col("created_at").diff().over("customer_id").dt.total_seconds() / _DAY).alias("gap")
        )
        .group_by("customer_id")
        .agg(
            pl.col("gap").mean().alias("ipt_mean_days"),
            pl.col("gap").std().alias("ipt_std_days"),
            pl.col("gap").drop_nulls().last().alias("ipt_last_days"),
            pl.col("gap").median().alias("ipt_median_days"),
            pl.col("created_at").dt.date().n_unique().cast(pl.Float64).alias("purchase_days"),
        )
    )
    window = {d: pl.col("created_at") >= as_of - dt.timedelta(days=d) for d in (30, 90, 180, 365)}
    per_customer = orders.group_by("customer_id").agg(
        _days_before(as_of, "created_at").min().alias("recency_days"),
        _days_before(as_of, "created_at").max().alias("tenure_days"),
        pl.len().cast(pl.Float64).alias("n_orders"),
        pl.col("value").sum().alias("revenue_total"),
        pl.col("value").mean().alias("revenue_per_order"),
        pl.col("value").max().alias("revenue_max_order"),
        *[window[d].sum().cast(pl.Float64).alias(f"orders_{d}d") for d in (30, 90, 180, 365)],
        pl.col("value").filter(window[90]).sum().alias("revenue_90d"),
        pl.col("value").filter(window[365]).sum().alias("revenue_365d"),
        pl.col("lines").mean().alias("lines_per_order"),
        pl.col("units").mean().alias("units_per_order"),
        *[_decayed(as_of, d).sum().alias(f"decayed_orders_{d}d") for d in (30, 90)],
    )
    products = purchases.group_by("customer_id").agg(
        pl.col("product_id").n_unique().cast(pl.Float64).alias("distinct_products"),
        (pl.col("revenue").sum() / pl.col("quantity").sum()).alias("mean_unit_price"),
    )
    returns = _returns(store, as_of)
    home = _home_country(store)
    frame = (
        per_customer.join(gaps, on="customer_id", how="left")
        .join(products, on="customer_id", how="left")
        .join(returns, on="customer_id", how="left")
        .join(home, on="customer_id", how="left")
        .with_columns(
            (pl.col("recency_days") / pl.col("ipt_mean_days")).alias("recency_over_ipt"),
            (pl.col("ipt_std_days") / pl.col("ipt_mean_days")).alias("ipt_cv"),
            (
                (pl.col("recency_days") - pl.col("ipt_mean_days")) / (pl.col("ipt_std_days") + 1.0)
            ).alias("recency_gap_z"),
            (pl.col("n_orders") / (pl.col("tenure_days") / 30.0 + 1.0)).alias("orders_per_month"),
            pl.col("returned_lines", "cancelled_orders", "returned_value").fill_null(0.0),
            pl.col("home_country").fill_null(0.0),
        )
        .with_columns(
            (pl.col("returned_value") / (pl.col("revenue_total") + pl.col("returned_value"))).alias(
                "returned_share"
            )
        )
    )
    return frame.select("customer_id", *[pl.col(c).cast(pl.Float64) for c in BASE_FEATURES]).sort(
        "customer_id"
    )


def _returns(store: EcomStore, as_of: dt.datetime) -> pl.DataFrame:
    """Returned lines (negative quantity or cancelled orders) and their value, per customer."""
    orders = store.orders.filter(
        (pl.col("created_at") < as_of) & pl.col("customer_id").is_not_null()
    ).select("order_id", "customer_id", pl.col("is_cancelled").fill_null(False))
    lines = store.order_lines.join(orders, on="order_id", how="inner")
    returned = lines.filter((pl.col("quantity") < 0) | pl.col("is_cancelled"))
    per_line = returned.group_by("customer_id").agg(
        pl.len().cast(pl.Float64).alias("returned_lines"),
        (pl.col("quantity").abs() * pl.col("unit_price").abs()).sum().alias("returned_value"),
    )
    cancelled = (
        orders.filter(pl.col("is_cancelled"))
        .group_by("customer_id")
        .agg(pl.len().cast(pl.Float64).alias("cancelled_orders"))
    )
    return per_line.join(cancelled, on="customer_id", how="full", coalesce=True)


def _home_country(store: EcomStore) -> pl.DataFrame:
    """1.0 for customers in the shop's most common customer country (its home market)."""
    countries = store.customers.select("customer_id", "country").drop_nulls("country")
    if countries.height == 0:
        return pl.DataFrame(schema={"customer_id": pl.String, "home_country": pl.Float64})
    home = countries.get_column("country").mode().sort()[0]
    return countries.select(
        "customer_id", (pl.col("country") == home).cast(pl.Float64).alias("home_country")
    )


def top_categories(store: EcomStore, as_of: dt.datetime, n: int) -> list[str]:
    """The ``n`` categories with most revenue before ``as_of`` (``category``, else
    ``product_type``); empty when the catalogue has neither.
    """
    if n <= 0:
        return []
    spend = _category_spend(store, as_of)
    if spend.height == 0:
        return []
    ranked = (
        spend.group_by("category")
        .agg(pl.col("revenue").sum())
        .sort(["revenue", "category"], descending=[True, False])
    )
    return ranked.get_column("category").head(n).to_list()


def category_shares(
    store: EcomStore, as_of: dt.datetime, categories: Sequence[str]
) -> pl.DataFrame:
    """Share of each customer's spend in each of ``categories`` (columns ``cat_0``, ...)."""
    names = [f"cat_{i}" for i in range(len(categories))]
    spend = _category_spend(store, as_of)
    if not categories or spend.height == 0:
        return pl.DataFrame(schema={"customer_id": pl.String, **dict.fromkeys(names, pl.Float64)})
    totals = spend.group_by("customer_id").agg(pl.col("revenue").sum().alias("_total"))
    shares = spend.group_by("customer_id").agg(
        (pl.col("revenue").filter(pl.col("category") == c).sum()).alias(name)
        for c, name in zip(categories, names, strict=True)
    )
    return shares.join(totals, on="customer_id").select(
        "customer_id", *[(pl.col(n) / pl.col("_total")).alias(n) for n in names]
    )


def _category_spend(store: EcomStore, as_of: dt.datetime) -> pl.DataFrame:
    catalogue = (
        store.products.select(
            "variant_id", pl.coalesce("category", "product_type").alias("category")
        )
        .drop_nulls("category")
        .unique("variant_id")
    )
    if catalogue.height == 0:
        return pl.DataFrame(
            schema={"customer_id": pl.String, "category": pl.String, "revenue": pl.Float64}
        )
    purchases = store.purchases().filter(pl.col("created_at") < as_of)
    return purchases.join(catalogue, on="variant_id", how="inner").select(
        "customer_id", "category", "revenue"
    )


def purchase_labels(store: EcomStore, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    """Who bought in ``[start, end)`` and how much: ``customer_id, bought, revenue``."""
    window = store.purchases().filter(
        (pl.col("created_at") >= start) & (pl.col("created_at") < end)
    )
    return window.group_by("customer_id").agg(
        pl.lit(1).cast(pl.Int8).alias("bought"), pl.col("revenue").sum().alias("revenue")
    )
