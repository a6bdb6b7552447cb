"""The plugin's contract tests: the ecomlm-sdk kit checks each component on known fixtures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ecomlm_template
import polars as pl
from ecomlm_template import CentroidClassifier, OrdersCsvSource

import ecomlm_sdk
from ecomlm_sdk import testing

ORDERS = Path(__file__).resolve().parent / "fixtures" / "orders.csv"
UTC = dt.UTC

#: What fixtures/orders.csv must load: known values, including the traps. "1,250.00" is 1250;
#: "12,5,0" (line 4) is no amount at all and "not a date" (line 6) no timestamp, so both rows
#: are rejected; offsets are kept and converted to UTC.
EXPECTED_ORDERS = pl.DataFrame(
    {
        "order_id": ["#1001", "#1002", "#1004"],
        "customer_id": ["c1", "c2", None],
        "created_at": [
            dt.datetime(2024, 3, 1, 7, 30, tzinfo=UTC),
            dt.datetime(2024, 3, 2, 23, 5, tzinfo=UTC),
            dt.datetime(2024, 3, 4, 11, 0, tzinfo=UTC),
        ],
        "total": [1250.0, 12.5, 7.0],
    }
)
EXPECTED_REJECTS = [
    {"file": "orders.csv", "line": 4, "column": "total", "value": "12,5,0"},
    {"file": "orders.csv", "line": 6, "column": "created_at", "value": "not a date"},
]


def test_the_entry_point_loads_the_plugin() -> None:
    report = {p.name: p for p in ecomlm_sdk.plugins()}
    plugin = report["template"]
    assert (plugin.status, plugin.distribution) == ("loaded", "ecomlm-template"), plugin.reason
    assert plugin.components == ["data_source:template-orders", "model:template-classifier"]


def test_data_source_contract() -> None:
    with testing.registered_plugin(ecomlm_template):
        store = testing.check_data_source(
            OrdersCsvSource,
            path=str(ORDERS),
            expect_tables={"orders": EXPECTED_ORDERS},
            expect_rejects=EXPECTED_REJECTS,
        )
    assert store.load_report.rows_read == 5


def test_classifier_contract(tmp_path: Path) -> None:
    testing.check_text_classifier(CentroidClassifier(), tmp_path=tmp_path)


def test_classifier_loads_by_name() -> None:
    clf = ecomlm_sdk.load_model("template-classifier")
    clf.fit(["where is my parcel", "refund my money"], ["track", "refund"])
    assert clf.predict("where is the parcel")[0].label == "track"
