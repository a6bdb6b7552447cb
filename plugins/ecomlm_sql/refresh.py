"""Incremental refresh: read only what is new since the last run and merge it into a store.

A daily job keeps yesterday's store and reads only the orders (tickets, exposures) placed since
then; reference tables (customers, products, campaigns) are read whole, as every ``sql`` load
does, so they replace the old ones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

import ecomlm_sdk
from ecomlm_sdk.data.schema import SCHEMA
from ecomlm_sdk.data.store import Cutoff, EcomStore

__all__ = ["last_order_at", "merge_stores", "refresh"]

#: Tables an incremental load reads only in part; the others it reads whole.
_PARTIAL = ("orders", "order_lines", "tickets", "campaign_exposures")


def _keep_old(old: pl.DataFrame, new: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Rows of ``old`` whose key ``new`` does not hold."""
    return old.join(new.select(key), on=key, how="anti")


def merge_stores(base: EcomStore, new: EcomStore) -> EcomStore:
    """``base`` updated with ``new`` (an incremental load): a row of ``new`` replaces the row of
    ``base`` with its key; an order in ``new`` brings all its lines (its old lines go); the
    tables ``new`` reads whole replace ``base``'s. Rejects are added up; the load report is
    ``new``'s (what this run read)."""
    tables: dict[str, Any] = {}
    for name in SCHEMA:
        old, fresh = base.tables[name], new.tables[name]
        if name not in _PARTIAL:
            tables[name] = fresh
        elif name == "order_lines":
            orders = new.orders.select("order_id")
            kept = old.join(orders, on="order_id", how="anti")
            tables[name] = pl.concat([kept, fresh], how="diagonal_relaxed")
        else:
            kept = _keep_old(old, fresh, list(SCHEMA[name].key))
            tables[name] = pl.concat([kept, fresh], how="diagonal_relaxed")
    rejects = pl.concat([base.rejects, new.rejects])
    return EcomStore(
        **tables,
        rejects=rejects,
        load_report=new.load_report,
        source=new.source,
        currency=new.currency,
        fx_rates=new.fx_rates,
        timezone=new.timezone,
    )


def last_order_at(store: EcomStore) -> dt.datetime | None:
    """When the store's latest order was placed (``None``: it has none)."""
    latest = store.orders.get_column("created_at").max()
    assert latest is None or isinstance(latest, dt.datetime)
    return latest


def refresh(
    store: EcomStore, uri: str, *, since: Cutoff | None = None, **options: Any
) -> EcomStore:
    """``store`` with what the database ``uri`` holds since ``since`` merged in.

    Args:
        store: The store of the last run.
        uri: The database.
        since: Read orders, tickets and exposures from this instant on (default: the store's
            latest order: inclusive, so orders placed in that same instant are not lost).
        **options: More ``sql`` source options (``mapping=``, ``timezone=``, ...).

    Example:
        ```py
        store = refresh(store, "duckdb:///shop.db")   # every day
        ```
    """
    start = since if since is not None else last_order_at(store)
    new = ecomlm_sdk.load_store("sql", uri=uri, since=start, **options)
    return merge_stores(store, new)
