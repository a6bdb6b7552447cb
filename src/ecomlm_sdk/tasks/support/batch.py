"""Answering a ticket backlog on an engine.

:class:`SupportPredictor` loads the saved task (classifier, embedder, knowledge base: safetensors
and JSON) from a :class:`~ecomlm_sdk.engines.Snapshot` once per worker, rebuilds the store the
answers look orders up in from the Arrow tables it was given, and maps a batch of ``message``
and ``customer_id`` to one JSON reply per message: the same :class:`SupportReply` as
in-process. A batch never acts on orders (``act=False``): actions are for a signed-in customer
answered live, not for a backlog.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.engines import Engine, PredictorSpec, Snapshot
from ecomlm_sdk.errors import EngineError
from ecomlm_sdk.tasks.support.reply import SupportReply

if TYPE_CHECKING:
    import pyarrow as pa

    from ecomlm_sdk.tasks.support.task import SupportTask

__all__ = ["ORDER_TABLES", "SupportPredictor", "answer_on"]

#: The store tables the answers read (order lookups, the customer's own details to redact).
ORDER_TABLES: Final = ("customers", "products", "orders", "order_lines")


class SupportPredictor:
    """``message, customer_id`` -> ``reply`` (a :class:`SupportReply` as JSON)."""

    def __init__(
        self,
        snapshot: Snapshot,
        tables: Mapping[str, pa.Table] | None,
        settings: Mapping[str, Any],
    ) -> None:
        from ecomlm_sdk.tasks.support.task import SupportTask

        self.task = SupportTask.load(snapshot.open(self))
        self.store: EcomStore | None = None
        if tables is not None:
            frames: dict[str, Any] = {name: pl.from_arrow(t) for name, t in tables.items()}
            self.store = EcomStore(**frames, check_integrity=False, **dict(settings))

    def __call__(self, batch: pa.Table) -> pa.Table:
        import pyarrow as pa

        messages = [str(m) for m in batch.column("message").to_pylist()]
        ids = batch.column("customer_id").to_pylist()
        replies = self.task.answer_many(messages, ids, store=self.store, act=False, engine="local")
        return pa.table({"reply": pa.array([r.model_dump_json() for r in replies], pa.string())})


def answer_on(
    task: SupportTask,
    messages: Sequence[str],
    customer_ids: Sequence[str | None],
    store: EcomStore | None,
    engine: Engine,
) -> list[SupportReply]:
    """``task.answer_many(messages, customer_ids, store=store, act=False)`` on ``engine``."""
    import pyarrow as pa

    tables = (
        {name: getattr(store, name).to_arrow() for name in ORDER_TABLES}
        if store is not None
        else None
    )
    settings = (
        {"currency": store.currency, "fx_rates": store.fx_rates, "timezone": store.timezone}
        if store is not None
        else {}
    )
    spec = PredictorSpec(
        factory=SupportPredictor,
        kwargs={"snapshot": Snapshot.of(task), "tables": tables, "settings": settings},
        job="support.answer_many",
        kind="tickets",
        columns=("message", "customer_id"),
    )
    batch = pa.table(
        {
            "message": pa.array([str(m) for m in messages], pa.string()),
            "customer_id": pa.array(list(customer_ids), pa.string()),
        }
    )
    table = engine.map_batches(batch, spec)
    if table.num_rows != len(messages):
        raise EngineError(
            f"support.answer_many on engine {engine.display_name!r} returned {table.num_rows} "
            f"replies for {len(messages)} messages"
        )
    return [SupportReply.model_validate_json(r) for r in table.column("reply").to_pylist()]
