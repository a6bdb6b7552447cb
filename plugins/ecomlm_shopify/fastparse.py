"""Two-step parsing: a cheap expression for the layout Shopify writes, the full parser for the rest.

The loaders run the cheap ``fast`` expression on the text as read, inside the one streaming
scan of the file; then :func:`finish` cleans and re-parses, with the regex-based parsers of
:mod:`ecomlm_shopify.values`, only the filled cells the fast step could not read. ``fast`` accepts a subset of what ``full``
accepts and gives the same value there (``tests/shopify/test_fast_paths.py`` checks it), so
the result is the full parser's on every cell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import polars as pl

from ecomlm_shopify.values import clean, parse_int, parse_money, parse_timestamp

__all__ = ["MONEY", "QUANTITY", "TIMESTAMP", "TwoStepParser", "finish"]

#: The one layout Shopify itself writes timestamps in.
_SHOPIFY_TIMESTAMP: Final = "%Y-%m-%d %H:%M:%S %z"


def _evaluate(parser: Callable[[pl.Expr], pl.Expr], text: pl.Series) -> pl.Series:
    return pl.DataFrame({"t": text}).select(parser(pl.col("t"))).to_series().alias(text.name)


@dataclass(frozen=True)
class TwoStepParser:
    """A cheap parser for the common layout and the full parser it falls back to.

    Attributes:
        fast: Text -> value; null when the cell is not in the common layout, and for any
            cell with surrounding whitespace (those are cleaned, then read by ``full``).
        full: Cleaned text -> value, null when the cell cannot be read at all.
    """

    fast: Callable[[pl.Expr], pl.Expr]
    full: Callable[[pl.Expr], pl.Expr]

    def series(self, text: pl.Series) -> pl.Series:
        """Parse a String series: ``full`` of the cleaned text, computed the cheap way."""
        frame = pl.DataFrame({"t": text}).with_columns(self.fast(pl.col("t")).alias("v"))
        return finish(frame, {"v": ("t", self)}).get_column("v").alias(text.name)


def _fast_money(text: pl.Expr) -> pl.Expr:
    # the cast reads "NaN", "inf" and "1e309" (as inf): those are never amounts
    value = text.cast(pl.Float64, strict=False)
    return pl.when(value.is_finite()).then(value)


MONEY: Final = TwoStepParser(_fast_money, parse_money)
QUANTITY: Final = TwoStepParser(lambda t: t.cast(pl.Int64, strict=False), parse_int)
TIMESTAMP: Final = TwoStepParser(
    lambda t: t.str.to_datetime(_SHOPIFY_TIMESTAMP, strict=False, time_unit="us", time_zone="UTC"),
    parse_timestamp,
)


def finish(frame: pl.DataFrame, parsed: Mapping[str, tuple[str, TwoStepParser]]) -> pl.DataFrame:
    """Complete the fast step: clean and re-parse with the full parser the cells it could not read.

    The text columns may be uncleaned (as read): the fast parsers read no cell with
    surrounding whitespace, so every such cell, and every whitespace-only one, is retried here,
    and cleaning only those cells is cheaper than cleaning whole columns.

    Args:
        frame: Holds, for each entry of ``parsed``, the value column (from ``parser.fast``)
            and the text column it was parsed from.
        parsed: Value column -> ``(text column, parser)``.

    Returns:
        ``frame`` with each value column equal to ``parser.full`` of its cleaned text, and each
        retried text cell cleaned (whitespace-only cells become null, so "is the cell filled"
        is the same question as for a cleaned column). Columns where the fast step read every
        filled cell are returned untouched (no copy).
    """
    for target, (source, parser) in parsed.items():
        value, text = frame.get_column(target), frame.get_column(source)
        retry = value.is_null() & text.is_not_null()
        if retry.any():
            where = retry.arg_true()
            cleaned = _evaluate(clean, text.gather(where))
            frame = frame.with_columns(
                value.clone().scatter(where, _evaluate(parser.full, cleaned)).alias(target),
                text.clone().scatter(where, cleaned).alias(source),
            )
    return frame
