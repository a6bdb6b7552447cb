"""The SDK's own plugin: core tasks, ROI metrics, and the task-stage runner and timing wrapper.

Registered under the name ``ecomlm_sdk`` before any entry point is loaded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from typing import Any

from ecomlm_sdk.hookspecs import Register, hookimpl
from ecomlm_sdk.roi.metrics import BUILTIN_METRICS
from ecomlm_sdk.tasks.base import Task

logger = logging.getLogger("ecomlm_sdk.tasks")


@hookimpl
def register_roi_metrics(register: Register) -> None:
    for metric in BUILTIN_METRICS:
        register(metric)


@hookimpl
def register_tasks(register: Register) -> None:
    from ecomlm_sdk.tasks import BUILTIN_TASKS

    for task in BUILTIN_TASKS:
        register(task)


@hookimpl(trylast=True)
def run_task_stage(run: Callable[[], Any]) -> Any:
    return run()


@hookimpl(wrapper=True, specname="run_task_stage")
def time_task_stage(task: Task, stage: str) -> Generator[None, Any, Any]:
    """Record how long each stage took in ``task.timings`` and log it."""
    started = time.perf_counter()
    try:
        return (yield)
    finally:
        elapsed = time.perf_counter() - started
        task.timings[stage] = elapsed
        logger.info("task %s: %s took %.2fs", task.name, stage, elapsed)
