"""Issue 12 (item 12): header versions seen in the wild load by column name.

Orders of 71 and 73 columns (older layouts without ``Outstanding Balance``, ``Employee``,
``Location``, ``Device ID``, ``Payment ID``), customers of 13, 18 and 21 columns (trimmed, or
``Customer ID`` with the old address names) and products of 50, 53 and 69 columns (market price,
linked-option and many category-metafield columns). Only what each table needs is required.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ecomlm_sdk
from ecomlm_shopify.headers import (
    CUSTOMERS_HEADER_2018,
    ORDERS_HEADER,
    PRODUCTS_HEADER,
    PRODUCTS_NEW_COLUMNS,
)

from .conftest import write_export

_OLD_ORDER = ("Outstanding Balance", "Employee", "Location", "Device ID")
ORDERS_71 = tuple(c for c in ORDERS_HEADER[:75] if c not in _OLD_ORDER)
ORDERS_73 = tuple(c for c in ORDERS_HEADER[:78] if c not in (*_OLD_ORDER, "Payment ID"))
CUSTOMERS_13 = (
    "First Name",
    "Last Name",
    "Email",
    "Company",
    "Address1",
    "City",
    "Province",
    "Country",
    "Zip",
    "Phone",
    "Accepts Marketing",
    "Total Spent",
    "Total Orders",
)
CUSTOMERS_18 = tuple(c for c in CUSTOMERS_HEADER_2018 if c != "Note")
CUSTOMERS_21 = ("Customer ID", *CUSTOMERS_HEADER_2018, "Accepts SMS Marketing")
PRODUCTS_50 = (*PRODUCTS_HEADER, "Option1 Linked To", "Option2 Linked To")
PRODUCTS_53 = tuple(c for c in PRODUCTS_NEW_COLUMNS[:53])
PRODUCTS_69 = (
    *PRODUCTS_HEADER[:-1],
    *(f"Merkmal {i} (product.metafields.shopify.attr-{i})" for i in range(21)),
    "Status",
)


def test_header_widths() -> None:
    widths = [len(h) for h in (ORDERS_71, ORDERS_73, CUSTOMERS_13, CUSTOMERS_18, CUSTOMERS_21)]
    assert widths == [71, 73, 13, 18, 21]
    assert [len(h) for h in (PRODUCTS_50, PRODUCTS_53, PRODUCTS_69)] == [50, 53, 69]


@pytest.mark.parametrize("header", [ORDERS_71, ORDERS_73], ids=["71", "73"])
def test_older_orders_layouts(tmp_path: Path, header: tuple[str, ...]) -> None:
    rows = [
        {
            "Name": "#1",
            "Email": "a@example.com",
            "Created at": "2021-05-01 10:00:00 +0200",
            "Total": "12.00",
            "Lineitem quantity": "2",
            "Lineitem price": "6.00",
            "Lineitem sku": "MUG",
            "Payment Reference": "r1",
        }
    ]
    path = write_export(tmp_path / "orders.csv", header, rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    (report,) = store.load_report.files
    assert (report.table, report.rows_read, report.rows_loaded) == ("orders", 1, 1)
    assert store.orders.select("order_id", "total").row(0) == ("#1", 12.0)
    assert store.order_lines.select("sku", "quantity", "unit_price").row(0) == ("MUG", 2, 6.0)


@pytest.mark.parametrize(
    "header", [CUSTOMERS_13, CUSTOMERS_18, CUSTOMERS_21], ids=["13", "18", "21"]
)
def test_customers_layouts(tmp_path: Path, header: tuple[str, ...]) -> None:
    row = {
        "Customer ID": "42",
        "First Name": "Ana",
        "Email": "Ana@Example.com",
        "City": "Lyon",
        "Country Code": "FR",
        "Country": "France",
        "Accepts Marketing": "yes",
    }
    path = write_export(tmp_path / "customers.csv", header, [row])
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    (report,) = store.load_report.files
    assert (report.table, report.rows_read, report.rows_loaded) == ("customers", 1, 1)
    got = store.customers.select("email", "city", "country", "accepts_marketing").row(0)
    country = "FR" if "Country Code" in header else "France"
    assert got == ("ana@example.com", "Lyon", country, True)
    expected_id = "42" if "Customer ID" in header else store.customers["customer_id"][0]
    assert store.customers["customer_id"][0] == expected_id
    assert expected_id == "42" or expected_id.startswith("email-")


@pytest.mark.parametrize("header", [PRODUCTS_50, PRODUCTS_53, PRODUCTS_69], ids=["50", "53", "69"])
def test_products_layouts(tmp_path: Path, header: tuple[str, ...]) -> None:
    new = "URL handle" in header
    rows = [
        {
            ("URL handle" if new else "Handle"): "mug",
            "Title": "Mug",
            ("SKU" if new else "Variant SKU"): "MUG-1",
            ("Price" if new else "Variant Price"): "9.50",
            "Price / United States": "10.00",
            "Merkmal 3 (product.metafields.shopify.attr-3)": "rot",
        }
    ]
    path = write_export(tmp_path / "products.csv", header, rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    (report,) = store.load_report.files
    assert (report.table, report.rows_read, report.rows_loaded) == ("products", 1, 1)
    assert store.products.select("product_id", "sku", "price").row(0) == ("mug", "MUG-1", 9.5)
    if header is PRODUCTS_69:
        assert store.products["product.metafields.shopify.attr-3"][0] == "rot"
