"""Issue 11, item 9: refunded, voided and partially refunded orders are not (full) revenue.

``EcomStore.purchases()`` leaves out the lines of refunded and voided orders and counts a
partially refunded order net of its ``Refunded Amount``; the raw order values are kept.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import ecomlm_sdk
from ecomlm_shopify.headers import ORDERS_HEADER

from .conftest import write_export


def _order(name: str, status: str, refunded: str, price: str = "10.00") -> list[dict[str, str]]:
    first = {
        "Name": name,
        "Email": f"{name[1:]}@example.com",
        "Financial Status": status,
        "Created at": "2025-01-01 10:00:00 +0000",
        "Total": "40.00",
        "Refunded Amount": refunded,
        "Lineitem quantity": "1",
        "Lineitem price": price,
    }
    return [first, {"Name": name, "Lineitem quantity": "3", "Lineitem price": "10.00"}]


def test_refunds_and_voids_are_not_revenue(tmp_path: Path) -> None:
    rows = [
        *_order("#1", "paid", "0.00"),
        *_order("#2", "refunded", "40.00"),
        *_order("#3", "voided", ""),
        *_order("#4", "partially_refunded", "10.00"),
        *_order("#5", "paid", "40.00"),  # refunded in full by amount
    ]
    path = write_export(tmp_path / "orders.csv", ORDERS_HEADER, rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    (report,) = store.load_report.files
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (10, 10, 0)
    # raw values kept
    assert store.orders.select("order_id", "financial_status", "refunded_amount").rows() == [
        ("#1", "paid", 0.0),
        ("#2", "refunded", 40.0),
        ("#3", "voided", 0.0),
        ("#4", "partially_refunded", 10.0),
        ("#5", "paid", 40.0),
    ]
    purchases = store.purchases()
    revenue = (
        purchases.group_by("order_id", maintain_order=True).agg(pl.col("revenue").sum()).rows()
    )
    assert revenue == [("#1", 40.0), ("#4", pytest.approx(30.0))]
    assert purchases.filter(order_id="#4").get_column("revenue").to_list() == pytest.approx(
        [7.5, 22.5]
    )
