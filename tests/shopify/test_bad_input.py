"""A folder of mixed, partly broken exports: lenient accounts for every row, strict names the first."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import ecomlm_sdk
from ecomlm_sdk import DataSourceError
from ecomlm_shopify.headers import CUSTOMERS_HEADER, ORDERS_HEADER, PRODUCTS_HEADER

from .conftest import write_export

ORDERS = [
    {
        "Name": "#1",
        "Email": "zoe@example.com",
        "Created at": "2025-01-02 03:04:05 +0000",
        "Total": "10.00",
        "Lineitem quantity": "1",
        "Lineitem name": 'Mug, large\n"blue"',
        "Lineitem price": "10.00",
        "Lineitem sku": "MUG",
    },
    {"Name": "#1", "Lineitem quantity": "2", "Lineitem price": "abc", "Lineitem sku": "CAP"},
    {"Name": "#2", "Created at": "not a date", "Lineitem quantity": "1", "Lineitem price": "1"},
    {"Name": "#2", "Lineitem quantity": "1", "Lineitem price": "1", "Lineitem sku": "CAP"},
]
LAST = {
    "Name": "#3",
    "Created at": "2025-01-05 00:00:00 +0000",
    "Lineitem quantity": "3",
    "Lineitem price": "2.5",
    "Lineitem sku": "MUG",
}


@pytest.fixture
def broken_folder(tmp_path: Path) -> Path:
    orders = write_export(
        tmp_path / "a.csv", ORDERS_HEADER, ORDERS, encoding="utf-8-sig", newline="\r\n"
    )
    # a blank line, then one more good order
    text = (
        orders.read_bytes()
        + b"\r\n"
        + (",".join(LAST.get(h, "") for h in ORDERS_HEADER).encode() + b"\r\n")
    )
    orders.write_bytes(text)
    write_export(
        tmp_path / "b.csv",
        CUSTOMERS_HEADER,
        [{"Customer ID": "9", "First Name": "Zoë", "Email": "zoe@example.com", "Tags": "café"}],
        encoding="cp1252",
    )
    header = [*PRODUCTS_HEADER, "Tags"]  # a repeated column name
    write_export(
        tmp_path / "c.csv",
        header,
        [
            {
                "Handle": "mug",
                "Title": "Mug",
                "Variant SKU": "MUG",
                "Variant Barcode": "3.65275E+11",
                "Variant Price": "10",
            },
            {"Handle": "cap", "Title": "Cap", "Variant SKU": "CAP", "Variant Price": "x1"},
        ],
    )
    (tmp_path / "d.csv").write_bytes(b"")
    write_export(tmp_path / "e.csv", ORDERS_HEADER, [])
    return tmp_path


def test_lenient_accounts_for_every_row(broken_folder: Path) -> None:
    store = ecomlm_sdk.load_store("shopify_csv", path=str(broken_folder))
    report = {Path(f.file).name: f for f in store.load_report}
    counts = {n: (f.table, f.rows_read, f.rows_loaded, f.rows_rejected) for n, f in report.items()}
    assert counts == {
        "a.csv": ("orders", 5, 2, 3),
        "b.csv": ("customers", 1, 1, 0),
        "c.csv": ("products", 2, 1, 1),
        "d.csv": ("(skipped)", 0, 0, 0),
        "e.csv": ("orders", 0, 0, 0),
    }
    assert (
        store.load_report.rows_read
        == store.load_report.rows_loaded + store.load_report.rows_rejected
    )
    assert "cp1252" in report["b.csv"].warnings[0]
    assert any("Excel" in w for w in report["c.csv"].warnings)
    assert any("duplicate column" in w for w in report["c.csv"].warnings)
    assert "empty file" in report["d.csv"].warnings
    rejects = store.rejects.with_columns(pl.col("file").str.split("/").list.last()).sort(
        "file", "line"
    )
    assert rejects.select("file", "line", "column", "value").rows() == [
        ("a.csv", 4, "Lineitem price", "abc"),
        ("a.csv", 5, "Created at", "not a date"),
        ("a.csv", 6, "Name", "#2"),
        ("c.csv", 3, "Variant Price", "x1"),
    ]
    assert rejects.get_column("reason")[2] == "the first row of this order was rejected"
    # what loaded is right: the quoted comma/newline/quote survived, the cp1252 text decoded
    # (the CRLF file holds the in-cell newline as CRLF too, kept as written)
    assert store.order_lines.get_column("title")[0] == 'Mug, large\r\n"blue"'
    assert store.orders.get_column("order_id").to_list() == ["#1", "#3"]
    assert store.orders.get_column("customer_id")[0] == "9"
    assert store.customers.row(0, named=True)["first_name"] == "Zoë"
    assert store.customers.row(0, named=True)["tags"] == ["café"]
    mug = store.products.row(0, named=True)
    assert mug["barcode"] == "3.65275E+11" and mug["barcode_damaged"] is True
    assert "Tags (2)" in store.products.columns


def test_strict_names_the_first_bad_row(broken_folder: Path) -> None:
    with pytest.raises(DataSourceError) as caught:
        ecomlm_sdk.load_store("shopify_csv", path=str(broken_folder), strict=True)
    message = str(caught.value)
    # products are read before orders, so the first bad row met is the Excel-damaged barcode
    assert "c.csv, line 2, column 'Variant Barcode': value '3.65275E+11'" in message
    assert "strict=True" in message


def test_strict_on_orders_only(broken_folder: Path) -> None:
    with pytest.raises(
        DataSourceError,
        match=r"a\.csv, line 4, column 'Lineitem price': value 'abc': not an amount",
    ):
        ecomlm_sdk.load_store("shopify_csv", path=str(broken_folder / "a.csv"), strict=True)


def test_missing_path_and_bad_options(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="does not exist"):
        ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path / "nope"))
    with pytest.raises(DataSourceError, match="Invalid options"):
        ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path), strictly=True)
