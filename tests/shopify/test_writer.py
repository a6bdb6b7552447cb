"""``store.to_shopify_csv`` writes current-format exports that load back into an equal store."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

import ecomlm_sdk
from ecomlm_sdk import EcomStore, testing
from ecomlm_shopify.headers import CUSTOMERS_HEADER, ORDERS_HEADER, PRODUCTS_HEADER


def _slice_of_sample(orders: int) -> EcomStore:
    sample = ecomlm_sdk.sample_store()
    kept = sample.orders.head(orders)
    lines = sample.order_lines.join(kept.select("order_id"), on="order_id", how="semi")
    customers = sample.customers.join(kept.select("customer_id"), on="customer_id", how="semi")
    products = sample.products.join(lines.select("product_id"), on="product_id", how="semi")
    return EcomStore(customers, products, kept, lines)


def _assert_same(a: EcomStore, b: EcomStore) -> None:
    for name, frame in a.tables.items():
        assert_frame_equal(frame, b.tables[name], check_column_order=False)
    assert a.equals(b)


def test_round_trip_of_real_orders(tmp_path: Path) -> None:
    store = _slice_of_sample(300)
    assert store.orders.get_column("is_cancelled").any()
    assert store.orders.get_column("customer_id").null_count() > 0
    written = store.to_shopify_csv(tmp_path)
    assert sorted(p.name for p in written) == [
        "customers_export.csv",
        "orders_export.csv",
        "products_export.csv",
    ]
    headers = {p.name: next(csv.reader(p.open(encoding="utf-8"))) for p in written}
    assert headers["orders_export.csv"] == list(ORDERS_HEADER)
    assert headers["customers_export.csv"] == list(CUSTOMERS_HEADER)
    assert headers["products_export.csv"] == list(PRODUCTS_HEADER)
    again = ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path))
    _assert_same(store, again)


def test_order_level_fields_only_on_first_row(tmp_path: Path) -> None:
    store = _slice_of_sample(5)
    path = store.to_shopify_csv(tmp_path)[-1]
    rows = pl.read_csv(path, infer_schema=False)
    first = pl.col("Name").is_first_distinct()
    assert rows.filter(~first).get_column("Created at").null_count() == rows.filter(~first).height
    assert rows.filter(first).get_column("Created at").null_count() == 0
    assert rows.get_column("Created at").drop_nulls()[0].endswith("+0000")


def test_round_trip_of_variants_tags_and_extras(tmp_path: Path) -> None:
    store = testing.fixture_store()
    products = store.products.with_columns(pl.lit("x").alias("Material"))
    store = store.replace(products=products)
    store.to_shopify_csv(tmp_path, compress=True)
    with gzip.open(tmp_path / "orders_export.csv.gz") as handle:
        assert handle.read(4) == b"Name"
    again = ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path))
    assert again.products.get_column("Material").to_list() == ["x"] * products.height
    for name in ("orders", "order_lines"):
        left = store.tables[name].select(
            "order_id",
            *(c for c in ("quantity", "unit_price", "total") if c in store.tables[name].columns),
        )
        right = again.tables[name].select(left.columns)
        assert_frame_equal(left, right)
