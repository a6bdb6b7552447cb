"""Declarative mappings from a database's tables and columns onto the canonical schema.

A mapping names, for each canonical table, the source table and, for each canonical column, the
source column (or a SQL expression with ``sql:`` in front) that holds it::

    orders:
      table: shop_orders
      columns: {order_id: name, created_at: placed_at, total: total_price}

A canonical column left out is read from a source column of the same name when there is one;
a canonical table left out is read from a table of its own name when there is one. The empty
mapping (:data:`CANONICAL`) therefore reads a database written by ``write_store``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ecomlm_sdk.data.schema import SCHEMA
from ecomlm_sdk.errors import DataSourceError

__all__ = ["CANONICAL", "SHOPIFY_WAREHOUSE", "TableMapping", "load_mapping"]


class TableMapping(BaseModel):
    """Where one canonical table comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str | None = Field(
        default=None, description="Source table (default: the canonical table's name)."
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Canonical column -> source column, or 'sql:EXPRESSION' for a computed one.",
    )
    where: str | None = Field(
        default=None, description="An extra SQL condition on the source rows (e.g. 'NOT test')."
    )

    @field_validator("columns")
    @classmethod
    def _no_empty_names(cls, value: dict[str, str]) -> dict[str, str]:
        empty = [k for k, v in value.items() if not v.strip()]
        if empty:
            raise ValueError(f"empty source column for {empty}")
        return value


#: Read tables and columns by their canonical names (a database written by ``write_store``).
CANONICAL: Final[Mapping[str, TableMapping]] = {}

#: Shopify's REST field names as a warehouse sync lands them, line items flattened into their
#: own table: ``customers`` (``id``, ``email``, ...), ``orders`` (``name``, ``total_price``,
#: ...) and ``order_lines`` (``order_name``, ``line_number``, ``price``, ...); the layout is
#: listed in docs/guides/sql.md.
SHOPIFY_WAREHOUSE: Final[Mapping[str, TableMapping]] = {
    "customers": TableMapping(
        table="customers",
        columns={
            "customer_id": "sql:CAST(id AS VARCHAR)",
            "email": "sql:LOWER(TRIM(email))",
            "accepts_marketing": "accepts_marketing",
            "created_at": "created_at",
        },
    ),
    "orders": TableMapping(
        table="orders",
        columns={
            "order_id": "name",
            "customer_id": "sql:CAST(customer_id AS VARCHAR)",
            "email": "sql:LOWER(TRIM(email))",
            "created_at": "created_at",
            "currency": "currency",
            "subtotal": "subtotal_price",
            "shipping": "total_shipping_price",
            "taxes": "total_tax",
            "discount_amount": "total_discounts",
            "total": "total_price",
            "financial_status": "financial_status",
            "fulfillment_status": "fulfillment_status",
            "cancelled_at": "cancelled_at",
            "is_cancelled": "sql:cancelled_at IS NOT NULL",
        },
    ),
    "order_lines": TableMapping(
        table="order_lines",
        columns={
            "order_id": "order_name",
            "line_number": "line_number",
            "product_id": "sql:CAST(product_id AS VARCHAR)",
            "variant_id": "sql:CAST(variant_id AS VARCHAR)",
            "sku": "sku",
            "title": "name",
            "quantity": "quantity",
            "unit_price": "price",
            "discount": "total_discount",
        },
    ),
}


def load_mapping(mapping: Mapping[str, Any] | str | Path | None) -> dict[str, TableMapping]:
    """A mapping from a dict, a ``.yaml``/``.yml``/``.json`` file, or ``"canonical"`` /
    ``"shopify_warehouse"`` (the ready ones); ``None`` is the canonical one.

    Raises:
        DataSourceError: The file cannot be read, a table is not canonical, or an entry is
            malformed (the message names it).
    """
    if mapping is None:
        return dict(CANONICAL)
    if isinstance(mapping, str) and mapping in _READY:
        return dict(_READY[mapping])
    if isinstance(mapping, str | Path):
        path = Path(mapping).expanduser()
        if not path.is_file():
            raise DataSourceError(
                f"Mapping {str(mapping)!r} is neither a file nor a ready mapping "
                f"({', '.join(map(repr, _READY))})"
            )
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            raw = yaml.safe_load(text) or {}
        else:
            raw = json.loads(text)
        if not isinstance(raw, dict):
            raise DataSourceError(f"Mapping file {path} must hold a table -> entry object")
        return load_mapping(raw)
    unknown = sorted(set(mapping) - set(SCHEMA))
    if unknown:
        raise DataSourceError(
            f"Mapping names unknown table(s) {unknown}; canonical tables are {list(SCHEMA)}"
        )
    out: dict[str, TableMapping] = {}
    for name, entry in mapping.items():
        try:
            out[name] = (
                entry if isinstance(entry, TableMapping) else TableMapping.model_validate(entry)
            )
        except ValidationError as exc:
            raise DataSourceError(f"Mapping of table {name!r}: {exc}") from None
        extra = sorted(set(out[name].columns) - set(SCHEMA[name].columns))
        if extra:
            raise DataSourceError(
                f"Mapping of table {name!r} names non-canonical column(s) {extra}; its columns "
                f"are {list(SCHEMA[name].columns)}"
            )
    return out


_READY: Final[dict[str, Mapping[str, TableMapping]]] = {
    "canonical": CANONICAL,
    "shopify_warehouse": SHOPIFY_WAREHOUSE,
}
