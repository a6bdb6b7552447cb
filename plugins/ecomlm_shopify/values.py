"""Polars expressions that read Shopify cell text: money, integers, booleans, tags, timestamps, HTML.

Every parser takes the raw (string) column and returns the typed value, or null when the cell
cannot be read. A cell that is filled but parses to null is a bad value: :class:`Check` pairs
the two so the loaders can reject the row (lenient) or raise (strict) naming column and value.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Final

import polars as pl

__all__ = [
    "EXCEL_NUMBER",
    "Check",
    "clean",
    "decimal_comma_evidence",
    "html_to_text",
    "number_reason",
    "parse_bool",
    "parse_int",
    "parse_money",
    "parse_tags",
    "parse_timestamp",
    "raw",
]

#: A number Excel rewrote in scientific notation, e.g. a barcode saved as ``3.65275E+11``.
EXCEL_NUMBER: Final = r"^[0-9](?:\.[0-9]+)?[eE]\+[0-9]+$"

_TRUE: Final = ["true", "yes", "y", "1", "t"]
_FALSE: Final = ["false", "no", "n", "0", "f"]


def clean(text: pl.Expr) -> pl.Expr:
    """The trimmed text, null when empty (or only whitespace)."""
    stripped = text.str.strip_chars()
    return pl.when(stripped.str.len_bytes() > 0).then(stripped)


def raw(column: str) -> pl.Expr:
    """The trimmed cell text of ``column``, null when empty. Loaders clean every column with it
    once; the parsers below take such cleaned expressions."""
    return clean(pl.col(column))


# Thousands separators are read only where no decimal-comma reading exists: groups of three
# digits split by commas, with a decimal point after them or at least two commas ("1,234.50",
# "1,234,567"), or split by spaces ("1 234.50"; no locale writes a decimal space). "12,50",
# "1.234,50" and even "1,234" (1.234 in a decimal-comma locale) are rejected, never rescaled.
# A dot is always the decimal point.
_GROUPED: Final = r"^[+-]?(?:\d{1,3}(?:,\d{3})+\.\d*|\d{1,3}(?:,\d{3}){2,}|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:\.\d*)?)$"
_SEPARATOR: Final = r"[,\s]"
_CURRENCY: Final = r"[$£€]"


def _number_text(text: pl.Expr) -> pl.Expr:
    """The text with well-formed thousands separators removed; null when it holds a comma or
    an inner space in any other place (an ambiguous decimal separator)."""
    return (
        pl.when(~text.str.contains(_SEPARATOR))
        .then(text)
        .when(text.str.contains(_GROUPED))
        .then(text.str.replace_all(_SEPARATOR, ""))
    )


def _finite(value: pl.Expr) -> pl.Expr:
    return pl.when(value.is_finite()).then(value)


def _money_text(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(_CURRENCY, "").str.strip_chars()


# Decimal-comma notation (a file read with decimal_comma=True): "12,50", "1.234,50",
# "1 234,50", "12". Dots and spaces are thousands separators there, in groups of three only;
# anything else ("12.50", "1.23,4") is rejected, never guessed.
_COMMA_NUMBER: Final = (
    r"^[+-]?(?:\d+|\d{1,3}(?:\.\d{3})+|\d{1,3}(?:[ \u00a0\u202f]\d{3})+)(?:,\d*)?$"
)
# Evidence for detection: amounts only a decimal comma explains ("12,50", "1.234,50",
# "1 234,5") and amounts only a decimal point explains ("12.50", "0.5", "1,234.50",
# "1,234,567"). "1,234", "1.234" and whole numbers are evidence for neither.
_ONLY_COMMA: Final = (
    r"^[+-]?(?:\d+,\d{1,2}|\d{1,3}(?:\.\d{3})+,\d*|\d{1,3}(?:[ \u00a0\u202f]\d{3})+,\d*)$"
)
_ONLY_POINT: Final = r"^[+-]?(?:\d[\d, \u00a0\u202f]*\.(?:\d{1,2}|\d{4,})|\d{1,3}(?:,\d{3}){2,})$"


def _comma_number_text(text: pl.Expr) -> pl.Expr:
    """Decimal-comma text as decimal-point text ("1.234,50" -> "1234.50"); null when it is not
    written in that notation."""
    return pl.when(text.str.contains(_COMMA_NUMBER)).then(
        text.str.replace_all(r"[.\s]", "").str.replace(",", ".", literal=True)
    )


def decimal_comma_evidence(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """``(only_comma, only_point)``: whether an amount cell can only be read with a decimal
    comma, or only with a decimal point (both false for ``"1,234"``, ``"12"`` or null)."""
    body = _money_text(text)
    return body.str.contains(_ONLY_COMMA), body.str.contains(_ONLY_POINT)


def parse_money(text: pl.Expr, *, decimal_comma: bool = False) -> pl.Expr:
    """``"1,234.50"``, ``"$12.00"``, ``"-3.5"`` -> Float64 (currency signs and well-formed
    thousands separators dropped).

    Bad (null): a comma or inner space that could be a decimal separator (``"12,50"``,
    ``"1.234,50"``, ``"1,234"``), and ``NaN``/``inf``/overflowing values such as ``"1e309"``.
    With ``decimal_comma=True`` the comma is the decimal separator instead (``"12,50"`` ->
    12.5, ``"1.234,50"`` -> 1234.5) and a decimal point is bad (``"12.50"``).
    """
    body = _money_text(text)
    number = _comma_number_text(body) if decimal_comma else _number_text(body)
    return _finite(number.cast(pl.Float64, strict=False))


def parse_int(text: pl.Expr) -> pl.Expr:
    """``"6"``, ``"-12"``, ``"6.0"``, ``"1,000,000"`` -> Int64; fractional values such as
    ``"1.5"`` and ambiguous separators such as ``"1,000"`` or ``"12,50"`` are bad."""
    whole = text.cast(pl.Int64, strict=False)
    as_float = _number_text(text).cast(pl.Float64, strict=False)
    from_float = pl.when(as_float == as_float.round(0)).then(as_float.cast(pl.Int64, strict=False))
    return pl.coalesce(whole, from_float)


def number_reason(text: pl.Expr, expected: str, *, decimal_comma: bool = False) -> pl.Expr:
    """Why a number cell that did not parse is bad: an ambiguous separator, a non-finite
    value, or ``expected`` (e.g. ``"not an amount such as '12.50'"``). Both separator reasons
    name the ``decimal_comma`` option the file was read with."""
    body = _money_text(text)
    non_finite = ~body.cast(pl.Float64, strict=False).is_finite()
    if decimal_comma:
        return (
            pl.when(body.str.contains(r"[.,\s]") & ~body.str.contains(_COMMA_NUMBER))
            .then(
                pl.lit(
                    "not in decimal-comma notation (12,50 or 1.234,50): this file is read "
                    "with decimal_comma=True (set, or detected from its amounts), where a "
                    "dot is a thousands separator; pass decimal_comma=False if it writes "
                    "decimal points"
                )
            )
            .when(non_finite)
            .then(pl.lit("not a finite number (NaN and infinity are not amounts)"))
            .otherwise(pl.lit(expected))
        )
    ambiguous = body.str.contains(_SEPARATOR) & ~body.str.contains(_GROUPED)
    return (
        pl.when(ambiguous)
        .then(
            pl.lit(
                "ambiguous separator: a comma or space is read only as a thousands "
                "separator in groups of three (1,234.50, 1,234,567, 1 234.50), never as a "
                "decimal comma, and this file is not read with decimal_comma=True (not set, "
                "and not detected: the file also has decimal-point amounts, or none that "
                "only a decimal comma explains); pass decimal_comma=True if the file writes "
                "amounts like 12,50, or write the value with a decimal point, e.g. 12.50"
            )
        )
        .when(non_finite)
        .then(pl.lit("not a finite number (NaN and infinity are not amounts)"))
        .otherwise(pl.lit(expected))
    )


def parse_bool(text: pl.Expr) -> pl.Expr:
    """``TRUE/yes/1`` -> True, ``FALSE/no/0`` -> False (any case); anything else is bad."""
    lower = text.str.to_lowercase()
    return pl.when(lower.is_in(_TRUE)).then(True).when(lower.is_in(_FALSE)).then(False)


def parse_tags(text: pl.Expr) -> pl.Expr:
    """``"vip, wholesale"`` -> ``["vip", "wholesale"]``; empty -> ``[]``."""
    items = text.fill_null("").str.split(",")
    return items.list.eval(
        pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != "")
    )


def parse_timestamp(text: pl.Expr) -> pl.Expr:
    """Shopify timestamps to UTC: ``"2025-04-08 10:15:00 -0400"`` -> ``2025-04-08 14:15:00 UTC``.

    Accepted: ``YYYY-MM-DD HH:MM[:SS]`` followed by ``+HHMM``/``-HHMM``/``+HH:MM``/``Z``/``UTC``
    or nothing (read as UTC), with ``T`` or a space between date and time, or a bare date.
    """
    normal = (
        text.str.replace(r"\s*(?:Z|UTC)$", " +0000")
        .str.replace(r"(\d)T(\d)", "${1} ${2}")
        .str.replace(r"^(\d{4}-\d\d-\d\d)$", "${1} 00:00:00")
        .str.replace(r"^(\d{4}-\d\d-\d\d \d\d:\d\d)(\s|$)", "${1}:00${2}")
        .str.replace(r"\s*([+-]\d\d):?(\d\d)$", " ${1}${2}")
        .str.replace(r"(:\d\d)$", "${1} +0000")
    )
    return normal.str.to_datetime(
        "%Y-%m-%d %H:%M:%S %z", strict=False, time_unit="us", time_zone="UTC"
    )


_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"<\s*(?:br|/p|/div|/li|/h[1-6]|/tr)\s*/?>", re.IGNORECASE)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_NEWLINES = re.compile(r"\s*\n\s*")


def _strip_html(text: str) -> str:
    text = _SCRIPT.sub(" ", text)
    text = _BLOCK.sub("\n", text)
    text = html.unescape(_TAG.sub(" ", text))
    text = _SPACES.sub(" ", text)
    return _NEWLINES.sub("\n", text).strip()


def html_to_text(text: pl.Expr) -> pl.Expr:
    """Plain text of an HTML cell: tags removed, entities decoded, block ends as newlines."""
    return text.map_elements(_strip_html, return_dtype=pl.String, skip_nulls=True)


@dataclass(frozen=True)
class Check:
    """A column whose filled cells must parse: ``parsed`` null while the cell is filled is bad.

    Attributes:
        column: The CSV column name (as in the file), already cleaned with :func:`raw`.
        parsed: The typed expression.
        reason: What is expected, for the reject reason and the strict error; an expression
            when the reason depends on the cell (see :func:`number_reason`).
        when: Only check rows where this holds (e.g. the first row of an order).
    """

    column: str
    parsed: pl.Expr
    reason: str | pl.Expr
    when: pl.Expr | None = None

    def failed(self) -> pl.Expr:
        """True on rows where the cell is filled but cannot be read."""
        bad = pl.col(self.column).is_not_null() & self.parsed.is_null()
        return bad if self.when is None else bad & self.when
