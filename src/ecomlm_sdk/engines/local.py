"""The ``local`` engine: batch predictors run in this process, one block after another.

It is the default and the reference every other engine is compared with. The SDK's batch
methods do not even go through it when no engine is asked for (they call their in-process code
directly); it exists so that a :class:`~ecomlm_sdk.engines.PredictorSpec` can be run anywhere,
and tested, without a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from ecomlm_sdk.engines.base import Engine, ParquetInput, PredictorSpec, rows_label, run_guarded
from ecomlm_sdk.progress import progress

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["LocalEngine"]


class LocalEngine(Engine):
    """In-process execution: build the predictor once, call it on each block in order."""

    name: ClassVar[str] = "local"

    def map_batches(self, table: pa.Table | ParquetInput, predictor: PredictorSpec) -> pa.Table:
        import pyarrow as pa

        if isinstance(table, ParquetInput):
            table = table.read()
        built = predictor.build()
        size = self.options.batch_size
        starts = range(0, table.num_rows, size)
        results = [
            run_guarded(
                built,
                table.slice(start, size),
                where=rows_label(start, min(size, table.num_rows - start)),
                job=predictor.job,
                engine=self.display_name,
            )
            for start in progress(
                starts, desc=predictor.job, unit="batch", quiet=self.options.quiet
            )
        ]
        if not results:
            return built(table)
        return pa.concat_tables(results, promote_options="permissive")

    def map_partitions(
        self,
        partitions: Sequence[Mapping[str, pa.Table]],
        predictor: PredictorSpec,
        shared: Mapping[str, pa.Table] | None = None,
    ) -> pa.Table:
        import pyarrow as pa

        built = predictor.build()
        common = dict(shared or {})
        results = [
            run_guarded(
                built,
                {**common, **part},
                where=f"partition {index}",
                job=predictor.job,
                engine=self.display_name,
            )
            for index, part in enumerate(
                progress(partitions, desc=predictor.job, unit="part", quiet=self.options.quiet)
            )
        ]
        return pa.concat_tables(results, promote_options="permissive")
