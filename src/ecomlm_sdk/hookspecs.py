"""Every hook a plugin can implement.

Plugins implement hooks with :data:`ecomlm_sdk.hookimpl`::

    from ecomlm_sdk import hookimpl

    @hookimpl
    def register_models(register):
        register(MyGenerator)

Hooks are always called with keyword arguments, so an implementation may accept any subset of
the arguments. Registration hooks only build cheap objects: weights, tokenizers and CUDA are
touched when a component is first used, never at import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    from ecomlm_sdk.data.store import EcomStore
    from ecomlm_sdk.models.device import DeviceChoice
    from ecomlm_sdk.tasks.base import Task

PROJECT_NAME = "ecomlm_sdk"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class Register(Protocol):
    """The callback handed to every ``register_*`` hook."""

    def __call__(
        self, component: Any, *, name: str | None = None, aliases: tuple[str, ...] = ()
    ) -> None:
        """Register ``component`` under ``name`` (default: its ``name`` class attribute)."""


# ---------------------------------------------------------------------------------------------
# Registration: called once per plugin when the registry is first built
# ---------------------------------------------------------------------------------------------


@hookspec
def register_data_sources(register: Register) -> None:
    """Register data sources: classes deriving from :class:`ecomlm_sdk.DataSource`.

    Called once for each plugin, the first time the registry is needed.

    Args:
        register: Call ``register(cls, name=None, aliases=())`` for each data source. ``name``
            defaults to the class attribute ``name``. The component is recorded as owned by
            the plugin whose implementation made the call.
    """


@hookspec
def register_models(register: Register) -> None:
    """Register models: :class:`TextGenerator`, :class:`TextClassifier` or :class:`Embedder` classes.

    Called once for each plugin, the first time the registry is needed. Register classes (or
    cheap factories), never loaded weights.

    Args:
        register: Call ``register(cls, name=None, aliases=())`` for each model.
    """


@hookspec
def register_tasks(register: Register) -> None:
    """Register tasks: classes deriving from :class:`ecomlm_sdk.Task`.

    Called once for each plugin, the first time the registry is needed.

    Args:
        register: Call ``register(cls, name=None, aliases=())`` for each task.
    """


@hookspec
def register_roi_metrics(register: Register) -> None:
    """Register ROI metrics: classes deriving from :class:`ecomlm_sdk.RoiMetric`.

    Called once for each plugin, the first time the registry is needed.

    Args:
        register: Call ``register(cls, name=None, aliases=())`` for each metric.
    """


@hookspec
def register_engines(register: Register) -> None:
    """Register execution engines: classes deriving from :class:`ecomlm_sdk.engines.Engine`.

    An engine runs the SDK's batch jobs (scoring every customer, recommendations for every
    customer, classifying or embedding a text column, answering a ticket backlog) somewhere
    else than in this process: the built-in ``ecomlm_ray`` plugin registers ``"ray"``; a plugin
    can add Spark or Dask the same way. The SDK's own ``"local"`` engine (in-process) is the
    default and the reference. Called once for each plugin, the first time the registry is
    needed.

    Args:
        register: Call ``register(cls, name=None, aliases=())`` for each engine.
    """


# ---------------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def select_device(preference: str | None) -> DeviceChoice | None:
    """Choose the compute device (and dtype) a model runs on.

    Called whenever a model resolves its device. Stops at the first non-None result. The
    built-in ``ecomlm_gpu`` plugin implements it with ``trylast=True``, so any other plugin's
    implementation is asked first and can take over.

    Args:
        preference: What the caller asked for: ``None`` or ``"auto"`` for "pick the best",
            or a device string such as ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"mps"``.

    Returns:
        A :class:`ecomlm_sdk.DeviceChoice`, or ``None`` to let the next implementation decide.
    """


# ---------------------------------------------------------------------------------------------
# Task lifecycle
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def run_task_stage(task: Task, stage: str, store: EcomStore, run: Callable[[], Any]) -> Any:
    """Run one stage of a task: ``"fit"``, ``"predict"`` or ``"evaluate"``.

    Called by :meth:`Task.fit`, :meth:`Task.predict` and :meth:`Task.evaluate`. Stops at the
    first non-None result. The SDK's own implementation (``trylast``) simply returns
    ``run()``; implement it as a wrapper (``@hookimpl(wrapper=True)``) to observe or alter
    the stage, as the built-in timing wrapper does::

        @hookimpl(wrapper=True)
        def run_task_stage(task, stage):
            started = time.perf_counter()
            result = yield
            print(task.name, stage, time.perf_counter() - started)
            return result

    Args:
        task: The task instance whose stage runs.
        stage: ``"fit"``, ``"predict"`` or ``"evaluate"``.
        store: The store the stage reads.
        run: Zero-argument callable that performs the stage and returns its result.

    Returns:
        The stage's result (the task itself for ``fit``).
    """


# ---------------------------------------------------------------------------------------------
# Support actions
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def handle_support_action(action: str, order_id: str, customer_id: str) -> bool | None:
    """Carry out an action a support reply asks of the shop, e.g. cancel an order.

    Called by the ``support`` task's :meth:`~ecomlm_sdk.tasks.support.SupportTask.answer` when
    the signed-in customer asks for an action on one of their own orders that the shop can
    still take (today: ``"cancel_order"`` on an order not yet dispatched). Never called for
    another customer's order, by ``predict`` (a batch over stored tickets) or with
    ``answer(..., act=False)``. Stops at the first non-None result.

    Args:
        action: What to do: ``"cancel_order"``.
        order_id: The store's order id (``"#536365"``), owned by ``customer_id``.
        customer_id: The signed-in customer who asked.

    Returns:
        ``True`` when the plugin did it (or queued it in the shop's systems): the reply says the
        action was requested. ``False`` when it could not: the message is handed to a person
        (reason ``"action_needed"``), as when no plugin answers. ``None`` to let the next
        plugin decide.
    """
