"""Which variant an order line bought: by SKU when it names one variant, else by its name.

Shopify allows one SKU on several variants (issue 11, item 2), so the products loader keys a
variant by its SKU only while that SKU is unique, and by handle + option values (or position)
otherwise. An order line resolves by SKU when the SKU belongs to exactly one variant; when it
belongs to several, by the line's name as Shopify writes it (``"Mug - Red / Large"``, or the
product title for a single-variant product) among those variants; a line that neither settles
keeps its SKU but no product or variant, and is counted in the orders file's load report.
"""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = ["AMBIGUOUS", "resolve_lines", "sku_index"]

#: Column of the resolved lines: the SKU is shared and the name matched no single variant.
AMBIGUOUS: Final = "_ambiguous_sku"
_SHARED: Final = "_shared"


def sku_index(products: pl.DataFrame | None) -> pl.DataFrame | None:
    """``sku, product_id, variant_id, _line_title, _shared`` for every variant with a SKU."""
    if products is None or "sku" not in products.columns:
        return None
    title = pl.col("_line_title") if "_line_title" in products.columns else pl.col("title")
    return (
        products.select("sku", "product_id", "variant_id", title.alias("_line_title"))
        .drop_nulls("sku")
        .with_columns((pl.col("sku").count().over("sku") > 1).alias(_SHARED))
    )


def resolve_lines(lines: pl.DataFrame, index: pl.DataFrame | None) -> pl.DataFrame:
    """``lines`` (``sku``, ``title``) with ``product_id``, ``variant_id`` and :data:`AMBIGUOUS`."""
    none = pl.lit(None, dtype=pl.String())
    if index is None or index.height == 0:
        return lines.with_columns(
            none.alias("product_id"), none.alias("variant_id"), pl.lit(False).alias(AMBIGUOUS)
        )
    unique = index.filter(~pl.col(_SHARED)).select("sku", "product_id", "variant_id")
    lines = lines.join(unique, on="sku", how="left", maintain_order="left")
    shared = index.filter(pl.col(_SHARED))
    if shared.height == 0:
        return lines.with_columns(pl.lit(False).alias(AMBIGUOUS))
    by_name = shared.unique(["sku", "_line_title"], keep="none").select(
        "sku",
        pl.col("_line_title").alias("title"),
        pl.col("product_id").alias("_by_name_product"),
        pl.col("variant_id").alias("_by_name_variant"),
    )
    lines = lines.join(by_name, on=["sku", "title"], how="left", maintain_order="left")
    is_shared = pl.col("sku").is_in(shared.get_column("sku").unique().implode())
    return (
        lines.with_columns(
            pl.coalesce("product_id", "_by_name_product").alias("product_id"),
            pl.coalesce("variant_id", "_by_name_variant").alias("variant_id"),
        )
        .with_columns((is_shared & pl.col("variant_id").is_null()).alias(AMBIGUOUS))
        .drop("_by_name_product", "_by_name_variant")
    )
