"""Rows that reuse the ``Name`` of an earlier, different order (issue 11, item 7).

Shopify writes the rows of one order together, order-level fields on the first. A later run of
rows under the same ``Name``, not next to the first, whose order-level fields (email, date,
currency, total, financial status) are filled and differ from the first run's, is another
order: joining it would add its lines (and money) to the wrong customer's order. Each row of
such a run is rejected with a reason naming both lines. A later run whose order fields are
empty or equal is a line of the same order (a hand-sorted file), as before.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from ecomlm_shopify.common import BAD_COLUMN, BAD_REASON, BAD_VALUE
from ecomlm_shopify.reading import ROW, RawFile

__all__ = ["OVERRIDE_SCHEMA", "reused_names"]

#: Columns of a frame of rows rejected for a reason found outside the cell checks.
OVERRIDE_SCHEMA: Final = pl.Schema(
    {ROW: pl.UInt32(), BAD_COLUMN: pl.String(), BAD_VALUE: pl.String(), BAD_REASON: pl.String()}
)

#: Order-level field -> its comparable value (parsed, case-normalised), over the loader frame.
_FIELDS: Final = {
    "Email": pl.col("Email").str.to_lowercase(),
    "Created at": pl.col("created_at"),
    "Currency": pl.col("Currency").str.to_uppercase(),
    "Total": pl.col("total"),
    "Financial Status": pl.col("Financial Status").str.to_lowercase(),
}


def reused_names(file: RawFile, df: pl.DataFrame, first: str) -> pl.DataFrame:
    """Rows (:data:`OVERRIDE_SCHEMA`) of later runs that are a different order under a used Name.

    Args:
        file: The export (for line numbers).
        df: The loader frame: ``ROW``, ``Name``, the raw order columns and the parsed
            ``created_at`` / ``total``, in file order.
        first: The column flagging the first row of each Name.
    """
    name = pl.col("Name")
    starts = name.ne_missing(name.shift())
    later = starts & ~pl.col(first) & name.is_not_null()
    if not df.select(later.any()).item():
        return pl.DataFrame(schema=OVERRIDE_SCHEMA)
    runs = df.select(
        ROW,
        "Name",
        starts.cum_sum().alias("_run"),
        later.alias("_later"),
        pl.col(first).alias("_first"),
        *(value.alias(column) for column, value in _FIELDS.items()),
    )
    firsts = runs.filter("_first").select(
        "Name",
        pl.col(ROW).alias("_first_row"),
        *(pl.col(c).alias(f"_was {c}") for c in _FIELDS),
    )
    starting = runs.filter("_later").join(firsts, on="Name", how="left")
    differs = {
        c: pl.col(c).is_not_null() & pl.col(c).ne_missing(pl.col(f"_was {c}")) for c in _FIELDS
    }
    conflicting = starting.filter(pl.any_horizontal(*differs.values())).with_columns(
        pl.concat_str(
            [pl.when(d).then(pl.lit(c)) for c, d in differs.items()],
            separator=", ",
            ignore_nulls=True,
        ).alias("_fields")
    )
    if conflicting.height == 0:
        return pl.DataFrame(schema=OVERRIDE_SCHEMA)
    lines = file.line_numbers(
        [*conflicting.get_column(ROW).to_list(), *conflicting.get_column("_first_row").to_list()]
    )
    reasons = conflicting.select(
        "_run",
        pl.struct(ROW, "_first_row", "Name", "_fields")
        .map_elements(
            lambda r: (
                f"the order Name {r['Name']!r} is already used by the order on line "
                f"{lines[r['_first_row']]}, and the order starting on line {lines[r[ROW]]} has "
                f"other order fields ({r['_fields']}): Shopify writes an order's rows "
                "together, so these rows are a different order, not lines of that one; "
                "give one of them another Name, or re-export"
            ),
            return_dtype=pl.String(),
        )
        .alias(BAD_REASON),
    )
    return (
        runs.join(reasons, on="_run", how="inner")
        .sort(ROW)
        .select(
            pl.col(ROW).cast(pl.UInt32),
            pl.lit("Name").alias(BAD_COLUMN),
            pl.col("Name").alias(BAD_VALUE),
            BAD_REASON,
        )
    )
