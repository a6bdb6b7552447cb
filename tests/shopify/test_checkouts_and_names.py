"""Issue 11, items 1 and 7: abandoned checkouts are never orders; a reused order Name is not
a line of the earlier order."""

from __future__ import annotations

from pathlib import Path

import pytest

import ecomlm_sdk
from ecomlm_sdk import DataSourceError
from ecomlm_shopify.headers import ORDERS_HEADER

from .conftest import write_export

#: The shape of the abandoned-checkouts export: checkout columns first, then order-like ones.
CHECKOUTS_HEADER = (
    "Id",
    "Name",
    "Email",
    "Created At",
    "Updated At",
    "Completed At",
    "Abandoned Checkout URL",
    "Currency",
    "Subtotal",
    "Total",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
)


def _order(name: str, email: str, **cells: str) -> dict[str, str]:
    return {
        "Name": name,
        "Email": email,
        "Currency": "EUR",
        "Created at": "2025-01-01 10:00:00 +0000",
        "Total": "10.00",
        "Lineitem quantity": "1",
        "Lineitem price": "10.00",
        "Lineitem sku": "MUG",
        **cells,
    }


def test_abandoned_checkouts_export_is_skipped_and_never_counted(tmp_path: Path) -> None:
    write_export(tmp_path / "orders.csv", ORDERS_HEADER, [_order("#1", "a@example.com")])
    carts = [
        {
            "Id": "c1",
            "Name": "#C1",
            "Email": "b@example.com",
            "Created At": "2025-01-02 10:00:00 +0000",
            "Total": "400.00",
            "Lineitem quantity": "4",
            "Lineitem price": "100.00",
        },
        {"Id": "c1", "Name": "#C1", "Lineitem quantity": "1", "Lineitem price": "5.00"},
        {"Id": "c2", "Name": "#C2", "Created At": "2025-01-03 10:00:00 +0000", "Total": "9"},
    ]
    write_export(tmp_path / "abandoned.csv", CHECKOUTS_HEADER, carts)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path))
    reports = {Path(r.file).name: r for r in store.load_report}
    skipped = reports["abandoned.csv"]
    assert (skipped.table, skipped.rows_read, skipped.rows_loaded) == ("(skipped)", 0, 0)
    assert any(
        w.startswith("abandoned-checkouts export (3 data row(s)") and "not orders" in w
        for w in skipped.warnings
    )
    assert store.orders.get_column("order_id").to_list() == ["#1"]
    assert store.orders.get_column("total").sum() == 10.0
    assert store.order_lines.height == 1
    # strict mode skips it the same way (it is not a bad row, it is another export)
    strict = ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path), strict=True)
    assert strict.orders.height == 1


def test_reused_name_on_a_later_run_is_rejected_with_both_lines(tmp_path: Path) -> None:
    rows = [
        _order("#1", "a@example.com"),  # line 2
        {"Name": "#1", "Lineitem quantity": "2", "Lineitem price": "3.00"},  # line 3
        _order("#2", "b@example.com"),  # line 4
        # line 5-6: another customer's order under the same Name, not next to the first
        _order("#1", "c@example.com", **{"Lineitem price": "199999.80", "Total": "199999.80"}),
        {"Name": "#1", "Lineitem quantity": "1", "Lineitem price": "1.00"},
        # line 7: a later run of #2 with no order fields (a hand-sorted file): still a line of #2
        {"Name": "#2", "Lineitem quantity": "1", "Lineitem price": "2.00"},
    ]
    path = write_export(tmp_path / "orders.csv", ORDERS_HEADER, rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    (report,) = store.load_report.files
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (6, 4, 2)
    rejects = store.rejects.sort("line")
    assert rejects.select("line", "column", "value").rows() == [
        (5, "Name", "#1"),
        (6, "Name", "#1"),
    ]
    reason = rejects.get_column("reason")[0]
    assert "already used by the order on line 2" in reason
    assert "the order starting on line 5" in reason and "Email, Total" in reason
    assert "c@example.com" not in reason
    totals = store.orders.select("order_id", "total").rows()
    assert totals == [("#1", 10.0), ("#2", 10.0)]
    lines = store.order_lines.select("order_id", "line_number", "unit_price").rows()
    assert lines == [("#1", 1, 10.0), ("#1", 2, 3.0), ("#2", 1, 10.0), ("#2", 2, 2.0)]
    with pytest.raises(DataSourceError, match=r"line 5, column 'Name': value '#1'.*line 2"):
        ecomlm_sdk.load_store("shopify_csv", path=str(path), strict=True)
