"""The orders loader's fast paths give what the full parsers give, and keep every row accounted."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_series_equal

import ecomlm_sdk
from ecomlm_sdk import DataSourceError
from ecomlm_shopify.fastparse import MONEY, QUANTITY, TIMESTAMP, TwoStepParser, finish
from ecomlm_shopify.headers import ORDERS_HEADER
from ecomlm_shopify.reading import _is_utf8
from ecomlm_shopify.values import parse_int, parse_money, parse_timestamp

from .conftest import write_export

AMOUNTS = [
    "12.50",
    "1,234.50",
    "$12.00",
    "-3.5",
    "1 000",
    "€5",
    "£3",
    "1e3",
    ".5",
    "+3",
    "abc",
    None,
]
QUANTITIES = ["6", "-12", "6.0", "1.5", "1,000", "+3", "x", "1e2", None]
TIMESTAMPS = [
    "2025-04-08 10:15:00 -0400",
    "2025-04-08 10:15:00 +04:00",
    "2025-04-08 10:15:00  -0400",
    "2025-04-08 10:15:00-0400",
    "2025-4-8 10:15:00 -0400",
    "2025-04-08T10:15:00 -0400",
    "2025-04-08 10:15:00 Z",
    "2025-04-08 10:15:00 UTC",
    "2025-04-08 10:15",
    "2025-04-08",
    "2025-04-08 10:15:00.5 -0400",
    "not a date",
    None,
]


@pytest.mark.parametrize(
    ("parser", "full", "cells"),
    [
        (MONEY, parse_money, AMOUNTS),
        (QUANTITY, parse_int, QUANTITIES),
        (TIMESTAMP, parse_timestamp, TIMESTAMPS),
    ],
)
def test_fast_path_equals_full_parser(parser: TwoStepParser, full, cells) -> None:  # type: ignore[no-untyped-def]
    text = pl.Series("c", cells, dtype=pl.String())
    expected = pl.DataFrame({"c": text}).select(full(pl.col("c"))).to_series()
    got = parser.series(text)
    assert_series_equal(got, expected)
    assert got.null_count() < len(cells)  # the comparison is not between two null columns
    fast_only = pl.DataFrame({"c": text}).select(parser.fast(pl.col("c"))).to_series()
    assert fast_only.null_count() > expected.null_count()  # the fallback had work to do


def test_finish_leaves_columns_the_fast_step_read() -> None:
    frame = pl.DataFrame({"t": ["1.5", "2"], "v": [1.5, 2.0], "u": ["$3", None], "w": [None, None]})
    frame = frame.with_columns(pl.col("w").cast(pl.Float64))
    done = finish(frame, {"v": ("t", MONEY), "w": ("u", MONEY)})
    assert done.get_column("v").to_list() == [1.5, 2.0]
    assert done.get_column("w").to_list() == [3.0, None]


def test_fast_paths_read_what_shopify_writes() -> None:
    stamps = TIMESTAMP.series(pl.Series(["2025-04-08 10:15:00 -0400", "2025-04-08T10:15:00Z"]))
    assert [str(t) for t in stamps] == ["2025-04-08 14:15:00+00:00", "2025-04-08 10:15:00+00:00"]
    assert MONEY.series(pl.Series(["1,234.50", "7"])).to_list() == [1234.5, 7.0]
    assert QUANTITY.series(pl.Series(["6.0", "1.5", "3"])).to_list() == [6, None, 3]


def test_utf8_check_across_chunks() -> None:
    text = "Zoë, café".encode()
    split = text.index("ë".encode()) + 1  # inside the two-byte character
    assert _is_utf8([b"plain ascii,", text[:split], text[split:]])
    assert _is_utf8([b"ascii", text])
    assert not _is_utf8([b"ascii", "caf\xe9".encode("cp1252")])
    assert not _is_utf8([text[:split]])  # a character cut off at the end
    assert not _is_utf8([text[:split], b"ascii after the cut"])


def _line(cells: dict[str, str]) -> dict[str, str]:
    return {"Lineitem quantity": "1", "Lineitem price": "2.00", **cells}


def _order(name: str, day: int, sku: str) -> dict[str, str]:
    return _line(
        {"Name": name, "Created at": f"2025-01-0{day} 00:00:00 +0000", "Lineitem sku": sku}
    )


def test_interleaved_orders_number_lines_in_file_order(tmp_path: Path) -> None:
    rows = [
        _order("#1", 1, "A"),
        _order("#2", 2, "B"),
        _line({"Name": "#1", "Lineitem sku": "C"}),
        _line({"Name": "#2", "Lineitem sku": "D"}),
        _line({"Name": "#1", "Lineitem sku": "E"}),
    ]
    write_export(tmp_path / "orders.csv", ORDERS_HEADER, rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path))
    lines = store.order_lines.select("order_id", "line_number", "sku").rows()
    assert lines == [("#1", 1, "A"), ("#2", 1, "B"), ("#1", 2, "C"), ("#2", 2, "D"), ("#1", 3, "E")]
    assert store.orders.get_column("order_id").to_list() == ["#1", "#2"]


def test_contiguous_orders_number_lines_per_order(tmp_path: Path) -> None:
    rows = [
        _order("#1", 1, "A"),
        _line({"Name": "#1", "Lineitem sku": "B"}),
        _order("#2", 2, "C"),
        {"Name": "#2", "Lineitem sku": ""},  # no line-item cell: not a line
        _line({"Name": "#2", "Lineitem sku": "D"}),
    ]
    write_export(tmp_path / "orders.csv", ORDERS_HEADER, rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path))
    lines = store.order_lines.select("order_id", "line_number", "sku").rows()
    assert lines == [("#1", 1, "A"), ("#1", 2, "B"), ("#2", 1, "C"), ("#2", 2, "D")]
    assert store.load_report.rows_read == 5 and store.load_report.rows_rejected == 0


def test_rows_without_a_name_are_rejected_not_fatal(tmp_path: Path) -> None:
    rows = [
        _order("#1", 1, "A"),
        _line({"Lineitem sku": "B"}),  # line 3: no Name
        _order("#2", 2, "C"),
    ]
    path = write_export(tmp_path / "orders.csv", ORDERS_HEADER, rows)
    notes = ORDERS_HEADER.index("Notes")
    text = path.read_text()
    # line 5: every cell blank; line 6: only Notes (a column the loader does not read) filled;
    # line 7: a cell holding spaces
    text += "," * (len(ORDERS_HEADER) - 1) + "\n"
    text += ",".join("a note" if i == notes else "" for i in range(len(ORDERS_HEADER))) + "\n"
    text += " " + "," * (len(ORDERS_HEADER) - 1) + "\n"
    path.write_text(text)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path))
    assert store.orders.get_column("order_id").to_list() == ["#1", "#2"]
    assert store.order_lines.get_column("sku").to_list() == ["A", "C"]
    rejects = store.rejects.select("line", "column", "value", "reason").rows()
    need = "every row needs the order Name (e.g. '#1001')"
    assert rejects == [(3, "Name", None, need), (6, "Name", None, need), (7, "Name", None, need)]
    (entry,) = store.load_report
    assert (entry.rows_read, entry.rows_loaded, entry.rows_rejected) == (5, 2, 3)
    with pytest.raises(DataSourceError, match=r"orders\.csv, line 3, column 'Name': value None"):
        ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path), strict=True)


def test_finish_cleans_only_the_cells_it_retries() -> None:
    frame = pl.DataFrame({"t": ["1.5", " 2 ", "   ", "x", None]}).with_columns(
        MONEY.fast(pl.col("t")).alias("v")
    )
    done = finish(frame, {"v": ("t", MONEY)})
    assert done.get_column("v").to_list() == [1.5, 2.0, None, None, None]
    assert done.get_column("t").to_list() == ["1.5", "2", None, "x", None]


def test_padded_and_blank_parsed_cells(tmp_path: Path) -> None:
    rows = [
        {**_order("#1", 1, "A"), "Lineitem price": " 3.50 ", "Total": "  "},
        _line({"Name": "#1", "Lineitem quantity": "   ", "Lineitem sku": "B"}),
        {"Name": "#2", "Created at": " 2025-01-02 00:00:00 +0000 ", "Lineitem quantity": " "},
    ]
    write_export(tmp_path / "orders.csv", ORDERS_HEADER, rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path))
    assert store.order_lines.select("order_id", "unit_price").rows() == [("#1", 3.5)]
    orders = store.orders.select("order_id", "total", "created_at").rows()
    assert [(o, t, str(c)) for o, t, c in orders] == [
        ("#1", None, "2025-01-01 00:00:00+00:00"),
        ("#2", None, "2025-01-02 00:00:00+00:00"),  # a first row with no line item
    ]
    assert store.rejects.select("line", "column", "value", "reason").rows() == [
        (3, "Lineitem quantity", None, "required value is empty")
    ]
