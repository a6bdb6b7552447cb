"""Purchase prediction on an engine: features per customer partition, then batch scoring.

Every feature of the task is computed from one customer's own rows (recency, frequency, spend,
category shares over the saved top categories, text features through the saved projection), so
the store is cut by customer (:func:`ecomlm_sdk.data.partition.split_by_customer`) and each part
is featurized where the engine runs it. BG/NBD features are the exception: the BG/NBD model is
fitted on all customers at once, so with ``bgnbd=True`` the features are computed in-process
and only the scoring is sent to the engine.

Both predictors are built from a :class:`~ecomlm_sdk.engines.Snapshot` of the saved task and
load it with :meth:`PurchasePredictionTask.load` (LightGBM text models and JSON, no pickles).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from ecomlm_sdk.data.partition import split_by_customer
from ecomlm_sdk.data.schema import TABLES
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.engines import Engine, PredictorSpec, Snapshot

if TYPE_CHECKING:
    import pyarrow as pa

    from ecomlm_sdk.tasks.prediction.task import PurchasePredictionTask

__all__ = ["SHARED_TABLES", "PurchaseFeatures", "PurchaseScorer", "score_on"]

#: Tables every partition needs whole (the catalogue and the campaigns).
SHARED_TABLES = ("products", "campaigns")


def _load(snapshot: Snapshot, owner: object) -> PurchasePredictionTask:
    from ecomlm_sdk.tasks.prediction.task import PurchasePredictionTask

    return PurchasePredictionTask.load(snapshot.open(owner))


class PurchaseFeatures:
    """A partition of the store (a dict of Arrow tables) -> its customers' feature rows."""

    def __init__(
        self,
        snapshot: Snapshot,
        as_of: dt.datetime,
        settings: Mapping[str, Any],
        threads: int | None = None,
    ) -> None:
        self.task = _load(snapshot, self)
        self.as_of = as_of
        self.settings = dict(settings)

    def __call__(self, tables: Mapping[str, pa.Table]) -> pa.Table:
        frames: dict[str, Any] = {
            name: pl.from_arrow(table) for name, table in tables.items() if name in TABLES
        }
        store = EcomStore(**frames, check_integrity=False, **self.settings)
        frame = self.task._frame(store, self.as_of)
        return frame.to_arrow()


class PurchaseScorer:
    """Feature rows (``customer_id`` and the model's features) -> ``customer_id, p_buy,
    expected_revenue``."""

    def __init__(self, snapshot: Snapshot, threads: int | None = None) -> None:
        self.task = _load(snapshot, self)

    def __call__(self, batch: pa.Table) -> pa.Table:
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        return self.task._score_frame(frame).to_arrow()


def score_on(
    task: PurchasePredictionTask, store: EcomStore, as_of: dt.datetime, engine: Engine
) -> pl.DataFrame:
    """The task's scores of ``store`` at ``as_of``, computed on ``engine``."""
    from ecomlm_sdk.tasks.prediction.task import SCORES_SCHEMA

    snapshot = Snapshot.of(task)
    settings = {"currency": store.currency, "fx_rates": store.fx_rates, "timezone": store.timezone}
    if task.options.bgnbd:
        features = task._frame(store, as_of)
    else:
        parts = [
            {name: getattr(part, name).to_arrow() for name in TABLES if name not in SHARED_TABLES}
            for part in split_by_customer(store, max(1, 2 * engine.parallelism()))
            if part.orders.height or part.customers.height
        ]
        if not parts:
            return pl.DataFrame(schema=SCORES_SCHEMA)
        shared = {name: getattr(store, name).to_arrow() for name in SHARED_TABLES}
        spec = PredictorSpec(
            factory=PurchaseFeatures,
            kwargs={"snapshot": snapshot, "as_of": as_of, "settings": settings},
            job="purchase-prediction features",
            kind="partitions",
        )
        table = pl.from_arrow(engine.map_partitions(parts, spec, shared))
        assert isinstance(table, pl.DataFrame)
        features = table
    if features.height == 0:
        return pl.DataFrame(schema=SCORES_SCHEMA)
    scores = engine.map_batches(
        features.to_arrow(),
        PredictorSpec(
            factory=PurchaseScorer,
            kwargs={"snapshot": snapshot},
            job="purchase-prediction scoring",
            kind="customers",
            columns=("customer_id", *task.features),
        ),
    )
    frame = pl.from_arrow(scores)
    assert isinstance(frame, pl.DataFrame)
    return frame.select(pl.col(name).cast(dtype) for name, dtype in SCORES_SCHEMA.items())
