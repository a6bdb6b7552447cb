"""Load reports and rejected rows: how every input row was accounted for."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import PurePath
from typing import Final

import polars as pl
from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["REJECTS_SCHEMA", "FileLoadReport", "LoadReport", "empty_rejects"]

#: Schema of ``EcomStore.rejects``: one row per rejected input row.
REJECTS_SCHEMA: Final = pl.Schema(
    {
        "file": pl.String(),
        "table": pl.String(),
        "line": pl.Int64(),
        "column": pl.String(),
        "value": pl.String(),
        "reason": pl.String(),
    }
)


def empty_rejects() -> pl.DataFrame:
    """An empty rejects frame with :data:`REJECTS_SCHEMA`."""
    return pl.DataFrame(schema=REJECTS_SCHEMA)


class FileLoadReport(BaseModel):
    """How the rows of one input file were accounted for.

    ``rows_read == rows_loaded + rows_rejected`` always holds; constructing a report that breaks
    it raises, so a loader cannot lose rows silently.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    table: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    warnings: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _accounts_for_every_row(self) -> FileLoadReport:
        if self.rows_read != self.rows_loaded + self.rows_rejected:
            raise ValueError(
                f"{self.file}: rows_read ({self.rows_read}) != rows_loaded ({self.rows_loaded}) "
                f"+ rows_rejected ({self.rows_rejected})"
            )
        return self


class LoadReport(BaseModel):
    """Per-file load accounting for a whole store."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    files: tuple[FileLoadReport, ...] = ()

    def __iter__(self) -> Iterator[FileLoadReport]:  # type: ignore[override]
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    @property
    def rows_read(self) -> int:
        """Rows read over all files."""
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        """Rows loaded over all files."""
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        """Rows rejected over all files."""
        return sum(f.rows_rejected for f in self.files)

    def to_frame(self) -> pl.DataFrame:
        """The report as a polars frame, one row per file."""
        return pl.DataFrame(
            [f.model_dump(exclude={"warnings"}) for f in self.files],
            schema={
                "file": pl.String(),
                "table": pl.String(),
                "rows_read": pl.Int64(),
                "rows_loaded": pl.Int64(),
                "rows_rejected": pl.Int64(),
            },
        )

    @classmethod
    def of(cls, files: Sequence[FileLoadReport]) -> LoadReport:
        """Build a report from per-file entries."""
        return cls(files=tuple(files))

    def __str__(self) -> str:
        header = f"{'file':<32} {'table':<12} {'read':>10} {'loaded':>10} {'rejected':>10}"
        lines = [header, "-" * len(header)]
        for f in self.files:
            name = PurePath(f.file).name
            name = name if len(name) <= 32 else "..." + name[-29:]
            lines.append(
                f"{name:<32} {f.table:<12} {f.rows_read:>10,} {f.rows_loaded:>10,} "
                f"{f.rows_rejected:>10,}"
            )
        lines.append(
            f"{'total':<32} {'':<12} {self.rows_read:>10,} {self.rows_loaded:>10,} "
            f"{self.rows_rejected:>10,}"
        )
        return "\n".join(lines)
