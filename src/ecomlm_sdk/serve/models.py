"""The saved tasks a server holds, and reloading them without dropping requests."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ecomlm_sdk.api import load_task
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import EcomlmError, TaskError

__all__ = ["ModelHolder", "ModelSet", "load_model_set"]

logger = logging.getLogger("ecomlm_sdk.serve")

#: Task names the server knows what to do with.
_SERVED = ("support", "recommendation", "purchase-prediction")


@dataclass(frozen=True)
class ModelSet:
    """The tasks loaded from one model folder; swapped whole on reload, never changed.

    Attributes:
        folder: Where they were loaded from.
        tasks: Task name -> loaded task (``support``, ``recommendation``,
            ``purchase-prediction``).
        scores: ``purchase-prediction`` scored on the store at load time
            (``customer_id, p_buy, expected_revenue``), or ``None`` without either.
        version: Counts loads, from 1.
    """

    folder: Path
    tasks: dict[str, Any]
    scores: pl.DataFrame | None = None
    version: int = 1
    score_index: dict[str, int] = field(default_factory=dict)


def load_model_set(
    folder: Path, store: EcomStore | None, *, version: int = 1, trust_remote_code: bool = False
) -> ModelSet:
    """Load every saved task in ``folder``'s sub-folders (and score the store once).

    Raises:
        TaskError: ``folder`` is missing, holds no saved task, or two of one task.
        EcomlmError: A sub-folder failed to load (the loader's own error).
    """
    if not folder.is_dir():
        raise TaskError(f"model folder {folder} does not exist")
    tasks: dict[str, Any] = {}
    for sub in sorted(p for p in folder.iterdir() if (p / "ecomlm_task.json").is_file()):
        task = load_task(sub, trust_remote_code=trust_remote_code)
        if task.name not in _SERVED:
            logger.warning("serve: %s holds task %r, which is not served", sub, task.name)
            continue
        if task.name in tasks:
            raise TaskError(f"{folder} holds two saved {task.name!r} tasks; keep one")
        tasks[task.name] = task
    if not tasks:
        raise TaskError(
            f"{folder} holds no saved task: save one per sub-folder "
            "(ecomlm fit TASK --out DIR/NAME)"
        )
    scores = None
    if "purchase-prediction" in tasks and store is not None:
        scores = tasks["purchase-prediction"].predict(store)
    index = (
        {c: i for i, c in enumerate(scores.get_column("customer_id").to_list())}
        if scores is not None
        else {}
    )
    return ModelSet(folder, tasks, scores, version, index)


class ModelHolder:
    """The current :class:`ModelSet`, and whether the last load worked (``/readyz``).

    Requests read :attr:`current` once and keep that set for their whole run, so a reload
    swapping it mid-request drops nothing.
    """

    def __init__(
        self, folder: Path, store: EcomStore | None, *, trust_remote_code: bool = False
    ) -> None:
        self.folder, self.store, self._trust = folder, store, trust_remote_code
        self.current: ModelSet | None = None
        self.error: str | None = None
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        """Models are loaded and the last load attempt worked."""
        return self.current is not None and self.error is None

    def reload(self) -> bool:
        """Load the folder again (blocking: call it from a worker thread).

        On failure the old set keeps serving, :attr:`error` says why and it is logged.
        Returns whether the load worked.
        """
        with self._lock:
            version = self.current.version + 1 if self.current is not None else 1
            try:
                loaded = load_model_set(
                    self.folder, self.store, version=version, trust_remote_code=self._trust
                )
            except (EcomlmError, OSError, ValueError) as exc:
                self.error = f"{type(exc).__name__}: {exc}"
                logger.error("serve: loading %s failed, keeping the old models: %s",
                             self.folder, self.error)  # fmt: skip
                return False
            self.current, self.error = loaded, None
            logger.info("serve: loaded %s (version %d): %s", self.folder, version,
                        ", ".join(sorted(loaded.tasks)))  # fmt: skip
            return True
