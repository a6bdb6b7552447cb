"""``RayEngine``: the SDK's batch jobs on a Ray cluster, through Ray Data.

``map_batches`` turns an Arrow table into a Ray Dataset of a few blocks per worker and runs
the job's predictor in an actor pool: one predictor (one model load) per actor, torch threads set
to the actor's CPUs, results in input order. ``map_partitions`` runs one Ray task per partition
(every customer's rows in one partition), with the tables all partitions share put into the
object store once.

Parquet input is read by one Ray task per file (only the columns the job needs), not by Ray
Data read tasks next to an actor pool: an actor pool that reserves every CPU of a small cluster
leaves the read tasks waiting forever ("Cluster resources are not enough to run any task").
"""

from __future__ import annotations

import atexit
import logging
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Final

from pydantic import Field

from ecomlm_sdk.engines import (
    Engine,
    EngineOptions,
    ParquetInput,
    PredictorSpec,
    configure_worker,
    map_slices,
    rows_label,
    run_guarded,
)
from ecomlm_sdk.errors import EcomlmError, EngineError
from ecomlm_sdk.progress import progress, progress_enabled

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["AUTO_MIN_ROWS", "RayEngine", "RayOptions"]

logger = logging.getLogger(__name__)

#: The column that carries each input row's position through Ray Data (for error messages).
_ROW: Final = "__ecomlm_row"
#: ``engine="auto"`` sends a job to Ray only from this many rows, and only when this process is
#: already connected to a cluster (``ray.init`` was called). Text jobs: from 20,000 texts Ray
#: with 2 single-thread actors measured 1.3x slower than in-process on 2 idle cores but faster
#: under contention, so ``auto`` needs a cluster bigger than this machine too
#: (:meth:`RayEngine.suits_job`). Customer scoring and recommendations measured about 2x slower
#: on Ray on one machine: ``auto`` keeps them in-process unless the cluster has more CPUs.
AUTO_MIN_ROWS: Final[Mapping[str, int]] = {
    "texts": 20_000,
    "tickets": 20_000,
    "customers": 1_000_000,
    "partitions": 1_000_000,
}


class RayOptions(EngineOptions):
    """Options of :class:`RayEngine`."""

    address: str | None = Field(
        default=None,
        description="Cluster to connect to when Ray is not initialized yet ('auto', "
        "'ray://host:10001'); None: RAY_ADDRESS, else a local cluster on this machine.",
    )
    workers: int | None = Field(
        default=None, ge=1, description="Actors (or tasks) at once; None: the cluster's CPUs."
    )
    cpus_per_worker: float | None = Field(
        default=None,
        gt=0,
        description="CPUs each actor or task reserves (its torch threads); None: the "
        "cluster's CPUs shared among the workers.",
    )
    blocks_per_worker: int = Field(
        default=2, ge=1, description="Blocks the input is cut into per worker."
    )
    local_cpus: int | None = Field(
        default=None, ge=1, description="CPUs of a local cluster the engine starts itself."
    )


class RayEngine(Engine):
    """Batch jobs on Ray (``engine="ray"``); see the scale guide (``docs/scale.md``)."""

    name: ClassVar[str] = "ray"
    Options: ClassVar[type[RayOptions]] = RayOptions
    options: RayOptions

    @classmethod
    def suits_job(cls, kind: str, rows: int) -> bool:
        """``auto`` picks Ray for big jobs on a cluster bigger than this machine.

        Only when Ray is already imported and initialized in this process (the caller
        connected to a cluster), the job has at least :data:`AUTO_MIN_ROWS` rows, and the
        cluster has more CPUs than this machine: on one machine in-process measured faster.
        """
        ray = _imported_ray()
        if ray is None or not ray.is_initialized() or rows < AUTO_MIN_ROWS.get(kind, 0):
            return False
        cluster = float(ray.cluster_resources().get("CPU", 0.0))
        return cluster > float(os.cpu_count() or 1)

    def parallelism(self) -> int:
        self._connect()
        return self._resources()[0]

    # ------------------------------------------------------------------ jobs
    def map_batches(self, table: pa.Table | ParquetInput, predictor: PredictorSpec) -> pa.Table:
        ray = self._connect()
        import pyarrow as pa

        if isinstance(table, ParquetInput):
            return self._map_parquet(ray, table, predictor)
        workers, cpus = self._resources()
        rows = table.num_rows
        if rows == 0:
            result: pa.Table = predictor.build()(table)
            return result
        # Ray Data copies the context when a dataset is created: set the order first.
        with self._ordered():
            indexed = table.append_column(_ROW, pa.array(range(rows), pa.int64()))
            step = max(1, math.ceil(rows / (workers * self.options.blocks_per_worker)))
            dataset = ray.data.from_arrow(
                [indexed.slice(start, step) for start in range(0, rows, step)]
            )
            batch_size = min(self.options.batch_size, step)
            mapped = dataset.map_batches(
                _ActorPredictor,
                fn_constructor_kwargs={"spec": ray.put(predictor), "threads": _threads(cpus)},
                batch_format="pyarrow",
                batch_size=batch_size,
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=cpus,
                zero_copy_batch=True,
            )
            try:
                parts = ray.get(mapped.to_arrow_refs())
            except Exception as exc:
                raise _engine_error(exc, predictor) from exc
        if not parts:
            return pa.table({})
        return pa.concat_tables(parts, promote_options="permissive")

    def map_partitions(
        self,
        partitions: Sequence[Mapping[str, pa.Table]],
        predictor: PredictorSpec,
        shared: Mapping[str, pa.Table] | None = None,
    ) -> pa.Table:
        ray = self._connect()
        import pyarrow as pa

        _, cpus = self._resources()
        task = ray.remote(_run_partition).options(num_cpus=cpus, max_retries=0)
        spec, common = ray.put(predictor), ray.put(dict(shared or {}))
        refs = [
            task.remote(spec, common, dict(part), index, _threads(cpus))
            for index, part in enumerate(partitions)
        ]
        order = {ref: index for index, ref in enumerate(refs)}
        results: dict[int, pa.Table] = {}
        pending = list(refs)
        try:
            for _ in progress(
                range(len(refs)), desc=predictor.job, unit="part", quiet=self.options.quiet
            ):
                done, pending = ray.wait(pending, num_returns=1)
                results[order[done[0]]] = ray.get(done[0])
        except Exception as exc:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise _engine_error(exc, predictor) from exc
        return pa.concat_tables(
            [results[i] for i in range(len(refs))], promote_options="permissive"
        )

    # ------------------------------------------------------------------ internals
    def _map_parquet(
        self, ray: ModuleType, source: ParquetInput, predictor: PredictorSpec
    ) -> pa.Table:
        """One Ray task per Parquet file: it reads only ``source.columns`` and maps its rows.

        Not Ray Data's ``read_parquet`` feeding an actor pool: on a small cluster whose CPUs the
        actors reserve, the read tasks never get a CPU and the job waits forever (seen with Ray
        2.60 on 2 CPUs, also with fractional actor CPUs). Tasks free their CPU when done.
        """
        import pyarrow as pa

        files = _parquet_files(source.paths)
        if not files:
            raise EngineError(f"no Parquet files under {list(source.paths)}")
        _, cpus = self._resources()
        task = ray.remote(_run_file).options(num_cpus=cpus, max_retries=0)
        spec = ray.put(predictor)
        columns = list(source.columns) if source.columns is not None else None
        refs = [
            task.remote(spec, str(path), columns, self.options.batch_size, _threads(cpus))
            for path in files
        ]
        try:
            parts = [ray.get(ref) for ref in refs]
        except Exception as exc:
            for ref in refs:
                ray.cancel(ref, force=True)
            raise _engine_error(exc, predictor) from exc
        return pa.concat_tables(parts, promote_options="permissive")

    def _connect(self) -> ModuleType:
        ray = _import_ray()
        if not progress_enabled(self.options.quiet):
            # Ray Data logs each job's plan and progress at INFO: keep it to warnings.
            logging.getLogger("ray.data").setLevel(logging.WARNING)
        if ray.is_initialized():
            return ray
        address = self.options.address or os.environ.get("RAY_ADDRESS") or None
        settings: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": logging.WARNING,
        }
        if address is None:
            settings["num_cpus"] = self.options.local_cpus
        logger.info("ray: connecting to %s", address or "a new local cluster")
        ray.init(address=address, **settings)
        # A cluster this engine started (or connected to) is let go when the process exits.
        atexit.register(ray.shutdown)
        return ray

    def _resources(self) -> tuple[int, float]:
        """(workers, CPUs per worker) for the cluster as it is now."""
        ray = _import_ray()
        total = float(ray.cluster_resources().get("CPU", 1.0))
        workers = self.options.workers or max(1, int(total))
        if self.options.cpus_per_worker is not None:
            return workers, self.options.cpus_per_worker
        return workers, max(0.01, math.floor(total / workers * 100) / 100)

    @contextmanager
    def _ordered(self) -> Iterator[None]:
        """Ray Data settings for one job: results in input order, bars only when wanted."""
        import ray.data

        context = ray.data.DataContext.get_current()
        saved = (context.execution_options.preserve_order, context.enable_progress_bars)
        context.execution_options.preserve_order = True
        context.enable_progress_bars = progress_enabled(self.options.quiet)
        try:
            yield
        finally:
            context.execution_options.preserve_order, context.enable_progress_bars = saved


class _ActorPredictor:
    """One Ray Data actor: builds the job's predictor once, then maps every block it is given."""

    def __init__(self, spec: Any, threads: int) -> None:
        import ray

        self.spec: PredictorSpec = ray.get(spec) if isinstance(spec, ray.ObjectRef) else spec
        configure_worker(threads)
        self.predictor = self.spec.build()

    def __call__(self, batch: pa.Table) -> pa.Table:
        if _ROW in batch.column_names:
            first = int(batch.column(_ROW)[0].as_py()) if batch.num_rows else 0
            where = rows_label(first, batch.num_rows)
            batch = batch.drop_columns([_ROW])
        else:
            where = f"a block of {batch.num_rows} rows"
        result: pa.Table = run_guarded(
            self.predictor, batch, where=where, job=self.spec.job, engine="ray"
        )
        return result


def _run_partition(
    spec: PredictorSpec,
    shared: Mapping[str, pa.Table],
    part: Mapping[str, pa.Table],
    index: int,
    threads: int,
) -> pa.Table:
    """One Ray task: the predictor over one partition (``shared`` tables merged in)."""
    configure_worker(threads)
    predictor = spec.build()
    result: pa.Table = run_guarded(
        predictor, {**shared, **part}, where=f"partition {index}", job=spec.job, engine="ray"
    )
    return result


def _run_file(
    spec: PredictorSpec, path: str, columns: list[str] | None, batch_size: int, threads: int
) -> pa.Table:
    """One Ray task: read ``columns`` of one Parquet file and map it in slices."""
    import pyarrow.parquet as pq

    configure_worker(threads)
    table = pq.read_table(path, columns=columns)
    return map_slices(
        spec.build(), table, batch_size, job=spec.job, engine="ray", where=f" of {path}", quiet=True
    )


def _parquet_files(paths: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        files.extend(sorted(path.rglob("*.parquet")) if path.is_dir() else [path])
    return files


def _threads(cpus: float) -> int:
    return max(1, round(cpus))


def _imported_ray() -> ModuleType | None:
    import sys

    return sys.modules.get("ray")


def _import_ray() -> ModuleType:
    try:
        import ray
        import ray.data  # the jobs use ray.data.*
    except ImportError as exc:
        raise EngineError(
            "engine 'ray' needs Ray Data: pip install 'ecomlm-sdk[ray]' (or pass engine='local')"
        ) from exc
    return ray


def _engine_error(exc: BaseException, predictor: PredictorSpec) -> EngineError:
    """The :class:`EngineError` a worker raised (unwrapped from Ray's errors), else a new one."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, EngineError):
            return EngineError(str(current))
        cause = getattr(current, "cause", None)
        current = cause if isinstance(cause, BaseException) else current.__cause__
    text = str(exc).strip().splitlines()
    for line in text:
        if "EngineError:" in line:
            return EngineError(line.split("EngineError:", 1)[1].strip())
    detail = text[-1] if text else type(exc).__name__
    hint = detail if isinstance(exc, EcomlmError) else f"{type(exc).__name__}: {detail}"
    return EngineError(f"{predictor.job} failed on engine 'ray': {hint}")
