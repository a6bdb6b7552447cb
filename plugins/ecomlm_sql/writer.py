"""Writing into a database: a whole store (``write_store``) and task results (``write_results``).

Each call runs in one transaction: a failure leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any, Final, Literal

import polars as pl
import pyarrow as pa

from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import DataSourceError
from ecomlm_sql.connection import Database, parse_uri, quote

__all__ = ["WriteMode", "write_results", "write_store"]

WriteMode = Literal["append", "replace", "upsert"]
_MODES: Final = ("append", "replace", "upsert")
_STAGE: Final = "_ecomlm_stage"


def _sqlite_type(dtype: pl.DataType) -> str:
    if dtype == pl.Boolean():
        return "BOOLEAN"  # stored as 0/1; the declared type reads them back as booleans
    if dtype.is_integer():
        return "INTEGER"
    if dtype.is_float():
        return "REAL"
    return "TEXT"


def _for_sqlite(frame: pl.DataFrame) -> pl.DataFrame:
    """SQLite has no instants or lists: instants become ISO text in UTC, lists JSON text."""
    out = []
    for series in frame.iter_columns():
        if isinstance(series.dtype, pl.Datetime):
            zoned = series if series.dtype.time_zone else series.dt.replace_time_zone("UTC")
            series = zoned.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%6f+00:00")
        elif isinstance(series.dtype, pl.List):
            series = pl.Series(
                series.name,
                [None if v is None else json.dumps(v) for v in series.to_list()],
                dtype=pl.String(),
            )
        out.append(series)
    return pl.DataFrame(out, schema=[(s.name, s.dtype) for s in out])


def _arrow(frame: pl.DataFrame) -> pa.Table:
    # plain (not view) strings: every driver reads them
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())


def _stage(db: Database, con: Any, name: str, frame: pl.DataFrame, *, temporary: bool) -> None:
    """Create table ``name`` holding ``frame`` (dropping one of that name first)."""
    if db.backend == "sqlite":
        frame = _for_sqlite(frame)
        kind = "TEMP TABLE" if temporary else "TABLE"
        columns = ", ".join(f"{quote(c)} {_sqlite_type(t)}" for c, t in frame.schema.items())
        con.execute(f"DROP TABLE IF EXISTS {quote(name)}")
        con.execute(f"CREATE {kind} {quote(name)} ({columns})")
        marks = ", ".join("?" * frame.width)
        con.executemany(f"INSERT INTO {quote(name)} VALUES ({marks})", frame.iter_rows())
    elif db.backend == "duckdb":
        con.register("_ecomlm_frame", _arrow(frame))
        try:
            kind = "TEMP TABLE" if temporary else "TABLE"
            con.execute(f"CREATE OR REPLACE {kind} {quote(name)} AS SELECT * FROM _ecomlm_frame")
        finally:
            con.unregister("_ecomlm_frame")
    else:
        cursor = con.cursor()
        try:
            cursor.execute(f"DROP TABLE IF EXISTS {quote(name)}")
            cursor.adbc_ingest(name, _arrow(frame), mode="create", temporary=temporary)
        finally:
            cursor.close()


def _execute(db: Database, con: Any, sql: str) -> None:
    if db.backend == "postgresql":
        cursor = con.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()
    else:
        con.execute(sql)


class _Transaction:
    """``BEGIN`` .. ``COMMIT``, or ``ROLLBACK`` on an exception (ADBC starts one itself)."""

    def __init__(self, db: Database, con: Any) -> None:
        self.db, self.con = db, con

    def __enter__(self) -> None:
        if self.db.backend == "duckdb":
            self.con.execute("BEGIN TRANSACTION")
        elif self.db.backend == "sqlite":
            self.con.execute("BEGIN")

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.con.commit()
        else:
            self.con.rollback()


def write_store(store: EcomStore, uri: str) -> None:
    """Write every table of ``store`` into the database ``uri`` under its canonical name,
    replacing tables of those names, in one transaction; ``load_store("sql", uri=uri)`` reads
    it back.

    Example:
        ```py
        write_store(ecomlm_sdk.sample_store(), "duckdb:///shop.db")
        ```
    """
    db = parse_uri(uri)
    with db.connect() as con:
        if db.backend == "sqlite":
            con.isolation_level = None  # our own BEGIN .. COMMIT
        with _Transaction(db, con):
            for name, frame in store.tables.items():
                _stage(db, con, name, frame, temporary=False)


def write_results(
    uri: str,
    table: str,
    frame: pl.DataFrame,
    *,
    mode: WriteMode = "append",
    key: Sequence[str] | None = None,
    run_id: str | None = None,
) -> str:
    """Write ``frame`` (scores, recommendations, decisions, an ROI report) to ``table``.

    Two columns are added: ``run_id`` (the same for every row of the call) and ``written_at``
    (UTC). Everything happens in one transaction.

    Args:
        uri: The database (``duckdb:///shop.db``, ``sqlite:///...``, ``postgresql://...``).
        table: The table; created from the frame's columns when it does not exist.
        frame: The rows.
        mode: ``append`` adds the rows; ``replace`` drops the table first; ``upsert`` deletes
            the rows whose ``key`` the frame holds, then adds the frame's.
        key: Columns that identify a row (``upsert`` only).
        run_id: The run id (default: a new random one).

    Returns:
        The run id.

    Raises:
        DataSourceError: Unknown mode, ``upsert`` without ``key`` or with a key not in the frame,
            a table whose columns differ from the frame's, or the database failed.
    """
    if mode not in _MODES:
        raise DataSourceError(f"Unknown write mode {mode!r}; use one of {list(_MODES)}")
    keys = list(key or ())
    if mode == "upsert":
        missing = [k for k in keys if k not in frame.columns]
        if not keys or missing:
            raise DataSourceError(
                f"mode='upsert' needs key= columns of the frame (missing: {missing or 'key'}); "
                f"the frame's columns are {frame.columns}"
            )
    run = run_id or uuid.uuid4().hex
    rows = frame.with_columns(
        pl.lit(run).alias("run_id"),
        pl.lit(dt.datetime.now(dt.UTC)).cast(pl.Datetime("us", "UTC")).alias("written_at"),
    )
    db = parse_uri(uri)
    try:
        with db.connect() as con:
            if db.backend == "sqlite":
                con.isolation_level = None
            with _Transaction(db, con):
                existing = db.columns(con, table)
                if mode == "replace" or existing is None:
                    _stage(db, con, table, rows, temporary=False)
                    return run
                if sorted(existing) != sorted(rows.columns):
                    raise DataSourceError(
                        f"{db.shown}: table {table!r} has columns {existing}, the results "
                        f"{rows.columns}; write with mode='replace' or to another table"
                    )
                _stage(db, con, _STAGE, rows, temporary=True)
                names = ", ".join(quote(c) for c in rows.columns)
                if mode == "upsert":
                    row = ", ".join(quote(k) for k in keys)
                    _execute(
                        db,
                        con,
                        f"DELETE FROM {quote(table)} WHERE ({row}) IN "
                        f"(SELECT {row} FROM {quote(_STAGE)})",
                    )
                _execute(
                    db,
                    con,
                    f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM {quote(_STAGE)}",
                )
                _execute(db, con, f"DROP TABLE {quote(_STAGE)}")
    except DataSourceError:
        raise
    except Exception as exc:
        raise DataSourceError(
            f"Writing results to {db.shown} table {table!r} failed: {type(exc).__name__}"
        ) from exc
    return run
