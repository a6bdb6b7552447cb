"""Products export (legacy ``Handle`` format or 2025+ ``URL handle`` format) -> ``products``.

One row per variant; variant rows repeat the handle with an empty title, and product-level
fields (title, description, vendor, type, category, tags, status, metafields) are taken from
the first row of the handle. Rows that carry only an extra image (no SKU, price, option value,
barcode or quantity) are merged into their product. ``variant_id`` is the SKU when no other
variant of the file has it; a SKU shared by several variants (legal in Shopify) is kept as
``sku`` only, and such variants, like those without SKU, are keyed ``handle:option values``
(``tee:Red / M``), else ``handle:n`` for the n-th variant. Metafield columns are kept as extra
columns named by their language-independent key (``product.metafields.shopify.color-pattern``);
unknown columns are kept under their own name.
"""

from __future__ import annotations

import polars as pl

from ecomlm_sdk.data.report import FileLoadReport
from ecomlm_shopify.common import (
    BAD_REASON,
    FileResult,
    ensure_columns,
    first_failure,
    not_blank,
    rejects_of,
    updated_at,
)
from ecomlm_shopify.headers import KNOWN_COLUMNS, NEW_PRODUCT_ALIASES, metafield_key
from ecomlm_shopify.notation import detect_notation
from ecomlm_shopify.reading import ROW, RawFile
from ecomlm_shopify.safety import shown
from ecomlm_shopify.shape import mark_ragged
from ecomlm_shopify.values import (
    EXCEL_NUMBER,
    Check,
    html_to_text,
    number_reason,
    parse_int,
    parse_money,
    parse_tags,
    raw,
)

__all__ = ["load_products"]

_PRODUCT_LEVEL = ("Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Status")
_VARIANT = (
    "Variant SKU",
    "Variant Price",
    "Option1 Value",
    "Variant Barcode",
    "Variant Inventory Qty",
)
_MONEY = ("Variant Price", "Variant Compare At Price", "Cost per item")
_WANTED = (*_PRODUCT_LEVEL, *_VARIANT, *_MONEY[1:])


def load_products(file: RawFile, *, strict: bool, decimal_comma: bool | None = None) -> FileResult:
    """Read one products export (see the module docstring; ``decimal_comma`` as in
    :func:`ecomlm_shopify.orders.load_orders`)."""
    aliases = {
        new: old
        for new, old in NEW_PRODUCT_ALIASES.items()
        if new in file.header and old not in file.header
    }
    header = [aliases.get(c, c) for c in file.header]
    metafields = {c: metafield_key(c) for c in header}
    renames = {c: key for c, key in metafields.items() if key is not None and key not in header}
    header = [renames.get(c, c) for c in header]
    known = KNOWN_COLUMNS["products"]
    extras = [c for c in header if c not in known and c != ROW]
    product_extras = [c for c in extras if c.startswith("product.metafields.")]
    frame = file.frame.rename(aliases).rename(renames)
    file_for_errors = RawFile(file.path, file.kind, header, frame, file.encoding)
    frame = ensure_columns(file_for_errors, frame.filter(not_blank(header)), _WANTED, ("Handle",))
    frame = frame.select(ROW, *(raw(c).alias(c) for c in dict.fromkeys([*header, *_WANTED])))
    amounts = [c for c in _MONEY if c in header]
    notation = detect_notation(frame.select(amounts).collect(), amounts, decimal_comma)
    comma = notation.decimal_comma
    checks = [
        Check("Handle", pl.col("Handle"), "every row needs the product Handle"),
        *(
            Check(
                c,
                parse_money(pl.col(c), decimal_comma=comma),
                number_reason(
                    pl.col(c),
                    f"not an amount such as {e.replace('.', ',') if comma else e!r}",
                    decimal_comma=comma,
                ),
            )
            for c, e in (
                ("Variant Price", "12.50"),
                ("Variant Compare At Price", "15.00"),
                ("Cost per item", "4.00"),
            )
        ),
        Check(
            "Variant Inventory Qty",
            parse_int(pl.col("Variant Inventory Qty")),
            number_reason(pl.col("Variant Inventory Qty"), "not a whole number"),
        ),
    ]
    handle = pl.col("Handle")
    df = frame.with_columns(first_failure(checks)).collect()
    missing_handle = pl.col(BAD_REASON).is_null() & handle.is_null()
    df = df.with_columns(
        pl.when(missing_handle)
        .then(pl.lit("Handle"))
        .otherwise(pl.col("_bad_column"))
        .alias("_bad_column"),
        pl.when(missing_handle)
        .then(pl.lit("required value is empty"))
        .otherwise(pl.col(BAD_REASON))
        .alias(BAD_REASON),
    )
    df = mark_ragged(df, file)
    damaged = pl.col("Variant Barcode").str.contains(EXCEL_NUMBER)
    if strict:
        df = df.with_columns(
            pl.when(pl.col(BAD_REASON).is_null() & damaged)
            .then(pl.lit("Variant Barcode"))
            .otherwise(pl.col("_bad_column"))
            .alias("_bad_column"),
            pl.when(pl.col(BAD_REASON).is_null() & damaged)
            .then(pl.col("Variant Barcode"))
            .otherwise(pl.col("_bad_value"))
            .alias("_bad_value"),
            pl.when(pl.col(BAD_REASON).is_null() & damaged)
            .then(pl.lit("barcode was rewritten by Excel in scientific notation (digits lost)"))
            .otherwise(pl.col(BAD_REASON))
            .alias(BAD_REASON),
        )
    bad = df.filter(pl.col(BAD_REASON).is_not_null())
    rejects = rejects_of(file, "products", bad, strict=strict)
    good = df.filter(pl.col(BAD_REASON).is_null()).with_columns(handle.alias("_handle"))
    warnings = [*file.warnings, *([notation.note] if notation.note else [])]
    flagged = good.filter(damaged.fill_null(False))
    if flagged.height:
        rows = flagged.get_column(ROW).head(3).to_list()
        lines = file.line_numbers(rows)
        warnings.append(
            f"{flagged.height} barcode(s) look damaged by Excel (e.g. "
            f"{shown(flagged.get_column('Variant Barcode')[0])!r} on line {lines[rows[0]]}): the digits "
            "are lost; kept as written, with barcode_damaged=True. Re-export without opening "
            "the file in Excel."
        )
    first = pl.col(ROW) == pl.col(ROW).min().over("_handle")
    is_variant = first | pl.any_horizontal(pl.col(c).is_not_null() for c in _VARIANT)
    variants = good.with_columns(
        *(pl.col(c).drop_nulls().first().over("_handle").alias(c) for c in _PRODUCT_LEVEL),
        *(pl.col(c).drop_nulls().first().over("_handle").alias(c) for c in product_extras),
    ).filter(is_variant)
    options = [c for c in ("Option1 Value", "Option2 Value", "Option3 Value") if c in df.columns]
    named = pl.concat_str([pl.col(c) for c in options], separator=" / ", ignore_nulls=True)
    named = pl.when(named.str.len_chars() > 0).then(named)
    sku = pl.col("Variant SKU")
    # Shopify allows one SKU on several variants: such a SKU is an attribute, never the key
    shared_sku = sku.is_not_null() & (sku.count().over("Variant SKU") > 1)
    variants = variants.with_columns(
        pl.col(ROW).rank("ordinal").over("_handle").cast(pl.Int64).alias("_n"),
        named.alias("_options"),
    ).with_columns(
        pl.when(sku.is_not_null() & ~shared_sku)
        .then(sku)
        .otherwise(
            pl.format(
                "{}:{}", pl.col("_handle"), pl.coalesce("_options", pl.col("_n").cast(pl.String))
            )
        )
        .alias("_variant_id"),
        # the name Shopify gives the variant on order lines: "Mug - Red / Large", or "Mug"
        pl.when(pl.col("_options").is_not_null() & (pl.col("_options") != "Default Title"))
        .then(pl.format("{} - {}", pl.col("Title"), pl.col("_options")))
        .otherwise(pl.col("Title"))
        .alias("_line_title"),
    )
    repeated = pl.col(ROW) != pl.col(ROW).min().over("_variant_id")
    dupes = variants.filter(repeated).with_columns(
        pl.lit("Variant SKU").alias("_bad_column"),
        pl.col("Variant SKU").alias("_bad_value"),
        pl.lit(
            "this variant (same SKU, or same handle and option values) already appeared on an "
            "earlier row"
        ).alias(BAD_REASON),
    )
    if dupes.height:
        rejects = pl.concat([rejects, rejects_of(file, "products", dupes, strict=strict)])
        variants = variants.filter(~repeated)
    products = variants.sort(ROW).select(
        pl.col("_handle").alias("product_id"),
        pl.col("_variant_id").alias("variant_id"),
        pl.col("Title").alias("title"),
        html_to_text(pl.col("Body (HTML)")).alias("description"),
        pl.col("Body (HTML)").alias("description_html"),
        pl.col("Vendor").alias("vendor"),
        pl.col("Type").alias("product_type"),
        pl.col("Product Category").alias("category"),
        parse_tags(pl.col("Tags")).alias("tags"),
        pl.col("Variant SKU").alias("sku"),
        pl.col("Variant Barcode").alias("barcode"),
        parse_money(pl.col("Variant Price"), decimal_comma=comma).alias("price"),
        parse_money(pl.col("Variant Compare At Price"), decimal_comma=comma).alias(
            "compare_at_price"
        ),
        parse_money(pl.col("Cost per item"), decimal_comma=comma).alias("cost"),
        parse_int(pl.col("Variant Inventory Qty")).alias("inventory_quantity"),
        pl.col("Status").str.to_lowercase().alias("status"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("created_at"),
        damaged.fill_null(False).alias("barcode_damaged"),
        *extras,
        ROW,
        updated_at(header).alias("_updated_at"),
        "_line_title",
    )
    report = FileLoadReport(
        file=str(file.path),
        table="products",
        rows_read=df.height,
        rows_loaded=good.height - dupes.height,
        rows_rejected=bad.height + dupes.height,
        warnings=tuple(warnings),
    )
    return FileResult({"products": products}, rejects, report, extras)
