"""EcomStore: validation, coercion, integrity, purchases and the leak-free split."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from ecomlm_sdk import EcomStore, SchemaError, testing
from ecomlm_sdk.data.store import IntegrityWarning, to_utc_datetime

UTC = dt.UTC


def test_missing_required_column_names_table_missing_and_present() -> None:
    with pytest.raises(SchemaError) as info:
        EcomStore(orders=pl.DataFrame({"order_id": ["#1"], "total": [3.0]}))
    message = str(info.value)
    assert (
        "'orders'" in message and "['created_at']" in message and "['order_id', 'total']" in message
    )


def test_values_are_coerced_and_bad_values_named() -> None:
    orders = pl.DataFrame(
        {
            "order_id": [1001, 1002],
            "created_at": ["2011-01-01 10:00:00", "2011-01-02 00:00:00+02:00"],
        }
    )
    store = EcomStore(orders=orders)
    assert store.orders["order_id"].to_list() == ["1001", "1002"]
    assert store.orders.schema["created_at"] == pl.Datetime("us", "UTC")
    assert store.orders["created_at"][1] == dt.datetime(2011, 1, 1, 22, 0, tzinfo=UTC)
    assert store.orders["is_cancelled"].null_count() == 2  # optional column added as nulls
    with pytest.raises(SchemaError, match=r"'orders'.*'created_at'.*'yesterday'"):
        EcomStore(orders=pl.DataFrame({"order_id": ["a"], "created_at": ["yesterday"]}))
    lines = pl.DataFrame(
        {"order_id": ["a"], "line_number": [1], "quantity": ["two"], "unit_price": [1.0]}
    )
    with pytest.raises(SchemaError, match=r"'order_lines'.*'quantity'.*'two'"):
        EcomStore(order_lines=lines, check_integrity=False)


def test_duplicate_or_null_keys_are_rejected() -> None:
    with pytest.raises(SchemaError, match=r"key \['customer_id'\] is not unique.*'c1'"):
        EcomStore(customers=pl.DataFrame({"customer_id": ["c1", "c1"]}))
    with pytest.raises(SchemaError, match="missing values"):
        EcomStore(customers=pl.DataFrame({"customer_id": ["c1", None]}))


def test_extra_columns_are_kept() -> None:
    store = EcomStore(customers=pl.DataFrame({"customer_id": ["c1"], "loyalty_tier": ["gold"]}))
    assert store.customers["loyalty_tier"].to_list() == ["gold"]
    assert store.customers.columns[0] == "customer_id"


def test_lines_of_unknown_orders_are_reported() -> None:
    orders = pl.DataFrame({"order_id": ["#1"], "created_at": [dt.datetime(2011, 1, 1, tzinfo=UTC)]})
    lines = pl.DataFrame(
        {
            "order_id": ["#1", "#2", "#3"],
            "line_number": [1, 1, 1],
            "quantity": [1, 1, 1],
            "unit_price": [1.0] * 3,
        }
    )
    with pytest.warns(IntegrityWarning, match=r"2 order_lines.order_id not in orders.order_id"):
        store = EcomStore(orders=orders, order_lines=lines)
    (issue,) = store.integrity
    assert (issue.table, issue.count, issue.examples) == ("order_lines", 2, ("#2", "#3"))


def test_purchases_follow_the_definition(store: EcomStore) -> None:
    purchases = store.purchases()
    # #1004 is a guest order and #1006 is cancelled: neither counts.
    assert set(purchases["order_id"]) == {"#1001", "#1002", "#1003", "#1005", "#1007", "#1008"}
    assert purchases["revenue"].sum() == pytest.approx(6.5 + 6.5 + 24 + 6.5 + 5 + 24 + 6.5 + 48 + 9)
    assert "#1004" in set(store.purchases(include_guests=True)["order_id"])


def test_split_fixture(store: EcomStore) -> None:
    history, future = store.split("2011-05-01")
    assert history.orders["order_id"].to_list() == ["#1001", "#1002", "#1003", "#1004"]
    assert future.orders["order_id"].to_list() == ["#1005", "#1006", "#1007", "#1008"]
    assert set(history.order_lines["order_id"]) <= set(history.orders["order_id"])
    assert history.customers["customer_id"].to_list() == ["c1", "c2", "c3"]  # c4 created in June
    assert set(future.customers["customer_id"]) == {"c1", "c2", "c3", "c4"}
    assert history.tickets["ticket_id"].to_list() == ["t1", "t2"]
    assert history.campaign_exposures.height == 4 and future.campaign_exposures.height == 0
    assert_frame_equal(history.products, store.products)  # untimed catalogue: in both


@settings(max_examples=40, deadline=None)
@given(
    days=st.lists(st.integers(min_value=0, max_value=364), min_size=1, max_size=30),
    cutoff_day=st.integers(min_value=0, max_value=365),
)
def test_split_never_leaks_the_future(days: list[int], cutoff_day: int) -> None:
    start = dt.datetime(2011, 1, 1, tzinfo=UTC)
    n = len(days)
    ids = [f"#{i}" for i in range(n)]
    customers = [f"c{i % 4}" for i in range(n)]
    store = EcomStore(
        customers=pl.DataFrame({"customer_id": sorted(set(customers))}),
        orders=pl.DataFrame(
            {
                "order_id": ids,
                "customer_id": customers,
                "created_at": [start + dt.timedelta(days=d, hours=d % 24) for d in days],
            }
        ),
        order_lines=pl.DataFrame(
            {"order_id": ids, "line_number": [1] * n, "quantity": [1] * n, "unit_price": [2.0] * n}
        ),
        tickets=pl.DataFrame(
            {
                "ticket_id": ids,
                "created_at": [start + dt.timedelta(days=d) for d in days],
                "body": ["hi"] * n,
            }
        ),
    )
    cutoff = start + dt.timedelta(days=cutoff_day)
    history, future = store.split(cutoff)
    for frame, column in ((history.orders, "created_at"), (history.tickets, "created_at")):
        assert frame.filter(pl.col(column) >= cutoff).height == 0
    assert future.orders.filter(pl.col("created_at") < cutoff).height == 0
    assert history.orders.height + future.orders.height == n  # nothing lost
    assert history.order_lines.height + future.order_lines.height == n
    assert set(history.order_lines["order_id"]) == set(history.orders["order_id"])
    # Customers of history are those whose first order is before the cutoff.
    first = store.orders.group_by("customer_id").agg(pl.col("created_at").min())
    expected = set(first.filter(pl.col("created_at") < cutoff)["customer_id"])
    assert set(history.customers["customer_id"]) == expected


def test_cutoff_parsing() -> None:
    assert to_utc_datetime("2011-09-09") == dt.datetime(2011, 9, 9, tzinfo=UTC)
    assert to_utc_datetime(dt.date(2011, 9, 9)) == dt.datetime(2011, 9, 9, tzinfo=UTC)
    plus2 = dt.datetime(2011, 9, 9, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert to_utc_datetime(plus2) == dt.datetime(2011, 9, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="ISO format"):
        to_utc_datetime("9/9/2011")


def test_fixture_store_passes_the_data_source_contract() -> None:
    from typing import Any, ClassVar

    from ecomlm_sdk import DataSource, hookimpl

    class FixtureSource(DataSource):
        name: ClassVar[str] = "fixture"

        def _load(self) -> EcomStore:
            return testing.fixture_store()

    class Plugin:
        @hookimpl
        def register_data_sources(self, register: Any) -> None:
            register(FixtureSource)

    # the contract also loads the source through its registered name
    with testing.registered_plugin(Plugin(), name="fixture-source"):
        store = testing.check_data_source(FixtureSource)
    assert store.summary()["orders"] == 8
