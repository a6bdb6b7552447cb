"""The runtime's own ``run_task_stage`` implementations: the stage runner and the timing wrapper.

Registered by the plugin manager itself (as plugin ``ecomlm_sdk.stages``), not through an entry
point: ``Task.fit``, ``predict`` and ``evaluate`` only work while some implementation calls
``run()``, so these two stay even when ``ECOMLM_LOAD_PLUGINS`` or ``ECOMLM_DISABLE_PLUGINS``
leave every entry point out. The SDK's tasks and ROI metrics are components and come through
the ``ecomlm_sdk`` entry point (:mod:`ecomlm_sdk._builtins`) like any plugin's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Final

from ecomlm_sdk.hookspecs import hookimpl

if TYPE_CHECKING:
    from ecomlm_sdk.tasks.base import Task

__all__ = ["PLUGIN_NAME", "run_task_stage", "time_task_stage"]

#: The name these hooks are registered under in the plugin manager and the load report.
PLUGIN_NAME: Final = "ecomlm_sdk.stages"

logger = logging.getLogger("ecomlm_sdk.tasks")


@hookimpl(trylast=True)
def run_task_stage(run: Callable[[], Any]) -> Any:
    """Run the stage: the answer when no other implementation returns one."""
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
