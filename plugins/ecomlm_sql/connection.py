"""Database URIs and connections: DuckDB (embedded), SQLite and PostgreSQL, all through Arrow.

``duckdb:///shop.db`` and ``sqlite:///shop.db`` name a file relative to the working folder,
``duckdb:////abs/shop.db`` an absolute one, ``duckdb://`` (or ``duckdb:///:memory:``) an
in-memory database; ``postgresql://user@host:5432/db`` a server, read and written through ADBC.
A password in a URI is never shown: :func:`redact` replaces it in every message; write it as
``${NAME}`` to have it read from the environment.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import pyarrow as pa

from ecomlm_sdk.errors import DataSourceError

__all__ = ["Database", "parse_uri", "quote", "redact"]

Backend = Literal["duckdb", "sqlite", "postgresql"]
_SCHEMES: Final[dict[str, Backend]] = {
    "duckdb": "duckdb",
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
}
_PASSWORD: Final = re.compile(r"(://[^:/@]*:)[^@]*@")
_VARIABLE: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def redact(text: str) -> str:
    """``text`` with the password of every URI in it replaced by ``***``."""
    return _PASSWORD.sub(r"\1***@", text)


def quote(identifier: str) -> str:
    """``identifier`` as a quoted SQL identifier (the same in all three dialects)."""
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class Database:
    """A parsed database URI.

    Attributes:
        backend: ``duckdb``, ``sqlite`` or ``postgresql``.
        uri: The URI as given (use :attr:`shown` in messages).
        path: The database file (DuckDB, SQLite; ``None`` in memory or for PostgreSQL).
    """

    backend: Backend
    uri: str
    path: Path | None

    @property
    def shown(self) -> str:
        """The URI with its password redacted."""
        return redact(self.uri)

    @property
    def placeholder(self) -> str:
        """The query parameter marker: ``$1``-style for PostgreSQL, ``?`` otherwise."""
        return "$" if self.backend == "postgresql" else "?"

    def params(self, count: int, start: int = 1) -> list[str]:
        """``count`` parameter markers, numbered from ``start`` where the dialect numbers them."""
        if self.backend == "postgresql":
            return [f"${i}" for i in range(start, start + count)]
        return ["?"] * count

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[Any]:
        """An open connection (DuckDB, sqlite3 or ADBC), closed on exit."""
        if self.backend == "duckdb":
            import duckdb

            if read_only and self.path is not None and not self.path.exists():
                raise DataSourceError(
                    f"DuckDB database {self.shown!r} does not exist; write one first "
                    "(ecomlm ingest EXPORTS --to duckdb:///shop.db)"
                )
            con: Any = duckdb.connect(
                str(self.path) if self.path else ":memory:", read_only=read_only
            )
        elif self.backend == "sqlite":
            if read_only and self.path is not None and not self.path.exists():
                raise DataSourceError(f"SQLite database {self.shown!r} does not exist")
            con = sqlite3.connect(str(self.path) if self.path else ":memory:")
        else:
            from adbc_driver_postgresql import dbapi

            try:
                con = dbapi.connect(self.uri)
            except Exception as exc:  # the driver's message may quote the DSN
                raise DataSourceError(
                    f"Cannot connect to {self.shown!r}: {type(exc).__name__}: {redact(str(exc))}"
                ) from None
        try:
            yield con
        finally:
            con.close()

    def fetch_arrow(self, con: Any, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run ``sql`` with ``params`` and return every row as an Arrow table."""
        if self.backend == "duckdb":
            table: pa.Table = con.sql(sql, params=list(params) or None).to_arrow_table()
            return table
        if self.backend == "sqlite":
            cursor = con.execute(sql, list(params))
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
        cursor = con.cursor()
        try:
            cursor.execute(sql, list(params) or None)
            result: pa.Table = cursor.fetch_arrow_table()
            return result
        finally:
            cursor.close()

    def booleans(self, con: Any, table: str) -> set[str]:
        """SQLite columns declared ``BOOLEAN`` (SQLite keeps them as 0/1; other backends: none)."""
        if self.backend != "sqlite":
            return set()
        rows = con.execute(f"PRAGMA table_info({quote(table)})").fetchall()
        return {r[1] for r in rows if str(r[2]).upper() == "BOOLEAN"}

    def columns(self, con: Any, table: str) -> list[str] | None:
        """The columns of ``table`` in order, or ``None`` when there is no such table."""
        if self.backend == "sqlite":
            rows = con.execute(f"PRAGMA table_info({quote(table)})").fetchall()
            return [r[1] for r in rows] or None
        marker = self.params(1)[0]
        found = self.fetch_arrow(
            con,
            # the table of the current schema only (a name may exist in several)
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            f"{marker} AND table_schema = current_schema() AND table_catalog = current_database() "
            "ORDER BY ordinal_position",
            [table],
        )
        names = [str(v) for v in found.column(0).to_pylist()]
        return names or None


def _from_environment(uri: str) -> str:
    """``uri`` with each ``${NAME}`` replaced by that environment variable's value."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise DataSourceError(
                f"Database URI {redact(uri)!r} names environment variable {name!r}, which is "
                "not set; export it (a password belongs there, not in the URI)"
            )
        return os.environ[name]

    return _VARIABLE.sub(value, uri)


def parse_uri(uri: str) -> Database:
    """Parse ``uri`` into a :class:`Database`; ``${NAME}`` in it is read from the environment
    (``postgresql://shop:${SHOP_DB_PASSWORD}@db/shop``), so a password need not be written down.

    Raises:
        DataSourceError: The scheme is not one of duckdb, sqlite, postgresql, or a variable it
            names is not set.
    """
    uri = _from_environment(uri)
    scheme, sep, rest = uri.partition("://")
    backend = _SCHEMES.get(scheme.lower().split("+")[0]) if sep else None
    if backend is None:
        raise DataSourceError(
            f"Cannot read database URI {redact(uri)!r}: give duckdb:///shop.db, "
            "sqlite:///shop.db or postgresql://user@host:5432/dbname"
        )
    if backend == "postgresql":
        return Database(backend, "postgresql://" + rest, None)
    path = rest[1:] if rest.startswith("/") else rest
    if path in ("", ":memory:"):
        return Database(backend, uri, None)
    return Database(backend, uri, Path(path).expanduser())
