"""What the three loaders share: column checks, reject bookkeeping and the per-file result."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import polars as pl

from ecomlm_sdk.data.report import REJECTS_SCHEMA, FileLoadReport, empty_rejects
from ecomlm_sdk.errors import DataSourceError
from ecomlm_shopify.reading import ROW, RawFile
from ecomlm_shopify.safety import shown_value, shown_values
from ecomlm_shopify.values import Check, clean, parse_timestamp, raw

__all__ = [
    "BAD_COLUMN",
    "BAD_REASON",
    "BAD_VALUE",
    "FileResult",
    "MissingColumnsError",
    "email_id",
    "ensure_columns",
    "first_failure",
    "not_blank",
    "read_cells",
    "rejects_of",
    "updated_at",
]

BAD_COLUMN, BAD_VALUE, BAD_REASON = "_bad_column", "_bad_value", "_bad_reason"


class MissingColumnsError(DataSourceError):
    """An export lacks a column its table requires: the whole file cannot load.

    Lenient loads skip such a file with this reason in its load-report line (the folder's
    other files still load); strict loads raise it.
    """


@dataclass
class FileResult:
    """What one file contributed: canonical frames, rejected rows and its report line."""

    tables: dict[str, pl.DataFrame]
    rejects: pl.DataFrame
    report: FileLoadReport
    extras: list[str] = field(default_factory=list)


def ensure_columns(
    file: RawFile, frame: pl.LazyFrame, wanted: Sequence[str], required: Sequence[str]
) -> pl.LazyFrame:
    """Add absent optional columns as nulls; raise naming the absent required ones.

    Raises:
        DataSourceError: A required column is missing (names file, column and what is there).
    """
    missing = [c for c in required if c not in file.header]
    if missing:
        raise MissingColumnsError(
            f"{file.path}: the {file.kind} export lacks required column(s) {missing}; its "
            f"columns are {file.header}. Re-export the file from Shopify admin or add the "
            "column(s) to the header (columns are matched by name, in any order)."
        )
    absent = [c for c in wanted if c not in file.header]
    return frame.with_columns(pl.lit(None, dtype=pl.String()).alias(c) for c in absent)


def updated_at(header: Sequence[str]) -> pl.Expr:
    """The row's ``Updated At`` (any case) as a UTC timestamp, null when the export has no
    such column or the cell cannot be read; used only to pick the latest of two exports."""
    column = next((c for c in header if c.strip().lower() == "updated at"), None)
    if column is None:
        return pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    return parse_timestamp(clean(pl.col(column)))


def _email_id(email: str) -> str:
    return "email-" + hashlib.sha256(email.encode("utf-8")).hexdigest()[:16]


def email_id(column: str) -> pl.Expr:
    """A stable customer id from a (normalized) email: ``email-`` + 16 hex of its SHA-256.

    Used when an export has no ``Customer ID``; it links orders to customers without putting
    the address itself (PII) into identifiers that end up in logs and warnings.
    """
    return pl.col(column).map_elements(_email_id, return_dtype=pl.String(), skip_nulls=True)


def not_blank(columns: Sequence[str]) -> pl.Expr:
    """True for rows with at least one filled cell (blank lines are not rows).

    Only nulls count as empty here (whitespace-only cells make a row count), which keeps the
    test cheap enough to run over every column of wide files.
    """
    return pl.any_horizontal(pl.col(c).is_not_null() for c in columns)


def read_cells(
    file: RawFile,
    columns: Sequence[str],
    derived: Sequence[pl.Expr] = (),
    *,
    as_read: Collection[str] = (),
) -> pl.DataFrame:
    """Collect :data:`ROW`, ``columns`` (cleaned with :func:`raw`) and ``derived``, blank lines
    left out, in one streaming scan.

    Only ``columns`` are parsed from the file (the CSV scan skips the others), so a loader that
    needs 20 of 79 columns does not pay for 79, and the uncleaned cells are never all in
    memory at once. Absent columns come back as nulls. ``derived`` expressions (over the
    cleaned columns) run in the same scan: computing them on the collected frame instead
    would copy every column of it into one chunk.

    A line is blank when every cell of the *whole* header is empty: rows empty in
    ``columns`` are only candidates, confirmed (rarely, and only for them) by a second scan of
    every column. ``derived`` sees the blank lines too (they are all-null rows).

    Columns in ``as_read`` are not cleaned: for cells that :func:`ecomlm_shopify.fastparse.finish`
    cleans when (and only where) the fast parse could not read them.
    """
    wanted = list(dict.fromkeys(columns))
    present = [c for c in wanted if c in file.header]
    filled = "_filled"
    df = (
        file.frame.select(
            ROW,
            *(pl.col(c) if c in as_read else raw(c).alias(c) for c in present),
            *(pl.lit(None, dtype=pl.String()).alias(c) for c in wanted if c not in present),
            (not_blank(present) if present else pl.lit(False)).alias(filled),
        )
        .with_columns(*derived)
        .collect(engine="streaming")
    )
    maybe_blank = df.filter(~pl.col(filled)).get_column(ROW)
    if len(maybe_blank) == 0:
        return df.drop(filled)
    if len(present) < len(file.header):
        confirmed = (
            file.frame.filter(pl.col(ROW).is_in(maybe_blank.implode()))
            .filter(~not_blank(file.header))
            .select(ROW)
            .collect()
            .get_column(ROW)
        )
        keep = ~pl.col(ROW).is_in(confirmed.implode())
    else:
        keep = pl.col(filled)
    return df.filter(keep).drop(filled)


def first_failure(checks: Sequence[Check]) -> list[pl.Expr]:
    """Columns naming the first failed check of each row: column, value and reason (else null)."""
    column = pl.lit(None, dtype=pl.String())
    value = pl.lit(None, dtype=pl.String())
    reason = pl.lit(None, dtype=pl.String())
    for check in reversed(checks):
        failed = check.failed()
        column = pl.when(failed).then(pl.lit(check.column)).otherwise(column)
        value = pl.when(failed).then(pl.col(check.column)).otherwise(value)
        why = pl.lit(check.reason) if isinstance(check.reason, str) else check.reason
        reason = pl.when(failed).then(why).otherwise(reason)
    return [column.alias(BAD_COLUMN), value.alias(BAD_VALUE), reason.alias(BAD_REASON)]


def rejects_of(file: RawFile, table: str, bad: pl.DataFrame, *, strict: bool) -> pl.DataFrame:
    """The rejects frame for rows of ``bad`` (columns :data:`ROW` and the ``_bad_*`` ones).

    In strict mode the first bad row raises instead. Values are shown only for the columns
    :data:`ecomlm_shopify.safety.SHOWN_COLUMNS` allows, cut to 40 characters.

    Raises:
        DataSourceError: ``strict`` and there is a bad row (names file, line, column, value, reason).
    """
    if bad.height == 0:
        return empty_rejects()
    bad = bad.sort(ROW)
    if strict:
        first = bad.row(0, named=True)
        line = file.line_numbers([first[ROW]])[first[ROW]]
        value = shown_value(first[BAD_COLUMN], first[BAD_VALUE])
        where = (
            f", column {first[BAD_COLUMN]!r}: value {value!r}"
            if first[BAD_COLUMN] is not None
            else ""
        )
        raise DataSourceError(
            f"{file.path}, line {line}{where}: {first[BAD_REASON]}. Fix the row, or load "
            "without strict=True to move bad rows to store.rejects."
        )
    lines = file.line_numbers(bad.get_column(ROW).to_list())
    return pl.DataFrame(
        {
            "file": [str(file.path)] * bad.height,
            "table": [table] * bad.height,
            "line": [lines.get(r) for r in bad.get_column(ROW).to_list()],
            "column": bad.get_column(BAD_COLUMN),
            "value": bad.select(shown_values(pl.col(BAD_COLUMN), pl.col(BAD_VALUE))).to_series(),
            "reason": bad.get_column(BAD_REASON),
        },
        schema=REJECTS_SCHEMA,
    )
