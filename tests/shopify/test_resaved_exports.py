"""Issue 11, item 4: trimmed or spreadsheet-resaved exports.

A file without a column its table needs is skipped with the reason in lenient mode (the other
files of the folder always load) and stops a strict load. Slash dates are read day-first or
month-first only when the file settles it (a part over 12, no contrary evidence) or the
``day_first`` option says so; the choice is recorded and never mixed within one file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ecomlm_sdk
from ecomlm_sdk import DataSourceError
from ecomlm_shopify.headers import ORDERS_HEADER

from .conftest import write_export

#: A 34-column copy saved again from a spreadsheet: no Lineitem price, no Total.
TRIMMED = tuple(c for c in ORDERS_HEADER[:36] if c not in ("Lineitem price", "Total"))


def _order(name: str, created: str, **cells: str) -> dict[str, str]:
    return {
        "Name": name,
        "Created at": created,
        "Lineitem quantity": "1",
        "Lineitem price": "5.00",
        **cells,
    }


def test_file_missing_required_columns_is_skipped_and_the_others_load(tmp_path: Path) -> None:
    assert len(TRIMMED) == 34
    write_export(tmp_path / "a_trimmed.csv", TRIMMED, [_order("#1", "31/12/2023 22:36")])
    write_export(
        tmp_path / "b_good.csv", ORDERS_HEADER, [_order("#2", "2024-01-02 10:00:00 +0000")]
    )
    store = ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path))
    reports = {Path(r.file).name: r for r in store.load_report}
    assert reports["a_trimmed.csv"].table == "(skipped)"
    assert "lacks required column(s) ['Lineitem price']" in reports["a_trimmed.csv"].warnings[0]
    assert "Skipped in lenient mode" in reports["a_trimmed.csv"].warnings[0]
    good = reports["b_good.csv"]
    assert (good.rows_read, good.rows_loaded, good.rows_rejected) == (1, 1, 0)
    assert store.orders.get_column("order_id").to_list() == ["#2"]
    with pytest.raises(DataSourceError, match=r"a_trimmed\.csv: the orders export lacks"):
        ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path), strict=True)


def test_day_first_dates_detected_per_file(tmp_path: Path) -> None:
    rows = [
        _order("#1", "31/12/2023 22:36"),
        _order("#2", "05/01/2024 08:00"),
        _order("#3", "2024-01-06 09:00:00 +0100"),
    ]
    path = write_export(tmp_path / "orders.csv", ORDERS_HEADER, rows)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    (report,) = store.load_report.files
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3, 3, 0)
    assert [str(t) for t in store.orders.get_column("created_at")] == [
        "2023-12-31 22:36:00+00:00",
        "2024-01-05 08:00:00+00:00",
        "2024-01-06 08:00:00+00:00",
    ]
    assert any(w.startswith("slash dates read day-first (detected") for w in report.warnings)


def test_month_first_and_undecided_files(tmp_path: Path) -> None:
    month_first = write_export(
        tmp_path / "us.csv",
        ORDERS_HEADER,
        [_order("#1", "12/31/2023 22:36"), _order("#2", "01/05/2024")],
    )
    store = ecomlm_sdk.load_store("shopify_csv", path=str(month_first))
    assert [str(t) for t in store.orders.get_column("created_at")] == [
        "2023-12-31 22:36:00+00:00",
        "2024-01-05 00:00:00+00:00",
    ]
    undecided = tmp_path / "x"
    undecided.mkdir()
    path = write_export(
        undecided / "o.csv",
        ORDERS_HEADER,
        [_order("#1", "05/06/2024 10:00"), _order("#2", "2024-01-02")],
    )
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    (report,) = store.load_report.files
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (2, 1, 1)
    assert store.rejects.select("line", "column", "value").row(0) == (
        2,
        "Created at",
        "05/06/2024 10:00",
    )
    assert "day_first=True or False" in store.rejects.get_column("reason")[0]
    # mixed evidence: both readings would be needed, so none is used
    mixed = undecided / "mixed.csv"
    write_export(mixed, ORDERS_HEADER, [_order("#1", "31/01/2024"), _order("#2", "01/31/2024")])
    store = ecomlm_sdk.load_store("shopify_csv", path=str(mixed))
    assert store.orders.height == 0 and store.rejects.height == 2
    # the option decides
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path), day_first=True)
    assert [str(t) for t in store.orders.get_column("created_at")] == [
        "2024-06-05 10:00:00+00:00",
        "2024-01-02 00:00:00+00:00",
    ]


def test_timezone_option_reads_slash_dates_as_local_time(tmp_path: Path) -> None:
    path = write_export(tmp_path / "o.csv", ORDERS_HEADER, [_order("#1", "31/07/2024 22:36")])
    store = ecomlm_sdk.load_store("shopify_csv", path=str(path), timezone="Europe/Paris")
    assert str(store.orders["created_at"][0]) == "2024-07-31 20:36:00+00:00"
    (report,) = store.load_report.files
    assert any("read in Europe/Paris" in w for w in report.warnings)
    assert store.timezone == "Europe/Paris"
