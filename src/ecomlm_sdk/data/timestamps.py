"""Parsing timestamps written as text into UTC, whatever offsets the rows carry."""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = ["parse_utc_timestamps"]

_DATE_TIME: Final = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")
_OFFSETS: Final = ("%#z", " %#z", "Z")


def parse_utc_timestamps(text: pl.Expr) -> pl.Expr:
    """Parse ISO-like timestamps into ``Datetime("us", "UTC")``; unparseable values become null.

    Accepts, row by row, ``2011-12-01 08:26:00``, ``2011-12-01T08:26``, ``2011-12-01`` (taken as
    UTC), fractional seconds, and any UTC offset: ``+02:00``, ``+0200``, `` -0400`` (Shopify's
    style, with a space) or ``Z``. Callers detect failures by comparing null counts.
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
