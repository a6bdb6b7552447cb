"""check_data_source passes on good sources and catches each real mistake on a known fixture."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest
from kit_woo import Plugin, WooOrders

from ecomlm_sdk import DataSource, EcomStore, testing
from ecomlm_sdk.data.report import FileLoadReport, LoadReport

ORDERS = Path(__file__).resolve().parent / "fixtures" / "orders.csv"
UTC = dt.UTC

#: What tests/kit/fixtures/orders.csv holds: three readable orders; line 4 has the malformed
#: amount "12,5,0" and line 6 an unreadable date, so both must be rejected.
EXPECTED_ORDERS = pl.DataFrame(
    {
        "order_id": ["#1001", "#1002", "#1004"],
        "customer_id": ["c1", "c2", None],
        "created_at": [
            dt.datetime(2024, 3, 1, 7, 30, tzinfo=UTC),  # 09:30 at +02:00
            dt.datetime(2024, 3, 2, 23, 5, tzinfo=UTC),  # 18:05 at -05:00
            dt.datetime(2024, 3, 4, 11, 0, tzinfo=UTC),
        ],
        "total": [1250.0, 12.5, 7.0],
    }
)
EXPECTED_REJECTS = [
    {"file": "orders.csv", "line": 4, "column": "total", "value": "12,5,0"},
    {"file": "orders.csv", "line": 6, "column": "created_at", "value": "not a date"},
]


def check(source: type[DataSource], **extra: Any) -> EcomStore:
    """The contract as the plugin's own test runs it, the source registered meanwhile."""
    with testing.registered_plugin(Plugin(source), name="woo"):
        return testing.check_data_source(
            source,
            path=str(ORDERS),
            expect_tables={"orders": EXPECTED_ORDERS},
            expect_rejects=EXPECTED_REJECTS,
            **extra,
        )


def test_a_correct_source_passes(fresh_plugins: None) -> None:
    store = check(WooOrders)
    assert store.orders["total"].to_list() == [1250.0, 12.5, 7.0]
    assert store.rejects["line"].to_list() == [4, 6]


@pytest.mark.filterwarnings("ignore::ecomlm_sdk.data.store.IntegrityWarning")
def test_builtin_fixture_and_shopify_sources_pass(fresh_plugins: None, tmp_path: Path) -> None:
    class FixtureSource(DataSource):
        name: ClassVar[str] = "kit-fixture"

        def _load(self) -> EcomStore:
            return testing.fixture_store()

    with testing.registered_plugin(Plugin(FixtureSource), name="kit-fixture"):
        assert testing.check_data_source(FixtureSource).summary()["orders"] == 8
    from ecomlm_shopify.source import ShopifyCsvSource

    folder = tmp_path / "export"
    testing.fixture_store().to_shopify_csv(folder)
    store = testing.check_data_source(ShopifyCsvSource, path=str(folder))
    assert store.orders.height == 8 and len(store.load_report) > 0


def test_a_money_parser_reading_12_5_0_as_1250_is_caught(fresh_plugins: None) -> None:
    class StripsCommas(WooOrders):
        def parse_money(self, text: str) -> float:
            return float(text.replace(",", ""))  # "12,5,0" -> 1250.0

    # Only the fixture's known values can tell: 1250.0 is a plausible total.
    with pytest.raises(AssertionError, match="order_id '#1003'") as caught:
        check(StripsCommas)
    assert "a row the fixture marks as bad was accepted" in str(caught.value)
    # and without expect_tables, the expected reject catches it too
    with (
        testing.registered_plugin(Plugin(StripsCommas), name="woo"),
        pytest.raises(AssertionError, match=r"did not reject .*12,5,0"),
    ):
        testing.check_data_source(StripsCommas, path=str(ORDERS), expect_rejects=EXPECTED_REJECTS)


def test_a_european_reading_of_money_names_the_cell(fresh_plugins: None) -> None:
    class DecimalComma(WooOrders):
        def parse_money(self, text: str) -> float:
            if text == "1,250.00":
                return 1.25  # read as 1,25 with '.' for thousands
            return super().parse_money(text)

    with pytest.raises(AssertionError, match=r"orders.total for \{'order_id': '#1001'\} is 1.25"):
        check(DecimalComma)


def test_rejects_out_of_line_order_are_caught(fresh_plugins: None) -> None:
    class Reversed(WooOrders):
        def order_rejects(self, rejects: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return rejects[::-1]

    with pytest.raises(AssertionError, match=r"not in line order \(line 4 comes after line 6"):
        check(Reversed)


def test_naive_timestamps_are_caught(fresh_plugins: None) -> None:
    class DropsOffset(WooOrders):
        def parse_time(self, text: str) -> dt.datetime:
            return dt.datetime.fromisoformat(text).replace(tzinfo=None)

    # EcomStore takes naive canonical timestamps as UTC: the known values show the shift
    with pytest.raises(AssertionError, match=r"off by exactly \+2 h.*naive"):
        check(DropsOffset)

    class NaiveExtraColumn(WooOrders):
        def _load(self) -> EcomStore:
            store = super()._load()
            paid = store.orders.get_column("created_at").dt.replace_time_zone(None)
            return EcomStore(
                orders=store.orders.with_columns(paid.alias("paid_at")),
                rejects=store.rejects,
                load_report=store.load_report,
            )

    with pytest.raises(AssertionError, match=r"orders.paid_at holds naive timestamps"):
        check(NaiveExtraColumn)


def test_a_missing_path_must_raise(fresh_plugins: None) -> None:
    class EmptyWhenMissing(WooOrders):
        def _load(self) -> EcomStore:
            if not Path(self.options.path).exists():  # type: ignore[attr-defined]
                return EcomStore()
            return super()._load()

    with pytest.raises(AssertionError, match="which does not exist, without an error"):
        check(EmptyWhenMissing)


def test_an_empty_load_report_for_a_real_file_is_caught(fresh_plugins: None) -> None:
    class NoReport(WooOrders):
        def _load(self) -> EcomStore:
            store = super()._load()
            return EcomStore(orders=store.orders)

    with pytest.raises(AssertionError, match="its load report is empty"):
        check(NoReport)


def test_rejects_and_report_must_agree(fresh_plugins: None) -> None:
    class ForgetsRejects(WooOrders):
        def order_rejects(self, rejects: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return rejects[:1]

    with pytest.raises(AssertionError, match=r"counts 2 rejected rows but store\.rejects holds 1"):
        check(ForgetsRejects)

    class BadSchema(WooOrders):
        def _load(self) -> EcomStore:
            store = super()._load()
            return EcomStore(
                orders=store.orders,
                rejects=store.rejects.with_columns(pl.col("line").cast(pl.String)),
                load_report=store.load_report,
            )

    with pytest.raises(AssertionError, match="column 'line' of type Int64"):
        check(BadSchema)


def test_a_report_that_loses_rows_is_caught(fresh_plugins: None) -> None:
    class LosesRows(WooOrders):
        def _load(self) -> EcomStore:
            store = super()._load()
            # model_construct skips the FileLoadReport validator, as a hand-built report might
            entry = FileLoadReport.model_construct(
                file=str(ORDERS), table="orders", rows_read=6, rows_loaded=3, rows_rejected=2
            )
            return EcomStore(
                orders=store.orders,
                rejects=store.rejects,
                load_report=LoadReport.model_construct(files=(entry,)),
            )

    with pytest.raises(AssertionError, match=r"rows read \(6\) != loaded \(3\) \+ rejected \(2\)"):
        check(LosesRows)


def test_the_source_must_be_registered_under_its_name(fresh_plugins: None) -> None:
    with pytest.raises(AssertionError, match="WooOrders is not registered"):
        testing.check_data_source(WooOrders, path=str(ORDERS))

    class Other(WooOrders):
        name: ClassVar[str] = "woo-other"

    # a plugin that registers another class under the name: the name loads something else
    class Clash:
        from ecomlm_sdk import hookimpl

        @hookimpl
        def register_data_sources(self, register: Any) -> None:
            register(Other, name="woo-orders-2")
            register(WooOrders, name="woo-orders-3")

    with testing.registered_plugin(Clash(), name="clash"):
        testing.check_data_source(WooOrders, path=str(ORDERS))  # registered: passes


def test_unknown_options_must_be_refused(fresh_plugins: None) -> None:
    class Lenient(WooOrders):
        def __init__(self, **options: Any) -> None:
            options.pop("__not_an_option__", None)
            super().__init__(**options)

    with pytest.raises(AssertionError, match="accepted an unknown option"):
        check(Lenient)
