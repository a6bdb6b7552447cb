"""``SqlSource``: the ``sql`` data source (DuckDB, SQLite, PostgreSQL through Arrow).

Each canonical table is read with one query that selects only the mapped columns and carries
the time filter (``since``/``until``), so an evaluation window reads only its rows. Values are
converted to the canonical dtypes here, and every row that cannot be is set aside in
``store.rejects`` (with its key in the reason), so rows read = rows loaded + rows rejected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from ecomlm_sdk.data.report import REJECTS_SCHEMA, FileLoadReport, LoadReport, empty_rejects
from ecomlm_sdk.data.schema import SCHEMA, UTC_DATETIME, TableSchema
from ecomlm_sdk.data.source import DataSource, DataSourceOptions
from ecomlm_sdk.data.store import EcomStore, to_utc_datetime
from ecomlm_sdk.data.timestamps import in_range, parse_utc_timestamps
from ecomlm_sdk.errors import DataSourceError
from ecomlm_sql.connection import Database, parse_uri, quote
from ecomlm_sql.mapping import TableMapping, load_mapping

__all__ = ["SqlOptions", "SqlSource"]

#: Tables filtered by ``since``/``until`` (order lines through their order); the others are
#: reference data, read whole so every reference in the window resolves.
_EVENTS = ("orders", "tickets", "campaign_exposures")


class SqlOptions(DataSourceOptions):
    """Options of the ``sql`` data source."""

    uri: str = Field(
        description="Database URI: duckdb:///shop.db, sqlite:///shop.db or "
        "postgresql://user@host:5432/db (a password in it is never shown)."
    )
    mapping: dict[str, Any] | str | None = Field(
        default=None,
        description="Source tables and columns of each canonical table: a dict, a .yaml/.json "
        "file, or a ready mapping ('canonical', the default; 'shopify_warehouse').",
    )
    since: dt.datetime | dt.date | str | None = Field(
        default=None,
        description="Read orders, tickets and exposures at or after this instant (UTC when naive).",
    )
    until: dt.datetime | dt.date | str | None = Field(
        default=None, description="Read those tables strictly before this instant."
    )
    timezone: str | None = Field(
        default=None,
        description="Time zone of timestamps stored without one (default: UTC).",
    )
    extra_columns: bool | None = Field(
        default=None,
        description="Also read a table's non-canonical columns (kept as extra columns); "
        "default: for tables the mapping does not name (a store written by write_store reads "
        "back whole), not for mapped ones (only the mapped columns are selected).",
    )
    strict: bool = Field(default=False, description="Raise at the first row that cannot be loaded.")
    currency: str | None = Field(default=None, description="The currency money is added up in.")


def _stamp(db: Database, value: dt.datetime) -> Any:
    """A UTC instant as a query parameter (SQLite stores instants as ISO text)."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f+00:00") if db.backend == "sqlite" else value


def _column_sql(
    db: Database, table: str, source_columns: list[str], name: str, entry: TableMapping
) -> str | None:
    """The SQL that reads canonical column ``name`` (``None``: the source has no such column)."""
    given = entry.columns.get(name)
    if given is None:
        return quote(name) if name in source_columns else None
    if given.startswith("sql:"):
        return given[4:].strip()
    if given not in source_columns:
        raise DataSourceError(
            f"{db.shown}: table {table!r} has no column {given!r} (mapped to {name!r}); its "
            f"columns are {source_columns}"
        )
    return quote(given)


class _Reader:
    def __init__(self, db: Database, con: Any, options: SqlOptions) -> None:
        self.db, self.con, self.options = db, con, options
        self.since = to_utc_datetime(options.since) if options.since is not None else None
        self.until = to_utc_datetime(options.until) if options.until is not None else None
        self.mapping = load_mapping(options.mapping)
        self.reports: list[FileLoadReport] = []
        self.rejects: list[pl.DataFrame] = []

    def _source(self, name: str) -> tuple[str, TableMapping, list[str]] | None:
        entry = self.mapping.get(name, TableMapping())
        table = entry.table or name
        columns = self.db.columns(self.con, table)
        if columns is None:
            if name in self.mapping:
                raise DataSourceError(
                    f"{self.db.shown}: the mapping reads {name!r} from table {table!r}, "
                    "which does not exist"
                )
            return None
        return table, entry, columns

    def _time_filter(self, column_sql: str, params: list[Any]) -> list[str]:
        conditions = []
        for bound, op in ((self.since, ">="), (self.until, "<")):
            if bound is not None:
                params.append(_stamp(self.db, bound))
                conditions.append(f"{column_sql} {op} {self.db.params(1, len(params))[0]}")
        return conditions

    def query(self, name: str) -> tuple[str, str, list[Any]] | None:
        """``(source table, SQL, params)`` reading canonical table ``name``."""
        found = self._source(name)
        if found is None:
            return None
        table, entry, columns = found
        spec = SCHEMA[name]
        select = []
        for column in spec.columns:
            sql = _column_sql(self.db, table, columns, column, entry)
            if sql is None:
                if column in spec.required:
                    raise DataSourceError(
                        f"{self.db.shown}: table {table!r} has no column for required "
                        f"{name}.{column}; map it (mapping={{{name!r}: {{'columns': "
                        f"{{{column!r}: 'SOURCE_COLUMN'}}}}}}); its columns are {columns}"
                    )
                continue
            select.append(f"{sql} AS {quote(column)}")
        extras = self.options.extra_columns
        if extras or (extras is None and name not in self.mapping):
            used = set(spec.columns) | set(entry.columns.values())
            select += [quote(c) for c in columns if c not in used]
        params: list[Any] = []
        where = [f"({entry.where})"] if entry.where else []
        if name in _EVENTS and spec.time_column is not None:
            time_sql = _column_sql(self.db, table, columns, spec.time_column, entry)
            assert time_sql is not None  # a required column, checked above
            where += self._time_filter(time_sql, params)
        elif name == "order_lines" and (self.since or self.until):
            orders = self._source("orders")
            if orders is not None:
                o_table, o_entry, o_columns = orders
                o_id = _column_sql(self.db, o_table, o_columns, "order_id", o_entry)
                o_time = _column_sql(self.db, o_table, o_columns, "created_at", o_entry)
                own_id = _column_sql(self.db, table, columns, "order_id", entry)
                o_where = self._time_filter(str(o_time), params)
                if o_entry.where:
                    o_where.insert(0, f"({o_entry.where})")
                where.append(
                    f"{own_id} IN (SELECT {o_id} FROM {quote(o_table)} WHERE "
                    f"{' AND '.join(o_where)})"
                )
        sql = f"SELECT {', '.join(select)} FROM {quote(table)}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return table, sql, params

    def read(self, name: str) -> pl.DataFrame | None:
        built = self.query(name)
        if built is None:
            return None
        table, sql, params = built
        raw = pl.from_arrow(self.db.fetch_arrow(self.con, sql, params))
        assert isinstance(raw, pl.DataFrame)
        flags = [c for c in self.db.booleans(self.con, table) if c in raw.columns]
        if flags:
            raw = raw.with_columns(pl.col(flags).cast(pl.Boolean, strict=False))
        where = f"{self.db.shown} {table}"
        frame, rejects = _conform(SCHEMA[name], raw, where, self.options)
        if rejects.height and self.options.strict:
            first = rejects.row(0, named=True)
            raise DataSourceError(
                f"{where}: row {first['line']}, column {first['column']}: {first['reason']}"
            )
        self.rejects.append(rejects)
        self.reports.append(
            FileLoadReport(
                file=where,
                table=name,
                rows_read=raw.height,
                rows_loaded=frame.height,
                rows_rejected=rejects.height,
            )
        )
        return frame


def _converted(
    spec: TableSchema, name: str, series: pl.Series, timezone: str | None
) -> tuple[pl.Series, str]:
    """``series`` in the canonical dtype (nulls where it cannot be) and the reason of a null."""
    if name not in spec.columns:
        return series, ""
    dtype = spec.columns[name].dtype
    if series.dtype == dtype:
        return series, ""
    if dtype == UTC_DATETIME:
        if series.dtype == pl.Date():
            series = series.cast(pl.Datetime("us"))
        if isinstance(series.dtype, pl.Datetime):
            zone = series.dtype.time_zone
            series = series.dt.cast_time_unit("us")
            if zone is None:
                series = series.dt.replace_time_zone(
                    timezone or "UTC", ambiguous="earliest", non_existent="null"
                )
            return series.dt.convert_time_zone("UTC"), "not a valid local time"
        text = pl.DataFrame({"t": series.cast(pl.String(), strict=False).str.strip_chars()})
        parsed = text.select(parse_utc_timestamps(pl.col("t"))).to_series()
        return parsed.alias(name), "not a timestamp (write ISO 8601)"
    if dtype == pl.List(pl.String()) and series.dtype == pl.String():
        try:
            return series.str.json_decode(dtype), "not a JSON list of text"
        except pl.exceptions.PolarsError:
            return series.str.split(","), ""
    try:
        return series.cast(dtype, strict=False), f"not a valid {dtype}"
    except pl.exceptions.PolarsError:
        return pl.Series(name, [None] * len(series), dtype=dtype), f"cannot be a {dtype}"


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _conform(
    spec: TableSchema, raw: pl.DataFrame, where: str, options: SqlOptions
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows of ``raw`` that load, in canonical dtypes, and a rejects row for each other."""
    columns: dict[str, pl.Series] = {}
    checks: list[tuple[str, pl.Series, str]] = []
    for name in raw.columns:
        original = raw.get_column(name)
        series, reason = _converted(spec, name, original, options.timezone)
        checks.append((name, series.is_null() & original.is_not_null(), reason))
        if series.dtype == UTC_DATETIME:
            inside = in_range(pl.col("t")).cast(pl.Boolean).fill_null(True)
            outside = pl.DataFrame({"t": series}).select(~inside).to_series()
            checks.append((name, outside, "timestamp outside 1900 .. 2199"))
        columns[name] = series
    frame = pl.DataFrame(list(columns.values())) if columns else pl.DataFrame()
    for name in spec.required:
        if name in frame.columns:
            checks.append((name, raw.get_column(name).is_null(), "required value missing"))
    key = [k for k in spec.key if k in frame.columns]
    if key and frame.height:
        seen = pl.struct(key).is_first_distinct()
        dupes = frame.select(~seen).to_series()
        checks.append((key[-1], dupes, f"duplicate key {key}: the first row is kept"))
    bad = pl.Series([False] * raw.height, dtype=pl.Boolean())
    parts = []
    for name, mask, reason in checks:
        new = mask & ~bad
        if not new.any():
            continue
        rows = new.arg_true().to_list()
        values = raw.get_column(name)
        picked = frame[rows]
        keys = (
            picked.select(pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator="|"))
            .to_series()
            .to_list()
            if key
            else [None] * len(rows)
        )
        parts.append(
            pl.DataFrame(
                {
                    "file": [where] * len(rows),
                    "table": [spec.name] * len(rows),
                    "line": [r + 1 for r in rows],
                    "column": [name] * len(rows),
                    "value": [_shown(values[r]) for r in rows],
                    "reason": [f"{reason} (key {'|'.join(key)}={k!r})" for k in keys],
                },
                schema=REJECTS_SCHEMA,
            )
        )
        bad = bad | new
    rejects = pl.concat(parts).sort("line") if parts else empty_rejects()
    return frame.filter(~bad) if bad.any() else frame, rejects


class SqlSource(DataSource[SqlOptions]):
    """A database (DuckDB, SQLite, PostgreSQL) -> ``EcomStore``, through a declarative mapping.

    Example:
        ```py
        store = ecomlm_sdk.load_store("sql", uri="duckdb:///shop.db", since="2011-09-01")
        ```
    """

    name: ClassVar[str] = "sql"
    Options: ClassVar[type[DataSourceOptions]] = SqlOptions
    can_write: ClassVar[bool] = True
    #: ``save_results`` writes task results (scores, ...) into a table of the database.
    can_write_results: ClassVar[bool] = True

    def _load(self) -> EcomStore:
        options = self.options
        db = parse_uri(options.uri)
        with db.connect(read_only=True) as con:
            reader = _Reader(db, con, options)
            tables: dict[str, Any] = {name: reader.read(name) for name in SCHEMA}
        rejects = [r for r in reader.rejects if r.height]
        return EcomStore(
            **tables,
            rejects=pl.concat(rejects) if rejects else empty_rejects(),
            load_report=LoadReport.of(reader.reports),
            source=f"sql:{db.shown}",
            currency=options.currency,
            timezone=options.timezone,
        )

    @classmethod
    def _write(
        cls, store: EcomStore, folder: Path, *, uri: str | None = None, **options: Any
    ) -> list[Path]:
        """Write ``store`` into the database ``uri`` (default: a DuckDB file at ``folder``),
        one canonical table each, replacing those there; see :func:`ecomlm_sql.write_store`."""
        from ecomlm_sql.writer import write_store

        if options:
            raise DataSourceError(
                f"Data source 'sql' cannot write with options {sorted(options)}; it accepts uri="
            )
        target = uri if uri is not None else f"duckdb:///{folder}"
        write_store(store, target)
        db = parse_uri(target)
        return [db.path] if db.path is not None else []

    @classmethod
    def save_results(
        cls,
        options: Mapping[str, Any],
        table: str,
        frame: pl.DataFrame,
        *,
        mode: str = "append",
        key: list[str] | None = None,
    ) -> int:
        """Write ``frame`` to ``table`` of the database in ``options['uri']`` (the options the
        store was read with); see :func:`ecomlm_sql.write_results`. Returns the run id's rows."""
        from ecomlm_sql.writer import write_results

        uri = options.get("uri")
        if not isinstance(uri, str):
            raise DataSourceError("Writing results needs the database: give --option uri=...")
        write_results(uri, table, frame, mode=mode, key=key)  # type: ignore[arg-type]
        return frame.height
