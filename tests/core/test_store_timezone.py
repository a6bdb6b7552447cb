"""Issue 11, item 11: naive timestamps are read in the shop's ``timezone``; without one they
are read as UTC with a warning, never silently."""

from __future__ import annotations

import datetime as dt
import warnings

import polars as pl
import pytest

from ecomlm_sdk import EcomStore
from ecomlm_sdk.data.store import NaiveTimestampWarning


def _orders(created: pl.Series) -> pl.DataFrame:
    return pl.DataFrame({"order_id": [f"#{i}" for i in range(len(created))], "created_at": created})


def test_naive_timestamps_without_timezone_warn_and_read_as_utc() -> None:
    naive = pl.Series([dt.datetime(2025, 1, 1, 10), None, dt.datetime(2025, 7, 1, 10)])
    with pytest.warns(NaiveTimestampWarning, match=r"'orders', column 'created_at': 2 timestamp"):
        store = EcomStore(orders=_orders(naive))
    assert [str(t) for t in store.orders["created_at"]] == [
        "2025-01-01 10:00:00+00:00",
        "None",
        "2025-07-01 10:00:00+00:00",
    ]


def test_timezone_reads_naive_datetimes_dates_and_text_as_local_time() -> None:
    naive = pl.Series([dt.datetime(2025, 1, 1, 10), dt.datetime(2025, 7, 1, 10)])
    text = pl.Series(["2025-01-01 10:00:00", "2025-07-01 10:00:00+00:00"])
    dates = pl.Series([dt.date(2025, 1, 1), dt.date(2025, 7, 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", NaiveTimestampWarning)
        got = [
            [
                str(t)
                for t in EcomStore(orders=_orders(s), timezone="Europe/Paris").orders["created_at"]
            ]
            for s in (naive, text, dates)
        ]
    assert got == [
        ["2025-01-01 09:00:00+00:00", "2025-07-01 08:00:00+00:00"],
        ["2025-01-01 09:00:00+00:00", "2025-07-01 10:00:00+00:00"],  # an offset is kept
        ["2024-12-31 23:00:00+00:00", "2025-06-30 22:00:00+00:00"],
    ]
    aware = pl.Series([dt.datetime(2025, 1, 1, 10, tzinfo=dt.UTC)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", NaiveTimestampWarning)
        store = EcomStore(orders=_orders(aware))  # aware values never warn
    assert store.timezone is None
    assert (
        EcomStore(orders=_orders(aware), timezone="Asia/Tokyo").replace().timezone == "Asia/Tokyo"
    )
