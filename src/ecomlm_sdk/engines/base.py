"""Execution engines: where the SDK's batch jobs run.

A batch job is a picklable :class:`PredictorSpec` (a class, importable by name, and the keyword
arguments that build it) applied to Arrow data. The predictor it builds loads what it needs from
a :class:`Snapshot` of a saved folder (safetensors and JSON, checked by the folder's manifest)
in its ``__init__``, never from pickled weights, and maps one Arrow table to another. Any engine
can run it: the ``"local"`` engine here runs it in this process, the ``ecomlm_ray`` plugin on a
Ray cluster with Ray Data's ``map_batches``.

Engines are components like models and tasks: registered through the ``register_engines`` hook
and found by name, so Spark or Dask can be added later as plugins.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ecomlm_sdk.errors import EcomlmError, EngineError
from ecomlm_sdk.options import Configurable
from ecomlm_sdk.progress import progress
from ecomlm_sdk.registry import register_kind

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ENGINE_ENV",
    "JOB_KINDS",
    "BatchPredictor",
    "Engine",
    "EngineOptions",
    "ParquetInput",
    "PredictorSpec",
    "Snapshot",
    "rows_label",
    "run_guarded",
]

#: The environment variable naming the engine used when a call gives none.
ENGINE_ENV: Final = "ECOMLM_ENGINE"

#: The kinds of batch job, as engines see them (``auto`` decides per kind and size).
JOB_KINDS: Final[tuple[str, ...]] = ("texts", "customers", "partitions", "tickets")


class BatchPredictor(Protocol):
    """What a :class:`PredictorSpec` builds: one Arrow table in, one Arrow table out."""

    def __call__(self, batch: pa.Table) -> pa.Table:
        """Map ``batch`` to its results (in input order)."""


@dataclass(frozen=True)
class Snapshot:
    """The files of a saved folder as bytes: what a batch predictor is built from.

    A snapshot pickles as names and bytes only, so it can travel to a worker process or a Ray
    actor; the worker writes it back into a private temporary folder and loads it through the
    same checked ``load()`` as any saved folder (versions, sha256 manifest, no remote code).

    Attributes:
        files: ``(relative posix path, content)`` pairs.
    """

    files: tuple[tuple[str, bytes], ...]

    @classmethod
    def of_folder(cls, folder: str | Path) -> Snapshot:
        """Read every file under ``folder`` (a saved task or model)."""
        root = Path(folder)
        if not root.is_dir():
            raise EngineError(f"{root} is not a folder: save the task or model first")
        files = [
            (path.relative_to(root).as_posix(), path.read_bytes())
            for path in sorted(root.rglob("*"))
            if path.is_file()
        ]
        return cls(tuple(files))

    @classmethod
    def of(cls, saveable: Any) -> Snapshot:
        """Save ``saveable`` (a fitted task or a model with ``save(path)``) and read it back."""
        with tempfile.TemporaryDirectory(prefix="ecomlm-snapshot-") as temp:
            folder = Path(temp) / "saved"
            saveable.save(folder)
            return cls.of_folder(folder)

    @property
    def nbytes(self) -> int:
        """Total size of the files."""
        return sum(len(content) for _, content in self.files)

    def write(self, into: str | Path) -> Path:
        """Write the files under ``into`` (created); refuses paths that leave it."""
        root = Path(into)
        root.mkdir(parents=True, exist_ok=True)
        for name, content in self.files:
            relative = PurePosixPath(name)
            if relative.is_absolute() or ".." in relative.parts or not relative.parts:
                raise EngineError(f"snapshot file name {name!r} leaves its folder; refused")
            target = root.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        return root

    def open(self, owner: object) -> Path:
        """Write the files into a new private folder that lives as long as ``owner``.

        A predictor calls ``self.snapshot.open(self)`` in ``__init__`` and loads from the path;
        models that read their weights lazily keep working, and the folder is removed when the
        predictor is garbage-collected (or the process exits).
        """
        folder = Path(tempfile.mkdtemp(prefix="ecomlm-worker-"))
        weakref.finalize(owner, shutil.rmtree, folder, ignore_errors=True)
        return self.write(folder / "saved")


@dataclass(frozen=True)
class ParquetInput:
    """Rows to read from Parquet files instead of a table in memory (only ``columns``).

    An engine reads it where the work runs: Ray Data's ``read_parquet`` on a cluster (every
    worker must see the paths: shared storage or object store URLs), polars here.

    Attributes:
        paths: Files or folders of Parquet files.
        columns: The columns to read (``None``: all of them).
    """

    paths: tuple[str, ...]
    columns: tuple[str, ...] | None = None

    def read(self) -> pa.Table:
        """The rows, in file order, read by polars (what the ``local`` engine does)."""
        import polars as pl

        frame = pl.scan_parquet([str(p) for p in self.paths])
        if self.columns is not None:
            frame = frame.select(list(self.columns))
        return frame.collect().to_arrow()


@dataclass(frozen=True)
class PredictorSpec:
    """How to build a batch predictor anywhere: a class and its keyword arguments.

    Picklable when ``factory`` is importable by name and the arguments are plain data (a
    :class:`Snapshot`, strings, numbers). ``build()`` in each worker runs the factory once; the
    predictor it returns is then called on many batches.

    Attributes:
        factory: The predictor class (e.g. ``ecomlm_sdk.models.batch.ClassifierPredictor``).
        kwargs: Its keyword arguments.
        job: What the job does, for messages (``"bert-classifier.predict_proba"``).
        kind: One of :data:`JOB_KINDS`.
        columns: The input columns the predictor reads (an engine may read only these).
    """

    factory: Callable[..., Any]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    job: str = "batch job"
    kind: str = "texts"
    columns: tuple[str, ...] = ()

    def build(self) -> Any:
        """The predictor (call once per worker, after :func:`configure_worker`)."""
        return self.factory(**self.kwargs)


def rows_label(first_row: int, rows: int) -> str:
    """``"input rows 512-767"``: where a block sits in the whole input."""
    return f"input rows {first_row}-{first_row + rows - 1}"


def run_guarded(
    predictor: Callable[[Any], Any], payload: Any, *, where: str, job: str, engine: str
) -> Any:
    """``predictor(payload)``, or :class:`EngineError` naming the block that failed.

    ``where`` says which block it is (:func:`rows_label`, or ``"partition 3"``), so the message
    reads the same whatever engine ran the job.
    """
    try:
        return predictor(payload)
    except EngineError:
        raise
    except Exception as exc:
        hint = str(exc) if isinstance(exc, EcomlmError) else f"{type(exc).__name__}: {exc}"
        raise EngineError(
            f"{job} failed on engine {engine!r} in the block of {where}: {hint}"
        ) from exc


def map_slices(
    predictor: Callable[[pa.Table], pa.Table],
    table: pa.Table,
    size: int,
    *,
    job: str,
    engine: str,
    where: str = "",
    quiet: bool | None = None,
) -> pa.Table:
    """``predictor`` over consecutive ``size``-row slices of ``table``, concatenated in order.

    Each slice runs under :func:`run_guarded`; ``where`` is appended to its rows label (e.g.
    ``" of part-3.parquet"``). A progress bar counts the slices (see ``ecomlm_sdk.progress``).
    """
    import pyarrow as pa

    if table.num_rows == 0:
        return predictor(table)
    results = [
        run_guarded(
            predictor,
            table.slice(start, size),
            where=rows_label(start, min(size, table.num_rows - start)) + where,
            job=job,
            engine=engine,
        )
        for start in progress(range(0, table.num_rows, size), desc=job, unit="batch", quiet=quiet)
    ]
    return pa.concat_tables(results, promote_options="permissive")


def configure_worker(threads: int | None) -> None:
    """Set up a worker before it builds a predictor: tokenizers single-threaded and, when
    ``threads`` is given (the CPUs the worker holds), torch at that many intra-op threads."""
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    if threads is None:
        return
    os.environ["ECOMLM_THREADS"] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


class EngineOptions(BaseModel):
    """Options every engine accepts. Subclass and keep ``extra="forbid"``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: int = Field(
        default=256, ge=1, description="Rows handed to a predictor per call (texts, customers)."
    )
    quiet: bool = Field(default=False, description="Hide progress bars.")


class Engine(Configurable[EngineOptions], ABC):
    """Runs batch predictors over Arrow data; subclasses set ``name`` and implement two methods.

    ``map_batches`` applies one predictor to consecutive slices of a table and returns the
    results in input order; ``map_partitions`` applies one to whole partitions (every customer's
    rows in one partition), with ``shared`` tables sent to every worker once.
    """

    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]] = EngineOptions
    component_label: ClassVar[str] = "engine"
    options_error: ClassVar[type[EcomlmError]] = EngineError

    @abstractmethod
    def map_batches(self, table: pa.Table | ParquetInput, predictor: PredictorSpec) -> pa.Table:
        """``predictor`` applied to slices of ``table``; results concatenated in input order."""

    @abstractmethod
    def map_partitions(
        self,
        partitions: Sequence[Mapping[str, pa.Table]],
        predictor: PredictorSpec,
        shared: Mapping[str, pa.Table] | None = None,
    ) -> pa.Table:
        """``predictor`` applied to each partition (a dict of tables, ``shared`` merged in)."""

    def parallelism(self) -> int:
        """How many blocks the engine runs at once (a task cuts its data into about twice
        as many partitions). ``1`` in-process."""
        return 1

    @classmethod
    def suits_job(cls, kind: str, rows: int) -> bool:
        """Whether ``engine="auto"`` should send a ``kind`` job of ``rows`` rows here.

        ``False`` by default: an engine says yes only where it measured faster than in-process.
        """
        return False


def engine_from_env() -> str | None:
    """``ECOMLM_ENGINE``, stripped and lower-cased, or ``None`` when unset or empty."""
    value = os.environ.get(ENGINE_ENV, "").strip().lower()
    return value or None


register_kind("engine", Engine)
