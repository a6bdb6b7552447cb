"""Slash dates of spreadsheet-resaved exports: day-first or month-first, decided per file.

Shopify writes ``2023-12-31 22:36:00 +0100``; a file saved again from a spreadsheet may hold
``31/12/2023 22:36`` (day first) or ``12/31/2023 22:36`` (month first), with the offset lost
(read as UTC, as every naive Shopify timestamp). A file is read day-first when the option
``day_first=True`` says so, or (``None``, the default) when some slash date has a first part
over 12 and none has a second part over 12; month-first in the mirror case. When no date
tells (every part 12 or under) or both kinds occur, no slash date of the file is read: each is
rejected with a reason naming the option. One file never mixes both readings; the choice is
recorded in its load-report line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import polars as pl

from ecomlm_shopify.values import clean

__all__ = ["SLASH_DATE", "DateOrder", "detect_date_order", "parse_slash_date", "slash_reason"]

#: ``d/m/yyyy`` or ``m/d/yyyy``, optionally with ``H:MM`` or ``H:MM:SS``.
SLASH_DATE: Final = r"^(\d{1,2})/(\d{1,2})/\d{4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
_FORMATS: Final = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")


@dataclass(frozen=True)
class DateOrder:
    """How one file's slash dates are read.

    Attributes:
        day_first: ``True`` day-first, ``False`` month-first, ``None`` not read (undecided,
            or no slash dates).
        note: The decision, for the file's load-report line (``None``: no slash dates).
    """

    day_first: bool | None
    note: str | None = None


def detect_date_order(
    frame: pl.DataFrame, unread: Mapping[str, str], option: bool | None
) -> DateOrder:
    """The date order of a file from the timestamp cells its normal parse could not read.

    Args:
        frame: The loader frame.
        unread: Text column -> the column of its parsed timestamp (null where unread).
        option: The ``day_first`` option; ``True``/``False`` are taken as given.
    """
    parts = []
    for text, value in unread.items():
        cells = clean(pl.col(text).filter(pl.col(value).is_null() & pl.col(text).is_not_null()))
        parts.append(cells.filter(cells.str.contains(SLASH_DATE)).alias(text))
    if not parts:
        return DateOrder(None)
    found = pl.concat([frame.select(p).to_series().rename("d") for p in parts]).to_frame()
    if found.height == 0:
        return DateOrder(None)
    if option is not None:
        how = "day-first" if option else "month-first"
        return DateOrder(option, f"slash dates read {how} (day_first={option})")
    split = found.select(
        pl.col("d").str.extract(SLASH_DATE, 1).cast(pl.Int64).alias("a"),
        pl.col("d").str.extract(SLASH_DATE, 2).cast(pl.Int64).alias("b"),
    )
    first_over, second_over = (bool(split.select((pl.col(c) > 12).any()).item()) for c in "ab")
    example = found.get_column("d")[0]
    if first_over and not second_over:
        return DateOrder(
            True,
            f"slash dates read day-first (detected: {example!r} and no "
            "month over 12); offsets missing, read as UTC",
        )
    if second_over and not first_over:
        return DateOrder(
            False,
            f"slash dates read month-first (detected: {example!r} and "
            "no day over 12 first); offsets missing, read as UTC",
        )
    why = "both day-first and month-first dates occur" if first_over else "no part is over 12"
    return DateOrder(
        None, f"slash dates such as {example!r} not read: {why}; pass day_first=True or False"
    )


def parse_slash_date(text: pl.Expr, *, day_first: bool, timezone: str | None = None) -> pl.Expr:
    """A slash date read day-first or month-first, as a UTC timestamp (null when not one).

    It has no offset: it is read as wall-clock time in ``timezone`` (UTC when ``None``).
    """
    ordered = text if day_first else text.str.replace(r"^(\d{1,2})/(\d{1,2})/", "${2}/${1}/")
    naive = pl.coalesce(ordered.str.to_datetime(f, strict=False, time_unit="us") for f in _FORMATS)
    local = naive.dt.replace_time_zone(timezone or "UTC", ambiguous="earliest", non_existent="null")
    return pl.when(text.str.contains(SLASH_DATE)).then(local.dt.convert_time_zone("UTC"))


def slash_reason(text: pl.Expr, order: DateOrder, otherwise: str) -> pl.Expr:
    """The reject reason of an unread timestamp cell: the undecided slash date, or ``otherwise``."""
    if order.day_first is not None or order.note is None:
        return pl.lit(otherwise)
    return (
        pl.when(text.str.contains(SLASH_DATE))
        .then(
            pl.lit(
                "slash date that this file does not settle as day-first or month-first "
                "(no part over 12, or both kinds occur); pass day_first=True or False"
            )
        )
        .otherwise(pl.lit(otherwise))
    )
