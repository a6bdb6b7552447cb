"""Every Shopify export version loads: orders 75/78/79, customers 19/20, products legacy and new."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import ecomlm_sdk
from ecomlm_sdk import DataSourceError
from ecomlm_shopify.headers import (
    CUSTOMERS_HEADER,
    CUSTOMERS_HEADER_2018,
    ORDERS_HEADER,
    PRODUCTS_HEADER,
    detect_kind,
)

from .conftest import SHARED_FORMATS, write_export

UTC = dt.UTC
ORDER_ROWS = [
    {
        "Name": "#1001",
        "Email": " Ann@Example.COM ",
        "Financial Status": "partially_refunded",
        "Currency": "usd",
        "Subtotal": "24.00",
        "Total": "1,024.00",
        "Refunded Amount": "5.00",
        "Created at": "2025-04-08 10:15:00 -0400",
        "Lineitem quantity": "2",
        "Lineitem name": "Mug - Blue",
        "Lineitem price": "9.50",
        "Lineitem sku": "MUG-B",
        "Billing Country": "US",
    },
    {"Name": "#1001", "Lineitem quantity": "1", "Lineitem price": "5", "Lineitem sku": "CAP"},
    {
        "Name": "#1002",
        "Created at": "2025-04-09 08:00:00 +0200",
        "Cancelled at": "2025-04-09 09:00:00 +0200",
        "Lineitem quantity": "1",
        "Lineitem price": "5.00",
        "Lineitem sku": "CAP",
    },
]


def _headers(prefix: str) -> list[Path]:
    folder = SHARED_FORMATS / "header_rows"
    return sorted(folder.glob(f"{prefix}*.csv")) if folder.exists() else []


def _header_of(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def _check_orders(store: ecomlm_sdk.EcomStore) -> None:
    orders = store.orders
    assert orders.get_column("order_id").to_list() == ["#1001", "#1002"]
    first = orders.row(0, named=True)
    assert first["created_at"] == dt.datetime(2025, 4, 8, 14, 15, tzinfo=UTC)
    assert first["email"] == "ann@example.com"
    assert first["total"] == 1024.0 and first["refunded_amount"] == 5.0
    assert first["currency"] == "USD" and first["country"] == "US"
    assert first["financial_status"] == "partially_refunded"
    assert not first["is_cancelled"]
    second = orders.row(1, named=True)
    assert second["is_cancelled"] and second["customer_id"] is None
    assert second["cancelled_at"] == dt.datetime(2025, 4, 9, 7, 0, tzinfo=UTC)
    lines = store.order_lines
    assert lines.select("order_id", "line_number", "sku", "quantity", "unit_price").rows() == [
        ("#1001", 1, "MUG-B", 2, 9.5),
        ("#1001", 2, "CAP", 1, 5.0),
        ("#1002", 1, "CAP", 1, 5.0),
    ]
    assert store.load_report.rows_read == 3 and store.rejects.height == 0


@pytest.mark.parametrize("width", [75, 78, 79])
def test_orders_every_width(tmp_path: Path, width: int) -> None:
    path = write_export(tmp_path / "o.csv", ORDERS_HEADER[:width], ORDER_ROWS)
    _check_orders(ecomlm_sdk.load_store("shopify_csv", path=str(path)))


@pytest.mark.parametrize("header_file", _headers("orders"), ids=lambda p: p.stem)
def test_orders_shared_headers(tmp_path: Path, header_file: Path) -> None:
    path = write_export(tmp_path / "o.csv", _header_of(header_file), ORDER_ROWS)
    _check_orders(ecomlm_sdk.load_store("shopify_csv", path=str(path)))


def test_orders_trimmed_and_appended_columns_kept(tmp_path: Path) -> None:
    header = ["Lineitem price", "Name", "Created at", "Lineitem quantity", "Lineitem sku", "Gift"]
    rows = [{**r, "Gift": "yes" if i == 0 else ""} for i, r in enumerate(ORDER_ROWS)]
    store = ecomlm_sdk.load_store(
        "shopify_csv", path=str(write_export(tmp_path / "o.csv", header, rows))
    )
    assert store.orders.height == 2
    assert store.order_lines.get_column("Gift").to_list() == ["yes", None, None]


def test_orders_missing_required_column_is_named(tmp_path: Path) -> None:
    header = [h for h in ORDERS_HEADER if h != "Created at"]
    path = write_export(tmp_path / "o.csv", header, ORDER_ROWS)
    with pytest.raises(DataSourceError, match=r"lacks required column\(s\) \['Created at'\]"):
        ecomlm_sdk.load_store("shopify_csv", path=str(path), strict=True)
    # lenient: the file is skipped with the reason (issue 11, item 4)
    (report,) = ecomlm_sdk.load_store("shopify_csv", path=str(path)).load_report.files
    assert report.table == "(skipped)"
    assert "lacks required column(s) ['Created at']" in report.warnings[0]


CUSTOMER_ROWS = [
    {
        "Customer ID": "7001",
        "First Name": "Ann",
        "Email": "ANN@example.com",
        "Accepts Email Marketing": "yes",
        "Accepts Marketing": "yes",
        "Default Address City": "Boston",
        "City": "Boston",
        "Default Address Country Code": "US",
        "Country Code": "US",
        "Country": "United States",
        "Tags": "vip, wholesale",
    },
    {
        "Customer ID": "7002",
        "Email": "bob@example.com",
        "Accepts Email Marketing": "no",
        "Accepts Marketing": "no",
    },
]


@pytest.mark.parametrize("header", [CUSTOMERS_HEADER, CUSTOMERS_HEADER_2018], ids=["20", "19"])
def test_customers_both_versions_link_orders(tmp_path: Path, header: tuple[str, ...]) -> None:
    write_export(tmp_path / "c.csv", header, CUSTOMER_ROWS)
    write_export(tmp_path / "o.csv", ORDERS_HEADER, ORDER_ROWS)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path))
    ann = store.customers.row(0, named=True)
    assert ann["email"] == "ann@example.com" and ann["city"] == "Boston"
    assert ann["country"] == "US" and ann["accepts_marketing"] is True
    assert ann["tags"] == ["vip", "wholesale"]
    assert store.customers.row(1, named=True)["accepts_marketing"] is False
    # orders link to customers by normalized email (the orders export has no Customer ID)
    assert store.orders.row(0, named=True)["customer_id"] == ann["customer_id"]
    if "Customer ID" in header:
        assert ann["customer_id"] == "7001"
    else:
        assert ann["customer_id"].startswith("email-") and "ann" not in ann["customer_id"]
    assert store.integrity == ()


PRODUCT_ROWS = [
    {
        "Handle": "mug",
        "URL handle": "mug",
        "Title": "Mug",
        "Body (HTML)": "<p>Big &amp; <b>blue</b></p>",
        "Description": "<p>Big &amp; <b>blue</b></p>",
        "Vendor": "Acme",
        "Tags": "kitchen, gift",
        "Option1 Name": "Color",
        "Option1 name": "Color",
        "Option1 Value": "Blue",
        "Option1 value": "Blue",
        "Variant SKU": "MUG-B",
        "SKU": "MUG-B",
        "Variant Price": "9.50",
        "Price": "9.50",
        "Variant Inventory Qty": "3",
        "Inventory quantity": "3",
        "Status": "active",
        "Variant Barcode": "0012345678905",
        "Barcode": "0012345678905",
    },
    {
        "Handle": "mug",
        "URL handle": "mug",
        "Option1 Value": "Red",
        "Option1 value": "Red",
        "Variant SKU": "MUG-R",
        "SKU": "MUG-R",
        "Variant Price": "9.00",
        "Price": "9.00",
    },
    {
        "Handle": "mug",
        "URL handle": "mug",
        "Image Src": "https://x/y.png",
        "Product image URL": "https://x/y.png",
    },
]


def _check_products(store: ecomlm_sdk.EcomStore) -> None:
    products = store.products
    assert products.get_column("variant_id").to_list() == ["MUG-B", "MUG-R"]
    assert products.get_column("title").to_list() == ["Mug", "Mug"]
    assert products.get_column("price").to_list() == [9.5, 9.0]
    first = products.row(0, named=True)
    assert first["description"] == "Big & blue"
    assert first["description_html"] == "<p>Big &amp; <b>blue</b></p>"
    assert first["tags"] == ["kitchen", "gift"] and first["vendor"] == "Acme"
    report = store.load_report.files[0]
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 3, 0)


@pytest.mark.parametrize("width", [45, 46, 47, 48])
def test_products_legacy_prefixes(tmp_path: Path, width: int) -> None:
    header = PRODUCTS_HEADER if width == 48 else PRODUCTS_HEADER[:width]
    path = write_export(tmp_path / "p.csv", header, PRODUCT_ROWS)
    _check_products(ecomlm_sdk.load_store("shopify_csv", path=str(path)))


@pytest.mark.parametrize("header_file", _headers("product"), ids=lambda p: p.stem)
def test_products_shared_headers(tmp_path: Path, header_file: Path) -> None:
    header = _header_of(header_file)
    assert detect_kind(header) == "products"
    path = write_export(tmp_path / "p.csv", header, PRODUCT_ROWS)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    _check_products(store)
    metafields = [c for c in store.products.columns if c.startswith("product.metafields.")]
    assert len(metafields) == sum("(product.metafields." in h for h in header)


@pytest.mark.parametrize("header_file", _headers("customers"), ids=lambda p: p.stem)
def test_customers_shared_headers(tmp_path: Path, header_file: Path) -> None:
    path = write_export(tmp_path / "c.csv", _header_of(header_file), CUSTOMER_ROWS)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    assert store.customers.get_column("email").to_list() == ["ann@example.com", "bob@example.com"]


@pytest.mark.parametrize(
    "template",
    sorted((SHARED_FORMATS / "templates").glob("*.csv")) if SHARED_FORMATS.exists() else [],
    ids=lambda p: p.stem,
)
def test_shopify_templates_load(template: Path) -> None:
    store = ecomlm_sdk.load_store("shopify_csv", path=str(template))
    assert store.products.height > 0
    for entry in store.load_report:
        assert entry.rows_read == entry.rows_loaded + entry.rows_rejected
    assert store.products.get_column("product_id").null_count() == 0
    assert pl.Series(store.products.get_column("variant_id")).is_unique().all()
