"""Built-in plugin ``ecomlm_sql``: the ``sql`` data source (DuckDB, SQLite, PostgreSQL).

``load_store("sql", uri="duckdb:///shop.db")`` reads the canonical tables (or any tables, through
a mapping); ``write_store(store, uri)`` writes a store, ``write_results(uri, table, frame)``
task results, each in one transaction; ``refresh(store, uri)`` merges in what is new.
"""

from __future__ import annotations

from ecomlm_sdk import hookimpl
from ecomlm_sdk.hookspecs import Register
from ecomlm_sql.connection import redact
from ecomlm_sql.mapping import CANONICAL, SHOPIFY_WAREHOUSE, TableMapping, load_mapping
from ecomlm_sql.refresh import merge_stores, refresh
from ecomlm_sql.source import SqlOptions, SqlSource
from ecomlm_sql.writer import write_results, write_store

__all__ = [
    "CANONICAL",
    "SHOPIFY_WAREHOUSE",
    "SqlOptions",
    "SqlSource",
    "TableMapping",
    "load_mapping",
    "merge_stores",
    "redact",
    "refresh",
    "register_data_sources",
    "write_results",
    "write_store",
]

ecomlm_sdk_api = ">=1,<2"


@hookimpl
def register_data_sources(register: Register) -> None:
    """Register :class:`SqlSource` as ``sql``."""
    register(SqlSource)
