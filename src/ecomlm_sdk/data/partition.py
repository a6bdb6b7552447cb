"""A store cut by customer: in-memory parts and a partitioned Parquet dataset on disk.

Every row that belongs to a customer (``customers``, ``orders``, ``tickets``,
``campaign_exposures``) goes to the customer's *bucket*, :func:`customer_bucket`; an order line
goes to its order's bucket. ``products`` and ``campaigns`` are small catalogue tables that every
part needs whole, so they are shared, never cut. A job that works per customer (features,
recommendations, scores) can therefore run on each part alone and concatenate the results.

On disk (:func:`write_parquet_dataset`)::

    folder/
      _ecomlm_dataset.json              version, partitions, tables (rows, columns, files), ...
      customers/part=0/00000000.parquet one folder per bucket, every bucket present
      ...
      order_lines/part=15/...
      products/data.parquet             shared tables: one file, read by every partition
      campaigns/data.parquet

**Stability of the bucket rule.** A bucket is ``hash(customer_id as text, seed=0) % partitions``
with polars' :meth:`polars.Expr.hash`; guest rows (null ``customer_id``) and order lines of an
unknown order are in bucket 0. polars guarantees that hash only *within one polars version*:
the same version gives the same buckets in every process and on every machine, another version
may not. A written dataset does not depend on it (each row sits in its bucket's folder, read
back as is), but code that recomputes buckets to match a dataset must run the polars version
the dataset's metadata records (``bucket_rule.polars_version``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import polars as pl
from polars.io.partition import FileProviderArgs

from ecomlm_sdk._persist import atomic_folder, check_version, read_json, write_json
from ecomlm_sdk._version import __version__
from ecomlm_sdk.data.schema import SCHEMA, TABLES
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import DataSourceError, InvalidValueError, SchemaError
from ecomlm_sdk.progress import progress

__all__ = [
    "CUSTOMER_TABLES",
    "METADATA_FILE",
    "SHARED_TABLES",
    "customer_bucket",
    "dataset_partitions",
    "partition_files",
    "read_parquet_dataset",
    "scan_dataset_table",
    "split_by_customer",
    "write_parquet_dataset",
]

#: The metadata file at the top of a dataset folder (also its marker: see :func:`atomic_folder`).
METADATA_FILE: Final = "_ecomlm_dataset.json"
#: Tables cut by the bucket of their ``customer_id``.
CUSTOMER_TABLES: Final = tuple(name for name in TABLES if "customer_id" in SCHEMA[name].columns)
#: Tables every part holds whole.
SHARED_TABLES: Final = ("products", "campaigns")
#: ``order_lines`` follow their order's bucket (they have no ``customer_id``).
_BY_ORDER: Final = "order_lines"
_FORMAT: Final = "ecomlm-parquet-dataset"
_FORMAT_VERSION: Final = 1
#: Seed of :meth:`polars.Expr.hash`; part of the bucket rule, never change it.
_SEED: Final = 0
#: Bucket of guest rows (null customer id) and of order lines whose order is unknown.
NULL_BUCKET: Final = 0
_PART: Final = "__ecomlm_part"
_SHARED_FILE: Final = "data.parquet"
_BUCKET_RULE: Final = (
    "polars Expr.hash(seed=0) of customer_id cast to text, modulo partitions; null customer_id "
    "and order lines of unknown orders in bucket 0; order lines in their order's bucket"
)
assert set(CUSTOMER_TABLES) | set(SHARED_TABLES) | {_BY_ORDER} == set(TABLES)


def customer_bucket(expr: pl.Expr, partitions: int) -> pl.Expr:
    """The bucket (``0 .. partitions - 1``, ``UInt32``) of each customer id in ``expr``.

    ``hash(id as text, seed=0) % partitions``: stable across processes and machines for one
    polars version (see the module docstring); a null id (a guest order) is in bucket 0.

    Example:
        ```python
        import polars as pl
        from ecomlm_sdk.data.partition import customer_bucket

        ids = pl.DataFrame({"customer_id": ["17850", "13047", None]})
        buckets = ids.select(customer_bucket(pl.col("customer_id"), 4)).to_series()
        assert buckets[2] == 0 and all(0 <= b < 4 for b in buckets)
        ```

    Raises:
        InvalidValueError: ``partitions`` is not a whole number of at least 1.
    """
    _check_partitions(partitions)
    text = expr.cast(pl.String())
    # polars hashes a null to a number too: send guests to their fixed bucket explicitly
    hashed = (text.hash(seed=_SEED) % partitions).cast(pl.UInt32())
    return pl.when(text.is_null()).then(pl.lit(NULL_BUCKET, pl.UInt32())).otherwise(hashed)


def _check_partitions(partitions: object) -> int:
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        raise InvalidValueError(
            f"partitions must be a whole number of at least 1, got {partitions!r}; e.g. 16"
        )
    return partitions


def _bucketed(store: EcomStore, partitions: int) -> dict[str, pl.LazyFrame]:
    """Every cut table, lazily, with its bucket in column ``__ecomlm_part``."""
    clash = [name for name in TABLES if _PART in getattr(store, name).columns]
    if clash:
        raise SchemaError(
            f"Table(s) {clash} have a column named {_PART!r}, which is reserved for the "
            "partition number; rename that column"
        )
    frames = {
        name: getattr(store, name)
        .lazy()
        .with_columns(customer_bucket(pl.col("customer_id"), partitions).alias(_PART))
        for name in CUSTOMER_TABLES
    }
    order_buckets = frames["orders"].select("order_id", _PART)
    frames[_BY_ORDER] = (
        store.order_lines.lazy()
        .join(order_buckets, on="order_id", how="left", maintain_order="left")
        .with_columns(pl.col(_PART).fill_null(NULL_BUCKET))
    )
    return frames


def split_by_customer(store: EcomStore, partitions: int) -> list[EcomStore]:
    """``store`` cut into ``partitions`` stores, each customer's rows all in one of them.

    Part ``k`` holds the rows of :data:`CUSTOMER_TABLES` in bucket ``k`` (see
    :func:`customer_bucket`), the order lines of its orders (order lines of an unknown order
    are in part 0), and the whole ``products`` and ``campaigns``. Every row of a cut table is
    in exactly one part. The parts keep the store's source, currency, fx_rates and timezone;
    they are built without integrity checks (a part's exposures may name campaigns it shares,
    but never customers of another part). Rejects and the load report stay with ``store``.

    Raises:
        InvalidValueError: ``partitions`` is not a whole number of at least 1.
    """
    _check_partitions(partitions)
    cut: dict[str, dict[int, pl.DataFrame]] = {}
    for name, frame in _bucketed(store, partitions).items():
        groups = frame.collect().partition_by(_PART, as_dict=True, include_key=False)
        cut[name] = {int(key[0]): part for key, part in groups.items()}
    parts = []
    for k in range(partitions):
        tables: dict[str, Any] = {
            name: cut[name].get(k, getattr(store, name).clear()) for name in cut
        }
        tables.update({name: getattr(store, name) for name in SHARED_TABLES})
        parts.append(
            EcomStore(
                **tables,
                source=store.source,
                check_integrity=False,
                currency=store.currency,
                fx_rates=store.fx_rates,
                timezone=store.timezone,
            )
        )
    return parts


# ------------------------------------------------------------------------------ writing
def write_parquet_dataset(
    store: EcomStore, folder: str | Path, partitions: int = 16, *, quiet: bool | None = None
) -> Path:
    """Write ``store`` as a Parquet dataset cut by customer into ``folder``.

    Cut tables go to ``folder/<table>/part=<k>/*.parquet`` with polars' streaming sink
    (``LazyFrame.sink_parquet`` with ``pl.PartitionBy``), in the buckets of
    :func:`split_by_customer`; every bucket gets at least one file (an empty one when it holds
    no rows), so each partition reads with its schema. Shared tables go to
    ``folder/<table>/data.parquet``. ``folder/_ecomlm_dataset.json`` records the SDK and polars
    versions, the partitions, every table's rows (in all and per partition), columns and files,
    the store's currency, fx_rates and timezone, and the bucket rule. The folder is written
    atomically: a failure leaves what was there before. Rejects and the load report are not
    written.

    Args:
        store: The store to write.
        folder: A new or empty folder, or an earlier dataset (replaced).
        partitions: Number of buckets (1 or more).
        quiet: No progress bar (by default one is drawn on a terminal only).

    Returns:
        The folder.

    Raises:
        InvalidValueError: ``partitions`` is not a whole number of at least 1.
        DataSourceError: ``folder`` is a file, or a non-empty folder that is not such a
            dataset (never overwritten), or the disk is full or unwritable.
    """
    _check_partitions(partitions)
    target = Path(folder)
    frames = _bucketed(store, partitions)
    tables: dict[str, Any] = {}
    with atomic_folder(target, marker=METADATA_FILE, error=DataSourceError) as temp:
        for name in progress(TABLES, desc="parquet", unit="table", quiet=quiet):
            if name in SHARED_TABLES:
                tables[name] = _write_shared(getattr(store, name), temp, name)
            else:
                tables[name] = _write_cut(frames[name], temp, name, partitions)
        write_json(temp / METADATA_FILE, _metadata(store, partitions, tables))
    return target


def _write_shared(frame: pl.DataFrame, temp: Path, name: str) -> dict[str, Any]:
    (temp / name).mkdir()
    frame.lazy().sink_parquet(temp / name / _SHARED_FILE)
    return {
        "partitioned": False,
        "rows": frame.height,
        "columns": frame.columns,
        "files": [f"{name}/{_SHARED_FILE}"],
    }


def _bucket_file(args: FileProviderArgs) -> str:
    """``part=<k>/<n>.parquet``: the folder names the bucket, as Hive-style readers expect."""
    bucket = args.partition_keys.get_column(_PART).item()
    return f"part={bucket}/{args.index_in_partition:08d}.parquet"


def _write_cut(frame: pl.LazyFrame, temp: Path, name: str, partitions: int) -> dict[str, Any]:
    base = temp / name
    frame.sink_parquet(
        pl.PartitionBy(base, key=_PART, include_key=False, file_path_provider=_bucket_file),
        mkdir=True,
    )
    empty = frame.drop(_PART).clear().collect()
    files: dict[str, list[str]] = {}
    for k in range(partitions):
        bucket = base / f"part={k}"
        if not bucket.is_dir():
            bucket.mkdir(parents=True)
            empty.write_parquet(bucket / "00000000.parquet")
        files[str(k)] = sorted(p.relative_to(temp).as_posix() for p in bucket.glob("*.parquet"))
    counts = {
        str(k): pl.scan_parquet([temp / f for f in files[str(k)]]).select(pl.len()).collect().item()
        for k in range(partitions)
    }
    return {
        "partitioned": True,
        "rows": sum(counts.values()),
        "rows_per_partition": counts,
        "columns": empty.columns,
        "files": files,
    }


def _metadata(store: EcomStore, partitions: int, tables: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "ecomlm_sdk_version": __version__,
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "partitions": partitions,
        "bucket_rule": {
            "rule": _BUCKET_RULE,
            "hash": "polars.Expr.hash",
            "seed": _SEED,
            "null_bucket": NULL_BUCKET,
            "polars_version": pl.__version__,
        },
        "source": store.source,
        "currency": store.currency,
        "fx_rates": store.fx_rates,
        "timezone": store.timezone,
        "tables": tables,
    }


# ------------------------------------------------------------------------------ reading
def _read_metadata(folder: str | Path) -> tuple[Path, dict[str, Any]]:
    """The dataset folder and its checked metadata."""
    root = Path(folder)
    path = root / METADATA_FILE
    if not root.is_dir():
        raise DataSourceError(
            f"{root} is not a folder; pass the folder that write_parquet_dataset (or "
            "`ecomlm ingest EXPORTS --to parquet:DIR`) wrote"
        )
    if not path.is_file():
        raise DataSourceError(
            f"{root} is not an ecomlm Parquet dataset: it holds no {METADATA_FILE}. Write one "
            "with write_parquet_dataset(store, folder) or `ecomlm ingest EXPORTS --to "
            "parquet:DIR`"
        )
    meta = read_json(path, error=DataSourceError, what="Parquet dataset")
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise DataSourceError(
            f'{path} is not the metadata of an ecomlm Parquet dataset (no "format": '
            f"{_FORMAT!r}); write the dataset again with write_parquet_dataset"
        )
    check_version(meta.get("ecomlm_sdk_version"), metadata=path, error=DataSourceError)
    if meta.get("format_version") != _FORMAT_VERSION:
        raise DataSourceError(
            f"{path} has format_version {meta.get('format_version')!r}; this ecomlm-sdk reads "
            f"version {_FORMAT_VERSION}. Write the dataset again with this version"
        )
    partitions = meta.get("partitions")
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        raise DataSourceError(
            f"{path} key 'partitions' is {partitions!r}, not a whole number of at least 1; the "
            "file is damaged: write the dataset again"
        )
    tables = meta.get("tables")
    if not isinstance(tables, dict) or sorted(tables) != sorted(TABLES):
        found = sorted(tables) if isinstance(tables, dict) else tables
        raise DataSourceError(
            f"{path} key 'tables' must list the tables {list(TABLES)}, got {found!r}; the file "
            "is damaged: write the dataset again"
        )
    for name, entry in tables.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("columns"), list):
            raise DataSourceError(
                f"{path}: table {name!r} must be an object with its 'columns' and 'files'; the "
                "file is damaged: write the dataset again"
            )
    return root, meta


def dataset_partitions(folder: str | Path) -> int:
    """The number of partitions of the dataset in ``folder``.

    Raises:
        DataSourceError: ``folder`` is not a dataset, or its metadata is damaged or was
            written by another major version of ecomlm-sdk.
    """
    partitions: int = _read_metadata(folder)[1]["partitions"]
    return partitions


def _check_partition(partition: object, partitions: int, root: Path) -> int:
    if isinstance(partition, bool) or not isinstance(partition, int):
        raise InvalidValueError(f"partition must be a whole number, got {partition!r}")
    if not 0 <= partition < partitions:
        raise InvalidValueError(
            f"partition {partition} is out of range: the dataset {root} has {partitions} "
            f"partitions, numbered 0 .. {partitions - 1}"
        )
    return partition


def _table_files(root: Path, meta: dict[str, Any], table: str, partition: int | None) -> list[Path]:
    entry = meta["tables"][table]
    files = entry.get("files") if isinstance(entry, dict) else None
    path = root / METADATA_FILE
    if isinstance(files, list):
        names: Iterable[Any] = files
    elif isinstance(files, dict):
        keys = [str(k) for k in range(meta["partitions"])]
        if sorted(files) != sorted(keys):
            raise DataSourceError(
                f"{path}: table {table!r} lists files for partitions {sorted(files)}, not "
                f"0 .. {meta['partitions'] - 1}; the file is damaged: write the dataset again"
            )
        chosen = keys if partition is None else [str(partition)]
        names = [name for key in chosen for name in files[key]]
    else:
        raise DataSourceError(
            f"{path}: table {table!r} has no 'files' list; the file is damaged: write the "
            "dataset again"
        )
    paths = []
    for name in names:
        if not isinstance(name, str) or Path(name).is_absolute() or ".." in Path(name).parts:
            raise DataSourceError(
                f"{path}: table {table!r} lists {name!r}, not a path inside the dataset; the "
                "file is damaged: write the dataset again"
            )
        file = root / name
        if not file.is_file():
            raise DataSourceError(
                f"{file} is missing, but {path} lists it; the dataset is incomplete: copy it "
                "again or write it again"
            )
        paths.append(file)
    return paths


def partition_files(folder: str | Path, partition: int) -> dict[str, list[Path]]:
    """The Parquet files that make up ``partition``, by table.

    Cut tables list their bucket's files; shared tables (``products``, ``campaigns``) their
    whole file, the same for every partition. Another engine can read them itself, e.g.
    ``ray.data.read_parquet([str(p) for p in files["orders"]], columns=[...])``.

    Raises:
        DataSourceError: ``folder`` is not a dataset, or a listed file is missing.
        InvalidValueError: ``partition`` is not in ``0 .. partitions - 1``.
    """
    root, meta = _read_metadata(folder)
    _check_partition(partition, meta["partitions"], root)
    return {table: _table_files(root, meta, table, partition) for table in TABLES}


def _columns_for(
    table: str, wanted: Sequence[str], present: Sequence[str], path: Path
) -> list[str]:
    if isinstance(wanted, str):
        raise InvalidValueError(
            f"columns[{table!r}] must be a list of column names, got the string {wanted!r}; "
            f"write [{wanted!r}]"
        )
    unknown = [c for c in wanted if c not in present]
    if unknown:
        raise SchemaError(
            f"Table {table!r} of the dataset {path} has no column(s) {unknown}; its columns: "
            f"{list(present)}"
        )
    return list(wanted)


def scan_dataset_table(
    folder: str | Path,
    table: str,
    *,
    partition: int | None = None,
    columns: Sequence[str] | None = None,
) -> pl.LazyFrame:
    """One table of the dataset as a polars ``LazyFrame`` (nothing is read until collected).

    Only ``columns`` (all when ``None``) of the files of ``partition`` (every partition when
    ``None``; shared tables are whole in every partition) are read, exactly as written.

    Raises:
        DataSourceError: ``folder`` is not a dataset, or a listed file is missing.
        SchemaError: ``table`` is not a table, or a column is not in it.
        InvalidValueError: ``partition`` is out of range.
    """
    root, meta = _read_metadata(folder)
    if table not in TABLES:
        raise SchemaError(f"Unknown table {table!r}; tables are {list(TABLES)}")
    if partition is not None:
        _check_partition(partition, meta["partitions"], root)
    return _scan(root, meta, table, partition, columns)


def _scan(
    root: Path,
    meta: dict[str, Any],
    table: str,
    partition: int | None,
    columns: Sequence[str] | None,
) -> pl.LazyFrame:
    frame = pl.scan_parquet(_table_files(root, meta, table, partition))
    if columns is None:
        return frame
    present = frame.collect_schema().names()
    return frame.select(_columns_for(table, columns, present, root))


def read_parquet_dataset(
    folder: str | Path,
    *,
    partition: int | None = None,
    columns: Mapping[str, Sequence[str]] | None = None,
) -> EcomStore:
    """Read the dataset in ``folder`` (or one partition of it) back into an :class:`EcomStore`.

    Args:
        folder: A folder written by :func:`write_parquet_dataset`.
        partition: Read only this partition: its bucket's rows of the cut tables, and the whole
            shared tables. ``None``: everything.
        columns: Per table, the columns to read; the others are never read from disk (the
            store still has every canonical column: those not read are null). A table's
            required columns are always read, since a store needs them; a table given an
            empty list is not read at all (empty in the store). Tables not named are read
            whole.

    Returns:
        A store with the dataset's currency, fx_rates, timezone and source, built without
        integrity checks (a partition's order lines always find their orders, but exposures
        may point at customers only when the whole dataset is read).

    Raises:
        DataSourceError: ``folder`` is not a dataset, its metadata is damaged or from another
            major SDK version, or a listed file is missing.
        SchemaError: ``columns`` names an unknown table or column.
        InvalidValueError: ``partition`` is not in ``0 .. partitions - 1``.
    """
    root, meta = _read_metadata(folder)
    if partition is not None:
        _check_partition(partition, meta["partitions"], root)
    wanted = dict(columns or {})
    unknown = sorted(set(wanted) - set(TABLES))
    if unknown:
        raise SchemaError(f"columns names unknown table(s) {unknown}; tables are {list(TABLES)}")
    frames: dict[str, Any] = {}
    for table in TABLES:
        if table in wanted and len(wanted[table]) == 0:
            continue  # left out on purpose: an empty table
        chosen = wanted.get(table)
        if chosen is not None:
            _columns_for(table, chosen, meta["tables"][table]["columns"], root)
            chosen = list(dict.fromkeys([*SCHEMA[table].required, *chosen]))
        frames[table] = _scan(root, meta, table, partition, chosen).collect()
    fx_rates = meta.get("fx_rates")
    return EcomStore(
        **frames,
        source=meta.get("source"),
        check_integrity=False,
        currency=meta.get("currency"),
        fx_rates=fx_rates if isinstance(fx_rates, dict) else None,
        timezone=meta.get("timezone"),
    )
