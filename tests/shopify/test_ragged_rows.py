"""Issue 11, item 6: a row whose cell count differs from the header's never loads.

Lenient: rejected with its line and a reason giving both counts. Strict: the load stops naming
the line. The same holds on the first data row, on later lines of an order, in customers and
products exports, and around quoted cells that span lines or hold commas and quotes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ecomlm_sdk
from ecomlm_sdk import DataSourceError
from ecomlm_shopify.headers import CUSTOMERS_HEADER, ORDERS_HEADER, PRODUCTS_HEADER

from .conftest import export_text

WIDTH = len(ORDERS_HEADER)


def _order(name: str, sku: str, **cells: str) -> dict[str, str]:
    return {
        "Name": name,
        "Created at": "2025-01-01 10:00:00 +0000",
        "Lineitem quantity": "1",
        "Lineitem name": "Mug",
        "Lineitem price": "8.00",
        "Lineitem sku": sku,
        "Total": "8.00",
        **cells,
    }


def _lines(header: tuple[str, ...], rows: list[dict[str, str]]) -> list[str]:
    return export_text(header, rows).splitlines()


def _extra_cell(line: str) -> str:
    """The line with an unquoted comma in its first cell: every later value shifts right."""
    return line.replace(",", ",x,", 1)


def test_ragged_order_rows_are_rejected_with_their_lines(tmp_path: Path) -> None:
    header, *rows = _lines(
        ORDERS_HEADER,
        [
            _order("#1", "A"),  # line 2: first data row, one cell too many
            _order("#2", "B"),  # line 3: fine
            {"Name": "#2", "Lineitem quantity": "2", "Lineitem price": "5.00", "Lineitem sku": "C"},
            _order("#3", "D"),  # line 5: short row
            _order("#4", "E"),  # line 6: fine
        ],
    )
    rows[0] = _extra_cell(rows[0])
    rows[2] = rows[2] + ",5.00"  # line 4: a second line of #2 with an extra cell
    rows[3] = ",".join(rows[3].split(",")[:20])
    path = tmp_path / "orders.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    (report,) = store.load_report.files
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (5, 2, 3)
    rejects = store.rejects.sort("line")
    assert rejects.get_column("line").to_list() == [2, 4, 5]
    assert rejects.get_column("column").to_list() == [None, None, None]
    reasons = rejects.get_column("reason").to_list()
    assert reasons[0].startswith(f"the row has {WIDTH + 1} cells but the header has {WIDTH}")
    assert reasons[1].startswith(f"the row has {WIDTH + 1} cells")
    assert reasons[2].startswith(f"the row has 20 cells but the header has {WIDTH}")
    assert store.orders.get_column("order_id").to_list() == ["#2", "#4"]
    assert store.order_lines.select("sku", "unit_price").rows() == [("B", 8.0), ("E", 8.0)]
    with pytest.raises(DataSourceError, match=rf"orders\.csv, line 2: the row has {WIDTH + 1}"):
        ecomlm_sdk.load_store("shopify_csv", path=str(path), strict=True)


def test_quoted_cells_with_commas_newlines_and_quotes_are_counted_right(tmp_path: Path) -> None:
    rows = [
        _order("#1", "A", **{"Lineitem name": 'Mug, "large"\nblue', "Notes": "a,b\n\nc"}),
        _order("#2", "B", **{"Lineitem name": "Cap\nred"}),
        _order("#3", "C", **{"Lineitem name": 'TV 55" screen'}),
    ]
    header, *lines = export_text(ORDERS_HEADER, rows).split("\n#")
    # the second order gets one cell too many after its quoted, multi-line cell
    lines[1] = lines[1].rstrip("\n") + ",\n"
    path = tmp_path / "orders.csv"
    path.write_text("\n#".join([header, *lines]))
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    (report,) = store.load_report.files
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 2, 1)
    assert store.rejects.select("line", "column").row(0) == (6, None)  # #1 spans lines 2-5
    assert store.order_lines.get_column("title").to_list() == [
        'Mug, "large"\nblue',
        'TV 55" screen',
    ]


def test_ragged_customers_and_products_rows_are_rejected(tmp_path: Path) -> None:
    header, *rows = _lines(
        CUSTOMERS_HEADER,
        [
            {"Customer ID": "1", "Email": "a@example.com"},
            {"Customer ID": "2", "Email": "b@example.com"},
        ],
    )
    (tmp_path / "customers.csv").write_text("\n".join([header, rows[0] + ",", rows[1]]) + "\n")
    header, *rows = _lines(
        PRODUCTS_HEADER,
        [
            {"Handle": "mug", "Title": "Mug", "Variant SKU": "M", "Variant Price": "3.00"},
            {"Handle": "cap", "Title": "Cap", "Variant SKU": "C", "Variant Price": "4.00"},
        ],
    )
    short = ",".join(rows[1].split(",")[:-1])
    (tmp_path / "products.csv").write_text("\n".join([header, rows[0], short]) + "\n")
    store = ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path))
    counts = {
        r.table: (r.rows_read, r.rows_loaded, r.rows_rejected) for r in store.load_report.files
    }
    assert counts == {"customers": (2, 1, 1), "products": (2, 1, 1)}
    assert store.customers.get_column("customer_id").to_list() == ["2"]
    assert store.products.get_column("sku").to_list() == ["M"]
    rejects = store.rejects.sort("table").select("table", "line", "reason").rows()
    assert [(t, line) for t, line, _ in rejects] == [("customers", 2), ("products", 3)]
    assert rejects[0][2].startswith(f"the row has {len(CUSTOMERS_HEADER) + 1} cells")
    assert rejects[1][2].startswith(f"the row has {len(PRODUCTS_HEADER) - 1} cells")
    with pytest.raises(DataSourceError, match=r"customers\.csv, line 2: the row has"):
        ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path), strict=True)
