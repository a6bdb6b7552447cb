"""The sql data source: round trips, pushed-down time filters, mappings and rejects, on DuckDB,
SQLite and a real PostgreSQL server (fixtures in conftest.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ecomlm_sdk
from ecomlm_sdk import EcomStore, testing
from ecomlm_sdk.data.report import REJECTS_SCHEMA
from ecomlm_sdk.errors import DataSourceError
from ecomlm_sql import SHOPIFY_WAREHOUSE, refresh, write_results, write_store, writer
from ecomlm_sql.connection import parse_uri, redact
from ecomlm_sql.source import SqlOptions, SqlSource, _Reader


def _assert_same(expected: EcomStore, actual: EcomStore, *, sort: bool = False) -> None:
    for name, frame in expected.tables.items():
        got = actual.tables[name]
        if sort:  # a server returns rows in no promised order
            key = list(ecomlm_sdk.data.schema.SCHEMA[name].key)
            frame, got = frame.sort(key), got.sort(key)
        assert_frame_equal(frame, got, check_exact=False, rel_tol=1e-12)


def _execute(uri: str, *statements: str) -> None:
    db = parse_uri(uri)
    with db.connect() as con:
        for sql in statements:
            if db.backend == "postgresql":
                with con.cursor() as cursor:
                    cursor.execute(sql)
            else:
                con.execute(sql)
        con.commit()


def test_round_trip_is_identical(uri: str) -> None:
    store = testing.fixture_store()
    write_store(store, uri)
    back = ecomlm_sdk.load_store("sql", uri=uri)
    _assert_same(store, back, sort=uri.startswith("postgresql"))
    assert back.rejects.height == 0 and back.rejects.schema == REJECTS_SCHEMA
    assert {f.table: f.rows_loaded for f in back.load_report} == store.summary()
    assert back.source is not None and back.source.startswith("sql:")


def test_sample_store_round_trip_through_duckdb(tmp_path: Path) -> None:
    store = ecomlm_sdk.sample_store()
    target = f"duckdb:///{tmp_path / 'sample.duckdb'}"
    store.write("sql", tmp_path / "sample.duckdb")
    back = ecomlm_sdk.load_store("sql", uri=target)
    _assert_same(store, back)
    assert back.load_report.rows_read == sum(store.summary().values())


def test_since_until_read_only_the_window(uri: str) -> None:
    store = ecomlm_sdk.sample_store()
    small = store.replace(
        orders=store.orders.head(300),
        order_lines=store.order_lines.join(store.orders.head(300), on="order_id", how="semi"),
    )
    write_store(small, uri)
    times = small.orders["created_at"].sort()
    since, until = times[100], times[200]
    window = ecomlm_sdk.load_store("sql", uri=uri, since=since.isoformat(), until=until)
    inside = pl.col("created_at").is_between(since, until, closed="left")
    orders = small.orders.filter(inside)
    assert 0 < orders.height < small.orders.height
    assert sorted(window.orders["order_id"]) == sorted(orders["order_id"])
    lines = small.order_lines.join(orders, on="order_id", how="semi")
    assert window.order_lines.height == lines.height
    assert window.customers.height == small.customers.height  # reference data: read whole
    assert window.load_report.rows_read == sum(window.summary().values())


def test_the_filter_and_the_columns_are_in_the_query(tmp_path: Path) -> None:
    uri = f"duckdb:///{tmp_path / 'q.duckdb'}"
    write_store(testing.fixture_store(), uri)
    db = parse_uri(uri)
    options = SqlOptions(
        uri=uri,
        since="2011-01-01",
        mapping={"orders": {"columns": {"order_id": "order_id"}}},
    )
    with db.connect(read_only=True) as con:
        reader = _Reader(db, con, options)
        orders, lines = reader.query("orders"), reader.query("order_lines")
    assert orders is not None and lines is not None
    assert '"created_at" >= ?' in orders[1] and orders[2] == [
        dt.datetime(2011, 1, 1, tzinfo=dt.UTC)
    ]
    assert '"subtotal"' in orders[1] and "SELECT *" not in orders[1]
    assert 'IN (SELECT "order_id" FROM "orders" WHERE "created_at" >= ?)' in lines[1]


def _foreign(uri: str) -> None:
    """A table of another shape: names, types and a bad row of each kind."""
    _execute(
        uri,
        "CREATE TABLE shop_orders (name TEXT, placed TEXT, amount TEXT, buyer TEXT, test INTEGER)",
        "INSERT INTO shop_orders VALUES "
        "('#1', '2011-03-01 10:00:00+00:00', '12.5', 'c1', 0), "
        "('#2', '2011-03-02 11:00:00+01:00', 'n/a', 'c2', 0), "  # bad amount
        "('#3', 'yesterday', '3', 'c1', 0), "  # bad timestamp
        "('#1', '2011-03-03 10:00:00+00:00', '4', 'c3', 0), "  # duplicate key
        "(NULL, '2011-03-04 10:00:00+00:00', '5', 'c3', 0), "  # no key
        "('#9', '2011-03-05 10:00:00+00:00', '1', 'c9', 1)",  # filtered out by where
    )


MAPPING = {
    "orders": {
        "table": "shop_orders",
        "columns": {"order_id": "name", "created_at": "placed", "total": "amount",
                    "customer_id": "buyer"},
        "where": "test = 0",
    }
}  # fmt: skip


def test_mapping_and_rejects_account_for_every_row(uri: str) -> None:
    _foreign(uri)
    store = ecomlm_sdk.load_store("sql", uri=uri, mapping=MAPPING)
    assert store.orders.select("order_id", "total").to_dicts() == [
        {"order_id": "#1", "total": 12.5}
    ]
    assert store.orders["created_at"].to_list() == [dt.datetime(2011, 3, 1, 10, tzinfo=dt.UTC)]
    assert "test" not in store.orders.columns  # a mapped table reads only the mapped columns
    (report,) = store.load_report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (5, 1, 4)
    rejects = store.rejects.sort("value", nulls_last=True)
    assert rejects.schema == REJECTS_SCHEMA
    by_column = {(r["column"], r["value"]): r["reason"] for r in rejects.to_dicts()}
    assert by_column[("total", "n/a")].startswith("not a valid Float64 (key order_id='#2')")
    assert "not a timestamp" in by_column[("created_at", "yesterday")]
    assert "duplicate key" in by_column[("order_id", "#1")]
    assert "required value missing" in by_column[("order_id", None)]
    assert set(rejects["table"]) == {"orders"} and all("shop_orders" in f for f in rejects["file"])


def test_mapping_from_yaml_and_json_files(tmp_path: Path) -> None:
    uri = f"duckdb:///{tmp_path / 'm.duckdb'}"
    _foreign(uri)
    mapping = {"orders": {**MAPPING["orders"], "where": "test = 1"}}
    (tmp_path / "m.json").write_text(json.dumps(mapping))
    yaml_text = (
        "orders:\n  table: shop_orders\n  where: test = 1\n  columns:\n"
        "    order_id: name\n    created_at: placed\n    total: 'sql:CAST(amount AS DOUBLE) * 2'\n"
    )
    (tmp_path / "m.yaml").write_text(yaml_text)
    from_json = ecomlm_sdk.load_store("sql", uri=uri, mapping=str(tmp_path / "m.json"))
    from_yaml = ecomlm_sdk.load_store("sql", uri=uri, mapping=str(tmp_path / "m.yaml"))
    assert from_json.orders["total"].to_list() == [1.0]
    assert from_yaml.orders["total"].to_list() == [2.0]


def test_strict_raises_at_the_first_bad_row(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 's.sqlite'}"
    _foreign(uri)
    with pytest.raises(DataSourceError, match=r"shop_orders: row 2, column total"):
        ecomlm_sdk.load_store("sql", uri=uri, mapping=MAPPING, strict=True)


def test_mapping_errors_name_what_to_fix(tmp_path: Path) -> None:
    uri = f"duckdb:///{tmp_path / 'e.duckdb'}"
    _foreign(uri)
    with pytest.raises(DataSourceError, match="unknown table"):
        ecomlm_sdk.load_store("sql", uri=uri, mapping={"order": {}})
    with pytest.raises(DataSourceError, match=r"no column for required orders\.order_id"):
        ecomlm_sdk.load_store("sql", uri=uri, mapping={"orders": {"table": "shop_orders"}})
    columns = MAPPING["orders"]["columns"]
    assert isinstance(columns, dict)
    with pytest.raises(DataSourceError, match="has no column 'nope'"):
        ecomlm_sdk.load_store(
            "sql",
            uri=uri,
            mapping={"orders": {**MAPPING["orders"], "columns": {**columns, "email": "nope"}}},
        )
    with pytest.raises(DataSourceError, match="does not exist"):
        ecomlm_sdk.load_store("sql", uri=f"duckdb:///{tmp_path / 'missing.duckdb'}")


def test_passwords_never_appear_in_errors() -> None:
    assert redact("postgresql://shop:s3cret@db:5432/x") == "postgresql://shop:***@db:5432/x"
    with pytest.raises(DataSourceError) as caught:
        ecomlm_sdk.load_store("sql", uri="postgresql://shop:s3cret@127.0.0.1:1/x")
    assert "s3cret" not in str(caught.value) and "***" in str(caught.value)
    with pytest.raises(DataSourceError) as bad_scheme:
        ecomlm_sdk.load_store("sql", uri="mysql://shop:s3cret@db/x")
    assert "s3cret" not in str(bad_scheme.value)


def test_shopify_warehouse_mapping(tmp_path: Path) -> None:
    uri = f"duckdb:///{tmp_path / 'w.duckdb'}"
    _execute(
        uri,
        "CREATE TABLE customers (id BIGINT, email TEXT, accepts_marketing BOOLEAN, "
        "created_at TIMESTAMPTZ)",
        "INSERT INTO customers VALUES (7, ' A@B.C ', true, '2011-01-01 00:00:00+00')",
        "CREATE TABLE orders (id BIGINT, name TEXT, customer_id BIGINT, email TEXT, "
        "created_at TIMESTAMPTZ, currency TEXT, subtotal_price DOUBLE, total_shipping_price "
        "DOUBLE, total_tax DOUBLE, total_discounts DOUBLE, total_price DOUBLE, "
        "financial_status TEXT, fulfillment_status TEXT, cancelled_at TIMESTAMPTZ)",
        "INSERT INTO orders VALUES (1, '#1001', 7, 'a@b.c', '2011-02-01 10:00:00+00', 'GBP', "
        "10, 2, 0, 0, 12, 'paid', 'fulfilled', NULL)",
        "CREATE TABLE order_lines (order_name TEXT, line_number BIGINT, product_id BIGINT, "
        "variant_id BIGINT, sku TEXT, name TEXT, quantity BIGINT, price DOUBLE, "
        "total_discount DOUBLE)",
        "INSERT INTO order_lines VALUES ('#1001', 1, 5, 50, 'MUG', 'Mug', 2, 5, 0)",
    )
    store = ecomlm_sdk.load_store("sql", uri=uri, mapping="shopify_warehouse")
    assert set(SHOPIFY_WAREHOUSE) == {"customers", "orders", "order_lines"}
    assert store.customers.select("customer_id", "email").row(0) == ("7", "a@b.c")
    assert store.orders.select("order_id", "customer_id", "total", "is_cancelled").row(0) == (
        "#1001", "7", 12.0, False,
    )  # fmt: skip
    assert store.purchases()["revenue"].to_list() == [10.0]
    assert store.rejects.height == 0


def test_write_results_modes(uri: str) -> None:
    scores = pl.DataFrame({"customer_id": ["a", "b"], "p": [0.1, 0.2]})
    first = write_results(uri, "scores", scores)
    second = write_results(uri, "scores", scores.with_columns(pl.col("p") * 2))
    db = parse_uri(uri)

    def table() -> pl.DataFrame:
        with db.connect(read_only=True) as con:
            read = pl.from_arrow(db.fetch_arrow(con, 'SELECT * FROM "scores"'))
        assert isinstance(read, pl.DataFrame)
        return read.sort("run_id", "customer_id")

    appended = table()
    assert appended.height == 4 and set(appended["run_id"]) == {first, second}
    assert appended.columns == ["customer_id", "p", "run_id", "written_at"]
    write_results(uri, "scores", pl.DataFrame({"customer_id": ["b", "c"], "p": [0.9, 0.3]}),
                  mode="upsert", key=["customer_id"])  # fmt: skip
    upserted = table().sort("customer_id", "p")
    assert upserted["customer_id"].to_list() == ["a", "a", "b", "c"]
    assert upserted.filter(pl.col("customer_id") == "b")["p"].to_list() == [0.9]
    write_results(uri, "scores", scores.head(1), mode="replace", run_id="r1")
    replaced = table()
    assert replaced.select("customer_id", "run_id").rows() == [("a", "r1")]
    stamp = replaced["written_at"].cast(pl.String)[0]
    assert stamp is not None and stamp.startswith(str(dt.datetime.now(dt.UTC).year))


def test_write_results_is_one_transaction(uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    write_results(uri, "scores", pl.DataFrame({"customer_id": ["a"], "p": [0.1]}), run_id="r1")
    with pytest.raises(DataSourceError, match="has columns"):
        write_results(uri, "scores", pl.DataFrame({"customer_id": ["b"], "q": [1]}))
    with pytest.raises(DataSourceError, match="needs key"):
        write_results(uri, "scores", pl.DataFrame({"customer_id": ["b"]}), mode="upsert")
    # a failure after the upsert's DELETE ran (its INSERT fails) leaves the table as it was
    real = writer._execute

    def failing_insert(db: Any, con: Any, sql: str) -> None:
        if sql.startswith("INSERT"):
            raise RuntimeError("the connection dropped")
        real(db, con, sql)

    monkeypatch.setattr(writer, "_execute", failing_insert)
    with pytest.raises(DataSourceError, match="RuntimeError"):
        write_results(uri, "scores", pl.DataFrame({"customer_id": ["a"], "p": [0.5]}),
                      mode="upsert", key=["customer_id"], run_id="bad")  # fmt: skip
    db = parse_uri(uri)
    with db.connect(read_only=True) as con:
        rows = db.fetch_arrow(con, 'SELECT "run_id" FROM "scores"').column(0).to_pylist()
    assert rows == ["r1"]


def test_incremental_refresh_equals_a_full_reload(uri: str) -> None:
    full = ecomlm_sdk.sample_store()
    first = full.orders.head(400)
    times = first["created_at"].sort()
    cut = times[250]
    # yesterday's database: the orders before the cut, one of them later changed
    before = first.filter(pl.col("created_at") < cut)
    lines = full.order_lines.join(first, on="order_id", how="semi")
    write_store(
        full.replace(orders=before, order_lines=lines.join(before, on="order_id", how="semi")),
        uri,
    )
    yesterday = ecomlm_sdk.load_store("sql", uri=uri)
    # today's: every order of the head, and the latest old order's total corrected
    latest = before.sort("created_at")["order_id"][-1]
    today = full.replace(
        orders=first.with_columns(
            pl.when(pl.col("order_id") == latest).then(-1.0).otherwise("total").alias("total")
        ),
        order_lines=lines,
    )
    write_store(today, uri)
    merged = refresh(yesterday, uri)
    reloaded = ecomlm_sdk.load_store("sql", uri=uri)
    read = merged.load_report.rows_read
    assert 0 < read < sum(reloaded.summary().values())  # only the new part was read
    _assert_same(reloaded, merged, sort=True)
    assert merged.orders.filter(pl.col("order_id") == latest)["total"].to_list() == [-1.0]


def test_password_from_the_environment(pg_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_DB_PASSWORD", "s3cret")
    host = pg_server.removeprefix("postgresql://ecomlm@")
    uri = "postgresql://ecomlm:${SHOP_DB_PASSWORD}@" + host + "/postgres"
    write_results(uri, "env_check", pl.DataFrame({"a": [1]}), mode="replace")  # trust auth
    assert parse_uri(uri).uri.startswith("postgresql://ecomlm:s3cret@")
    assert "s3cret" not in parse_uri(uri).shown
    with pytest.raises(DataSourceError) as caught:
        ecomlm_sdk.load_store("sql", uri="postgresql://shop:${SHOP_DB_PASSWORD}@127.0.0.1:1/x")
    assert "s3cret" not in str(caught.value)
    with pytest.raises(DataSourceError, match="'NOT_SET_ANYWHERE', which is not set"):
        ecomlm_sdk.load_store("sql", uri="postgresql://shop:${NOT_SET_ANYWHERE}@db/x")


def test_a_table_of_the_same_name_in_another_schema_is_not_read(uri: str) -> None:
    if uri.startswith("sqlite"):
        pytest.skip("SQLite has no schemas")
    store = testing.fixture_store()
    write_store(store, uri)
    _execute(uri, "CREATE SCHEMA other", "CREATE TABLE other.orders (junk INTEGER)")
    back = ecomlm_sdk.load_store("sql", uri=uri)
    assert "junk" not in back.orders.columns
    _assert_same(store, back, sort=True)


def test_the_data_source_contract(tmp_path: Path) -> None:
    uri = f"duckdb:///{tmp_path / 'c.duckdb'}"
    _foreign(uri)
    testing.check_data_source(
        SqlSource,
        uri=uri,
        mapping=MAPPING,
        expect_tables={
            "orders": pl.DataFrame(
                {
                    "order_id": ["#1"],
                    "total": [12.5],
                    "created_at": [dt.datetime(2011, 3, 1, 10, tzinfo=dt.UTC)],
                }
            )
        },
        expect_rejects=[
            {"table": "orders", "line": 2, "column": "total", "value": "n/a"},
            {"table": "orders", "line": 3, "column": "created_at", "value": "yesterday"},
            {"table": "orders", "line": 4, "column": "order_id", "value": "#1"},
            {"table": "orders", "line": 5, "column": "order_id", "value": None},
        ],
    )
