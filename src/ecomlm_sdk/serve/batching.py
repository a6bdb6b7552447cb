"""Micro-batching: concurrent support messages answered by one ``answer_many`` call.

A request puts its message on a queue and waits. One worker takes the first message, waits up
to ``wait_s`` for more (up to ``max_batch``), and answers them together in a worker thread:
one classifier and one embedder call for the whole batch. While a batch runs, new messages
queue up for the next one, so under load batches fill without any waiting at all.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import anyio.to_thread

from ecomlm_sdk.serve.models import ModelHolder
from ecomlm_sdk.tasks.support.reply import SupportReply

__all__ = ["SupportBatcher"]

_Item = tuple[str, str | None, "asyncio.Future[SupportReply]"]


class SupportBatcher:
    """Collects support messages into batches for the current support task.

    Args:
        holder: Where the current models are (read once per batch).
        wait_s: How long the first message of a batch waits for others.
        max_batch: Most messages in one batch.
        on_batch: Called with each batch's size (metrics).
    """

    def __init__(
        self,
        holder: ModelHolder,
        *,
        wait_s: float,
        max_batch: int,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.holder, self.wait_s, self.max_batch = holder, wait_s, max_batch
        self.on_batch = on_batch
        #: How many times the support task was called (one per batch).
        self.calls = 0
        self._queue: asyncio.Queue[_Item] | None = None
        self._worker: asyncio.Task[None] | None = None

    async def answer(self, message: str, customer_id: str | None) -> SupportReply:
        """Answer one message, batched with whatever else arrives meanwhile."""
        if self._queue is None or self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._run(self._queue))
        future: asyncio.Future[SupportReply] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((message, customer_id, future))
        return await future

    async def stop(self) -> None:
        """Stop the worker (at shutdown)."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    async def _collect(self, queue: asyncio.Queue[_Item]) -> list[_Item]:
        batch = [await queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_s
        while len(batch) < self.max_batch:
            try:
                batch.append(queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def _run(self, queue: asyncio.Queue[_Item]) -> None:
        while True:
            batch = await self._collect(queue)
            live = [item for item in batch if not item[2].done()]  # skip gone clients
            if not live:
                continue
            try:
                replies = await anyio.to_thread.run_sync(self._answer_many, live)
            except Exception as exc:  # every waiting request gets the error
                for _, _, future in live:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, _, future), reply in zip(live, replies, strict=True):
                if not future.done():
                    future.set_result(reply)

    def _answer_many(self, batch: list[_Item]) -> list[SupportReply]:
        models = self.holder.current
        task: Any = models.tasks.get("support") if models is not None else None
        if task is None:
            raise LookupError("no support task is loaded")
        self.calls += 1
        if self.on_batch is not None:
            self.on_batch(len(batch))
        replies: list[SupportReply] = task.answer_many(
            [m for m, _, _ in batch], [c for _, c, _ in batch], store=self.holder.store
        )
        return replies
