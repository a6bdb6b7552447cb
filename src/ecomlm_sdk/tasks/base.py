"""``Task``: the base of purchase prediction, recommendation, support and any plugin's task.

``fit``, ``predict`` and ``evaluate`` run through the ``run_task_stage`` hook, so plugins can
wrap them (the built-in wrapper records timings and logs them).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecomlm_sdk._version import __version__
from ecomlm_sdk.data.store import Cutoff, EcomStore
from ecomlm_sdk.errors import NotFittedError, TaskError

__all__ = ["EvaluationReport", "Task", "TaskOptions"]

METADATA_FILE = "ecomlm_task.json"


class TaskOptions(BaseModel):
    """Options of a task. Subclass it, keep ``extra="forbid"``, describe every field."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    quiet: bool = Field(default=False, description="Hide progress bars.")


class EvaluationReport(BaseModel):
    """What :meth:`Task.evaluate` found.

    Attributes:
        task: Task name.
        cutoff: The split point, ISO format, when the evaluation used one.
        metrics: Metric name -> value for the task's model.
        baselines: Baseline name -> metric name -> value, computed on the same split.
        details: Extra tables or figures (calibration table, per-class results, ...).
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    task: str
    cutoff: str | None = None
    metrics: dict[str, float]
    baselines: dict[str, dict[str, float]] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)


class Task(ABC):
    """A unit of business value computed from an :class:`EcomStore`.

    Subclasses set ``name`` and ``Options`` and implement ``_fit``, ``_predict``, ``_evaluate``,
    ``_state`` and ``_restore``.
    """

    name: ClassVar[str]
    Options: ClassVar[type[TaskOptions]] = TaskOptions

    def __init__(self, **options: Any) -> None:
        try:
            self.options = self.Options(**options)
        except ValidationError as exc:
            raise TaskError(
                f"Invalid options for task {self.name!r}: {exc}. "
                f"Accepted options: {sorted(self.Options.model_fields)}"
            ) from exc
        self.fitted = False
        #: Seconds taken by the last run of each stage (filled by the built-in timing wrapper).
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------------ public API
    def fit(self, store: EcomStore) -> Self:
        """Learn from ``store``; returns ``self`` so calls chain: ``task.fit(s).predict(s)``."""
        self._check_store(store)

        def run() -> Task:
            self._fit(store)
            self.fitted = True
            return self

        self._run_stage("fit", store, run)
        return self

    def predict(self, store: EcomStore) -> pl.DataFrame:
        """Score ``store`` with what :meth:`fit` learned; returns a polars frame."""
        self._check_store(store)
        if not self.fitted:
            raise NotFittedError(
                f"Task {self.name!r} is not fitted: call fit(store) or load() first"
            )
        result: pl.DataFrame = self._run_stage("predict", store, lambda: self._predict(store))
        return result

    def evaluate(
        self, store: EcomStore, cutoff: Cutoff | None = None, **kwargs: Any
    ) -> EvaluationReport:
        """Fit on the history before ``cutoff`` and score what happened after it."""
        self._check_store(store)
        result: EvaluationReport = self._run_stage(
            "evaluate", store, lambda: self._evaluate(store, cutoff, **kwargs)
        )
        return result

    def save(self, path: str | Path) -> Path:
        """Save the fitted task to folder ``path`` (metadata JSON plus the task's own files)."""
        if not self.fitted:
            raise NotFittedError(f"Task {self.name!r} is not fitted: nothing to save")
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "task": self.name,
            "options": self.options.model_dump(mode="json"),
            "ecomlm_sdk_version": __version__,
        }
        (folder / METADATA_FILE).write_text(json.dumps(meta, indent=2))
        self._save(folder)
        return folder

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Load a task saved with :meth:`save`."""
        folder = Path(path)
        meta_path = folder / METADATA_FILE
        if not meta_path.is_file():
            raise TaskError(f"{folder} holds no saved task ({METADATA_FILE} is missing)")
        meta = json.loads(meta_path.read_text())
        if meta.get("task") != cls.name:
            raise TaskError(f"{folder} holds task {meta.get('task')!r}, not {cls.name!r}")
        task = cls(**meta.get("options", {}))
        task._load(folder)
        task.fitted = True
        return task

    # ------------------------------------------------------------------ internals
    def _run_stage(self, stage: str, store: EcomStore, run: Any) -> Any:
        from ecomlm_sdk.plugins import get_plugin_manager

        return get_plugin_manager().hook.run_task_stage(
            task=self, stage=stage, store=store, run=run
        )

    def _check_store(self, store: EcomStore) -> None:
        if not isinstance(store, EcomStore):
            raise TaskError(
                f"Task {self.name!r} needs an EcomStore, got {type(store).__name__}; "
                "use ecomlm_sdk.load_store(...) or ecomlm_sdk.sample_store()"
            )

    @abstractmethod
    def _fit(self, store: EcomStore) -> None:
        """Learn from the store."""

    @abstractmethod
    def _predict(self, store: EcomStore) -> pl.DataFrame:
        """Score the store."""

    @abstractmethod
    def _evaluate(self, store: EcomStore, cutoff: Cutoff | None, **kwargs: Any) -> EvaluationReport:
        """Evaluate leak-free: use ``store.split(cutoff)``."""

    @abstractmethod
    def _save(self, folder: Path) -> None:
        """Write fitted state into ``folder`` (safetensors/JSON/parquet; never pickle)."""

    @abstractmethod
    def _load(self, folder: Path) -> None:
        """Restore fitted state written by :meth:`_save`."""
