"""The column headers of every Shopify CSV export version, and which file kind a header is.

Exact header lines come from public exports (see ``../shared/data/shopify_csv_formats``):
orders 75 (2021) -> 78 (2022) -> 79 (2025) columns, each a prefix of the next; customers 19
(2018) and 20 (2024); products in the legacy ``Handle`` format (45 to 48 columns plus per-market,
linked-option, unit-price and metafield columns) and the 2025+ format that starts
``Title, URL handle``. Columns are always matched by name, never by position.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, Literal

__all__ = [
    "CUSTOMERS_HEADER",
    "CUSTOMERS_HEADER_2018",
    "ORDERS_HEADER",
    "PRODUCTS_HEADER",
    "FileKind",
    "detect_kind",
    "is_checkouts",
    "metafield_key",
]

FileKind = Literal["orders", "customers", "products"]

#: The 79-column orders export (2025-26); the 75- and 78-column versions are prefixes of it.
ORDERS_HEADER: Final[tuple[str, ...]] = (
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Shipping Method",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Billing Name",
    "Billing Street",
    "Billing Address1",
    "Billing Address2",
    "Billing Company",
    "Billing City",
    "Billing Zip",
    "Billing Province",
    "Billing Country",
    "Billing Phone",
    "Shipping Name",
    "Shipping Street",
    "Shipping Address1",
    "Shipping Address2",
    "Shipping Company",
    "Shipping City",
    "Shipping Zip",
    "Shipping Province",
    "Shipping Country",
    "Shipping Phone",
    "Notes",
    "Note Attributes",
    "Cancelled at",
    "Payment Method",
    "Payment Reference",
    "Refunded Amount",
    "Vendor",
    "Outstanding Balance",
    "Employee",
    "Location",
    "Device ID",
    "Id",
    "Tags",
    "Risk Level",
    "Source",
    "Lineitem discount",
    "Tax 1 Name",
    "Tax 1 Value",
    "Tax 2 Name",
    "Tax 2 Value",
    "Tax 3 Name",
    "Tax 3 Value",
    "Tax 4 Name",
    "Tax 4 Value",
    "Tax 5 Name",
    "Tax 5 Value",
    "Phone",
    "Receipt Number",
    "Duties",
    "Billing Province Name",
    "Shipping Province Name",
    "Payment ID",
    "Payment Terms Name",
    "Next Payment Due At",
    "Payment References",
)

#: The 20-column customers export (2024-25).
CUSTOMERS_HEADER: Final[tuple[str, ...]] = (
    "Customer ID",
    "First Name",
    "Last Name",
    "Email",
    "Accepts Email Marketing",
    "Default Address Company",
    "Default Address Address1",
    "Default Address Address2",
    "Default Address City",
    "Default Address Province Code",
    "Default Address Country Code",
    "Default Address Zip",
    "Default Address Phone",
    "Phone",
    "Accepts SMS Marketing",
    "Total Spent",
    "Total Orders",
    "Note",
    "Tax Exempt",
    "Tags",
)

#: The 19-column customers export (2018).
CUSTOMERS_HEADER_2018: Final[tuple[str, ...]] = (
    "First Name",
    "Last Name",
    "Email",
    "Company",
    "Address1",
    "Address2",
    "City",
    "Province",
    "Province Code",
    "Country",
    "Country Code",
    "Zip",
    "Phone",
    "Accepts Marketing",
    "Total Spent",
    "Total Orders",
    "Tags",
    "Note",
    "Tax Exempt",
)

#: The current 48-column legacy products export (2023-25), the one the writer emits.
PRODUCTS_HEADER: Final[tuple[str, ...]] = (
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Product Category",
    "Type",
    "Tags",
    "Published",
    "Option1 Name",
    "Option1 Value",
    "Option2 Name",
    "Option2 Value",
    "Option3 Name",
    "Option3 Value",
    "Variant SKU",
    "Variant Grams",
    "Variant Inventory Tracker",
    "Variant Inventory Qty",
    "Variant Inventory Policy",
    "Variant Fulfillment Service",
    "Variant Price",
    "Variant Compare At Price",
    "Variant Requires Shipping",
    "Variant Taxable",
    "Variant Barcode",
    "Image Src",
    "Image Position",
    "Image Alt Text",
    "Gift Card",
    "SEO Title",
    "SEO Description",
    "Google Shopping / Google Product Category",
    "Google Shopping / Gender",
    "Google Shopping / Age Group",
    "Google Shopping / MPN",
    "Google Shopping / Condition",
    "Google Shopping / Custom Product",
    "Variant Image",
    "Variant Weight Unit",
    "Variant Tax Code",
    "Cost per item",
    "Included / United States",
    "Price / United States",
    "Compare At Price / United States",
    "Included / International",
    "Price / International",
    "Compare At Price / International",
    "Status",
)

#: Every column of every legacy (``Handle``) products version, metafields aside.
PRODUCTS_LEGACY_COLUMNS: Final[tuple[str, ...]] = (
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Type",
    "Tags",
    "Published",
    "Option1 Name",
    "Option1 Value",
    "Option2 Name",
    "Option2 Value",
    "Option3 Name",
    "Option3 Value",
    "Variant SKU",
    "Variant Grams",
    "Variant Inventory Tracker",
    "Variant Inventory Qty",
    "Variant Inventory Policy",
    "Variant Fulfillment Service",
    "Variant Price",
    "Variant Compare At Price",
    "Variant Requires Shipping",
    "Variant Taxable",
    "Variant Barcode",
    "Image Src",
    "Image Position",
    "Image Alt Text",
    "Gift Card",
    "Google Shopping / MPN",
    "Google Shopping / Age Group",
    "Google Shopping / Gender",
    "Google Shopping / Google Product Category",
    "SEO Title",
    "SEO Description",
    "Google Shopping / AdWords Grouping",
    "Google Shopping / AdWords Labels",
    "Google Shopping / Condition",
    "Google Shopping / Custom Product",
    "Google Shopping / Custom Label 0",
    "Google Shopping / Custom Label 1",
    "Google Shopping / Custom Label 2",
    "Google Shopping / Custom Label 3",
    "Google Shopping / Custom Label 4",
    "Variant Image",
    "Variant Weight Unit",
    "Variant Tax Code",
    "Cost per item",
    "Status",
    "Product Category",
    "Included / United States",
    "Price / United States",
    "Compare At Price / United States",
    "Included / International",
    "Price / International",
    "Compare At Price / International",
    "Option1 Linked To",
    "Option2 Linked To",
    "Option3 Linked To",
    "Unit Price Total Measure",
    "Unit Price Total Measure Unit",
    "Unit Price Base Measure",
    "Unit Price Base Measure Unit",
)

#: Every column of the 2025+ products format (53, or 57 with unit prices), metafields aside.
PRODUCTS_NEW_COLUMNS: Final[tuple[str, ...]] = (
    "Title",
    "URL handle",
    "Description",
    "Vendor",
    "Product category",
    "Type",
    "Tags",
    "Published on online store",
    "Status",
    "SKU",
    "Barcode",
    "Option1 name",
    "Option1 value",
    "Option1 Linked To",
    "Option2 name",
    "Option2 value",
    "Option2 Linked To",
    "Option3 name",
    "Option3 value",
    "Option3 Linked To",
    "Price",
    "Compare-at price",
    "Cost per item",
    "Charge tax",
    "Tax code",
    "Unit price total measure",
    "Unit price total measure unit",
    "Unit price base measure",
    "Unit price base measure unit",
    "Inventory tracker",
    "Inventory quantity",
    "Continue selling when out of stock",
    "Weight value (grams)",
    "Weight unit for display",
    "Requires shipping",
    "Fulfillment service",
    "Product image URL",
    "Image position",
    "Image alt text",
    "Variant image URL",
    "Gift card",
    "SEO title",
    "SEO description",
    "Google Shopping / Google product category",
    "Google Shopping / Gender",
    "Google Shopping / Age group",
    "Google Shopping / Manufacturer part number (MPN)",
    "Google Shopping / Ad group name",
    "Google Shopping / Ads labels",
    "Google Shopping / Condition",
    "Google Shopping / Custom product",
    "Google Shopping / Custom label 0",
    "Google Shopping / Custom label 1",
    "Google Shopping / Custom label 2",
    "Google Shopping / Custom label 3",
    "Google Shopping / Custom label 4",
)

#: 2025+ product column -> the legacy name the loader works with.
NEW_PRODUCT_ALIASES: Final[dict[str, str]] = {
    "URL handle": "Handle",
    "Description": "Body (HTML)",
    "Product category": "Product Category",
    "Published on online store": "Published",
    "SKU": "Variant SKU",
    "Barcode": "Variant Barcode",
    "Price": "Variant Price",
    "Compare-at price": "Variant Compare At Price",
    "Inventory quantity": "Variant Inventory Qty",
    "Option1 name": "Option1 Name",
    "Option1 value": "Option1 Value",
    "Option2 name": "Option2 Name",
    "Option2 value": "Option2 Value",
    "Option3 name": "Option3 Name",
    "Option3 value": "Option3 Value",
    "Product image URL": "Image Src",
}

#: 2018 customer column -> the 2024 name the loader works with.
OLD_CUSTOMER_ALIASES: Final[dict[str, str]] = {
    "Accepts Marketing": "Accepts Email Marketing",
    "City": "Default Address City",
    "Country Code": "Default Address Country Code",
}

KNOWN_COLUMNS: Final[dict[FileKind, frozenset[str]]] = {
    "orders": frozenset(ORDERS_HEADER) | {"Customer ID"},
    "customers": frozenset(CUSTOMERS_HEADER) | frozenset(CUSTOMERS_HEADER_2018),
    "products": frozenset(PRODUCTS_LEGACY_COLUMNS) | frozenset(PRODUCTS_NEW_COLUMNS),
}

_METAFIELD = re.compile(r"^(?:.*\()?(product\.metafields\.[^()\s]+)\)?$")


def metafield_key(column: str) -> str | None:
    """The language-independent key of a metafield column, else ``None``.

    ``"Kolor (product.metafields.shopify.color-pattern)"`` and
    ``"product.metafields.shopify.color-pattern"`` both give
    ``"product.metafields.shopify.color-pattern"``.
    """
    found = _METAFIELD.match(column.strip())
    return found.group(1) if found else None


#: Columns only the abandoned-checkouts export has (lower-cased): it shares the order and
#: ``Lineitem`` columns, so without these it would pass for an orders export.
CHECKOUT_COLUMNS: Final = frozenset(
    {"completed at", "abandoned checkout url", "abandoned checkout id", "recovered at"}
)


def is_checkouts(header: Sequence[str]) -> bool:
    """Whether a header is the abandoned-checkouts export (Abandoned checkouts > Export).

    Judged by its checkout-only columns (``Completed At``, ``Abandoned Checkout URL``, in
    any case), which no orders export has.
    """
    return any(h.strip().lower() in CHECKOUT_COLUMNS for h in header)


def detect_kind(header: Sequence[str]) -> FileKind | None:
    """Which export a header line belongs to, judged by its column names; ``None`` if none.

    Orders have ``Name`` and a ``Lineitem`` column; products have ``Handle`` or ``URL handle``
    (or ``Title`` with a SKU or price column); customers have ``Email`` with ``Total Orders``,
    a marketing-consent column or a ``Customer ID``.
    """
    names = {h.strip() for h in header}
    if "Name" in names and any(n.startswith("Lineitem ") for n in names):
        return "orders"
    if "Handle" in names or "URL handle" in names:
        return "products"
    if "Title" in names and names & {"Variant SKU", "SKU", "Variant Price", "Price"}:
        return "products"
    consent = {"Accepts Marketing", "Accepts Email Marketing", "Total Orders", "Customer ID"}
    if "Email" in names and names & consent:
        return "customers"
    return None
