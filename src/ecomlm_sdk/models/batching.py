"""Length-bucketed batching and out-of-memory back-off for encoder inference.

Sorting texts by token length before batching keeps padding (wasted compute) small; the
results are put back in input order. On an accelerator, a batch that runs out of memory is split
in half and retried instead of crashing the job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ecomlm_sdk.errors import ModelError

if TYPE_CHECKING:
    import torch

__all__ = [
    "chunked",
    "is_out_of_memory",
    "length_sorted_batches",
    "pad_batch",
    "run_with_backoff",
]

T = TypeVar("T")


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of ``items`` of at most ``size`` elements."""
    if size < 1:
        raise ModelError(f"chunk size must be at least 1, got {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Group indices into batches of similar length, longest first.

    Longest first means the largest batch is tried first, so an out-of-memory error shows up at
    the start of a job, not at its end.

    Args:
        lengths: Token length of each item.
        batch_size: Items per batch.

    Returns:
        Lists of indices into ``lengths``; every index appears exactly once.
    """
    if batch_size < 1:
        raise ModelError(f"batch_size must be at least 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def pad_batch(
    sequences: Sequence[Sequence[int]], pad_id: int, *, left: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad token id lists to one length: ``(input_ids, attention_mask)`` as int64 tensors."""
    import torch

    width = max((len(s) for s in sequences), default=0)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        if not seq:
            continue
        values = torch.as_tensor(list(seq), dtype=torch.long)
        if left:
            ids[row, width - len(seq) :] = values
            mask[row, width - len(seq) :] = 1
        else:
            ids[row, : len(seq)] = values
            mask[row, : len(seq)] = 1
    return ids, mask


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an accelerator (or host) out-of-memory error."""
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError | MemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _free_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    mps = getattr(torch, "mps", None)
    if mps is not None and torch.backends.mps.is_available():
        mps.empty_cache()


def run_with_backoff(
    run: Callable[[list[int]], Any],
    batch: list[int],
    *,
    on_split: Callable[[int], None] | None = None,
) -> list[Any]:
    """Run ``run(batch)``; on out-of-memory, split the batch in halves and run each.

    Args:
        run: Processes a list of indices and returns one result for the whole list.
        batch: The indices to process.
        on_split: Called with the new (halved) batch size whenever a split happens.

    Returns:
        One result per call of ``run`` that succeeded, in index order.

    Raises:
        ModelError: A batch of a single item still runs out of memory.
    """
    try:
        return [run(batch)]
    except Exception as exc:
        if not is_out_of_memory(exc):
            raise
        _free_cache()
        if len(batch) == 1:
            raise ModelError(
                "Out of memory on a batch of one item; use a smaller model, a shorter "
                "max_length, or device='cpu'."
            ) from exc
    half = len(batch) // 2
    if on_split is not None:
        on_split(half)
    return [
        *run_with_backoff(run, batch[:half], on_split=on_split),
        *run_with_backoff(run, batch[half:], on_split=on_split),
    ]
