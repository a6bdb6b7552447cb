"""Issue 11, item 5: a decimal comma is read only when set or unambiguous; never a silent scale.

Files are written in-test in the shape of a spreadsheet-resaved Shopify export (European
locale: ``12,50``, ``1.234,50``). Every file's report accounts for every row.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ecomlm_sdk
from ecomlm_sdk import DataSourceError, EcomStore
from ecomlm_sdk.data.report import FileLoadReport
from ecomlm_shopify.headers import ORDERS_HEADER, PRODUCTS_HEADER

from .conftest import write_export


def _order(name: str, price: str, **cells: str) -> dict[str, str]:
    return {
        "Name": name,
        "Created at": "2025-01-01 10:00:00 +0000",
        "Lineitem quantity": "1",
        "Lineitem price": price,
        **cells,
    }


def _only(store: EcomStore) -> FileLoadReport:
    (report,) = store.load_report.files
    assert report.rows_read == report.rows_loaded + report.rows_rejected
    return report


def test_unambiguous_decimal_comma_is_detected_per_file(tmp_path: Path) -> None:
    rows = [
        _order("#1", "12,50", Total="1.234,50", Shipping="0"),
        _order("#2", "3", Total="3"),
    ]
    path = write_export(tmp_path / "orders.csv", ORDERS_HEADER, rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    report = _only(store)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (2, 2, 0)
    assert store.order_lines.get_column("unit_price").to_list() == [12.5, 3.0]
    assert store.orders.get_column("total").to_list() == [1234.5, 3.0]
    assert store.orders.get_column("shipping").to_list() == [0.0, None]
    assert any("decimal comma (detected: '1.234,50'" in w for w in report.warnings)
    # refused: every decimal-comma cell is rejected, naming the option
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path), decimal_comma=False)
    report = _only(store)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (2, 1, 1)
    assert store.rejects.select("line", "column", "value").row(0) == (2, "Total", "1.234,50")
    assert "decimal_comma=True" in store.rejects.get_column("reason")[0]


def test_mixed_separators_keep_the_decimal_point_and_reject_naming_the_option(
    tmp_path: Path,
) -> None:
    rows = [_order("#1", "12.50"), _order("#2", "12,50"), _order("#3", "7")]
    path = write_export(tmp_path / "orders.csv", ORDERS_HEADER, rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    report = _only(store)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 2, 1)
    assert store.order_lines.get_column("unit_price").to_list() == [12.5, 7.0]
    assert store.rejects.select("line", "column", "value").row(0) == (3, "Lineitem price", "12,50")
    reason = store.rejects.get_column("reason")[0]
    assert reason.startswith("ambiguous separator") and "decimal_comma=True" in reason
    assert any("also has decimal-point amounts" in w for w in report.warnings)
    with pytest.raises(DataSourceError, match=r"line 3, column 'Lineitem price'.*decimal_comma"):
        ecomlm_sdk.load_store("shopify_csv", path=str(path), strict=True)


def test_decimal_comma_option_reads_commas_and_rejects_points(tmp_path: Path) -> None:
    rows = [_order("#1", "1.234,50"), _order("#2", "12.50"), _order("#3", "1 000,5")]
    path = write_export(tmp_path / "orders.csv", ORDERS_HEADER, rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path), decimal_comma=True)
    report = _only(store)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 2, 1)
    assert store.order_lines.get_column("unit_price").to_list() == [1234.5, 1000.5]
    assert store.rejects.select("line", "value").row(0) == (3, "12.50")
    assert "decimal_comma=False" in store.rejects.get_column("reason")[0]
    assert any("decimal comma (set)" in w for w in report.warnings)


def test_products_detect_the_decimal_comma_too(tmp_path: Path) -> None:
    rows = [
        {"Handle": "mug", "Title": "Mug", "Variant SKU": "M", "Variant Price": "12,50"},
        {"Handle": "cap", "Title": "Cap", "Variant SKU": "C", "Cost per item": "1,5"},
    ]
    path = write_export(tmp_path / "products.csv", PRODUCTS_HEADER, rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    report = _only(store)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (2, 2, 0)
    assert store.products.get_column("price").to_list() == [12.5, None]
    assert store.products.get_column("cost").to_list() == [None, 1.5]


def test_empty_required_lineitem_price_is_rejected_and_stops_strict(tmp_path: Path) -> None:
    rows = [
        _order("#1", "10.00"),
        {"Name": "#1", "Lineitem quantity": "2", "Lineitem price": "", "Lineitem name": "Cap"},
        _order("#2", "5.00"),
    ]
    path = write_export(tmp_path / "orders.csv", ORDERS_HEADER, rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    report = _only(store)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 2, 1)
    assert store.rejects.select("line", "column", "reason").row(0) == (
        3,
        "Lineitem price",
        "required value is empty",
    )
    assert store.order_lines.get_column("unit_price").null_count() == 0
    with pytest.raises(DataSourceError, match=r"line 3, column 'Lineitem price'.*required value"):
        ecomlm_sdk.load_store("shopify_csv", path=str(path), strict=True)
