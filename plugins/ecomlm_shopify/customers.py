"""Customers export (19-column 2018 or 20-column 2024 version) -> ``customers``.

The customer id is the ``Customer ID`` column where the export has one (2024+), else a stable
id derived from the normalized email (see :func:`ecomlm_shopify.common.email_id`). A row with
neither, or repeating an id seen earlier, is rejected.
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
    updated_at,
)
from ecomlm_shopify.headers import KNOWN_COLUMNS, OLD_CUSTOMER_ALIASES
from ecomlm_shopify.reading import ROW, RawFile
from ecomlm_shopify.shape import mark_ragged
from ecomlm_shopify.values import Check, parse_bool, parse_tags, raw

__all__ = ["load_customers"]

_WANTED = (
    "Customer ID",
    "First Name",
    "Last Name",
    "Email",
    "Accepts Email Marketing",
    "Default Address City",
    "Default Address Country Code",
    "Country",
    "Tags",
)


def load_customers(file: RawFile, *, strict: bool) -> FileResult:
    """Read one customers export (see the module docstring for ids and rejects)."""
    extras = [c for c in file.header if c not in KNOWN_COLUMNS["customers"]]
    aliases = {
        old: new
        for old, new in OLD_CUSTOMER_ALIASES.items()
        if old in file.header and new not in file.header
    }
    frame = file.frame.rename(aliases)
    header = [aliases.get(c, c) for c in file.header]
    renamed = RawFile(file.path, file.kind, header, frame, file.encoding)
    if "Customer ID" not in header and "Email" not in header:
        ensure_columns(renamed, frame, (), ("Email",))
    frame = ensure_columns(renamed, frame.filter(not_blank(header)), _WANTED, ())
    frame = frame.select(ROW, *(raw(c).alias(c) for c in dict.fromkeys([*header, *_WANTED])))
    email = pl.col("Email").str.to_lowercase()
    checks = [
        Check(
            "Accepts Email Marketing",
            parse_bool(pl.col("Accepts Email Marketing")),
            "not a yes/no value",
        ),
    ]
    df = (
        frame.with_columns(email.alias("email"))
        .with_columns(first_failure(checks))
        .collect()
        .with_columns(
            pl.coalesce(pl.col("Customer ID"), email_id("email")).alias("customer_id"),
        )
    )
    no_id = pl.col(BAD_REASON).is_null() & pl.col("customer_id").is_null()
    df = df.with_columns(
        pl.when(no_id).then(pl.lit("Email")).otherwise(pl.col("_bad_column")).alias("_bad_column"),
        pl.when(no_id)
        .then(pl.lit("the row has neither a Customer ID nor an Email to identify the customer"))
        .otherwise(pl.col(BAD_REASON))
        .alias(BAD_REASON),
    )
    df = mark_ragged(df, file)
    duplicate = (
        pl.col(BAD_REASON).is_null()
        & pl.col("customer_id").is_not_null()
        & pl.col("customer_id").is_duplicated()
        & (pl.col(ROW) != pl.col(ROW).min().over("customer_id"))
    )
    df = df.with_columns(
        pl.when(duplicate)
        .then(pl.lit("Customer ID"))
        .otherwise(pl.col("_bad_column"))
        .alias("_bad_column"),
        pl.when(duplicate)
        .then(pl.col("customer_id"))
        .otherwise(pl.col("_bad_value"))
        .alias("_bad_value"),
        pl.when(duplicate)
        .then(pl.lit("this customer already appeared on an earlier row"))
        .otherwise(pl.col(BAD_REASON))
        .alias(BAD_REASON),
    )
    bad = df.filter(pl.col(BAD_REASON).is_not_null())
    rejects = rejects_of(file, "customers", bad, strict=strict)
    good = df.filter(pl.col(BAD_REASON).is_null())
    customers = good.select(
        "customer_id",
        "email",
        pl.col("First Name").alias("first_name"),
        pl.col("Last Name").alias("last_name"),
        pl.col("Default Address City").alias("city"),
        pl.coalesce(pl.col("Default Address Country Code"), pl.col("Country")).alias("country"),
        parse_bool(pl.col("Accepts Email Marketing")).alias("accepts_marketing"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("created_at"),
        parse_tags(pl.col("Tags")).alias("tags"),
        *extras,
        ROW,
        updated_at(header).alias("_updated_at"),
    )
    report = FileLoadReport(
        file=str(file.path),
        table="customers",
        rows_read=df.height,
        rows_loaded=good.height,
        rows_rejected=bad.height,
        warnings=tuple(file.warnings),
    )
    return FileResult({"customers": customers}, rejects, report, extras)
