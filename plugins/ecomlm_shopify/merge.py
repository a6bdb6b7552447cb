"""Several exports of one table in a folder: merged, every decision counted (issue 11, item 3).

A shop exported twice, or a large export in parts, puts one customer, product or order in two
files. Per key (customer id, variant id, order Name with its lines) across files:

- every version identical: kept once (from the first file); each later copy's rows are
  rejected as ``identical ... kept once``;
- versions differ: the one with the latest ``Updated At`` wins (when the export has that
  column), then the later file in name order (a later export holds the newer state); the
  other versions' rows are rejected as ``superseded by ...``. ``strict=True`` stops instead,
  naming both files and lines.

Each file's load-report line counts its merged rows (as rejected) and says why in a warning,
so ``rows_read == rows_loaded + rows_rejected`` still holds for every file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from ecomlm_sdk.data.report import REJECTS_SCHEMA
from ecomlm_sdk.errors import DataSourceError
from ecomlm_shopify.common import FileResult
from ecomlm_shopify.reading import ROW, RawFile

__all__ = ["HIDDEN", "UPDATED", "MergeSpec", "merge_files"]

#: Hidden column of the loaders' tables: when the row was last updated (``Updated At``).
UPDATED: Final = "_updated_at"
#: Hidden columns the loaders' tables carry (for merging; products: the variant's name as order
#: lines write it); dropped before the store is built.
HIDDEN: Final = (ROW, UPDATED, "_line_title")
_FILE: Final = "_file"
_SIG: Final = "_sig"


@dataclass(frozen=True)
class MergeSpec:
    """How one table is merged.

    Attributes:
        table: The table name in :attr:`FileResult.tables`.
        key: Its key column.
        label: The export column the key comes from (for rejects and messages).
        child: A table whose rows belong to the key (``order_lines`` of an order).
    """

    table: str
    key: str
    label: str
    child: str | None = None


def _content(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in HIDDEN]


def _versions(result: FileResult, spec: MergeSpec, shared: pl.Series, index: int) -> pl.DataFrame:
    """One row per shared key of this file: signature, update time, first row, all rows."""
    main = result.tables[spec.table].filter(pl.col(spec.key).is_in(shared.implode()))
    versions = main.select(
        spec.key,
        pl.struct(_content(main)).hash().alias(_SIG),
        pl.col(UPDATED) if UPDATED in main.columns else pl.lit(None).alias(UPDATED),
        pl.col(ROW).alias("_first_row"),
        pl.concat_list(pl.col(ROW).cast(pl.Int64)).alias("_rows"),
    ).unique(spec.key, keep="first", maintain_order=True)
    if spec.child is not None:
        child = result.tables[spec.child].filter(pl.col(spec.key).is_in(shared.implode()))
        lines = child.group_by(spec.key, maintain_order=True).agg(
            pl.struct(_content(child)).hash().alias("_line_sigs"),
            pl.col(ROW).cast(pl.Int64).alias("_line_rows"),
        )
        versions = (
            versions.join(lines, on=spec.key, how="left", maintain_order="left")
            .with_columns(
                pl.struct(_SIG, pl.col("_line_sigs").fill_null([])).hash().alias(_SIG),
                pl.concat_list("_rows", pl.col("_line_rows").fill_null([]))
                .list.unique(maintain_order=True)
                .alias("_rows"),
            )
            .drop("_line_sigs", "_line_rows")
        )
    return versions.with_columns(pl.lit(index).alias(_FILE))


def _decide(versions: pl.DataFrame, key: str) -> pl.DataFrame:
    """Each version with its winner: ``_win_file``, ``_win_row`` and whether it is identical."""
    ranked = versions.sort([key, UPDATED, _FILE], nulls_last=False)
    all_same = pl.col(_SIG).n_unique().over(key) == 1
    winner_file = pl.when(all_same).then(pl.col(_FILE).min()).otherwise(pl.col(_FILE).last())
    return (
        ranked.with_columns(
            all_same.alias("_all_same"),
            winner_file.over(key).alias("_win_file"),
            (pl.col(UPDATED).n_unique().over(key) > 1).alias("_by_time"),
        )
        .with_columns(
            pl.col("_first_row")
            .filter(pl.col(_FILE) == pl.col("_win_file"))
            .first()
            .over(key)
            .alias("_win_row"),
            pl.col(_SIG)
            .filter(pl.col(_FILE) == pl.col("_win_file"))
            .first()
            .over(key)
            .alias("_win_sig"),
        )
        .with_columns((pl.col(_SIG) == pl.col("_win_sig")).alias("_identical"))
    )


def merge_files(
    results: Sequence[FileResult], files: Sequence[RawFile], spec: MergeSpec, *, strict: bool
) -> list[FileResult]:
    """Merge the per-file results of one table (see the module docstring).

    Raises:
        DataSourceError: ``strict`` and two files hold different versions of one key (names
            both files and lines).
    """
    out = list(results)
    if len(out) < 2:
        return out
    keys = pl.concat(
        [
            r.tables[spec.table].select(spec.key).unique().with_columns(pl.lit(i).alias(_FILE))
            for i, r in enumerate(out)
        ]
    )
    shared = keys.filter(pl.col(spec.key).is_duplicated()).get_column(spec.key).unique()
    if shared.len() == 0:
        return out
    versions = pl.concat(
        [_versions(r, spec, shared, i) for i, r in enumerate(out)], how="diagonal_relaxed"
    )
    decided = _decide(versions, spec.key)
    losers = decided.filter(pl.col(_FILE) != pl.col("_win_file"))
    wanted: dict[int, set[int]] = {}
    for row in losers.select(_FILE, "_first_row", "_win_file", "_win_row").iter_rows():
        wanted.setdefault(row[0], set()).add(row[1])
        wanted.setdefault(row[2], set()).add(row[3])
    lines = {i: files[i].line_numbers(rows) for i, rows in wanted.items()}
    if strict:
        different = losers.filter(~pl.col("_identical"))
        if different.height:
            first = different.row(0, named=True)
            a, b = first["_win_file"], first[_FILE]
            raise DataSourceError(
                f"{files[a].path}, line {lines[a][first['_win_row']]} and {files[b].path}, line "
                f"{lines[b][first['_first_row']]}: the same {spec.label} "
                f"{first[spec.key]!r} holds different values in both exports. Keep one export "
                "of each table in the folder, or load without strict=True to keep the latest "
                "(by Updated At, then the later file) and count the others in the load report."
            )
    for index in range(len(out)):
        mine = losers.filter(pl.col(_FILE) == index)
        if mine.height:
            out[index] = _drop(out[index], files, mine, spec, lines)
    return out


def _drop(
    result: FileResult,
    files: Sequence[RawFile],
    losers: pl.DataFrame,
    spec: MergeSpec,
    lines: dict[int, dict[int, int]],
) -> FileResult:
    """``result`` without the losing versions, their rows rejected with the decision."""
    index = losers.get_column(_FILE)[0]
    file = files[index]
    rows: list[int] = []
    reasons: list[str] = []
    values: list[str] = []
    identical = superseded = 0
    for version in losers.iter_rows(named=True):
        where = f"{Path(files[version['_win_file']].path).name}, line "
        where += str(lines[version["_win_file"]][version["_win_row"]])
        if version["_identical"]:
            reason = f"identical to {where} (exported twice): kept once"
        else:
            why = "a later Updated At" if version["_by_time"] else "the later file"
            reason = f"superseded by {where}, which has {why}; this version is not loaded"
        count = len(version["_rows"])
        identical += count if version["_identical"] else 0
        superseded += 0 if version["_identical"] else count
        rows.extend(version["_rows"])
        reasons.extend([reason] * count)
        values.extend([str(version[spec.key])] * count)
    gone = losers.get_column(spec.key).implode()
    tables = {name: frame for name, frame in result.tables.items()}
    for name in (spec.table, spec.child):
        if name is not None:
            tables[name] = tables[name].filter(~pl.col(spec.key).is_in(gone))
    line_of = file.line_numbers(rows)
    label = spec.label if spec.label in _SHOWN else None
    rejects = pl.DataFrame(
        {
            "file": [str(file.path)] * len(rows),
            "table": [spec.table] * len(rows),
            "line": [line_of.get(r) for r in rows],
            "column": [spec.label] * len(rows),
            "value": values if label else [None] * len(rows),
            "reason": reasons,
        },
        schema=REJECTS_SCHEMA,
    ).sort("line")
    notes = []
    if identical:
        notes.append(f"{identical:,} row(s) identical to rows of another export: kept once")
    if superseded:
        notes.append(
            f"{superseded:,} row(s) superseded by another export's version (latest Updated "
            "At, then the later file)"
        )
    report = result.report.model_copy(
        update={
            "rows_loaded": result.report.rows_loaded - len(rows),
            "rows_rejected": result.report.rows_rejected + len(rows),
            "warnings": (*result.report.warnings, *notes),
        }
    )
    return FileResult(tables, pl.concat([result.rejects, rejects]), report, result.extras)


_SHOWN: Final = frozenset({"Name", "Customer ID", "Variant SKU", "Handle"})
