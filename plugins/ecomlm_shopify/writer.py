"""Write an ``EcomStore`` as current Shopify exports: 79-column orders, 20-column customers and
48-column products, with order-level fields on the first row of each order and product-level
fields on the first row of each handle, as Shopify writes them. Extra columns of a table are
appended after the standard ones, so loading the files back gives an equal store.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Final

import polars as pl

from ecomlm_sdk.data.store import EcomStore
from ecomlm_shopify.headers import CUSTOMERS_HEADER, ORDERS_HEADER, PRODUCTS_HEADER

__all__ = ["FILE_NAMES", "write_store"]

FILE_NAMES: Final = {
    "orders": "orders_export.csv",
    "customers": "customers_export.csv",
    "products": "products_export.csv",
}
_TS: Final = "%Y-%m-%d %H:%M:%S +0000"


def _money(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String())


def _ts(column: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone("UTC").dt.strftime(_TS)


def _tags(column: str) -> pl.Expr:
    return pl.col(column).list.join(", ")


def _bool(column: str) -> pl.Expr:
    return pl.when(pl.col(column)).then(pl.lit("yes")).when(~pl.col(column)).then(pl.lit("no"))


def _layout(
    frame: pl.DataFrame, header: tuple[str, ...], values: dict[str, pl.Expr], extras: list[str]
) -> pl.DataFrame:
    """Every header column (empty where we have no value) followed by the extras, as text."""
    empty = pl.lit(None, dtype=pl.String())
    columns = [values.get(name, empty).cast(pl.String()).alias(name) for name in header]
    columns += [pl.col(c).cast(pl.String()) for c in extras if c not in header]
    return frame.select(columns)


def _orders(store: EcomStore) -> pl.DataFrame:
    orders = store.orders.with_row_index("_o")
    line_extras = [c for c in store.order_lines.columns if c not in _canonical("order_lines")]
    rows = orders.join(store.order_lines, on="order_id", how="left").sort("_o", "line_number")
    first = pl.col("line_number").is_null() | (
        pl.col("line_number") == pl.col("line_number").min().over("_o")
    )

    def order_level(expr: pl.Expr) -> pl.Expr:
        return pl.when(first).then(expr)

    values = {
        "Name": pl.col("order_id"),
        "Email": order_level(pl.col("email")),
        "Financial Status": order_level(pl.col("financial_status")),
        "Fulfillment Status": order_level(pl.col("fulfillment_status")),
        "Currency": order_level(pl.col("currency")),
        "Subtotal": order_level(_money("subtotal")),
        "Shipping": order_level(_money("shipping")),
        "Taxes": order_level(_money("taxes")),
        "Total": order_level(_money("total")),
        "Discount Amount": order_level(_money("discount_amount")),
        "Created at": order_level(_ts("created_at")),
        "Lineitem quantity": pl.col("quantity").cast(pl.String()),
        "Lineitem name": pl.col("title"),
        "Lineitem price": _money("unit_price"),
        "Lineitem sku": pl.coalesce("sku", "variant_id"),
        "Lineitem discount": _money("discount"),
        "Billing Country": order_level(pl.col("country")),
        "Shipping Country": order_level(pl.col("country")),
        "Cancelled at": order_level(_ts("cancelled_at")),
        "Refunded Amount": order_level(_money("refunded_amount")),
    }
    return _layout(rows, ORDERS_HEADER, values, line_extras)


def _customers(store: EcomStore) -> pl.DataFrame:
    extras = [c for c in store.customers.columns if c not in _canonical("customers")]
    values = {
        "Customer ID": pl.col("customer_id"),
        "First Name": pl.col("first_name"),
        "Last Name": pl.col("last_name"),
        "Email": pl.col("email"),
        "Accepts Email Marketing": _bool("accepts_marketing"),
        "Default Address City": pl.col("city"),
        "Default Address Country Code": pl.col("country"),
        "Tags": _tags("tags"),
    }
    return _layout(store.customers, CUSTOMERS_HEADER, values, extras)


def _products(store: EcomStore) -> pl.DataFrame:
    derived = {"barcode_damaged"}
    extras = [
        c for c in store.products.columns if c not in _canonical("products") and c not in derived
    ]
    frame = store.products.with_row_index("_p")
    first = pl.col("_p") == pl.col("_p").min().over("product_id")
    several = pl.len().over("product_id") > 1

    def product_level(expr: pl.Expr) -> pl.Expr:
        return pl.when(first).then(expr)

    values = {
        "Handle": pl.col("product_id"),
        "Title": product_level(pl.col("title")),
        "Body (HTML)": product_level(pl.coalesce("description_html", "description")),
        "Vendor": product_level(pl.col("vendor")),
        "Product Category": product_level(pl.col("category")),
        "Type": product_level(pl.col("product_type")),
        "Tags": product_level(_tags("tags")),
        "Published": product_level(pl.lit("TRUE")),
        "Option1 Name": product_level(
            pl.when(several).then(pl.lit("Variant")).otherwise(pl.lit("Title"))
        ),
        "Option1 Value": pl.when(several)
        .then(pl.col("variant_id"))
        .otherwise(pl.lit("Default Title")),
        # Order lines are written with coalesce(sku, variant_id) as their SKU, so products are
        # too: a store without SKUs then reads back with the same variant ids on both sides.
        "Variant SKU": pl.coalesce("sku", "variant_id"),
        "Variant Inventory Qty": pl.col("inventory_quantity").cast(pl.String()),
        "Variant Price": _money("price"),
        "Variant Compare At Price": _money("compare_at_price"),
        "Variant Barcode": pl.col("barcode"),
        "Cost per item": _money("cost"),
        "Status": product_level(pl.col("status")),
    }
    return _layout(frame, PRODUCTS_HEADER, values, [c for c in extras if c != "_p"])


def _canonical(table: str) -> set[str]:
    from ecomlm_sdk.data.schema import SCHEMA

    return set(SCHEMA[table].columns)


def write_store(store: EcomStore, folder: Path, *, compress: bool = False) -> list[Path]:
    """Write the orders, customers and products of ``store`` into ``folder`` (created if needed).

    Tables with no rows are not written. Returns the paths written (``.csv``, or ``.csv.gz``
    with ``compress=True``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, build in (("customers", _customers), ("products", _products), ("orders", _orders)):
        if getattr(store, kind).height == 0:
            continue
        frame = build(store)
        path = folder / FILE_NAMES[kind]
        if compress:
            path = path.with_name(path.name + ".gz")
            # mtime=0 and no file name in the gzip header: the same store gives the same bytes
            with (
                path.open("wb") as sink,
                gzip.GzipFile(filename="", mode="wb", fileobj=sink, mtime=0) as handle,
            ):
                handle.write(frame.write_csv().encode("utf-8"))
        else:
            frame.write_csv(path)
        written.append(path)
    return written
