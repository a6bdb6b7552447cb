"""Parsing timestamps written as text into UTC, whatever offsets the rows carry, and the range
of timestamps the SDK accepts.

A timestamp outside :data:`EARLIEST` .. :data:`LATEST` (year 0001, 9999, ...) or written with a
UTC offset outside ``-12:00`` .. ``+14:00`` (``+2359``) is a data error, not a date: it is
rejected where data enters (data sources, :class:`~ecomlm_sdk.data.store.EcomStore`), so later
date arithmetic never sees it.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import polars as pl

__all__ = ["EARLIEST", "LATEST", "bad_utc_offset", "in_range", "parse_utc_timestamps"]

#: The earliest timestamp a store accepts (inclusive).
EARLIEST: Final = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
#: The first timestamp a store no longer accepts (exclusive): 2199-12-31 23:59:59 is the last.
LATEST: Final = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)

_DATE_TIME: Final = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")
_OFFSETS: Final = ("%#z", " %#z", "Z")
# A trailing ``+HHMM``/``+HH:MM`` beyond +14:00, or ``-HHMM`` beyond -12:00 (real offsets span
# -12:00 .. +14:00); minutes of 60 or more never parse, so only hours need a look.
_BAD_OFFSET: Final = (
    r"(?:\+(?:1[5-9]|[2-9]\d):?\d\d|\+14:?(?:0[1-9]|[1-5]\d)"
    r"|-(?:1[3-9]|[2-9]\d):?\d\d|-12:?(?:0[1-9]|[1-5]\d))$"
)


def bad_utc_offset(text: pl.Expr) -> pl.Expr:
    """True where the timestamp text ends in a UTC offset outside ``-12:00`` .. ``+14:00``.

    Meant for cells that parsed as timestamps: only their trailing offset can match (a date
    or a time never ends in a sign followed by four digits).
    """
    return text.str.contains(_BAD_OFFSET)


def in_range(
    value: pl.Expr, earliest: dt.datetime = EARLIEST, latest: dt.datetime = LATEST
) -> pl.Expr:
    """True where the (UTC) timestamp is in ``[earliest, latest)``; null stays null."""
    return value.is_between(earliest, latest, closed="left")


def parse_utc_timestamps(text: pl.Expr) -> pl.Expr:
    """Parse ISO-like timestamps into ``Datetime("us", "UTC")``; unparseable values become null.

    Accepts, row by row, ``2011-12-01 08:26:00``, ``2011-12-01T08:26``, ``2011-12-01`` (taken as
    UTC), fractional seconds, and any UTC offset: ``+02:00``, ``+0200``, `` -0400`` (Shopify's
    style, with a space) or ``Z``. Callers detect failures by comparing null counts; the range
    (:func:`in_range`, :func:`bad_utc_offset`) is checked by the caller.
    """
    candidates: list[pl.Expr] = []
    for base in _DATE_TIME:
        for fraction in ("", "%.f") if base.endswith("%S") else ("",):
            fmt = base + fraction
            for offset in _OFFSETS:
                if offset == "Z":
                    parsed = text.str.strip_suffix("Z").str.to_datetime(
                        fmt, time_unit="us", strict=False
                    )
                    candidates.append(
                        pl.when(text.str.ends_with("Z")).then(parsed.dt.replace_time_zone("UTC"))
                    )
                else:
                    candidates.append(
                        text.str.to_datetime(
                            fmt + offset, time_unit="us", strict=False
                        ).dt.convert_time_zone("UTC")
                    )
            candidates.append(
                text.str.to_datetime(fmt, time_unit="us", strict=False).dt.replace_time_zone("UTC")
            )
    candidates.append(
        text.str.to_date("%Y-%m-%d", strict=False)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
    )
    return pl.coalesce(candidates)
