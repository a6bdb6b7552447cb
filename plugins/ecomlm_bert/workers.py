"""Batch classification on N single-thread worker processes (``workers=N``).

On a CPU shared with other jobs, one process with N intra-op threads loses time to threads
waiting on each other (a thread that is descheduled stalls every matrix product it takes part
in); N processes with one thread each do not wait on each other. For a long column,
``predict_column(..., workers=N)`` therefore saves the model to a temporary folder (safetensors
and JSON, the ordinary :meth:`~ecomlm_bert.classifier.BertClassifier.save`, never pickled
weights), starts N worker processes with the ``spawn`` method (a fresh interpreter: no forked
torch or tokenizer threads), each loading that folder with torch set to one thread, and hands
them contiguous slices of the column; results come back in input order. Starting the workers
costs seconds (a Python interpreter, torch and the model each), so it pays only on long columns:
measure it with ``benchmarks/bench_classifier.py --workers N`` before turning it on. On this
project's shared 2-core machine it did not measure faster (1,200 reviews, torch fp32: 27.1
texts/s against 31.0 for one 2-thread process, medians of 3 at load 3.5 to 5; starting two
workers alone took 11 to 13 s under heavy load), so the default is ``workers=1``.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from ecomlm_sdk.errors import ModelError
from ecomlm_sdk.models.batching import chunked

if TYPE_CHECKING:
    from ecomlm_bert.classifier import BertClassifier

__all__ = ["predict_proba_in_workers"]

#: Slices handed to each worker (several, so a slow worker does not hold up the others).
SLICES_PER_WORKER: Final = 4

_model: BertClassifier | None = None


def _start_worker(folder: str, options: dict[str, Any]) -> None:
    """Worker initializer: one torch thread, then the model from ``folder``."""
    os.environ["ECOMLM_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
    from ecomlm_bert.classifier import BertClassifier

    global _model
    _model = BertClassifier.load(folder, **options)


def _predict_slice(texts: list[str]) -> np.ndarray:
    if _model is None:  # pragma: no cover - the initializer always ran
        raise ModelError("internal error: a worker process started without its model")
    return _model.predict_proba(texts)


def predict_proba_in_workers(
    model: BertClassifier, texts: Sequence[str], *, workers: int
) -> Iterator[np.ndarray]:
    """Probabilities of ``texts`` from ``workers`` single-thread processes, slice by slice.

    Yields one array per contiguous slice of ``texts``, in input order.

    Raises:
        ModelError: A worker process died (out of memory, killed, or a script without an
            ``if __name__ == "__main__":`` guard, which ``spawn`` needs).
    """
    items = list(texts)
    size = max(1, -(-len(items) // (workers * SLICES_PER_WORKER)))
    options = model.worker_options()
    with tempfile.TemporaryDirectory(prefix="ecomlm-workers-") as temp:
        folder = model.save(Path(temp) / "model")
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(str(folder), options),
        ) as pool:
            try:
                yield from pool.map(_predict_slice, [list(c) for c in chunked(items, size)])
            except BrokenProcessPool as exc:
                raise ModelError(
                    f"a worker process of predict_column(workers={workers}) died ({exc}). "
                    "A script that uses workers must run its top level under "
                    '`if __name__ == "__main__":` (the spawn start method imports it in '
                    "every worker); else check memory, or pass workers=1."
                ) from exc
