"""Recommendations for every customer on an engine.

:class:`RecommendPredictor` loads the saved task (sparse item tables in safetensors, JSON) from
a :class:`~ecomlm_sdk.engines.Snapshot` once per worker (on Ray the snapshot goes to the object
store once and every actor reads it from there) and maps a batch of ``customer_id`` to the same
rows :meth:`RecommendationTask.recommend` gives in-process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ecomlm_sdk.engines import Engine, PredictorSpec, Snapshot

if TYPE_CHECKING:
    import pyarrow as pa

    from ecomlm_sdk.tasks.recommendation.task import RecommendationTask

__all__ = ["RecommendPredictor", "recommend_on"]


class RecommendPredictor:
    """``customer_id`` -> ``customer_id, rank, product_id, title, score`` (``k`` per customer)."""

    def __init__(self, snapshot: Snapshot, k: int | None, exclude_owned: bool) -> None:
        from ecomlm_sdk.tasks.recommendation.task import RecommendationTask

        self.task = RecommendationTask.load(snapshot.open(self))
        self.k, self.exclude_owned = k, exclude_owned

    def __call__(self, batch: pa.Table) -> pa.Table:
        ids = [str(c) for c in batch.column("customer_id").to_pylist()]
        return self.task.recommend(ids, k=self.k, exclude_owned=self.exclude_owned).to_arrow()


def recommend_on(
    task: RecommendationTask, ids: list[str], k: int | None, exclude_owned: bool, engine: Engine
) -> pl.DataFrame:
    """``task.recommend(ids, k=k, exclude_owned=exclude_owned)`` computed on ``engine``."""
    import pyarrow as pa

    from ecomlm_sdk.tasks.recommendation.task import _SCHEMA

    spec = PredictorSpec(
        factory=RecommendPredictor,
        kwargs={"snapshot": Snapshot.of(task), "k": k, "exclude_owned": exclude_owned},
        job="recommendation.recommend",
        kind="customers",
        columns=("customer_id",),
    )
    table = engine.map_batches(pa.table({"customer_id": pa.array(ids, pa.string())}), spec)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    if frame.height == 0:
        return pl.DataFrame(schema=_SCHEMA)
    return frame.select(pl.col(name).cast(dtype) for name, dtype in _SCHEMA.items())
