"""``check_data_source``: the contract every data source plugin should pass on its fixtures."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

import polars as pl

from ecomlm_sdk.data.report import REJECTS_SCHEMA
from ecomlm_sdk.data.schema import SCHEMA, TABLES
from ecomlm_sdk.data.source import DataSource
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import DataSourceError
from ecomlm_sdk.plugins import get_registry
from ecomlm_sdk.testing._checks import expect

__all__ = ["check_data_source"]

_SHOWN = 5  # mismatches listed in one message


def check_data_source(
    source: type[DataSource],
    *,
    expect_tables: Mapping[str, pl.DataFrame] | None = None,
    expect_rejects: Sequence[Mapping[str, Any]] | None = None,
    **options: Any,
) -> EcomStore:
    """Contract for a data source, run on a fixture you wrote with known values.

    Checks that the class has a ``name`` and strict options; that it is registered and loads
    the same store through its registered name as through the class; that every timestamp
    column is timezone-aware; that the load report accounts for every row of every file; and
    that ``store.rejects`` has :data:`~ecomlm_sdk.data.report.REJECTS_SCHEMA`, one entry per
    rejected row, in line order. When an option names an existing file or folder, the load
    report must be non-empty and the same options with that path missing must raise
    :class:`~ecomlm_sdk.errors.DataSourceError` naming it.

    Args:
        source: The data source class.
        expect_tables: Table name -> the rows the fixture must load: every row (matched on the
            table's key) with these column values. Write timestamps timezone-aware. This is the
            check that catches a parser reading ``"12,5,0"`` as 1250 or dropping a UTC offset.
        expect_rejects: Rejects the fixture must produce, each a mapping of some of
            ``file`` (a file name), ``table``, ``line``, ``column``, ``value`` and ``reason``.
        **options: Options for the source, e.g. ``path="tests/fixtures/orders.csv"``.

    Returns:
        The loaded store, for further checks.

    Raises:
        AssertionError: A rule is broken; the message says which and how to fix it.
    """
    label = source.__name__
    name = getattr(source, "name", None)
    expect(
        isinstance(name, str) and bool(name),
        f"{label} needs a `name` class attribute (a non-empty str): it is the name users load it by",
    )
    try:
        source(__not_an_option__=1, **options)
    except DataSourceError:
        pass
    else:
        raise AssertionError(
            f"{label} accepted an unknown option: subclass DataSourceOptions (extra='forbid') "
            "for its Options, and let DataSource.__init__ validate them"
        )
    store = source(**options).load()
    expect(isinstance(store, EcomStore), f"{label}.load() must return an EcomStore")
    _check_tables(label, store)
    _check_timestamps(label, store)
    _check_report(label, store)
    _check_rejects(label, store)
    paths = _path_options(options)
    if paths:
        expect(
            len(store.load_report) > 0,
            f"{label} read {sorted(paths.values())} but its load report is empty: return "
            "EcomStore(..., load_report=LoadReport.of([FileLoadReport(file=..., table=..., "
            "rows_read=..., rows_loaded=..., rows_rejected=...)])) with one entry per file read",
        )
        _check_missing_paths(source, paths, options)
    if expect_tables:
        _check_expected_tables(label, store, expect_tables)
    if expect_rejects:
        _check_expected_rejects(label, store, expect_rejects)
    _check_registered(source, store, options)
    return store


# ----------------------------------------------------------------------------- the store
def _check_tables(label: str, store: EcomStore) -> None:
    for table in TABLES:
        frame = getattr(store, table)
        for column, spec in SCHEMA[table].columns.items():
            expect(column in frame.columns, f"{label}: {table} lacks canonical column {column!r}")
            expect(
                frame.schema[column] == spec.dtype,
                f"{label}: {table}.{column} is {frame.schema[column]}, not {spec.dtype}",
            )


def _check_timestamps(label: str, store: EcomStore) -> None:
    for table, frame in store.tables.items():
        for column, dtype in frame.schema.items():
            if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
                raise AssertionError(
                    f"{label}: {table}.{column} holds naive timestamps ({dtype}): canonical "
                    "timestamps are timezone-aware UTC (see ecomlm_sdk.data.schema). Parse the "
                    "offset the file gives and convert, e.g. .dt.convert_time_zone('UTC'), or "
                    ".dt.replace_time_zone(<the shop's zone>) when the file has none"
                )


def _check_report(label: str, store: EcomStore) -> None:
    seen: set[str] = set()
    for entry in store.load_report:
        expect(entry.table in TABLES, f"{label}: load report names unknown table {entry.table!r}")
        expect(
            min(entry.rows_read, entry.rows_loaded, entry.rows_rejected) >= 0,
            f"{label}: {entry.file}: negative row counts in the load report",
        )
        expect(
            entry.rows_read == entry.rows_loaded + entry.rows_rejected,
            f"{label}: {entry.file}: rows read ({entry.rows_read}) != loaded "
            f"({entry.rows_loaded}) + rejected ({entry.rows_rejected}); count every data row "
            "once, as loaded or as rejected",
        )
        key = f"{entry.file}\0{entry.table}"
        expect(key not in seen, f"{label}: {entry.file} appears twice in the load report")
        seen.add(key)


def _check_rejects(label: str, store: EcomStore) -> None:
    rejects = store.rejects
    for column, dtype in REJECTS_SCHEMA.items():
        expect(
            column in rejects.columns and rejects.schema[column] == dtype,
            f"{label}: store.rejects must have column {column!r} of type {dtype} (schema "
            f"ecomlm_sdk.data.report.REJECTS_SCHEMA); it has {dict(rejects.schema)}. Build it "
            "with pl.DataFrame(rows, schema=REJECTS_SCHEMA)",
        )
    if rejects.is_empty():
        return
    for column in ("file", "table", "line", "reason"):
        expect(
            rejects.get_column(column).null_count() == 0,
            f"{label}: store.rejects has rows without a {column!r}: every reject names its file, "
            "table, 1-based line and reason",
        )
    unknown = set(rejects.get_column("table")) - set(TABLES)
    expect(not unknown, f"{label}: store.rejects names unknown tables {sorted(unknown)}")
    expect(
        rejects.filter(pl.col("line") < 1).is_empty(),
        f"{label}: store.rejects has a line below 1: lines are 1-based file lines",
    )
    for (file,), rows in rejects.group_by("file", maintain_order=True):
        lines = rows.get_column("line").to_list()
        if lines != sorted(lines):
            first = next(i for i in range(1, len(lines)) if lines[i] < lines[i - 1])
            raise AssertionError(
                f"{label}: rejects of {file} are not in line order (line {lines[first]} comes "
                f"after line {lines[first - 1]}): sort them, e.g. "
                "rejects.sort('file', 'line', maintain_order=True), so users read them top down"
            )
    counted = {(e.file, e.table): e.rows_rejected for e in store.load_report}
    if not counted:
        raise AssertionError(
            f"{label}: store.rejects has {rejects.height} rows but the load report is empty: "
            "report every file read, with its rejected rows counted"
        )
    per_file = rejects.group_by("file", "table").agg(pl.col("line").n_unique().alias("n"))
    for file, table, n in per_file.iter_rows():
        expect(
            (file, table) in counted,
            f"{label}: store.rejects names {file} ({table}) but the load report does not",
        )
        expect(
            counted[(file, table)] == n,
            f"{label}: {file}: the load report counts {counted[(file, table)]} rejected rows but "
            f"store.rejects holds {n} rejected lines; record each rejected row in both",
        )
    for (file, table), n in counted.items():
        if n and (file, table) not in set(zip(per_file["file"], per_file["table"], strict=True)):
            raise AssertionError(
                f"{label}: {file}: the load report counts {n} rejected rows but store.rejects "
                "holds none of them: add one row per rejected line (file, table, line, column, "
                "value, reason)"
            )


# ----------------------------------------------------------------------------- paths
def _path_options(options: Mapping[str, Any]) -> dict[str, Path]:
    found = {}
    for key, value in options.items():
        if isinstance(value, str | os.PathLike) and str(value) and Path(value).exists():
            found[key] = Path(value)
    return found


def _check_missing_paths(
    source: type[DataSource], paths: Mapping[str, Path], options: Mapping[str, Any]
) -> None:
    label = source.__name__
    for key, path in paths.items():
        missing = path.parent / f"missing-{path.name}"
        expect(not missing.exists(), f"cannot test a missing path: {missing} exists")
        try:
            store = source(**{**options, key: str(missing)}).load()
        except DataSourceError as exc:
            expect(
                missing.name in str(exc),
                f"{label}: the DataSourceError for a missing {key}={str(missing)!r} does not "
                f"name the path: {exc}. Say which file or folder was not found",
            )
            continue
        raise AssertionError(
            f"{label} loaded {key}={str(missing)!r}, which does not exist, without an error "
            f"({store.summary()}): raise DataSourceError naming the path, so a typo is not "
            "mistaken for an empty shop"
        )


# ----------------------------------------------------------------------------- known values
def _describe(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return repr(value)


def _hint(loaded: Any, wanted: Any) -> str:
    if isinstance(loaded, dt.datetime) and isinstance(wanted, dt.datetime):
        hours = (loaded - wanted).total_seconds() / 3600
        if hours and float(hours).is_integer():
            return (
                f" (off by exactly {hours:+g} h: the source probably parsed a timestamp as "
                "naive, dropping its UTC offset; parse the offset and convert to UTC)"
            )
    if isinstance(loaded, int | float) and isinstance(wanted, int | float) and wanted:
        ratio = loaded / wanted
        if ratio in (10.0, 100.0, 1000.0, 0.1, 0.01, 0.001):
            return (
                f" ({ratio:g} times the value: check how the source reads decimal and "
                "thousands separators, and reject amounts it cannot read unambiguously)"
            )
    return ""


def _check_expected_tables(
    label: str, store: EcomStore, tables: Mapping[str, pl.DataFrame]
) -> None:
    for table, wanted in tables.items():
        expect(table in TABLES, f"expect_tables names unknown table {table!r}; use one of {TABLES}")
        spec = SCHEMA[table]
        loaded = getattr(store, table)
        key = list(spec.key)
        expect(
            all(k in wanted.columns for k in key),
            f"expect_tables[{table!r}] needs the key column(s) {key} to match rows",
        )
        extra = [c for c in wanted.columns if c not in loaded.columns]
        expect(not extra, f"{label}: {table} has no column(s) {extra} that expect_tables lists")
        for column, dtype in wanted.schema.items():
            expect(
                not (isinstance(dtype, pl.Datetime) and dtype.time_zone is None),
                f"expect_tables[{table!r}].{column} is naive: write the expected timestamps "
                "timezone-aware (tzinfo=datetime.UTC), as the canonical schema is",
            )
        wanted = wanted.cast({c: loaded.schema[c] for c in wanted.columns})
        got_keys = set(loaded.select(key).iter_rows())
        want_keys = set(wanted.select(key).iter_rows())
        missing = sorted(want_keys - got_keys, key=str)
        unexpected = sorted(got_keys - want_keys, key=str)
        expect(
            not missing,
            f"{label}: {table} lacks row(s) {_keys(key, missing)} that the fixture holds: were "
            "they rejected or dropped? see store.rejects",
        )
        if unexpected:
            keys = pl.DataFrame(unexpected, schema={k: loaded.schema[k] for k in key}, orient="row")
            example = loaded.join(keys, on=key, how="semi").select(wanted.columns)
            raise AssertionError(
                f"{label}: {table} loaded row(s) {_keys(key, unexpected)} that expect_tables "
                f"does not list (loaded as {example.head(_SHOWN).to_dicts()}): a row the "
                "fixture marks as bad was accepted. Reject it with a line in store.rejects "
                "instead of guessing a value"
            )
        joined = wanted.join(loaded.select(wanted.columns), on=key, how="left", suffix="__got")
        problems = []
        for column in (c for c in wanted.columns if c not in key):
            for row in joined.select([*key, column, f"{column}__got"]).iter_rows():
                *ids, want, got = row
                if _equal(got, want):
                    continue
                problems.append(
                    f"{table}.{column} for {dict(zip(key, ids, strict=True))} is "
                    f"{_describe(got)}, expected {_describe(want)}{_hint(got, want)}"
                )
        expect(
            not problems,
            f"{label} loaded wrong values ({len(problems)}): " + "; ".join(problems[:_SHOWN]),
        )


def _keys(key: list[str], rows: list[tuple[Any, ...]]) -> str:
    shown = [row[0] if len(key) == 1 else row for row in rows[:_SHOWN]]
    return f"{key[0] if len(key) == 1 else tuple(key)} {', '.join(map(repr, shown))}"


def _equal(got: Any, want: Any) -> bool:
    if isinstance(got, float) and isinstance(want, float):
        return abs(got - want) <= 1e-9 * max(1.0, abs(want))
    return bool(got == want)


def _check_expected_rejects(
    label: str, store: EcomStore, wanted: Sequence[Mapping[str, Any]]
) -> None:
    rows = store.rejects.to_dicts()
    for item in wanted:
        unknown = set(item) - set(REJECTS_SCHEMA)
        expect(not unknown, f"expect_rejects: unknown keys {sorted(unknown)}")

        def matches(row: dict[str, Any], item: Mapping[str, Any] = item) -> bool:
            for key, value in item.items():
                if key == "file":
                    if PurePath(str(row["file"])).name != PurePath(str(value)).name:
                        return False
                elif key == "reason":
                    if str(value).lower() not in str(row["reason"]).lower():
                        return False
                elif row[key] != value:
                    return False
            return True

        if not any(matches(row) for row in rows):
            shown = [{k: r[k] for k in ("file", "line", "column", "value")} for r in rows[:_SHOWN]]
            raise AssertionError(
                f"{label} did not reject {dict(item)}: store.rejects holds {shown or 'nothing'}. "
                "A value the source cannot read unambiguously must reject its row (with file, "
                "line, column, value and reason), not load a guess"
            )


# ----------------------------------------------------------------------------- registration
def _check_registered(
    source: type[DataSource], store: EcomStore, options: Mapping[str, Any]
) -> None:
    label = source.__name__
    registrations = [
        r for r in get_registry().registrations("data_source") if r.component is source
    ]
    expect(
        bool(registrations),
        f"{label} is not registered: return it from your plugin's register_data_sources hook "
        "(register(MySource)) and run the check with the plugin installed or inside "
        "testing.registered_plugin(your_plugin_module)",
    )
    registration = registrations[0]
    # what ecomlm_sdk.load_store(name) does: resolve the name, then load
    resolved = get_registry().get("data_source", registration.name).component
    expect(
        resolved is source,
        f"the name {registration.name!r} resolves to {resolved.__name__}, not {label}: "
        "another plugin registers the same name; rename yours",
    )
    again = resolved(**options).load()
    expect(
        again.equals(store),
        f"load_store({registration.name!r}) gave another store than {label}(...).load(): "
        f"{again.summary()} vs {store.summary()}",
    )
