"""The canonical e-commerce data model: every table, column, dtype and key.

All timestamps are timezone-aware UTC (``pl.Datetime("us", "UTC")``); money is ``Float64`` in the
order's currency; identifiers are strings (``"17850"``, ``"#536365"``), never numbers, so leading
zeros and prefixes survive. Tables may carry extra columns: they are kept, never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import polars as pl

__all__ = ["SCHEMA", "TABLES", "UTC_DATETIME", "Column", "TableSchema"]

UTC_DATETIME: Final = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    dtype: pl.DataType
    required: bool
    description: str


@dataclass(frozen=True)
class TableSchema:
    """One canonical table.

    Attributes:
        name: Table name, also the :class:`EcomStore` attribute.
        columns: Column name -> :class:`Column`, in canonical order.
        key: Columns that identify a row.
        time_column: Column used by :meth:`EcomStore.split` (``None``: not time-stamped).
        references: Column -> ``"table.column"`` it must point at.
    """

    name: str
    columns: Mapping[str, Column]
    key: tuple[str, ...]
    time_column: str | None = None
    references: Mapping[str, str] = field(default_factory=dict)

    @property
    def required(self) -> list[str]:
        """Names of the required columns."""
        return [name for name, col in self.columns.items() if col.required]

    def polars_schema(self) -> pl.Schema:
        """The polars schema of the canonical columns."""
        return pl.Schema({name: col.dtype for name, col in self.columns.items()})


def _c(dtype: pl.DataType, description: str, required: bool = False) -> Column:
    return Column(dtype, required, description)


S, F, INT, B, T = pl.String(), pl.Float64(), pl.Int64(), pl.Boolean(), UTC_DATETIME
TAGS = pl.List(pl.String())

SCHEMA: Final[Mapping[str, TableSchema]] = {
    "customers": TableSchema(
        "customers",
        {
            "customer_id": _c(S, "Stable customer identifier (Shopify Customer ID).", True),
            "email": _c(S, "Email address, lower-cased and trimmed (PII: never logged)."),
            "first_name": _c(S, "First name (PII)."),
            "last_name": _c(S, "Last name (PII)."),
            "city": _c(S, "City of the default address."),
            "country": _c(S, "Country (ISO code where known) of the default address."),
            "accepts_marketing": _c(B, "Consented to email marketing."),
            "created_at": _c(T, "When the customer record was created (UTC)."),
            "tags": _c(TAGS, "Free-form tags."),
        },
        key=("customer_id",),
        time_column="created_at",
    ),
    "products": TableSchema(
        "products",
        {
            "product_id": _c(S, "Product identifier (Shopify handle, or stock code).", True),
            "variant_id": _c(
                S,
                "Variant identifier, unique within the store (the SKU when no other variant "
                "shares it, else handle:option values or handle:n).",
                True,
            ),
            "title": _c(S, "Product title, repeated on every variant row."),
            "description": _c(S, "Plain-text description."),
            "description_html": _c(S, "Original HTML description."),
            "vendor": _c(S, "Vendor or brand."),
            "product_type": _c(S, "Merchant-defined type."),
            "category": _c(S, "Standard product category."),
            "tags": _c(TAGS, "Free-form tags."),
            "sku": _c(S, "Stock-keeping unit of the variant."),
            "barcode": _c(S, "Barcode (GTIN/UPC/EAN) as text."),
            "price": _c(F, "Variant price."),
            "compare_at_price": _c(F, "Pre-discount reference price."),
            "cost": _c(F, "Cost per item, for margin-aware ROI."),
            "inventory_quantity": _c(INT, "Units in stock."),
            "status": _c(S, "active, draft or archived."),
            "created_at": _c(T, "When the product was published (UTC); null when unknown."),
        },
        key=("variant_id",),
        time_column="created_at",
    ),
    "orders": TableSchema(
        "orders",
        {
            "order_id": _c(S, "Order identifier (Shopify order Name, e.g. '#536365').", True),
            "customer_id": _c(S, "Buyer; null for a guest order.", False),
            "email": _c(S, "Buyer email as given on the order (PII)."),
            "created_at": _c(T, "When the order was placed (UTC).", True),
            "currency": _c(S, "ISO 4217 currency code."),
            "subtotal": _c(F, "Sum of line items before shipping and taxes."),
            "shipping": _c(F, "Shipping charged."),
            "taxes": _c(F, "Taxes charged."),
            "discount_amount": _c(F, "Order-level discount."),
            "total": _c(F, "Amount charged."),
            "refunded_amount": _c(F, "Amount refunded (0 when none)."),
            "financial_status": _c(S, "paid, pending, refunded, partially_refunded, voided, ..."),
            "fulfillment_status": _c(S, "fulfilled, partial, unfulfilled, ..."),
            "cancelled_at": _c(T, "When the order was cancelled (UTC); null when not."),
            "is_cancelled": _c(B, "True for cancelled orders (kept, never dropped)."),
            "country": _c(S, "Shipping or billing country."),
        },
        key=("order_id",),
        time_column="created_at",
        references={"customer_id": "customers.customer_id"},
    ),
    "order_lines": TableSchema(
        "order_lines",
        {
            "order_id": _c(S, "Order the line belongs to.", True),
            "line_number": _c(INT, "1-based position within the order.", True),
            "product_id": _c(S, "Product bought (null for custom items).", False),
            "variant_id": _c(S, "Variant bought."),
            "sku": _c(S, "SKU as written on the line."),
            "title": _c(S, "Line item name as written on the order."),
            "quantity": _c(INT, "Units; negative for returns/cancellations.", True),
            "unit_price": _c(F, "Price per unit.", True),
            "discount": _c(F, "Discount on this line."),
        },
        key=("order_id", "line_number"),
        references={"order_id": "orders.order_id", "variant_id": "products.variant_id"},
    ),
    "tickets": TableSchema(
        "tickets",
        {
            "ticket_id": _c(S, "Ticket identifier.", True),
            "customer_id": _c(S, "Customer who wrote (null when unknown)."),
            "created_at": _c(T, "When the ticket was opened (UTC).", True),
            "channel": _c(S, "email, chat, phone, ..."),
            "subject": _c(S, "Subject line."),
            "body": _c(S, "Message text (may hold PII: redact before logging).", True),
            "intent": _c(S, "Labelled intent, when known."),
            "order_id": _c(S, "Order the ticket is about, when known."),
            "resolved_by": _c(S, "'bot' or 'human' when resolved."),
        },
        key=("ticket_id",),
        time_column="created_at",
        references={"customer_id": "customers.customer_id"},
    ),
    "campaigns": TableSchema(
        "campaigns",
        {
            "campaign_id": _c(S, "Campaign identifier.", True),
            "name": _c(S, "Human-readable name."),
            "channel": _c(S, "email, sms, ads, ..."),
            "start_at": _c(T, "First exposure allowed (UTC).", True),
            "end_at": _c(T, "Last exposure allowed (UTC)."),
            "fixed_cost": _c(F, "Cost not tied to contacts (creative, tooling)."),
        },
        key=("campaign_id",),
        time_column="start_at",
    ),
    "campaign_exposures": TableSchema(
        "campaign_exposures",
        {
            "campaign_id": _c(S, "Campaign.", True),
            "customer_id": _c(S, "Customer exposed (or held out).", True),
            "arm": _c(S, "Experiment arm: 'control', 'treatment', 'variant_b', ...", True),
            "exposed_at": _c(T, "When the customer was contacted or assigned (UTC).", True),
            "cost": _c(F, "Cost of this contact (0 for control)."),
        },
        key=("campaign_id", "customer_id"),
        time_column="exposed_at",
        references={
            "campaign_id": "campaigns.campaign_id",
            "customer_id": "customers.customer_id",
        },
    ),
}

#: Table names in dependency order.
TABLES: Final = tuple(SCHEMA)
