"""Issue 11, item 8: UTF-16 files, doubled BOMs, NUL bytes in the header, and odd folder entries.

UTF-16 (Excel's "Unicode text", tab-separated, or comma-separated without BOM) is decoded and
loads like any export; a doubled BOM or NUL bytes no longer hide the header. Symbolic-link
loops, dangling links and subfolders appear in the load report as skipped; a link to a file
outside the folder is not followed unless ``follow_symlinks=True``.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pytest

import ecomlm_sdk
from ecomlm_shopify.headers import ORDERS_HEADER

from .conftest import export_text

ROWS = [
    {
        "Name": "#1",
        "Email": "zoë@example.com",
        "Created at": "2025-01-01 10:00:00 +0000",
        "Total": "10.00",
        "Lineitem quantity": "1",
        "Lineitem name": "Café, noir",
        "Lineitem price": "10.00",
    },
    {
        "Name": "#2",
        "Created at": "2025-01-02 10:00:00 +0000",
        "Lineitem quantity": "2",
        "Lineitem price": "1.50",
    },
]


def _check(store: ecomlm_sdk.EcomStore, warning: str | None) -> None:
    (report,) = store.load_report.files
    assert (report.table, report.rows_read, report.rows_loaded, report.rows_rejected) == (
        "orders",
        2,
        2,
        0,
    )
    assert store.order_lines.select("title", "unit_price").rows() == [
        ("Café, noir", 10.0),
        (None, 1.5),
    ]
    assert store.orders.get_column("email").to_list() == ["zoë@example.com", None]
    if warning is None:
        assert not any("cp1252" in w for w in report.warnings)
    else:
        assert any(warning in w for w in report.warnings)
        assert not any("cp1252" in w for w in report.warnings)


def _tabbed(text: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\r\n")
    writer.writerows(csv.reader(io.StringIO(text)))
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "warning"),
    [
        (
            "excel_unicode.txt",
            codecs.BOM_UTF16_LE + _tabbed(export_text(ORDERS_HEADER, ROWS)).encode("utf-16-le"),
            "UTF-16 (as Excel saves 'Unicode text', tab-separated)",
        ),
        ("utf16_no_bom.csv", export_text(ORDERS_HEADER, ROWS).encode("utf-16-le"), "UTF-16"),
        (
            "utf16_be.csv",
            codecs.BOM_UTF16_BE + export_text(ORDERS_HEADER, ROWS).encode("utf-16-be"),
            "UTF-16",
        ),
        ("double_bom.csv", (codecs.BOM_UTF8 * 2) + export_text(ORDERS_HEADER, ROWS).encode(), None),
        (
            "nul_header.csv",
            export_text(ORDERS_HEADER, ROWS).replace("Name", "Na\x00me", 1).encode(),
            None,
        ),
    ],
)
def test_encodings_load(tmp_path: Path, name: str, data: bytes, warning: str | None) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    _check(ecomlm_sdk.load_store("shopify_csv", path=str(path)), warning)


def test_links_and_subfolders_are_reported_as_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "orders.csv").write_text(export_text(ORDERS_HEADER, ROWS))
    (folder / "old").mkdir()
    (folder / "old" / "orders.csv").write_text(export_text(ORDERS_HEADER, ROWS))
    outside = tmp_path / "elsewhere.csv"
    outside.write_text(export_text(ORDERS_HEADER, [{**ROWS[1], "Name": "#9"}]))
    (folder / "linked.csv").symlink_to(outside)
    (folder / "gone.csv").symlink_to(tmp_path / "missing.csv")
    (folder / "loop.csv").symlink_to(folder / "loop.csv")
    store = ecomlm_sdk.load_store("shopify_csv", path=str(folder))
    reports = {Path(r.file).name: r for r in store.load_report}
    assert sorted(reports) == ["gone.csv", "linked.csv", "loop.csv", "old", "orders.csv"]
    assert reports["orders.csv"].rows_loaded == 2
    skipped = {n: r.warnings[0] for n, r in reports.items() if r.table == "(skipped)"}
    assert skipped["gone.csv"].startswith("symbolic link dangling")
    assert skipped["loop.csv"].startswith("symbolic link loop")
    assert skipped["old"].startswith("subfolder: not searched")
    assert "follow_symlinks=True" in skipped["linked.csv"]
    assert store.orders.get_column("order_id").to_list() == ["#1", "#2"]
    store = ecomlm_sdk.load_store("shopify_csv", path=str(folder), follow_symlinks=True)
    assert store.orders.get_column("order_id").to_list() == ["#9", "#1", "#2"]
