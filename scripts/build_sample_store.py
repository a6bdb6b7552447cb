"""Build the bundled sample store from the UCI Online Retail log (deterministic).

Reads ``../shared/data/online_retail/online_retail_all_days.csv.gz`` (UCI dataset 352, Chen,
Sain & Guo 2012, CC BY 4.0) and writes Shopify-format exports (79-column orders, 20-column
customers, 48-column products, gzip) to ``src/ecomlm_sdk/datasets/sample_store_data/``. The whole log
is converted, row for row. The mapping is documented in that folder's README.md and in
docs/guides/shopify.md:

* one order per InvoiceNo, named ``"#" + InvoiceNo`` (``#536365``, ``#C536379``); one order line
  per log row, in log order; line title = Description, SKU = product = variant = StockCode,
  quantity = Quantity, unit price = UnitPrice (negative quantities kept);
* created_at = InvoiceDate read as UTC; currency GBP; subtotal = total = sum of quantity x unit
  price (rounded to pence); no shipping, taxes or discounts;
* ``C`` invoices are cancellations: cancelled_at = created_at (so is_cancelled is True),
  financial_status ``refunded`` and refunded_amount = -total; other orders are ``paid`` and
  ``fulfilled``;
* customer_id = CustomerID as an integer string (``17850``); rows without a CustomerID are
  guest orders (no customer, no email); customers get made-up emails
  ``customer-17850@example.com`` and the country of most of their rows (ties: alphabetical);
* one product per StockCode: title = its most frequent Description, price = its most frequent
  UnitPrice (ties: the smaller), status active.

Usage::

    .venv/bin/python scripts/build_sample_store.py [--source PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import polars as pl

from ecomlm_sdk.data.store import EcomStore
from ecomlm_shopify.source import ShopifyCsvSource

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail_all_days.csv.gz"
DEFAULT_OUT = ROOT / "src" / "ecomlm_sdk" / "datasets" / "sample_store_data"


def read_log(path: Path) -> pl.DataFrame:
    """The UCI log with typed columns and its original row position (``row``)."""
    frame = pl.read_csv(path, infer_schema=False).with_row_index("row")
    return frame.select(
        "row",
        pl.col("InvoiceNo").str.strip_chars().alias("invoice"),
        pl.col("StockCode").str.strip_chars().alias("stock_code"),
        pl.col("Description").str.strip_chars().alias("description"),
        pl.col("Quantity").cast(pl.Int64).alias("quantity"),
        pl.col("InvoiceDate")
        .str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us")
        .dt.replace_time_zone("UTC")
        .alias("created_at"),
        pl.col("UnitPrice").cast(pl.Float64).alias("unit_price"),
        pl.col("CustomerID").cast(pl.Float64).cast(pl.Int64).cast(pl.String).alias("customer_id"),
        pl.col("Country").str.strip_chars().alias("country"),
    )


def mode_of(log: pl.DataFrame, column: str, by: str) -> pl.DataFrame:
    """Most frequent non-null ``column`` per ``by``; ties go to the smallest value."""
    counts = log.drop_nulls(column).group_by(by, column).len()
    return (
        counts.sort([by, "len", column], descending=[False, True, False])
        .unique(by, keep="first", maintain_order=True)
        .select(by, column)
    )


def build_store(log: pl.DataFrame) -> EcomStore:
    """Convert the typed log into the canonical store (see the module docstring)."""
    log = log.with_columns(
        ("#" + pl.col("invoice")).alias("order_id"),
        pl.col("invoice").str.starts_with("C").alias("cancelled"),
    )
    customers = (
        log.drop_nulls("customer_id")
        .group_by("customer_id")
        .agg(pl.col("row").min().alias("first_row"))
        .join(mode_of(log, "country", "customer_id"), on="customer_id")
        .sort("first_row")
        .select(
            "customer_id",
            pl.format("customer-{}@example.com", "customer_id").alias("email"),
            "country",
        )
    )
    products = (
        log.group_by("stock_code")
        .agg(pl.col("row").min().alias("first_row"))
        .join(mode_of(log, "description", "stock_code"), on="stock_code", how="left")
        .join(mode_of(log, "unit_price", "stock_code"), on="stock_code", how="left")
        .sort("first_row")
        .select(
            pl.col("stock_code").alias("product_id"),
            pl.col("stock_code").alias("variant_id"),
            pl.col("description").alias("title"),
            pl.col("stock_code").alias("sku"),
            pl.col("unit_price").alias("price"),
            pl.lit("active").alias("status"),
        )
    )
    orders = (
        log.group_by("order_id", maintain_order=True)
        .agg(
            pl.col("customer_id").first(),
            pl.col("created_at").min(),
            pl.col("country").first(),
            pl.col("cancelled").first(),
            (pl.col("quantity") * pl.col("unit_price")).sum().round(2).alias("total"),
        )
        .select(
            "order_id",
            "customer_id",
            pl.format("customer-{}@example.com", "customer_id").alias("email"),
            "created_at",
            pl.lit("GBP").alias("currency"),
            pl.col("total").alias("subtotal"),
            pl.lit(0.0).alias("shipping"),
            pl.lit(0.0).alias("taxes"),
            pl.lit(0.0).alias("discount_amount"),
            "total",
            pl.when("cancelled").then(-pl.col("total")).otherwise(0.0).alias("refunded_amount"),
            pl.when("cancelled")
            .then(pl.lit("refunded"))
            .otherwise(pl.lit("paid"))
            .alias("financial_status"),
            pl.when("cancelled")
            .then(None)
            .otherwise(pl.lit("fulfilled"))
            .alias("fulfillment_status"),
            pl.when("cancelled").then(pl.col("created_at")).alias("cancelled_at"),
            pl.col("cancelled").alias("is_cancelled"),
            "country",
        )
    )
    lines = log.sort("row").select(
        "order_id",
        (pl.col("row").rank("ordinal").over("order_id")).cast(pl.Int64).alias("line_number"),
        pl.col("stock_code").alias("product_id"),
        pl.col("stock_code").alias("variant_id"),
        pl.col("stock_code").alias("sku"),
        pl.col("description").alias("title"),
        "quantity",
        "unit_price",
    )
    return EcomStore(customers, products, orders, lines, source="uci-online-retail")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if not args.source.exists():
        print(f"UCI log not found at {args.source}; pass --source", file=sys.stderr)
        return 2
    store = build_store(read_log(args.source))
    for path in ShopifyCsvSource.write(store, args.out, compress=True):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        print(
            f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
            f"{path.stat().st_size / 1e6:.1f} MB sha256:{digest}"
        )
    print(store)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
