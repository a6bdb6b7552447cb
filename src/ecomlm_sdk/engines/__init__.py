"""Execution engines for batch jobs: in-process (``"local"``, the default) or a plugin's (Ray).

Pick one per call with ``engine="ray"``, for the process with ``ECOMLM_ENGINE=ray``, or on the
command line with ``--engine ray``. ``"auto"`` asks each registered engine whether it suits the
job's kind and size (:meth:`Engine.suits`) and stays in-process otherwise.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from ecomlm_sdk.engines.base import (
    ENGINE_ENV,
    JOB_KINDS,
    BatchPredictor,
    Engine,
    EngineOptions,
    ParquetInput,
    PredictorSpec,
    Snapshot,
    configure_worker,
    engine_from_env,
    map_slices,
    rows_label,
    run_guarded,
)
from ecomlm_sdk.engines.local import LocalEngine
from ecomlm_sdk.errors import EngineError
from ecomlm_sdk.plugins import get_registry, resolve, resolve_class

__all__ = [
    "ENGINE_ENV",
    "ENV_MIN_ROWS",
    "JOB_KINDS",
    "BatchPredictor",
    "Engine",
    "EngineArg",
    "EngineOptions",
    "LocalEngine",
    "ParquetInput",
    "PredictorSpec",
    "Snapshot",
    "choose_engine",
    "configure_worker",
    "get_engine",
    "map_slices",
    "rows_label",
    "run_guarded",
]

logger = logging.getLogger(__name__)

#: Jobs smaller than this stay in-process when the engine comes from ``ECOMLM_ENGINE``.
ENV_MIN_ROWS: Final = 1_000

#: What a batch method's ``engine=`` accepts: a registered name, an engine, or ``None``.
EngineArg = str | Engine | None


def get_engine(engine: EngineArg = None, **options: Any) -> Engine:
    """The engine named ``engine`` (default: ``ECOMLM_ENGINE``, else ``"local"``).

    ``engine`` may be an :class:`Engine` instance (returned as is) or a registered name;
    ``options`` go to the engine's constructor. ``"auto"`` is resolved by
    :func:`choose_engine`, which knows the job; here it means ``"local"``.
    """
    if isinstance(engine, Engine):
        return engine
    name = _name(engine)
    if name == "auto":
        name = "local"
    return resolve("engine", name, Engine, **options)


def choose_engine(engine: EngineArg, *, kind: str, rows: int) -> Engine | None:
    """The engine a batch method should hand its job to, or ``None`` to run it in-process.

    Args:
        engine: What the caller passed (``None``: ``ECOMLM_ENGINE``, else in-process).
        kind: The job's kind, one of :data:`JOB_KINDS`.
        rows: How many rows (texts, customers, tickets) the job has.

    ``ECOMLM_ENGINE`` (used when ``engine`` is ``None``) applies to jobs of at least
    :data:`ENV_MIN_ROWS` rows; a name given in the call always applies.

    Returns:
        ``None`` for the in-process path (``"local"``, or ``"auto"`` when no engine suits the
        job); otherwise the engine. An :class:`Engine` object is returned as given.
    """
    if kind not in JOB_KINDS:
        raise EngineError(f"unknown job kind {kind!r}; expected one of {list(JOB_KINDS)}")
    if isinstance(engine, Engine):
        # An engine object is used as given: LocalEngine() runs the job's batch predictors in
        # this process (how predictors are tested without a cluster).
        return engine
    name = _name(engine)
    if name == "local":
        return None
    if engine is None and rows < ENV_MIN_ROWS:
        # ECOMLM_ENGINE is for batch jobs: one customer's recommendations or a handful of
        # messages cost more to ship to a cluster than to compute here.
        logger.debug("%s=%s: a %s job of %d rows stays in-process", ENGINE_ENV, name, kind, rows)
        return None
    if name == "auto":
        for registration in get_registry().registrations("engine"):
            if registration.name == "local":
                continue
            cls = resolve_class("engine", registration.name, Engine)
            if cls.suits_job(kind, rows):
                return resolve("engine", registration.name, Engine)
        return None
    chosen = resolve("engine", name, Engine)
    return None if isinstance(chosen, LocalEngine) else chosen


def _name(engine: str | None) -> str:
    if engine is not None and not isinstance(engine, str):
        raise EngineError(
            f"engine must be a name such as 'local' or 'ray', or an Engine, got "
            f"{type(engine).__name__} ({engine!r})"
        )
    name = (engine.strip().lower() if engine else None) or engine_from_env() or "local"
    return name
