"""``Task``: the base of purchase prediction, recommendation, support and any plugin's task.

``fit``, ``predict`` and ``evaluate`` run through the ``run_task_stage`` hook, so plugins can
wrap them (the built-in wrapper records timings and logs them).
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from typing_extensions import TypeVar as TypingTypeVar

from ecomlm_sdk._persist import (
    CODE_KEYS,
    WEIGHT_SOURCES,
    atomic_folder,
    check_no_code_or_redirect,
    check_version,
    file_manifest,
    read_json,
    scrub_sources,
    verify_manifest,
    write_json,
)
from ecomlm_sdk._version import __version__
from ecomlm_sdk.data.store import Cutoff, EcomStore
from ecomlm_sdk.engines import Engine, EngineArg, choose_engine
from ecomlm_sdk.errors import EcomlmError, ModelError, NotFittedError, TaskError
from ecomlm_sdk.options import Configurable
from ecomlm_sdk.plugins import call_hook, resolve_class
from ecomlm_sdk.registry import register_kind
from ecomlm_sdk.tasks.fingerprint import StoreMismatchWarning, store_fingerprint, store_mismatch

__all__ = ["EvaluateOptions", "EvaluationReport", "Task", "TaskOptions", "TaskOptionsT"]

_T = TypeVar("_T")

METADATA_FILE = "ecomlm_task.json"


class TaskOptions(BaseModel):
    """Options of a task. Subclass it, keep ``extra="forbid"``, describe every field."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    quiet: bool = Field(default=False, description="Hide progress bars.")


#: The options model of a :class:`Task` subclass.
TaskOptionsT = TypingTypeVar("TaskOptionsT", bound=TaskOptions, default=TaskOptions)


class EvaluateOptions(BaseModel):
    """Keyword arguments of a task's ``evaluate()`` besides ``store`` and ``cutoff``.

    A task subclasses it (``extra="forbid"``, every field described) and sets
    ``Task.EvaluateOptions``; :meth:`Task.evaluate` validates the arguments against it and
    passes the ones given on to ``_evaluate``. A field left ``None`` means "the task's option".
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


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


class Task(Configurable[TaskOptionsT], ABC):
    """A unit of business value computed from an :class:`EcomStore`.

    Subclasses set ``name`` and ``Options`` (or give the options model as the type parameter,
    ``Task[MyOptions]``, which also types ``self.options``) and implement the five abstract
    methods ``_fit``, ``_predict``, ``_evaluate``, ``_save`` and ``_load``.

    The base does the chores every task shares: it validates options (and, when
    ``EvaluateOptions`` is set, the keyword arguments of :meth:`evaluate`), refuses to predict or
    save before fitting, checks :meth:`predict`'s frame against ``output_schema``, gives
    ``_evaluate`` a fresh copy to train (:meth:`clone`), and on :meth:`load` drops the options
    that say where weights come from (:meth:`saved_model_options`).
    """

    name: ClassVar[str]
    Options: ClassVar[type[TaskOptions]] = TaskOptions
    component_label: ClassVar[str] = "task"
    options_error: ClassVar[type[EcomlmError]] = TaskError
    #: Keyword arguments :meth:`evaluate` accepts; ``None``: passed to ``_evaluate`` unchecked.
    EvaluateOptions: ClassVar[type[BaseModel] | None] = None
    #: Whether :meth:`evaluate` needs a ``cutoff`` (checked before ``_evaluate`` runs).
    requires_cutoff: ClassVar[bool] = False
    #: Column -> dtype of :meth:`predict`'s frame (checked after ``_predict``); ``None``: any.
    output_schema: ClassVar[Mapping[str, pl.DataType | type[pl.DataType]] | None] = None

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.fitted = False
        #: Set by :meth:`load` from its own argument only; models loaded by ``_load`` get it.
        self.trust_remote_code = False
        #: Seconds taken by the last run of each stage (filled by the built-in timing wrapper).
        self.timings: dict[str, float] = {}
        #: The store :meth:`fit` learned from (``tasks.fingerprint``); saved with the task.
        self.store_fingerprint: dict[str, Any] | None = None
        #: The baseline this task serves instead of its own model, when :meth:`evaluate` found
        #: the baseline better and the task's ``fallback_to_baseline`` option is on (what it
        #: holds is the task's to define); saved with the task. ``None``: the task's own model.
        self.fallback: dict[str, Any] | None = None

    # ------------------------------------------------------------------ public API
    def fit(self, store: EcomStore) -> Self:
        """Learn from ``store``; returns ``self`` so calls chain: ``task.fit(s).predict(s)``."""
        self._check_store(store)

        def run() -> Task[Any]:
            self._fit(store)
            self.fitted = True
            self.store_fingerprint = store_fingerprint(store)
            return self

        self._run_stage("fit", store, run)
        return self

    def predict(self, store: EcomStore, *, engine: EngineArg = None) -> pl.DataFrame:
        """Score ``store`` with what :meth:`fit` learned; returns a polars frame.

        Args:
            store: The store to score.
            engine: Where the batch job runs: ``None`` (``ECOMLM_ENGINE``, else in-process),
                ``"local"``, ``"ray"``, ``"auto"`` or an :class:`~ecomlm_sdk.engines.Engine`.
                A task that supports engines implements :meth:`_predict_on`; the result is the
                same frame as in-process.
        """
        self._check_store(store)
        if not self.fitted:
            raise NotFittedError(
                f"Task {self.name!r} is not fitted: call fit(store) or load() first"
            )
        self.check_store_matches(store)
        chosen = choose_engine(engine, kind=self.engine_job_kind, rows=self._job_rows(store))
        if chosen is None:
            result: pl.DataFrame = self._run_stage("predict", store, lambda: self._predict(store))
        else:
            result = self._run_stage("predict", store, lambda: self._predict_on(store, chosen))
        self._check_output(result)
        return result

    def clone(self) -> Self:
        """A new, unfitted task with the same options (``_evaluate`` trains one on the history)."""
        return type(self)(**self.options.model_dump())

    def evaluate(
        self, store: EcomStore, cutoff: Cutoff | None = None, **kwargs: Any
    ) -> EvaluationReport:
        """Fit on the history before ``cutoff`` and score what happened after it."""
        self._check_store(store)
        if cutoff is None and self.requires_cutoff:
            raise TaskError(
                f"{self.display_name}.evaluate() needs a cutoff, e.g. "
                "evaluate(store, cutoff='2011-09-09')"
            )
        given = self._evaluate_arguments(kwargs)
        result: EvaluationReport = self._run_stage(
            "evaluate", store, lambda: self._evaluate(store, cutoff, **given)
        )
        return result

    def check_store_matches(self, store: EcomStore) -> str | None:
        """Warn (:class:`StoreMismatchWarning`) when ``store`` is not the store fitted on.

        :meth:`predict` calls it; call it before scoring a store through a task's own methods
        (``recommend``, ``generate``, ``answer``). A newer export of the same shop matches.

        Returns:
            The warning's message, or ``None`` when the store matches (or nothing was recorded).
        """
        message = store_mismatch(self.store_fingerprint, store_fingerprint(store))
        if message is not None:
            warnings.warn(f"{self.name}: {message}", StoreMismatchWarning, stacklevel=2)
        return message

    def save(self, path: str | Path) -> Path:
        """Save the fitted task to folder ``path`` (metadata JSON plus the task's own files).

        The save is atomic: files are written into a hidden sibling folder that is renamed to
        ``path`` once complete, so a crash or a full disk never leaves a half-written folder and
        an earlier save at ``path`` survives a failed re-save. ``ecomlm_task.json`` records the
        sha256 of every file (checked by :meth:`load`). Options naming where weights come from
        (``backbone``, ``name_or_path``) and ``trust_remote_code`` are not saved: the task's
        ``_save`` writes the models it needs into the folder.
        """
        if not self.fitted:
            raise NotFittedError(f"Task {self.name!r} is not fitted: nothing to save")
        folder = Path(path)
        with atomic_folder(folder, marker=METADATA_FILE, error=TaskError) as temp:
            self._save(temp)
            meta = {
                "task": self.name,
                "options": scrub_sources(self.options.model_dump(mode="json")),
                "ecomlm_sdk_version": __version__,
                "store": self.store_fingerprint,
                "fallback": self.fallback,
                "manifest": file_manifest(temp, exclude=METADATA_FILE, error=TaskError),
            }
            write_json(temp / METADATA_FILE, meta)
        return folder

    @classmethod
    def load(cls, path: str | Path, *, trust_remote_code: bool = False) -> Self:
        """Load a task saved with :meth:`save`.

        ``Task.load(folder)`` on this base class loads any saved task: the class comes from the
        task name in ``ecomlm_task.json``, through the registry (as ``ecomlm_sdk.load_task``).

        The folder is checked before anything in it is used: the SDK version that wrote it, the
        sha256 of every file, and the saved options (which may neither enable remote code nor
        point at weights outside the folder).

        Args:
            path: The folder :meth:`save` wrote.
            trust_remote_code: Allow code shipped inside the folder's model files to run. Only
                this argument can allow it; saved metadata never does.

        Raises:
            TaskError: The folder is not a saved task of this kind, was written by another major
                SDK version, was changed since the save, or cannot be read; the message names
                the file.
        """
        folder = Path(path)
        meta_path = folder / METADATA_FILE
        if not meta_path.is_file():
            raise TaskError(f"{folder} holds no saved task ({METADATA_FILE} is missing)")
        meta = read_json(meta_path, error=TaskError, what="saved task")
        if not isinstance(meta, dict):
            raise TaskError(f"{meta_path} must hold a JSON object; save the task again")
        if getattr(cls, "name", None) is None:
            name = meta.get("task")
            if not isinstance(name, str):
                raise TaskError(f"{meta_path} names no task (key 'task'); save the task again")
            return resolve_class("task", name, cls).load(
                folder, trust_remote_code=trust_remote_code
            )
        if meta.get("task") != cls.name:
            raise TaskError(f"{folder} holds task {meta.get('task')!r}, not {cls.name!r}")
        check_version(meta.get("ecomlm_sdk_version"), metadata=meta_path, error=TaskError)
        verify_manifest(folder, meta.get("manifest"), metadata=meta_path, error=TaskError)
        options = meta.get("options", {})
        if not isinstance(options, dict):
            raise TaskError(f"{meta_path} key 'options' must be a JSON object; save the task again")
        check_no_code_or_redirect(options, metadata=meta_path, error=TaskError)
        try:
            task = cls(**options)
        except TaskError as exc:
            raise TaskError(f"{meta_path}: {exc}") from exc
        task.trust_remote_code = trust_remote_code
        fallback = meta.get("fallback")
        task.fallback = fallback if isinstance(fallback, dict) else None
        try:
            task._load(folder)
        except (TaskError, ModelError):
            raise
        except Exception as exc:
            raise TaskError(
                f"Saved task in {folder} could not be loaded ({type(exc).__name__}: {exc}); "
                "save it again"
            ) from exc
        task.fitted = True
        recorded = meta.get("store")
        task.store_fingerprint = recorded if isinstance(recorded, dict) else None
        return task

    # ------------------------------------------------------------------ helpers for subclasses
    def require_fitted(self, part: _T | None) -> _T:
        """``part`` (state ``_fit`` or ``_load`` sets), or :class:`NotFittedError` when unset."""
        if part is None:
            raise NotFittedError(
                f"Task {self.display_name!r} is not fitted: call fit(store) or load() first"
            )
        return part

    def saved_model_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Options for loading a model saved inside the task's folder.

        Options naming where weights come from (``backbone``, ``name_or_path``) are dropped, since
        the folder brings its own weights, and ``trust_remote_code`` comes only from the caller
        of :meth:`load`.
        """
        kept = {k: v for k, v in options.items() if k not in WEIGHT_SOURCES | CODE_KEYS}
        return {**kept, **self._remote_code()}

    # ------------------------------------------------------------------ engines
    #: The kind of batch job :meth:`predict` is (``engines.JOB_KINDS``), for ``engine="auto"``.
    engine_job_kind: ClassVar[str] = "customers"

    def _job_rows(self, store: EcomStore) -> int:
        """The size of :meth:`predict`'s job (for ``auto``): the store's customers by default."""
        return store.customers.height

    def _predict_on(self, store: EcomStore, engine: Engine) -> pl.DataFrame:
        """:meth:`_predict` on ``engine``; a task that can run elsewhere overrides it."""
        raise TaskError(
            f"Task {self.display_name!r} runs in-process only: drop engine= (or set "
            f"ECOMLM_ENGINE=local); engine {engine.display_name!r} is not supported by it"
        )

    # ------------------------------------------------------------------ internals
    def _evaluate_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.EvaluateOptions is None:
            return kwargs
        accepted = self.EvaluateOptions.model_fields
        unknown = sorted(set(kwargs) - set(accepted))
        takes = ", ".join(["cutoff", *accepted])
        if unknown:
            raise TaskError(
                f"{self.display_name}.evaluate() got unknown argument(s) {unknown}; it takes {takes}"
            )
        try:
            checked = self.EvaluateOptions(**kwargs)
        except ValidationError as exc:
            raise TaskError(f"{self.display_name}.evaluate() got invalid arguments: {exc}") from exc
        return checked.model_dump(exclude_unset=True)

    def _check_output(self, frame: Any) -> None:
        schema = self.output_schema
        if schema is None:
            return
        if not isinstance(frame, pl.DataFrame):
            raise TaskError(
                f"Task {self.display_name!r} predict() returned {type(frame).__name__}, "
                "not a polars DataFrame"
            )
        missing = [c for c in schema if c not in frame.columns]
        wrong = [
            f"{c} is {frame.schema[c]}, not {dtype}"
            for c, dtype in schema.items()
            if c in frame.columns and frame.schema[c] != dtype
        ]
        if missing or wrong:
            raise TaskError(
                f"Task {self.display_name!r} predict() returned a frame that does not match its "
                f"output_schema (missing: {missing}; wrong types: {wrong}); this is a bug in the "
                "task's _predict"
            )

    def _run_stage(self, stage: str, store: EcomStore, run: Any) -> Any:
        return call_hook("run_task_stage", task=self, stage=stage, store=store, run=run)

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
        """Restore fitted state written by :meth:`_save`.

        Load models only from ``folder``, passing :meth:`_remote_code` to their ``load()``.
        """

    def _remote_code(self) -> dict[str, bool]:
        """``{"trust_remote_code": True}`` when the caller of :meth:`load` allowed it, else ``{}``."""
        return {"trust_remote_code": True} if self.trust_remote_code else {}


register_kind("task", Task)
