"""Issue 11, item 2: a SKU on several variants is legal; it is an attribute, never the key.

Variants whose SKU repeats are keyed by handle + option values (or position); unique SKUs keep
the SKU as ``variant_id``. Order lines resolve by SKU only when it names one variant, else by
their Lineitem name; the ones neither settles are counted in the orders file's report.
"""

from __future__ import annotations

from pathlib import Path

import ecomlm_sdk
from ecomlm_shopify.headers import ORDERS_HEADER, PRODUCTS_HEADER

from .conftest import write_export


def test_repeated_skus_keep_every_variant_and_lines_resolve_when_unambiguous(
    tmp_path: Path,
) -> None:
    def variant(handle: str, title: str, color: str, size: str, sku: str) -> dict[str, str]:
        return {
            "Handle": handle,
            "Title": title,
            "Option1 Name": "Color",
            "Option1 Value": color,
            "Option2 Name": "Size",
            "Option2 Value": size,
            "Variant SKU": sku,
            "Variant Price": "15.00",
        }

    products = [
        variant("tee", "Tee", "Red", "S", "TEE"),
        {**variant("tee", "", "Red", "M", "TEE"), "Variant Price": "16.00"},
        variant("tee", "", "Blue", "S", ""),  # no SKU: keyed by its options
        {
            "Handle": "mug",
            "Title": "Mug",
            "Option1 Name": "Title",
            "Option1 Value": "Default Title",
            "Variant SKU": "MUG",
            "Variant Price": "9.00",
        },
    ]
    write_export(tmp_path / "products.csv", PRODUCTS_HEADER, products)
    order = {"Name": "#1", "Created at": "2025-01-01 10:00:00 +0000", "Total": "49.00"}
    lines = [
        {
            **order,
            "Lineitem quantity": "1",
            "Lineitem price": "16.00",
            "Lineitem sku": "TEE",
            "Lineitem name": "Tee - Red / M",
        },
        {
            "Name": "#1",
            "Lineitem quantity": "1",
            "Lineitem price": "15.00",
            "Lineitem sku": "TEE",
            "Lineitem name": "Tee",
        },
        {
            "Name": "#1",
            "Lineitem quantity": "2",
            "Lineitem price": "9.00",
            "Lineitem sku": "MUG",
            "Lineitem name": "Mug",
        },
    ]
    write_export(tmp_path / "orders.csv", ORDERS_HEADER, lines)
    store = ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path))
    reports = {r.table: r for r in store.load_report}
    assert (reports["products"].rows_read, reports["products"].rows_loaded) == (4, 4)
    assert store.products.select("product_id", "variant_id", "sku", "price").rows() == [
        ("tee", "tee:Red / S", "TEE", 15.0),
        ("tee", "tee:Red / M", "TEE", 16.0),
        ("tee", "tee:Blue / S", None, 15.0),
        ("mug", "MUG", "MUG", 9.0),
    ]
    assert store.order_lines.select("sku", "product_id", "variant_id").rows() == [
        ("TEE", "tee", "tee:Red / M"),
        ("TEE", None, None),
        ("MUG", "mug", "MUG"),
    ]
    orders = reports["orders"]
    assert (orders.rows_read, orders.rows_loaded, orders.rows_rejected) == (3, 3, 0)
    assert any(
        w.startswith("1 order line(s) name a SKU that several variants share")
        for w in orders.warnings
    )
