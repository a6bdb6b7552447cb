"""The ``local`` engine: batch predictors run in this process, one block after another.

It is the default and the reference every other engine is compared with. The SDK's batch
methods do not even go through it when no engine is asked for (they call their in-process code
directly); it exists so that a :class:`~ecomlm_sdk.engines.PredictorSpec` can be run anywhere,
and tested, without a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from ecomlm_sdk.engines.base import Engine, ParquetInput, PredictorSpec, map_slices, run_guarded
from ecomlm_sdk.progress import progress

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["LocalEngine"]


class LocalEngine(Engine):
    """In-process execution: build the predictor once, call it on each block in order."""

    name: ClassVar[str] = "local"

    def map_batches(self, table: pa.Table | ParquetInput, predictor: PredictorSpec) -> pa.Table:
        if isinstance(table, ParquetInput):
            table = table.read()
        return map_slices(
            predictor.build(),
            table,
            self.options.batch_size,
            job=predictor.job,
            engine=self.display_name,
            quiet=self.options.quiet,
        )

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
