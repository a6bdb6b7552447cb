"""What a hostile or careless CSV export can do to ``shopify_csv``: leak rows into errors, blow up
memory (gzip bombs, huge headers), or smuggle impossible dates into the store.

Issue 10, items 10 (errors never echo rows), 11 (resource limits) and 13 (impossible dates).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import logging
import tempfile
import traceback
import tracemalloc
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import polars as pl
import pytest

import ecomlm_sdk
from ecomlm_sdk import DataSourceError, EcomStore, SchemaError
from ecomlm_sdk.data.source import DataSource
from ecomlm_shopify.headers import ORDERS_HEADER
from ecomlm_shopify.limits import duplicate_names
from ecomlm_shopify.reading import _dedupe
from ecomlm_shopify.safety import shown_value

SECRETS = ("alice.secret@example.com", "bob.secret@example.com", "carol.secret@example.com")


def _line(cells: Mapping[str, str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([cells.get(h, "") for h in ORDERS_HEADER])
    return out.getvalue()


def _order(name: str, email: str, **cells: str) -> dict[str, str]:
    return {
        "Name": name,
        "Email": email,
        "Billing Name": "Alice Secretname",
        "Billing Phone": "+1 212 555 0123",
        "Created at": "2025-01-01 10:00:00 +0000",
        "Lineitem quantity": "1",
        "Lineitem price": "12.50",
        **cells,
    }


def _orders_file(path: Path, rows: Sequence[Mapping[str, str]]) -> Path:
    path.write_text(",".join(ORDERS_HEADER) + "\n" + "".join(_line(r) for r in rows))
    return path


def _everything_said(exc: BaseException) -> str:
    """The message, the whole formatted traceback (chained causes included) and the args."""
    return str(exc) + "".join(traceback.format_exception(exc)) + repr(exc.args)


def _assert_no_secret(text: str) -> None:
    for secret in (*SECRETS, "Secretname", "555 0123"):
        assert secret not in text


# --------------------------------------------------------------------------- 10: no raw rows


def _unclosed_quote_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    good = _line(_order("#1001", SECRETS[0]))
    broken = _line(_order("#1002", SECRETS[1])).replace(SECRETS[1], '"' + SECRETS[1], 1)
    after = _line(_order("#1003", SECRETS[2]))
    (folder / "orders_export.csv").write_text(
        ",".join(ORDERS_HEADER) + "\n" + good + broken + after
    )
    return folder


@pytest.mark.parametrize("strict", [False, True])
def test_unclosed_quote_never_echoes_the_email(
    tmp_path: Path, strict: bool, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _unclosed_quote_folder(tmp_path)
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DataSourceError) as info:
            ecomlm_sdk.load_store("shopify_csv", path=str(folder), strict=strict)
    message = str(info.value)
    assert "orders_export.csv, line 3, column 'Email'" in message
    assert "quoted field is not closed" in message
    assert info.value.__cause__ is None and info.value.__context__ is None
    _assert_no_secret(_everything_said(info.value))
    _assert_no_secret(" ".join(str(w.message) for w in caught))
    _assert_no_secret(caplog.text)


def test_stray_quote_is_located_without_echoing(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    stray = _line(_order("#1002", SECRETS[1])).replace(SECRETS[1], f'"{SECRETS[1]}"x', 1)
    text = ",".join(ORDERS_HEADER) + "\n" + _line(_order("#1001", SECRETS[0])) + stray
    (folder / "orders.csv").write_text(text)
    with pytest.raises(DataSourceError, match=r"orders\.csv, line 3, column 'Email'") as info:
        ecomlm_sdk.load_store("shopify_csv", path=str(folder))
    _assert_no_secret(_everything_said(info.value))


def test_rejects_and_report_show_only_non_personal_values(tmp_path: Path) -> None:
    long_price = "9" * 60 + "x"
    rows = [
        _order("#1001", SECRETS[0], **{"Lineitem price": "12,50"}),
        _order("#1002", SECRETS[1], **{"Total": long_price}),
        _order("#1003", SECRETS[2]),
    ]
    path = _orders_file(tmp_path / "orders.csv", rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    rejects = store.rejects.sort("line")
    assert rejects.get_column("line").to_list() == [2, 3]
    assert rejects.get_column("value").to_list() == ["12,50", "9" * 39 + "…"]
    assert "ambiguous separator" in rejects.get_column("reason")[0]
    everything = (
        str(rejects.to_dicts())
        + str(store.load_report)
        + str([f.warnings for f in store.load_report])
    )
    _assert_no_secret(everything)
    with pytest.raises(DataSourceError) as info:
        ecomlm_sdk.load_store("shopify_csv", path=str(path), strict=True)
    assert "line 2, column 'Lineitem price': value '12,50': ambiguous separator" in str(info.value)
    _assert_no_secret(_everything_said(info.value))


def test_the_value_rule() -> None:
    assert shown_value("Lineitem price", "12,50") == "12,50"
    assert shown_value("Created at", "x" * 41) == "x" * 39 + "…"
    for personal in ("Email", "Billing Name", "Billing Phone", "Shipping Address1", "Notes"):
        assert shown_value(personal, SECRETS[0]) is None
    assert shown_value(None, "12") is None


class _LeakySource(DataSource):
    name: ClassVar[str] = "leaky"

    def _load(self) -> EcomStore:
        frame = pl.DataFrame({"email": [SECRETS[0]]})
        frame.select(pl.col("email").cast(pl.Int64, strict=True))  # polars quotes the value
        raise AssertionError("unreachable")  # pragma: no cover


def test_the_base_class_withholds_polars_messages() -> None:
    with pytest.raises(DataSourceError, match="message is withheld") as info:
        _LeakySource().load()
    _assert_no_secret(_everything_said(info.value))


# --------------------------------------------------------------------------- 11: limits


def _gzip_bomb(path: Path, expanded: int) -> Path:
    """A gzip file whose header line is followed by ``expanded`` bytes of zeros (written in
    1 MiB pieces, so the test itself never holds the expanded data)."""
    piece = b"0" * (1024 * 1024)
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write((",".join(ORDERS_HEADER) + "\n").encode())
        for _ in range(expanded // len(piece)):
            out.write(piece)
    return path


def test_gzip_bomb_stops_at_the_limit_with_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = _gzip_bomb(tmp_path / "orders_export.csv.gz", 50 * 1024 * 1024)
    assert bomb.stat().st_size < 200_000  # 50 MiB of output from well under 200 kB
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    warm = tmp_path / "warm.csv.gz"  # plugins and parsers imported before memory is traced
    warm.write_bytes(gzip.compress(",".join(ORDERS_HEADER).encode() + b"\n"))
    ecomlm_sdk.load_store("shopify_csv", path=str(warm))
    tracemalloc.start()
    try:
        with pytest.raises(DataSourceError) as info:
            ecomlm_sdk.load_store(
                "shopify_csv", path=str(bomb), max_decompressed_bytes=10 * 1024 * 1024
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert "orders_export.csv.gz" in message
    assert "max_decompressed_bytes=10485760" in message
    assert peak < 8 * 1024 * 1024  # far below the 50 MiB it expands to, and below the limit
    assert list(scratch.iterdir()) == []  # the partial temporary copy is removed


def test_gzip_under_the_limit_loads_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = ",".join(ORDERS_HEADER) + "\n" + _line(_order("#1001", SECRETS[0]))
    path = tmp_path / "orders.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path), max_decompressed_bytes=len(text))
    assert store.orders.height == 1
    assert list(scratch.iterdir()) == []
    with pytest.raises(DataSourceError, match=r"max_decompressed_bytes=100\b"):
        ecomlm_sdk.load_store("shopify_csv", path=str(path), max_decompressed_bytes=100)


def test_corrupt_gzip_is_a_clear_error(tmp_path: Path) -> None:
    data = gzip.compress(b"Name,Lineitem name\n" * 1000)
    path = tmp_path / "orders.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataSourceError, match=r"orders\.csv\.gz: not a readable gzip file"):
        ecomlm_sdk.load_store("shopify_csv", path=str(path))


def test_wide_header_fails_fast_with_max_columns(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(200_000)) + "\n" + "1," * 10 + "\n")
    with pytest.raises(
        DataSourceError, match=r"wide\.csv, line 1: the header has [\d,]+ or more"
    ) as info:
        ecomlm_sdk.load_store("shopify_csv", path=str(path))
    assert "max_columns=1000" in str(info.value)
    narrow = tmp_path / "narrow" / "orders.csv"
    narrow.parent.mkdir()
    narrow.write_text(",".join([*ORDERS_HEADER, *(f"x{i}" for i in range(1_000))]) + "\n")
    with pytest.raises(
        DataSourceError, match=r"the header has 1,079 columns, over the limit max_columns=1000"
    ):
        ecomlm_sdk.load_store("shopify_csv", path=str(narrow))
    store = ecomlm_sdk.load_store("shopify_csv", path=str(narrow), max_columns=1_100)
    assert store.orders.height == 0


def test_header_that_never_ends_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text('Name,"Lineitem name\n' + "x,y\n" * 400_000)  # the quote swallows the file
    with pytest.raises(DataSourceError, match=r"line 1: the header line does not end within"):
        ecomlm_sdk.load_store("shopify_csv", path=str(path))


def test_duplicate_name_checks_are_linear() -> None:
    names = [f"c{i % 500_000}" for i in range(1_000_000)]  # every name twice
    repeated = duplicate_names(names)
    assert len(repeated) == 500_000 and repeated[:2] == ["c0", "c1"]
    renamed = _dedupe(names)
    assert len(set(renamed)) == 1_000_000
    assert renamed[500_000] == "c0 (2)"
    # a generated name never collides with a real one, nor with the row-index column
    assert _dedupe(["Tags", "Tags", "Tags (2)", "_row"]) == [
        "Tags",
        "Tags (2)",
        "Tags (2) (2)",
        "_row (2)",
    ]


def test_duplicate_columns_still_load(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    header = [*ORDERS_HEADER, "Tags", "Tags (2)"]
    row = _line(_order("#1001", SECRETS[0])).rstrip("\n") + ",a,b\n"
    path.write_text(",".join(header) + "\n" + row)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    assert store.orders.height == 1
    assert any("duplicate column" in w for f in store.load_report for w in f.warnings)


# --------------------------------------------------------------------------- 13: dates

IMPOSSIBLE = [
    ("0001-01-01 00:00:00 +0000", "date outside the accepted range"),
    ("9999-12-31 23:59:59 +0000", "date outside the accepted range"),
    ("1989-12-31 23:59:59 +0000", "date outside the accepted range"),
    ("2100-01-01 00:00:00 +0000", "date outside the accepted range"),
    ("2025-04-08 10:15:00 +2359", "UTC offset outside -12:00 .. +14:00"),
    ("2025-04-08 10:15:00 -1300", "UTC offset outside -12:00 .. +14:00"),
    ("2025-04-08T10:15:00+14:30", "UTC offset outside -12:00 .. +14:00"),
    ("2025-13-01 00:00:00 +0000", "not a timestamp"),
    ("2025-02-30 00:00:00 +0000", "not a timestamp"),
]


@pytest.mark.parametrize(("stamp", "reason"), IMPOSSIBLE)
def test_impossible_dates_are_rejected_at_load(tmp_path: Path, stamp: str, reason: str) -> None:
    rows = [
        _order("#1001", SECRETS[0]),
        _order("#1002", SECRETS[1], **{"Created at": stamp}),
        _order("#1003", SECRETS[2], **{"Cancelled at": stamp}),
    ]
    path = _orders_file(tmp_path / "orders.csv", rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    report = store.load_report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 1, 2)
    assert store.rejects.select("line", "column", "value").rows() == [
        (3, "Created at", stamp),
        (4, "Cancelled at", stamp),
    ]
    assert all(reason in r for r in store.rejects.get_column("reason"))
    with pytest.raises(DataSourceError) as info:
        ecomlm_sdk.load_store("shopify_csv", path=str(path), strict=True)
    assert f"orders.csv, line 3, column 'Created at': value {stamp!r}: {reason}" in str(info.value)


def test_edges_of_the_range_load_and_the_range_is_an_option(tmp_path: Path) -> None:
    stamps = [
        "1990-01-01 00:00:00 +0000",
        "2099-12-31 23:59:59 +0000",
        "2025-04-08 10:15:00 +1400",
        "2025-04-08 10:15:00 -1200",
        "2025-04-08 10:15:00 +05:45",
    ]
    rows = [_order(f"#{i}", SECRETS[0], **{"Created at": s}) for i, s in enumerate(stamps)]
    path = _orders_file(tmp_path / "orders.csv", rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path), strict=True)
    assert store.orders.height == len(stamps)
    old = _orders_file(
        tmp_path / "old.csv", [_order("#1", SECRETS[0], **{"Created at": "1985-06-01"})]
    )
    with pytest.raises(DataSourceError, match=r"1990-01-01 \.\. 2099-12-31 \(UTC\)"):
        ecomlm_sdk.load_store("shopify_csv", path=str(old), strict=True)
    wide = ecomlm_sdk.load_store("shopify_csv", path=str(old), strict=True, min_date="1980-01-01")
    assert wide.orders.get_column("created_at")[0] == dt.datetime(1985, 6, 1, tzinfo=dt.UTC)
    with pytest.raises(DataSourceError, match="Invalid options"):
        ecomlm_sdk.load_store("shopify_csv", path=str(old), min_date="1800-01-01")


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (dt.datetime(1, 1, 1), r"'orders', column 'created_at': 1 timestamp\(s\) outside"),
        ("9999-12-31 00:00:00", r"'orders', column 'created_at': 1 timestamp\(s\) outside"),
        (dt.date(2200, 1, 1), r"'orders', column 'created_at': 1 timestamp\(s\) outside"),
        ("2025-01-01 10:00:00+23:59", r"UTC offset outside -12:00 \.\. \+14:00"),
    ],
)
def test_store_rejects_out_of_range_datetimes(value: object, match: str) -> None:
    frame = pl.DataFrame({"order_id": ["#1", "#2"], "created_at": [value, None]})
    with pytest.raises(SchemaError, match=match):
        EcomStore(orders=frame, check_integrity=False)


def test_store_accepts_its_whole_range() -> None:
    frame = pl.DataFrame(
        {
            "order_id": ["#1", "#2"],
            "created_at": [dt.datetime(1900, 1, 1), dt.datetime(2199, 12, 31, 23, 59)],
        }
    )
    store = EcomStore(orders=frame, check_integrity=False)
    assert store.orders.get_column("created_at").dt.year().to_list() == [1900, 2199]
