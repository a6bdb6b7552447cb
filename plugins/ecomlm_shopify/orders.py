"""Orders export -> ``orders`` + ``order_lines``.

The export has one row per line item; order-level fields (email, totals, dates, status,
addresses) are filled only on the first row of each order (rows share the order ``Name``). A
row whose line-item cells are all empty is an order without lines. When the first row of an
order is bad, every row of that order is rejected (its lines would have no order); a bad
line-item cell on a later row rejects only that row.
"""

from __future__ import annotations

import polars as pl

from ecomlm_sdk.data.report import FileLoadReport
from ecomlm_shopify.common import (
    BAD_REASON,
    FileResult,
    email_id,
    ensure_columns,
    first_failure,
    not_blank,
    rejects_of,
)
from ecomlm_shopify.headers import KNOWN_COLUMNS
from ecomlm_shopify.reading import ROW, RawFile
from ecomlm_shopify.values import Check, parse_int, parse_money, parse_timestamp, raw

__all__ = ["REQUIRED", "load_orders"]

REQUIRED = ("Name", "Created at", "Lineitem quantity", "Lineitem price")
_MONEY = {
    "Subtotal": "subtotal",
    "Shipping": "shipping",
    "Taxes": "taxes",
    "Discount Amount": "discount_amount",
    "Total": "total",
    "Refunded Amount": "refunded_amount",
}
_TEXT = ("Email", "Financial Status", "Fulfillment Status", "Currency", "Customer ID")
_LINE = ("Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku")
_WANTED = (
    *REQUIRED,
    *_MONEY,
    *_TEXT,
    "Cancelled at",
    "Billing Country",
    "Shipping Country",
    "Lineitem name",
    "Lineitem sku",
    "Lineitem discount",
)
_FIRST = "_first"
_HAS_LINE = "_has_line"


def _status(column: str) -> pl.Expr:
    return pl.col(column).str.to_lowercase().str.replace_all(" ", "_")


def load_orders(
    file: RawFile,
    email_to_customer: pl.DataFrame | None,
    sku_to_product: pl.DataFrame | None,
    *,
    strict: bool,
) -> FileResult:
    """Read one orders export.

    Args:
        file: The opened export.
        email_to_customer: ``email -> customer_id`` from the customers export, used when the
            orders file has no ``Customer ID`` column; ``None`` when no customers were loaded.
        sku_to_product: ``sku -> product_id, variant_id`` from the products export, or ``None``.
        strict: Raise at the first bad row instead of rejecting it.
    """
    extras = [c for c in file.header if c not in KNOWN_COLUMNS["orders"]]
    frame = ensure_columns(file, file.frame, _WANTED, REQUIRED)
    cleaned = frame.filter(not_blank(file.header)).select(
        ROW, *(raw(c).alias(c) for c in (*_WANTED, *extras))
    )
    name = pl.col("Name")
    parsed = cleaned.with_columns(
        name.is_first_distinct().alias(_FIRST),
        pl.any_horizontal(pl.col(c).is_not_null() for c in _LINE).alias(_HAS_LINE),
        parse_timestamp(pl.col("Created at")).alias("created_at"),
        parse_timestamp(pl.col("Cancelled at")).alias("cancelled_at"),
        *(parse_money(pl.col(c)).alias(n) for c, n in _MONEY.items()),
        parse_int(pl.col("Lineitem quantity")).alias("quantity"),
        parse_money(pl.col("Lineitem price")).alias("unit_price"),
        parse_money(pl.col("Lineitem discount")).alias("discount"),
    )
    first, has_line = pl.col(_FIRST), pl.col(_HAS_LINE)
    timestamp = "not a timestamp such as '2025-04-08 10:15:00 -0400'"
    checks = [
        Check("Name", name, "every row needs the order Name (e.g. '#1001')"),
        Check("Created at", pl.col("created_at"), timestamp, when=first),
        *(
            Check(c, pl.col(n), "not an amount such as '12.50'", when=first)
            for c, n in _MONEY.items()
        ),
        Check("Cancelled at", pl.col("cancelled_at"), timestamp, when=first),
        Check("Lineitem quantity", pl.col("quantity"), "not a whole number", when=has_line),
        Check(
            "Lineitem price", pl.col("unit_price"), "not an amount such as '12.50'", when=has_line
        ),
        Check(
            "Lineitem discount", pl.col("discount"), "not an amount such as '1.00'", when=has_line
        ),
    ]
    missing_created = first & pl.col("Created at").is_null() & name.is_not_null()
    missing_qty = has_line & pl.col("Lineitem quantity").is_null()
    df = (
        parsed.with_columns(first_failure(checks))
        .with_columns(
            pl.when(pl.col(BAD_REASON).is_null() & missing_created)
            .then(pl.lit("Created at"))
            .when(pl.col(BAD_REASON).is_null() & missing_qty)
            .then(pl.lit("Lineitem quantity"))
            .otherwise(pl.col("_bad_column"))
            .alias("_bad_column"),
            pl.when(pl.col(BAD_REASON).is_null() & (missing_created | missing_qty))
            .then(pl.lit("required value is empty"))
            .otherwise(pl.col(BAD_REASON))
            .alias(BAD_REASON),
        )
        .with_columns(
            (pl.col(BAD_REASON).is_not_null() & first).any().over("Name").alias("_order_bad")
        )
        .with_columns(
            pl.when(pl.col(BAD_REASON).is_null() & pl.col("_order_bad"))
            .then(pl.lit("the first row of this order was rejected"))
            .otherwise(pl.col(BAD_REASON))
            .alias(BAD_REASON),
            pl.when(pl.col(BAD_REASON).is_null() & pl.col("_order_bad"))
            .then(pl.lit("Name"))
            .otherwise(pl.col("_bad_column"))
            .alias("_bad_column"),
            pl.when(pl.col(BAD_REASON).is_null() & pl.col("_order_bad"))
            .then(name)
            .otherwise(pl.col("_bad_value"))
            .alias("_bad_value"),
        )
        .select(
            ROW,
            "_bad_column",
            "_bad_value",
            BAD_REASON,
            _FIRST,
            _HAS_LINE,
            name.alias("order_id"),
            pl.col("Customer ID").alias("_customer_id"),
            pl.col("Email").str.to_lowercase().alias("email"),
            "created_at",
            pl.col("Currency").str.to_uppercase().alias("currency"),
            *_MONEY.values(),
            _status("Financial Status").alias("financial_status"),
            _status("Fulfillment Status").alias("fulfillment_status"),
            "cancelled_at",
            pl.coalesce("Shipping Country", "Billing Country").alias("country"),
            "quantity",
            "unit_price",
            "discount",
            pl.col("Lineitem sku").alias("sku"),
            pl.col("Lineitem name").alias("title"),
            *extras,
        )
        .collect()
    )
    bad = df.filter(pl.col(BAD_REASON).is_not_null())
    rejects = rejects_of(file, "orders", bad, strict=strict)
    good = df.filter(pl.col(BAD_REASON).is_null())
    orders = _orders(good.filter(pl.col(_FIRST)), email_to_customer)
    lines = _lines(good.filter(pl.col(_HAS_LINE)), sku_to_product, extras)
    report = FileLoadReport(
        file=str(file.path),
        table="orders",
        rows_read=df.height,
        rows_loaded=good.height,
        rows_rejected=bad.height,
        warnings=tuple(file.warnings),
    )
    return FileResult({"orders": orders, "order_lines": lines}, rejects, report, extras)


def _orders(first_rows: pl.DataFrame, email_to_customer: pl.DataFrame | None) -> pl.DataFrame:
    orders = first_rows
    if email_to_customer is not None and email_to_customer.height:
        orders = orders.join(email_to_customer, on="email", how="left", maintain_order="left")
    else:
        orders = orders.with_columns(pl.lit(None, dtype=pl.String()).alias("customer_id"))
    orders = orders.with_columns(pl.coalesce("_customer_id", "customer_id").alias("customer_id"))
    unlinked = orders.filter(pl.col("customer_id").is_null()).select("email").drop_nulls()
    if unlinked.height:
        fallback = unlinked.unique().with_columns(email_id("email").alias("_by_email"))
        orders = orders.join(fallback, on="email", how="left", maintain_order="left").with_columns(
            pl.coalesce("customer_id", "_by_email").alias("customer_id")
        )
    return orders.select(
        "order_id",
        "customer_id",
        "email",
        "created_at",
        "currency",
        "subtotal",
        "shipping",
        "taxes",
        "discount_amount",
        "total",
        pl.col("refunded_amount").fill_null(0.0),
        "financial_status",
        "fulfillment_status",
        "cancelled_at",
        pl.col("cancelled_at").is_not_null().alias("is_cancelled"),
        "country",
    )


def _lines(
    rows: pl.DataFrame, sku_to_product: pl.DataFrame | None, extras: list[str]
) -> pl.DataFrame:
    lines = rows.with_columns(
        (pl.col(ROW).rank("ordinal").over("order_id")).cast(pl.Int64).alias("line_number")
    )
    if sku_to_product is not None and sku_to_product.height:
        lines = lines.join(sku_to_product, on="sku", how="left", maintain_order="left")
    else:
        lines = lines.with_columns(
            pl.lit(None, dtype=pl.String()).alias("product_id"),
            pl.lit(None, dtype=pl.String()).alias("variant_id"),
        )
    return lines.sort(ROW).select(
        "order_id",
        "line_number",
        pl.coalesce("product_id", "sku").alias("product_id"),
        pl.coalesce("variant_id", "sku").alias("variant_id"),
        "sku",
        "title",
        "quantity",
        "unit_price",
        "discount",
        *extras,
    )
