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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from ecomlm_sdk.data.partition import dataset_partitions, read_parquet_dataset, split_by_customer
from ecomlm_sdk.data.schema import TABLES
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.engines import Engine, PredictorSpec, Snapshot
from ecomlm_sdk.errors import TaskError

if TYPE_CHECKING:
    import pyarrow as pa

    from ecomlm_sdk.tasks.prediction.task import PurchasePredictionTask

__all__ = ["SHARED_TABLES", "PurchaseFeatures", "PurchaseScorer", "score_on"]

#: Tables every partition needs whole (the catalogue and the campaigns).
SHARED_TABLES = ("products", "campaigns")


def _load(snapshot: Snapshot, owner: object) -> PurchasePredictionTask:
    from ecomlm_sdk.tasks.prediction.task import PurchasePredictionTask

    return PurchasePredictionTask.load(snapshot.open(owner))


#: What scoring reads of a Parquet dataset: no tickets (their bodies are the bulk of a store's
#: text), and of the products only what category shares and text features use.
DATASET_COLUMNS: Final[Mapping[str, Sequence[str]]] = {
    "tickets": (),
    "products": ("product_id", "title", "category"),
}
#: The key of a partition that is a Parquet dataset's partition (read where the job runs).
DATASET_PART: Final = "__dataset_partition__"


def dataset_part(folder: str, partition: int) -> dict[str, pa.Table]:
    """The payload naming partition ``partition`` of the dataset in ``folder``."""
    import pyarrow as pa

    return {DATASET_PART: pa.table({"folder": [folder], "partition": [partition]})}


def _partition_store(tables: Mapping[str, pa.Table], settings: Mapping[str, Any]) -> EcomStore:
    """The sub-store a partition payload stands for: given tables, or read from a dataset."""
    if DATASET_PART in tables:
        row = tables[DATASET_PART].to_pylist()[0]
        return read_parquet_dataset(
            row["folder"], partition=int(row["partition"]), columns=DATASET_COLUMNS
        )
    frames: dict[str, Any] = {
        name: pl.from_arrow(table) for name, table in tables.items() if name in TABLES
    }
    return EcomStore(**frames, check_integrity=False, **dict(settings))


class LastPurchase:
    """A partition -> one row: the time of its last purchase (``None`` when it has none)."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = dict(settings)

    def __call__(self, tables: Mapping[str, pa.Table]) -> pa.Table:
        import pyarrow as pa

        last = _partition_store(tables, self.settings).purchases().get_column("created_at").max()
        return pa.table({"last": pa.array([last], pa.timestamp("us", tz="UTC"))})


class PurchaseFeatures:
    """A partition of the store (a dict of Arrow tables) -> its customers' feature rows."""

    def __init__(
        self,
        snapshot: Snapshot,
        as_of: dt.datetime,
        settings: Mapping[str, Any],
    ) -> None:
        self.task = _load(snapshot, self)
        self.as_of = as_of
        self.settings = dict(settings)

    def __call__(self, tables: Mapping[str, pa.Table]) -> pa.Table:
        store = _partition_store(tables, self.settings)
        if store.orders.height == 0 and store.customers.height == 0:
            return pl.DataFrame({"customer_id": []}, schema={"customer_id": pl.String}).to_arrow()
        return self.task._frame(store, self.as_of).to_arrow()


class PurchaseScorer:
    """Feature rows (``customer_id`` and the model's features) -> ``customer_id, p_buy,
    expected_revenue``."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.task = _load(snapshot, self)

    def __call__(self, batch: pa.Table) -> pa.Table:
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        return self.task._score_frame(frame).to_arrow()


def score_on(
    task: PurchasePredictionTask, store: EcomStore, as_of: dt.datetime, engine: Engine
) -> pl.DataFrame:
    """The task's scores of ``store`` at ``as_of``, computed on ``engine``."""
    settings = {"currency": store.currency, "fx_rates": store.fx_rates, "timezone": store.timezone}
    snapshot = Snapshot.of(task)  # saved once, for both passes
    if task.options.bgnbd:
        return _score_features(task, snapshot, task._frame(store, as_of), engine)
    parts = [
        {name: getattr(part, name).to_arrow() for name in TABLES if name not in SHARED_TABLES}
        for part in split_by_customer(store, max(1, 2 * engine.parallelism()))
        if part.orders.height or part.customers.height
    ]
    shared = {name: getattr(store, name).to_arrow() for name in SHARED_TABLES}
    features = _features(snapshot, parts, shared, as_of, settings, engine)
    return _score_features(task, snapshot, features, engine)


def score_dataset(task: PurchasePredictionTask, folder: str | Path, engine: Engine) -> pl.DataFrame:
    """The task's scores of every customer of a Parquet dataset, one partition at a time.

    Two passes over the partitions (each read where the engine runs it, without the tickets):
    the last purchase of the whole dataset (the "now" of the scores, as for a store in
    memory), then each partition's feature rows; then the scoring in batches.
    """

    if task.options.bgnbd:
        raise TaskError(
            "predict_dataset() cannot use bgnbd=True features: the BG/NBD model is fitted on "
            "every customer at once; load the store (read_parquet_dataset) and use predict()"
        )
    root = str(Path(folder).resolve())
    parts = [dataset_part(root, k) for k in range(dataset_partitions(root))]
    spec = PredictorSpec(
        factory=LastPurchase, kwargs={"settings": {}}, job="last purchase", kind="partitions"
    )
    lasts = pl.from_arrow(engine.map_partitions(parts, spec))
    assert isinstance(lasts, pl.DataFrame)
    last = lasts.get_column("last").max()
    if not isinstance(last, dt.datetime):
        raise TaskError(f"the Parquet dataset {root} holds no purchases; nothing to score")
    snapshot = Snapshot.of(task)  # saved once, for both passes
    features = _features(snapshot, parts, {}, last + dt.timedelta(seconds=1), {}, engine)
    return _score_features(task, snapshot, features, engine)


def _features(
    snapshot: Snapshot,
    parts: list[dict[str, pa.Table]],
    shared: Mapping[str, pa.Table],
    as_of: dt.datetime,
    settings: Mapping[str, Any],
    engine: Engine,
) -> pl.DataFrame:
    if not parts:
        return pl.DataFrame()
    spec = PredictorSpec(
        factory=PurchaseFeatures,
        kwargs={"snapshot": snapshot, "as_of": as_of, "settings": dict(settings)},
        job="purchase-prediction features",
        kind="partitions",
    )
    table = pl.from_arrow(engine.map_partitions(parts, spec, shared))
    assert isinstance(table, pl.DataFrame)
    return table.filter(pl.col("customer_id").is_not_null()) if table.width > 1 else pl.DataFrame()


def _score_features(
    task: PurchasePredictionTask, snapshot: Snapshot, features: pl.DataFrame, engine: Engine
) -> pl.DataFrame:
    from ecomlm_sdk.tasks.prediction.task import SCORES_SCHEMA

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
