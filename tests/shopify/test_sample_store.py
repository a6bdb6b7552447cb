"""The bundled sample store: the real UCI Online Retail log, converted without losing a row."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ecomlm_sdk
from ecomlm_sdk import EcomStore

UCI = Path(__file__).resolve().parents[3] / "shared" / "data" / "online_retail"
UCI_LOG = UCI / "online_retail_all_days.csv.gz"


@pytest.fixture(scope="module")
def sample() -> EcomStore:
    return ecomlm_sdk.sample_store()


def test_counts_match_the_uci_facts(sample: EcomStore) -> None:
    # Facts from ../shared/data/README.md: every invoice, customer and stock code survives.
    assert sample.orders.height == 25_900
    assert sample.order_lines.height == 541_909
    assert sample.customers.height == 4_372
    assert sample.products.height == 4_070
    assert sample.orders.get_column("country").n_unique() == 38
    assert sample.rejects.height == 0
    assert sample.integrity == ()
    for entry in sample.load_report:
        assert entry.rows_read == entry.rows_loaded
    assert sample.load_report.rows_read == 541_909 + 4_372 + 4_070


def test_conventions(sample: EcomStore) -> None:
    first = sample.orders.row(0, named=True)
    assert first["order_id"] == "#536365"
    assert first["customer_id"] == "17850"
    assert first["email"] == "customer-17850@example.com"
    assert str(first["created_at"]) == "2010-12-01 08:26:00+00:00"
    line = sample.order_lines.row(0, named=True)
    assert (line["product_id"], line["variant_id"], line["quantity"], line["unit_price"]) == (
        "85123A",
        "85123A",
        6,
        2.55,
    )
    assert line["title"] == "WHITE HANGING HEART T-LIGHT HOLDER"
    cancelled = sample.orders.filter(pl.col("order_id") == "#C536379").row(0, named=True)
    assert cancelled["is_cancelled"] and cancelled["financial_status"] == "refunded"
    assert cancelled["refunded_amount"] == pytest.approx(-cancelled["total"])
    lines = sample.order_lines.filter(pl.col("order_id") == "#C536379")
    assert (lines.get_column("quantity") < 0).all()
    assert (
        sample.orders.filter(pl.col("is_cancelled")).height
        == sample.orders.filter(pl.col("order_id").str.starts_with("#C")).height
    )
    guests = sample.orders.filter(pl.col("customer_id").is_null())
    assert guests.height > 0 and guests.get_column("email").null_count() == guests.height
    emails = sample.customers.get_column("email")
    assert emails.str.ends_with("@example.com").all()


def test_each_call_returns_its_own_store_object(sample: EcomStore) -> None:
    again = ecomlm_sdk.sample_store()
    assert again is not sample
    again.orders = again.orders.head(1)
    assert ecomlm_sdk.sample_store().orders.height == 25_900


@pytest.mark.skipif(not UCI_LOG.exists(), reason="needs ../shared/data/online_retail")
def test_purchases_are_exactly_the_clean_uci_rows(sample: EcomStore) -> None:
    log = pl.read_csv(UCI_LOG, infer_schema=False)
    expected = log.filter(
        pl.col("CustomerID").is_not_null()
        & ~pl.col("InvoiceNo").str.starts_with("C")
        & (pl.col("Quantity").cast(pl.Int64) > 0)
        & (pl.col("UnitPrice").cast(pl.Float64) > 0)
    ).select(
        ("#" + pl.col("InvoiceNo")).alias("order_id"),
        pl.col("CustomerID").cast(pl.Float64).cast(pl.Int64).cast(pl.String).alias("customer_id"),
        pl.col("StockCode").alias("product_id"),
        pl.col("Quantity").cast(pl.Int64).alias("quantity"),
        pl.col("UnitPrice").cast(pl.Float64).alias("unit_price"),
    )
    got = sample.purchases().select(expected.columns)
    assert got.height == expected.height == 397_884
    key = expected.columns
    assert_frame_equal(got.sort(key), expected.sort(key))
    assert log.get_column("InvoiceNo").n_unique() == sample.orders.height
