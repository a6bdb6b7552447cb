"""Turning user input (polars, pandas, a CSV path) into checked polars columns for ROI code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from ecomlm_sdk.errors import RoiError

__all__ = ["FrameLike", "numeric_column", "require_columns", "to_polars"]

#: What the ROI functions accept as a table.
FrameLike = Any


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
    """``frame[name]`` as Float64, NaN turned into null; raise on values that are not numbers.

    Raises:
        RoiError: A value cannot be read as a number; the message names the column, the row
            (1-based, as in a spreadsheet without its header; a CSV file line is one more) and
            the value.
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
    return series.fill_nan(None)
