"""Turning user input (polars, pandas, a CSV path) into checked polars columns for ROI code."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal

import polars as pl

from ecomlm_sdk.errors import RoiError

__all__ = [
    "DuplicateUnitWarning",
    "FrameLike",
    "OnDuplicate",
    "check_unique_units",
    "numeric_column",
    "require_columns",
    "to_polars",
]

#: What the ROI functions accept as a table.
FrameLike = Any

#: What to do when a unit (customer) id appears on more than one row.
OnDuplicate = Literal["warn", "error"]


class DuplicateUnitWarning(UserWarning):
    """A customer (unit) id appears on several rows, so that customer counts more than once."""


def to_polars(frame: FrameLike, what: str = "frame") -> pl.DataFrame:
    """Return ``frame`` as a polars DataFrame.

    Args:
        frame: A polars DataFrame or LazyFrame, a pandas DataFrame, or a path to a CSV file.
        what: Name of the argument, used in error messages.

    Raises:
        RoiError: The input is none of the above, or the CSV cannot be read.
    """
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if isinstance(frame, str | Path):
        path = Path(frame)
        if not path.is_file():
            raise RoiError(f"{what}: no such file {str(path)!r}; check the path")
        try:
            return pl.read_csv(path, infer_schema_length=10_000)
        except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
            raise RoiError(f"{what}: cannot read CSV {str(path)!r}: {exc}") from exc
    if type(frame).__module__.startswith("pandas"):
        try:
            return pl.from_pandas(frame)
        except (ImportError, pl.exceptions.PolarsError, ValueError, TypeError) as exc:
            raise RoiError(
                f"{what}: cannot convert the pandas DataFrame to polars ({exc}); "
                "install pyarrow or pass a polars DataFrame"
            ) from exc
    raise RoiError(
        f"{what}: expected a polars or pandas DataFrame or a CSV path, got {type(frame).__name__}"
    )


def require_columns(frame: pl.DataFrame, columns: dict[str, str | None]) -> None:
    """Raise :class:`RoiError` when a named column is absent.

    Args:
        frame: The table.
        columns: Role (``"outcome"``) -> column name (``None`` for roles not used).
    """
    for role, name in columns.items():
        if name is not None and name not in frame.columns:
            raise RoiError(
                f"{role} column {name!r} not found; the columns are {frame.columns}. "
                f"Pass the right name as {role}=..."
            )


def numeric_column(frame: pl.DataFrame, name: str, role: str) -> pl.Series:
    """``frame[name]`` as Float64 (nulls stay null); raise on values that are not finite numbers.

    Raises:
        RoiError: A value cannot be read as a number, or is NaN or infinite (an ``inf`` would
            turn every estimate into ``-inf [nan, nan]``); the message names the column, the
            count, the first row (1-based, as in a spreadsheet without its header; a CSV file
            line is one more) and the value.
    """
    series = frame.get_column(name)
    if series.dtype == pl.Boolean():
        return series.cast(pl.Float64())
    if not series.dtype.is_numeric():
        text = series.cast(pl.String(), strict=False)
        cast = text.str.strip_chars().cast(pl.Float64(), strict=False)
        bad = (cast.is_null() & text.is_not_null() & (text.str.strip_chars() != "")).arg_true()
        if len(bad):
            row = int(bad[0])
            raise RoiError(
                f"{role} column {name!r} holds a non-numeric value {text[row]!r} at row "
                f"{row + 1} (CSV line {row + 2}) and {len(bad) - 1} more; clean the column or "
                "pick the right one"
            )
        series = cast
    series = series.cast(pl.Float64())
    bad = (~series.is_finite() & series.is_not_null()).arg_true()
    if len(bad):
        row = int(bad[0])
        raise RoiError(
            f"{role} column {name!r} holds {len(bad)} non-finite value(s) (NaN or infinity); "
            f"the first is {series[row]!r} at row {row + 1} (CSV line {row + 2}). ROI needs "
            "finite numbers: fix or drop those rows (leave a cell empty for a missing value)"
        )
    return series


def check_unique_units(
    frame: pl.DataFrame, column: str, on_duplicate: OnDuplicate, what: str = "frame"
) -> int:
    """Warn about (or reject) unit ids that appear on more than one row.

    A duplicated customer row counts that customer twice: it inflates the arm and narrows
    every interval. Null ids are not compared.

    Args:
        frame: The table, one row per unit expected.
        column: The unit (customer) id column.
        on_duplicate: ``"warn"`` issues :class:`DuplicateUnitWarning`; ``"error"`` raises.
        what: Name of the argument, used in messages.

    Returns:
        The number of rows that repeat an id already seen.

    Raises:
        RoiError: ``on_duplicate="error"`` and an id repeats, or ``on_duplicate`` is unknown.
    """
    if on_duplicate not in ("warn", "error"):
        raise RoiError(f"on_duplicate={on_duplicate!r}; use 'warn' or 'error'")
    ids = frame.get_column(column)
    repeated = (ids.is_duplicated() & ~ids.is_first_distinct() & ids.is_not_null()).arg_true()
    if not len(repeated):
        return 0
    row = int(repeated[0])
    message = (
        f"{what}: {len(repeated)} row(s) repeat a {column!r} already seen (first: {ids[row]!r} "
        f"at row {row + 1}, CSV line {row + 2}), so those customers count more than once; "
        "keep one row per customer"
    )
    if on_duplicate == "error":
        raise RoiError(message)
    warnings.warn(
        message + " (on_duplicate='error' rejects this)", DuplicateUnitWarning, stacklevel=3
    )
    return len(repeated)
