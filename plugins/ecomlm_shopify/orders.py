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
from ecomlm_sdk.data.timestamps import bad_utc_offset, in_range
from ecomlm_shopify.common import (
    BAD_COLUMN,
    BAD_REASON,
    BAD_VALUE,
    FileResult,
    email_id,
    ensure_columns,
    first_failure,
    read_cells,
    rejects_of,
    updated_at,
)
from ecomlm_shopify.dates import detect_date_order, parse_slash_date, slash_reason
from ecomlm_shopify.fastparse import MONEY, QUANTITY, TIMESTAMP, finish
from ecomlm_shopify.headers import KNOWN_COLUMNS
from ecomlm_shopify.limits import ReadLimits
from ecomlm_shopify.notation import detect_notation
from ecomlm_shopify.order_names import reused_names
from ecomlm_shopify.reading import ROW, RawFile
from ecomlm_shopify.shape import CELLS, ragged_reason, ragged_rows
from ecomlm_shopify.values import Check, clean, number_reason, parse_money
from ecomlm_shopify.variants import AMBIGUOUS, resolve_lines

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
_BAD = "_bad"


def _status(column: str) -> pl.Expr:
    return pl.col(column).str.to_lowercase().str.replace_all(" ", "_")


def load_orders(
    file: RawFile,
    email_to_customer: pl.DataFrame | None,
    sku_to_product: pl.DataFrame | None,
    *,
    strict: bool,
    limits: ReadLimits | None = None,
    decimal_comma: bool | None = None,
    day_first: bool | None = None,
    timezone: str | None = None,
) -> FileResult:
    """Read one orders export.

    Only the columns the tables use (and unknown extra columns, which are kept) are parsed from
    the file; checks run on every row, and the reject details are worked out for the bad rows
    only, so a clean export pays for one pass of cheap expressions.

    Args:
        file: The opened export.
        email_to_customer: ``email -> customer_id`` from the customers export, used when the
            orders file has no ``Customer ID`` column; ``None`` when no customers were loaded.
        sku_to_product: The SKU index of the products exports
            (:func:`ecomlm_shopify.variants.sku_index`), or ``None``.
        strict: Raise at the first bad row instead of rejecting it.
        limits: The accepted date range (defaults: :class:`ReadLimits`).
        decimal_comma: Read amounts with a decimal comma (``True``), never (``False``), or
            when the file's amounts say so unambiguously (``None``; see
            :mod:`ecomlm_shopify.notation`).
        day_first: How slash dates (``31/12/2023 22:36``) are read: day-first, month-first,
            or as the file settles it (``None``; see :mod:`ecomlm_shopify.dates`).
        timezone: The shop's time zone, for timestamps without an offset (slash dates of
            resaved files); ``None``: read as UTC, as the load report says.
    """
    limits = limits or ReadLimits()
    extras = [c for c in file.header if c not in KNOWN_COLUMNS["orders"]]
    ensure_columns(file, file.frame, (), REQUIRED)
    name = pl.col("Name")
    parsed = {
        "created_at": ("Created at", TIMESTAMP),
        "cancelled_at": ("Cancelled at", TIMESTAMP),
        **{n: (c, MONEY) for c, n in _MONEY.items()},
        "quantity": ("Lineitem quantity", QUANTITY),
        "unit_price": ("Lineitem price", MONEY),
        "discount": ("Lineitem discount", MONEY),
    }
    # blank lines (null Name) are seen by is_first_distinct here: harmless, since a row
    # without Name is rejected whatever its flag, and other names are unaffected
    derived = [
        name.is_first_distinct().alias(_FIRST),
        *(parser.fast(pl.col(text)).alias(value) for value, (text, parser) in parsed.items()),
    ]
    as_read = {text for text, _ in parsed.values()}
    cells = read_cells(file, [*_WANTED, *extras], derived, as_read=as_read)
    # after finish, the parsed text columns are null exactly where the cleaned cell would be
    df = finish(cells, parsed).with_columns(
        pl.any_horizontal(pl.col(c).is_not_null() for c in _LINE).alias(_HAS_LINE)
    )
    money = {text: value for value, (text, parser) in parsed.items() if parser is MONEY}
    notation = detect_notation(
        df, [c for c in money if c in file.header], decimal_comma, unread=money
    )
    comma = notation.decimal_comma
    if comma:
        df = df.with_columns(
            parse_money(clean(pl.col(text)), decimal_comma=True).alias(value)
            for text, value in money.items()
        )
    stamps = {"Created at": "created_at", "Cancelled at": "cancelled_at"}
    order = detect_date_order(df, stamps, day_first)
    if order.day_first is not None:
        df = df.with_columns(
            pl.coalesce(
                value,
                parse_slash_date(clean(pl.col(text)), day_first=order.day_first, timezone=timezone),
            ).alias(value)
            for text, value in stamps.items()
        )
    ragged = ragged_rows(file)
    first, has_line = pl.col(_FIRST), pl.col(_HAS_LINE)
    timestamp = "not a timestamp such as '2025-04-08 10:15:00 -0400'"
    amount = "not an amount such as '12,50'" if comma else "not an amount such as '12.50'"
    checks = [
        Check(
            "Created at",
            pl.col("created_at"),
            slash_reason(pl.col("Created at"), order, timestamp),
            when=first,
        ),
        *_range_checks("Created at", "created_at", limits, when=first),
        *(
            Check(c, pl.col(n), number_reason(pl.col(c), amount, decimal_comma=comma), when=first)
            for c, n in _MONEY.items()
        ),
        Check(
            "Cancelled at",
            pl.col("cancelled_at"),
            slash_reason(pl.col("Cancelled at"), order, timestamp),
            when=first,
        ),
        *_range_checks("Cancelled at", "cancelled_at", limits, when=first),
        Check(
            "Lineitem quantity",
            pl.col("quantity"),
            number_reason(pl.col("Lineitem quantity"), "not a whole number"),
            when=has_line,
        ),
        Check(
            "Lineitem price",
            pl.col("unit_price"),
            number_reason(pl.col("Lineitem price"), amount, decimal_comma=comma),
            when=has_line,
        ),
        Check(
            "Lineitem discount",
            pl.col("discount"),
            number_reason(pl.col("Lineitem discount"), amount, decimal_comma=comma),
            when=has_line,
        ),
    ]
    missing_name = name.is_null()
    missing_created = first & pl.col("Created at").is_null() & name.is_not_null()
    missing_qty = has_line & pl.col("Lineitem quantity").is_null()
    missing_price = has_line & pl.col("Lineitem price").is_null()
    overrides = pl.concat(
        [
            ragged.select(
                ROW,
                pl.lit(None, dtype=pl.String()).alias(BAD_COLUMN),
                pl.lit(None, dtype=pl.String()).alias(BAD_VALUE),
                ragged_reason(pl.col(CELLS), len(file.header)).alias(BAD_REASON),
            ),
            reused_names(file, df, _FIRST),
        ]
    ).unique(ROW, keep="first", maintain_order=True)
    is_ragged = pl.col(ROW).is_in(overrides.get_column(ROW).implode()) if overrides.height else None
    df = df.with_columns(
        pl.any_horizontal(
            missing_name,
            missing_created,
            missing_qty,
            missing_price,
            *(c.failed() for c in checks),
            *([] if is_ragged is None else [is_ragged]),
        ).alias(_BAD)
    )
    missing = {"Created at": missing_created, "Lineitem quantity": missing_qty}
    missing["Lineitem price"] = missing_price
    bad, good = _split_bad(df, checks, missing_name, missing, overrides)
    rejects = rejects_of(file, "orders", bad, strict=strict)
    orders = _orders(good, email_to_customer, updated_at(file.header))
    runs = pl.col("Name").ne_missing(pl.col("Name").shift()).sum()
    contiguous = bool(df.select(runs == first.sum()).item())
    lines = _lines(good, sku_to_product, extras, contiguous=contiguous)
    ambiguous = int(lines.get_column(AMBIGUOUS).sum())
    lines = lines.drop(AMBIGUOUS)
    date_note = order.note
    if date_note and timezone and order.day_first is not None:
        date_note = date_note.replace("read as UTC", f"read in {timezone}")
    notes = [n for n in (notation.note, date_note) if n]
    if ambiguous:
        notes.append(
            f"{ambiguous:,} order line(s) name a SKU that several variants share, and their "
            "Lineitem name matches none of those variants' names: kept with product_id and "
            "variant_id null (give each variant its own SKU to resolve them)"
        )
    report = FileLoadReport(
        file=str(file.path),
        table="orders",
        rows_read=df.height,
        rows_loaded=good.height,
        rows_rejected=bad.height,
        warnings=(*file.warnings, *notes),
    )
    return FileResult({"orders": orders, "order_lines": lines}, rejects, report, extras)


def _range_checks(text: str, value: str, limits: ReadLimits, *, when: pl.Expr) -> list[Check]:
    """Checks that a parsed timestamp has a real UTC offset and lies in the accepted range.

    They follow the parse check of the same column, so an unreadable cell keeps its own reason.
    """
    parsed = pl.col(value)
    offset_ok = pl.when(~bad_utc_offset(pl.col(text))).then(parsed)
    dated_ok = pl.when(in_range(parsed, limits.earliest, limits.latest)).then(parsed)
    return [
        Check(text, offset_ok, "UTC offset outside -12:00 .. +14:00", when=when),
        Check(
            text,
            dated_ok,
            f"date outside the accepted range {limits.date_range}; fix the date, or widen "
            "it with the min_date= / max_date= options",
            when=when,
        ),
    ]


def _split_bad(
    df: pl.DataFrame,
    checks: list[Check],
    missing_name: pl.Expr,
    missing: dict[str, pl.Expr],
    overrides: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(bad, good)``: bad rows with their ``_bad_*`` details, and the rows that load.

    A row is bad for its own first failed check (``overrides`` first: ragged rows and rows of
    another order under a used Name, with their details; then a missing Name, then the checks
    in order, then a missing required value: ``missing`` maps each required column to the rows
    where it is empty); every other row of an order whose
    first row is bad is rejected too, since its lines would have no order.
    """
    own = df.filter(pl.col(_BAD))
    if own.height == 0:
        none = pl.lit(None, dtype=pl.String())
        return own.select(ROW, *(none.alias(c) for c in (BAD_COLUMN, BAD_VALUE, BAD_REASON))), df
    required = "required value is empty"
    column = pl.col(BAD_COLUMN)
    for name, empty in reversed(missing.items()):
        column = pl.when(pl.col(BAD_REASON).is_null() & empty).then(pl.lit(name)).otherwise(column)
    own = own.with_columns(first_failure(checks)).with_columns(
        pl.when(missing_name).then(pl.lit("Name")).otherwise(column).alias(BAD_COLUMN),
        pl.when(missing_name).then(None).otherwise(pl.col(BAD_VALUE)).alias(BAD_VALUE),
        pl.when(missing_name)
        .then(pl.lit("every row needs the order Name (e.g. '#1001')"))
        .when(pl.col(BAD_REASON).is_null() & pl.any_horizontal(*missing.values()))
        .then(pl.lit(required))
        .otherwise(pl.col(BAD_REASON))
        .alias(BAD_REASON),
    )
    if overrides.height:
        given = pl.col("_given").is_not_null()
        own = own.join(
            overrides.with_columns(pl.lit(True).alias("_given")),
            on=ROW,
            how="left",
            maintain_order="left",
            suffix="_given",
        ).with_columns(
            pl.when(given).then(pl.col(f"{c}_given")).otherwise(pl.col(c)).alias(c)
            for c in (BAD_COLUMN, BAD_VALUE, BAD_REASON)
        )
    bad_orders = own.filter(pl.col(_FIRST)).get_column("Name").drop_nulls().implode()
    follows = ~pl.col(_BAD) & pl.col("Name").is_in(bad_orders)
    followers = df.filter(follows).with_columns(
        pl.lit("Name").alias(BAD_COLUMN),
        pl.col("Name").alias(BAD_VALUE),
        pl.lit("the first row of this order was rejected").alias(BAD_REASON),
    )
    details = [ROW, BAD_COLUMN, BAD_VALUE, BAD_REASON]
    bad = pl.concat([own.select(details), followers.select(details)]).sort(ROW)
    return bad, df.filter(~pl.col(_BAD) & ~follows)


def _orders(
    good: pl.DataFrame, email_to_customer: pl.DataFrame | None, updated: pl.Expr
) -> pl.DataFrame:
    """The ``orders`` table from the first row of each order among the rows that load."""
    # lazy, so that the filter gathers only the columns selected, not all of ``good``
    orders = (
        good.lazy()
        .filter(pl.col(_FIRST))
        .select(
            pl.col("Name").alias("order_id"),
            pl.col("Customer ID").alias("_customer_id"),
            pl.col("Email").str.to_lowercase().alias("email"),
            "created_at",
            pl.col("Currency").str.to_uppercase().alias("currency"),
            *_MONEY.values(),
            _status("Financial Status").alias("financial_status"),
            _status("Fulfillment Status").alias("fulfillment_status"),
            "cancelled_at",
            pl.coalesce("Shipping Country", "Billing Country").alias("country"),
            ROW,
            updated.alias("_updated_at"),
        )
        .collect()
    )
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
        ROW,
        "_updated_at",
    )


def _line_number(*, contiguous: bool) -> pl.Expr:
    """1-based position of each row within its order, in file order.

    Shopify writes the rows of an order next to each other: then positions come from where
    each run starts, with no hashing of names. Otherwise (hand-edited or concatenated files)
    they are ranked within each order.
    """
    name = pl.col("Name")
    if not contiguous:
        return pl.col(ROW).rank("ordinal").over("Name").cast(pl.Int64)
    index = pl.int_range(pl.len(), dtype=pl.Int64)
    start = pl.when(name.ne_missing(name.shift())).then(index).forward_fill()
    return index - start + 1


def _lines(
    good: pl.DataFrame,
    sku_to_product: pl.DataFrame | None,
    extras: list[str],
    *,
    contiguous: bool,
) -> pl.DataFrame:
    """The ``order_lines`` table from the rows of ``good`` that carry a line item, in file order.

    ``contiguous``: every order's rows are adjacent in the file (see :func:`_line_number`).
    """
    lines = (
        good.lazy()
        .filter(pl.col(_HAS_LINE))
        .select(
            ROW,
            pl.col("Name").alias("order_id"),
            _line_number(contiguous=contiguous).alias("line_number"),
            pl.col("Lineitem sku").alias("sku"),
            pl.col("Lineitem name").alias("title"),
            "quantity",
            "unit_price",
            "discount",
            *extras,
        )
        .collect()
    )
    lines = resolve_lines(lines, sku_to_product)
    # a SKU shared by several variants whose name settles none is no id: left null
    fallback = pl.when(~pl.col(AMBIGUOUS)).then(pl.col("sku"))
    return lines.sort(ROW).select(
        "order_id",
        "line_number",
        pl.coalesce("product_id", fallback).alias("product_id"),
        pl.coalesce("variant_id", fallback).alias("variant_id"),
        "sku",
        "title",
        "quantity",
        "unit_price",
        "discount",
        *extras,
        ROW,
        AMBIGUOUS,
    )
