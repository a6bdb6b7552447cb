"""What an error, warning or reject may show of the input, and wrapping CSV parser failures.

Exports hold personal data (e-mails, names, addresses, phones), and error text travels further
than the data: logs, tickets, screenshots. So:

- Parser failures (polars, ``csv``) are never passed on with their own message, which quotes
  whole raw rows: :func:`guarded` turns them into a :class:`DataSourceError` naming the
  file, the line and column where the problem starts, and a short reason.
- A cell value is shown only for the columns in :data:`SHOWN_COLUMNS` (numbers, dates, yes/no
  flags, statuses, currency codes and identifiers such as the order ``Name``, ``Customer ID``,
  ``Handle``, SKU or barcode), cut to its first :data:`MAX_SHOWN` characters. Never for e-mail,
  name, address, phone, note or free-text columns.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar

import polars as pl

from ecomlm_sdk.errors import DataSourceError, EcomlmError

if TYPE_CHECKING:
    from ecomlm_shopify.reading import RawFile

__all__ = [
    "MAX_SHOWN",
    "SHOWN_COLUMNS",
    "describe_parser_error",
    "first_malformed_record",
    "guarded",
    "open_quote",
    "shown",
    "shown_value",
    "shown_values",
]

T = TypeVar("T")

#: Values longer than this are cut (with ``…``) wherever they are shown.
MAX_SHOWN: Final = 40

#: The only columns whose cell values may appear in errors, warnings and rejects.
SHOWN_COLUMNS: Final = frozenset(
    {
        # orders
        "Name",
        "Financial Status",
        "Fulfillment Status",
        "Currency",
        "Created at",
        "Cancelled at",
        "Paid at",
        "Fulfilled at",
        "Subtotal",
        "Shipping",
        "Taxes",
        "Total",
        "Discount Amount",
        "Refunded Amount",
        "Lineitem quantity",
        "Lineitem price",
        "Lineitem discount",
        "Lineitem sku",
        # customers
        "Customer ID",
        "Accepts Email Marketing",
        "Accepts Marketing",
        "Accepts SMS Marketing",
        "Total Spent",
        "Total Orders",
        "Tax Exempt",
        # products
        "Handle",
        "Variant SKU",
        "Variant Price",
        "Variant Compare At Price",
        "Cost per item",
        "Variant Inventory Qty",
        "Variant Barcode",
        "Status",
    }
)

_POLARS_COLUMN: Final = re.compile(r"at column '([^']*)'")
_PIECE: Final = 1024 * 1024


def shown(value: str) -> str:
    """``value`` cut to :data:`MAX_SHOWN` characters (the last one an ellipsis when cut)."""
    return value if len(value) <= MAX_SHOWN else value[: MAX_SHOWN - 1] + "…"


def shown_value(column: str | None, value: str | None) -> str | None:
    """The part of ``value`` a message may show: ``None`` unless ``column`` may be shown."""
    if value is None or column not in SHOWN_COLUMNS:
        return None
    return shown(value)


def shown_values(column: pl.Expr, value: pl.Expr) -> pl.Expr:
    """:func:`shown_value` as an expression over a column-name and a value column."""
    cut = pl.when(value.str.len_chars() > MAX_SHOWN).then(value.str.slice(0, MAX_SHOWN - 1) + "…")
    return pl.when(column.is_in(list(SHOWN_COLUMNS))).then(cut.otherwise(value))


def open_quote(path: Path, encoding: str) -> tuple[int, int | None] | None:
    """Where a quoted field opens that is never closed: ``(line, column index)``, else ``None``.

    Reads the file in bounded pieces and only counts quotes (``""`` inside a field counts two,
    so the parity of a line says whether it ends inside a field); the column index is worked
    out from the line where the last open field starts, when that piece holds the line start.
    """
    inside = False
    start: tuple[int, int | None] | None = None
    line, at_line_start = 1, True
    with path.open("r", encoding=encoding, newline="") as handle:
        while piece := handle.readline(_PIECE):
            quotes = piece.count('"')
            if quotes % 2:
                was_inside, inside = inside, not inside
                if inside:
                    column = _opening_field(piece) if at_line_start and not was_inside else None
                    start = (line, column)
            at_line_start = piece.endswith(("\n", "\r"))
            line += at_line_start
    return start if inside else None


def first_malformed_record(path: Path, encoding: str) -> int | None:
    """The line where the first record Python's strict CSV reader refuses starts, else ``None``.

    The fallback of :func:`open_quote` for quotes that do close but sit where CSV allows none
    (``"a"b``); only run after the fast parser has failed.
    """
    with path.open("r", encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, strict=True)
        previous = 0
        try:
            for _record in reader:
                previous = reader.line_num
        except csv.Error:
            return previous + 1
    return None


def _opening_field(text: str) -> int:
    """Index of the field holding the last unmatched quote of a line that starts a record."""
    inside, field, opened = False, 0, 0
    for char in text:
        if char == '"':
            inside = not inside
            if inside:
                opened = field
        elif char == "," and not inside:
            field += 1
    return opened


def _reason(exc: Exception) -> str:
    message = str(exc)
    if isinstance(exc, csv.Error) and "field larger than field limit" in message:
        return "a cell is over 128 kB, usually a quoted field that is never closed"
    if "not properly escaped" in message or "quote" in message.lower():
        return "a quoted field is not closed (or a stray '\"' sits inside a field)"
    return f"the file is not valid CSV ({type(exc).__name__})"


def describe_parser_error(file: RawFile, exc: Exception) -> str:
    """The message for a parser failure on ``file``: file, line, column, reason, fix; no data."""
    where = open_quote(file.scanned, file.text_encoding)
    column: str | None = None
    if where is not None and where[1] is not None and where[1] < len(file.header):
        column = file.header[where[1]]
    if column is None:
        found = _POLARS_COLUMN.search(str(exc))
        if found and found.group(1) in file.header:
            column = found.group(1)
    line = (
        where[0] if where is not None else first_malformed_record(file.scanned, file.text_encoding)
    )
    place = f", line {line}" if line is not None else ""
    place += f", column {column!r}" if column is not None else ""
    return (
        f"{file.path}{place}: cannot parse the CSV: {_reason(exc)}. Rows after this point "
        "cannot be told apart, so the file is not loaded (in strict or lenient mode). Fix the "
        "quoting (a '\"' inside a quoted cell is written '\"\"'), or export the file again."
    )


def guarded(file: RawFile, load: Callable[[], T]) -> T:
    """``load()``, with polars / ``csv`` parser failures on ``file`` turned into a safe
    :class:`DataSourceError` (see :func:`describe_parser_error`).

    The new error is raised after the handler has finished, so it carries neither the
    original as its cause or context nor its traceback frames: both quote raw rows.
    """
    try:
        return load()
    except EcomlmError:
        raise
    except (pl.exceptions.PolarsError, csv.Error) as exc:
        message = describe_parser_error(file, exc)
    raise DataSourceError(message)
