"""Issue 11, item 3: several exports of one table in a folder are merged, never a failed load.

Identical copies are kept once; differing versions resolved by the latest ``Updated At``, then
the later file; every merged row is counted (as rejected, with the decision) in its file's
report line. ``strict=True`` stops naming both files and lines.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import ecomlm_sdk
from ecomlm_sdk import DataSourceError
from ecomlm_shopify.headers import CUSTOMERS_HEADER, ORDERS_HEADER

from .conftest import write_export


def _order(name: str, total: str, sku: str = "MUG") -> list[dict[str, str]]:
    return [
        {
            "Name": name,
            "Email": f"{name[1:]}@example.com",
            "Created at": "2025-01-01 10:00:00 +0000",
            "Total": total,
            "Lineitem quantity": "1",
            "Lineitem price": total,
            "Lineitem sku": sku,
        },
        {"Name": name, "Lineitem quantity": "1", "Lineitem price": "0.50", "Lineitem sku": "BAG"},
    ]


@pytest.fixture
def twice_exported(tmp_path: Path) -> Path:
    # orders_1.csv: #1 (lines 2-3), #2 (lines 4-5), #3 (lines 6-7)
    write_export(
        tmp_path / "orders_1.csv",
        ORDERS_HEADER,
        [*_order("#1", "10.00"), *_order("#2", "20.00"), *_order("#3", "30.00")],
    )
    # orders_2.csv: #1 identical (lines 2-3), #2 changed (lines 4-5), #4 new (lines 6-7)
    write_export(
        tmp_path / "orders_2.csv",
        ORDERS_HEADER,
        [*_order("#1", "10.00"), *_order("#2", "25.00"), *_order("#4", "40.00")],
    )
    header = (*CUSTOMERS_HEADER, "Updated At")
    old = {
        "Customer ID": "7",
        "Email": "x@example.com",
        "Tags": "old",
        "Updated At": "2025-01-01 00:00:00 +0000",
    }
    new = {**old, "Tags": "vip", "Updated At": "2025-03-01 00:00:00 +0000"}
    write_export(
        tmp_path / "customers_a.csv", header, [new, {"Customer ID": "8", "Email": "y@example.com"}]
    )
    write_export(tmp_path / "customers_b.csv", header, [old])
    return tmp_path


def test_exports_of_one_table_are_merged_with_every_decision_counted(twice_exported: Path) -> None:
    store = ecomlm_sdk.load_store("shopify_csv", path=str(twice_exported))
    counts = {
        Path(r.file).name: (r.rows_read, r.rows_loaded, r.rows_rejected) for r in store.load_report
    }
    assert counts == {
        "customers_a.csv": (2, 2, 0),
        "customers_b.csv": (1, 0, 1),
        "orders_1.csv": (6, 4, 2),
        "orders_2.csv": (6, 4, 2),
    }
    assert store.orders.sort("order_id").select("order_id", "total").rows() == [
        ("#1", 10.0),
        ("#2", 25.0),
        ("#3", 30.0),
        ("#4", 40.0),
    ]
    assert store.order_lines.height == 8
    assert store.customers.sort("customer_id").select("customer_id", "tags").rows() == [
        ("7", ["vip"]),
        ("8", []),
    ]
    name = pl.col("file").str.split("/").list.last().alias("name")
    rejects = store.rejects.with_columns(name).sort("name", "line")
    assert rejects.select("name", "line", "column", "value").rows() == [
        ("customers_b.csv", 2, "Customer ID", "7"),
        ("orders_1.csv", 4, "Name", "#2"),
        ("orders_1.csv", 5, "Name", "#2"),
        ("orders_2.csv", 2, "Name", "#1"),
        ("orders_2.csv", 3, "Name", "#1"),
    ]
    reasons = rejects.get_column("reason").to_list()
    assert reasons[0] == (
        "superseded by customers_a.csv, line 2, which has a later Updated At; this version is "
        "not loaded"
    )
    assert reasons[1].startswith("superseded by orders_2.csv, line 4, which has the later file")
    assert reasons[3] == "identical to orders_1.csv, line 2 (exported twice): kept once"
    warnings = {Path(r.file).name: r.warnings for r in store.load_report}
    assert "2 row(s) identical to rows of another export: kept once" in warnings["orders_2.csv"]
    assert any(w.startswith("2 row(s) superseded") for w in warnings["orders_1.csv"])


def test_strict_stops_naming_both_files_and_lines(twice_exported: Path) -> None:
    (twice_exported / "customers_b.csv").unlink()
    with pytest.raises(DataSourceError) as info:
        ecomlm_sdk.load_store("shopify_csv", path=str(twice_exported), strict=True)
    message = str(info.value)
    assert "orders_2.csv, line 4 and " in message and "orders_1.csv, line 4" in message
    assert "the same Name '#2'" in message
