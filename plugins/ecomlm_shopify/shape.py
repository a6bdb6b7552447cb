"""Rows whose cell count differs from the header's (ragged rows).

The CSV scan pads a short row with nulls and drops the extra cells of a long one, so a row
with one cell too many (an unquoted comma in a name) would load its price into the SKU column.
Such a row is never loaded: the loaders reject it with its line, or stop in strict mode.

Counting cells per record runs over the lines of the file at C speed: a line without quotes has
``commas + 1`` cells; a line with quotes is counted after dropping its quoted parts; a record
whose quoted cell spans lines (an odd number of quotes opens it) is joined again first. Only
the lines of such records are read a second time.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from typing import Final

import polars as pl

from ecomlm_shopify.common import BAD_REASON
from ecomlm_shopify.reading import ROW, RawFile

__all__ = ["CELLS", "mark_ragged", "ragged_reason", "ragged_rows"]

#: Column of :func:`ragged_rows` holding the number of cells of the row.
CELLS: Final = "_cells"
_LINE: Final = "line"
_QUOTED: Final = r'"[^"]*"'


def _cells_outside_quotes(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(_QUOTED, "").str.count_matches(",", literal=True) + 1


def ragged_rows(file: RawFile) -> pl.DataFrame:
    """Data rows (:data:`ROW`, as in ``file.frame``) with more or fewer cells than the header,
    and their cell count (:data:`CELLS`). Blank lines are left out (they are not rows)."""
    expected = len(file.header)
    schema = {ROW: pl.UInt32(), CELLS: pl.UInt32()}
    if expected == 0:
        return pl.DataFrame(schema=schema)
    line = pl.col(_LINE)
    # counting is only paid on lines that hold a quote (a cheap literal search finds them)
    quoted = pl.when(line.str.contains('"', literal=True)).then(line)
    quotes = quoted.str.count_matches('"', literal=True).fill_null(0)
    counts = (
        pl.scan_lines(file.scanned, name=_LINE)
        .select(
            quotes.alias("q"),
            # the regex runs on quoted lines only (null elsewhere)
            pl.coalesce(
                _cells_outside_quotes(quoted),
                line.str.count_matches(",", literal=True) + 1,
            ).alias(CELLS),
            (line.str.len_bytes() == 0).alias("empty"),
        )
        .collect(engine="streaming")
    )
    odd = (pl.col("q") % 2).cast(pl.Int64)
    inside_before = (odd.cum_sum() - odd) % 2 == 1
    # a line opening a quoted cell it does not close, or starting inside one, is part of a
    # record spanning lines (none in most exports: then every line is one record)
    spanning = inside_before | ((odd == 1) & ~inside_before)
    records = counts.with_columns(
        (~inside_before).cum_sum().cast(pl.Int64).alias("_record"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_line_index"),
        spanning.alias("_spanning"),
    )
    # record 1 is the header; records spanning lines are counted from their joined text
    spans = records.filter("_spanning")
    single = records.filter(~pl.col("_spanning")).select("_record", CELLS, "empty")
    if spans.height:
        wanted = spans.get_column("_line_index")
        joined = (
            pl.scan_lines(file.scanned, name=_LINE)
            .with_row_index("_line_index")
            .filter(pl.col("_line_index").is_in(wanted.cast(pl.UInt32).implode()))
            .collect()
            .with_columns(spans.get_column("_record"))
            .group_by("_record", maintain_order=True)
            .agg(line.str.join("\n"))
            .select(
                "_record",
                _cells_outside_quotes(line).cast(pl.UInt32).alias(CELLS),
                pl.lit(False).alias("empty"),
            )
        )
        single = pl.concat([single, joined]).sort("_record")
    rows = single.filter(pl.col("_record") > 1).select(
        (pl.col("_record") - 2).cast(pl.UInt32).alias(ROW), CELLS, "empty"
    )
    if rows.height != file.frame.select(pl.len()).collect().item():
        # a quote inside an unquoted cell (5" screen) is literal to the CSV reader but
        # would open a quoted cell here: count such a file record by record instead
        return _count_with_csv(file, schema)
    return rows.filter(~pl.col("empty") & (pl.col(CELLS) != expected)).select(ROW, CELLS)


def ragged_reason(cells: pl.Expr, expected: int) -> pl.Expr:
    """The reject reason of a ragged row with ``cells`` cells."""
    return pl.format(
        "the row has {} cells but the header has {}: a cell was added or lost (e.g. a comma "
        "inside an unquoted value), so its values would land in the wrong columns; fix or "
        "re-export the row",
        cells,
        pl.lit(expected),
    )


def mark_ragged(df: pl.DataFrame, file: RawFile) -> pl.DataFrame:
    """Mark the ragged rows of ``file`` in ``df`` as rejects: their reason replaces any other,
    and no column or value is shown (the cells are in the wrong columns)."""
    ragged = ragged_rows(file)
    if not ragged.height:
        return df
    shaped = pl.col(CELLS).is_not_null()
    return (
        df.join(ragged, on=ROW, how="left", maintain_order="left")
        .with_columns(
            pl.when(shaped).then(None).otherwise(pl.col("_bad_column")).alias("_bad_column"),
            pl.when(shaped).then(None).otherwise(pl.col("_bad_value")).alias("_bad_value"),
            pl.when(shaped)
            .then(ragged_reason(pl.col(CELLS), len(file.header)))
            .otherwise(pl.col(BAD_REASON))
            .alias(BAD_REASON),
        )
        .drop(CELLS)
    )


def _count_with_csv(file: RawFile, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """:func:`ragged_rows` by Python's csv module, record by record (slower)."""
    found: dict[str, list[int]] = {ROW: [], CELLS: []}
    with file.scanned.open(encoding=file.text_encoding, newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for index, record in enumerate(reader):
            if record and any(record) and len(record) != len(file.header):
                found[ROW].append(index)
                found[CELLS].append(len(record))
    return pl.DataFrame(found, schema=schema)
