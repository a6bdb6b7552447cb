"""Store fingerprints: which shop a task was fitted on, so a model applied to another says so.

:meth:`Task.fit <ecomlm_sdk.tasks.base.Task.fit>` records :func:`store_fingerprint` of its store
and :meth:`Task.save <ecomlm_sdk.tasks.base.Task.save>` writes it into ``ecomlm_task.json``. A
fingerprint holds the store's source, its customer and order counts, the dates of its first and
last orders and two short hashes:

* ``anchor``: the customers of the shop's earliest orders. It stays the same while the shop
  grows, so a newer export of the same shop keeps it;
* ``digest``: every customer id and the order date range; any change in the data changes it.

:func:`store_mismatch` compares two fingerprints: another source or another anchor means another
store (or another time range of it), and is reported with :class:`StoreMismatchWarning`. A newer
export of the same shop (same anchor, more customers or later orders) is not a mismatch: that is
the weekly routine of fitting once and scoring new exports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Final

import polars as pl

from ecomlm_sdk.data.store import EcomStore

__all__ = ["StoreMismatchWarning", "store_fingerprint", "store_mismatch"]

#: Orders whose customers make up the ``anchor`` hash.
ANCHOR_ORDERS: Final = 25


class StoreMismatchWarning(UserWarning):
    """A task fitted on one store is applied to another (its scores reflect the other shop)."""


def _hash(values: list[str]) -> str:
    return hashlib.sha256("\n".join(values).encode("utf-8")).hexdigest()[:16]


def _iso(value: object) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else None


def store_fingerprint(store: EcomStore) -> dict[str, Any]:
    """The fingerprint of ``store`` (JSON-ready): source, counts, order dates, anchor, digest."""
    orders = store.orders.filter(pl.col("customer_id").is_not_null())
    first, last = (
        orders.select(
            pl.col("created_at").min().alias("a"), pl.col("created_at").max().alias("b")
        ).row(0)
        if orders.height
        else (None, None)
    )
    earliest = orders.sort(["created_at", "order_id"]).head(ANCHOR_ORDERS)
    anchor = sorted(set(earliest.get_column("customer_id").cast(pl.String).to_list()))
    customers = sorted(store.customers.get_column("customer_id").cast(pl.String).to_list())
    source = store.source or "unknown"
    return {
        "source": source,
        "customers": len(customers),
        "orders": store.orders.height,
        "first_order": _iso(first),
        "last_order": _iso(last),
        "anchor": _hash([source, *anchor]),
        "digest": _hash([source, _iso(first) or "", _iso(last) or "", *customers]),
    }


def describe(fingerprint: dict[str, Any]) -> str:
    """``"shopify_csv, 400 customers, orders 2011-01-04 to 2011-12-09"``."""
    first = str(fingerprint.get("first_order") or "?")[:10]
    last = str(fingerprint.get("last_order") or "?")[:10]
    customers = fingerprint.get("customers")
    count = f"{customers:,}" if isinstance(customers, int) else "?"
    return f"{fingerprint.get('source')}, {count} customers, orders {first} to {last}"


def store_mismatch(fitted: dict[str, Any] | None, current: dict[str, Any]) -> str | None:
    """Why ``current`` is not the store ``fitted`` describes, or ``None`` when it is (or unknown).

    Args:
        fitted: The fingerprint recorded at fit time (``None``: a task saved before fingerprints).
        current: The fingerprint of the store being scored.
    """
    if not isinstance(fitted, dict) or fitted.get("digest") == current.get("digest"):
        return None
    if fitted.get("source") == current.get("source") and fitted.get("anchor") == current.get(
        "anchor"
    ):
        return None  # the same shop, newer data
    return (
        f"this task was fitted on another store ({describe(fitted)}) than the one it is applied "
        f"to ({describe(current)}): its scores reflect the other shop's customers and products. "
        "Fit it on this store (ecomlm fit TASK --path EXPORTS --out DIR) to score it"
    )
