"""The plugin manager: entry-point loading, the load report and the component registry.

Plugins are found through the entry-point group ``ecomlm_sdk``; the built-in plugins in
``plugins/`` are declared there exactly as a third party's would be. Loading is forgiving by
default: a plugin that fails to import, declares an incompatible API range, or raises while
registering is skipped with a warning and recorded in the load report, while every other
plugin keeps working. Environment variables:

* ``ECOMLM_STRICT_PLUGINS=1``: any such failure raises :class:`PluginError` instead.
* ``ECOMLM_LOAD_PLUGINS=a,b``: load only these entry points.
* ``ECOMLM_DISABLE_PLUGINS=a,b``: never load these entry points.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any, Final, Literal

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import BaseModel, ConfigDict

from ecomlm_sdk import hookspecs
from ecomlm_sdk._version import API_VERSION, __version__
from ecomlm_sdk.errors import IncompatiblePluginError, PluginError
from ecomlm_sdk.registry import KINDS, Registry, collect

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "PluginWarning",
    "get_plugin_manager",
    "get_registry",
    "plugin_report",
    "register_plugin",
    "reset_plugins",
    "unregister_plugin",
]

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP: Final = hookspecs.PROJECT_NAME
CORE_PLUGIN: Final = "ecomlm_sdk"
_DISTRIBUTION: Final = "ecomlm-sdk"


class PluginWarning(UserWarning):
    """Issued when a plugin is skipped because it failed to load or register."""


class PluginInfo(BaseModel):
    """One row of the plugin load report (``ecomlm plugins --json``)."""

    model_config = ConfigDict(frozen=True)

    name: str
    distribution: str | None
    version: str | None
    builtin: bool
    hooks: list[str]
    components: list[str]
    status: Literal["loaded", "skipped"]
    reason: str | None = None


@dataclass
class _Record:
    name: str
    distribution: str | None
    version: str | None
    builtin: bool
    status: Literal["loaded", "skipped"] = "loaded"
    reason: str | None = None
    components: list[str] = field(default_factory=list)


@dataclass
class _State:
    pm: pluggy.PluginManager
    records: dict[str, _Record]
    registry: Registry | None = None


_lock = threading.RLock()
_state: _State | None = None


def _env_list(name: str) -> set[str] | None:
    raw = os.environ.get(name, "").strip()
    return {part.strip() for part in raw.split(",") if part.strip()} if raw else None


def _strict() -> bool:
    return os.environ.get("ECOMLM_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


def _skip(state: _State, record: _Record, reason: str, exc: BaseException | None = None) -> None:
    """Record a skipped plugin; raise instead in strict mode (but never for an opt-out)."""
    record.status = "skipped"
    record.reason = reason
    state.records[record.name] = record
    if exc is not None and _strict():
        error_type = (
            IncompatiblePluginError if isinstance(exc, IncompatiblePluginError) else PluginError
        )
        raise error_type(
            f"Plugin {record.name!r} ({record.distribution or 'unknown distribution'}) could not "
            f"be loaded: {reason}. Fix or uninstall it, or unset ECOMLM_STRICT_PLUGINS to skip it."
        ) from exc
    if exc is not None:
        warnings.warn(
            f"ecomlm-sdk skipped plugin {record.name!r}: {reason}", PluginWarning, stacklevel=3
        )


def _check_api(module: ModuleType, name: str) -> None:
    declared = getattr(module, "ecomlm_sdk_api", None)
    if declared is None:
        return
    try:
        spec = SpecifierSet(str(declared))
    except InvalidSpecifier as exc:
        raise IncompatiblePluginError(
            f"its ecomlm_sdk_api = {declared!r} is not a version range like '>=1,<2'"
        ) from exc
    if str(API_VERSION) not in spec:
        raise IncompatiblePluginError(
            f"it needs ecomlm-sdk plugin API {declared} but this is API {API_VERSION} "
            f"(ecomlm-sdk {__version__}); upgrade the plugin or install a matching ecomlm-sdk"
        )


def _register_module(state: _State, plugin: object, record: _Record) -> None:
    """Register ``plugin`` and validate its hook names; skip it (or raise) on failure."""
    try:
        state.pm.register(plugin, name=record.name)
        state.pm.check_pending()
    except Exception as exc:
        if state.pm.has_plugin(record.name):
            state.pm.unregister(name=record.name)
        _skip(state, record, f"{type(exc).__name__}: {exc}", exc)
        return
    state.records[record.name] = record


def _load_entry_points(state: _State) -> None:
    only = _env_list("ECOMLM_LOAD_PLUGINS")
    disabled = _env_list("ECOMLM_DISABLE_PLUGINS") or set()
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        record = _Record(
            name=ep.name,
            distribution=dist.name if dist else None,
            version=dist.version if dist else None,
            builtin=bool(dist and dist.name == _DISTRIBUTION),
        )
        if ep.name in state.records:
            continue  # the same entry point seen twice (e.g. an editable install and a wheel)
        if only is not None and ep.name not in only:
            _skip(state, record, "not listed in ECOMLM_LOAD_PLUGINS")
            continue
        if ep.name in disabled:
            _skip(state, record, "disabled by ECOMLM_DISABLE_PLUGINS")
            continue
        try:
            module = ep.load()
            _check_api(module, ep.name)
        except Exception as exc:
            _skip(state, record, f"{type(exc).__name__}: {exc}", exc)
            continue
        _register_module(state, module, record)


def _new_state() -> _State:
    from ecomlm_sdk import _builtins

    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    state = _State(pm=pm, records={})
    record = _Record(CORE_PLUGIN, _DISTRIBUTION, __version__, builtin=True)
    _register_module(state, _builtins, record)
    _load_entry_points(state)
    return state


def _get_state() -> _State:
    global _state
    with _lock:
        if _state is None:
            _state = _new_state()
        return _state


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, created (and entry points loaded) on first use."""
    return _get_state().pm


def _validate(kind: str, component: Any) -> str | None:
    from ecomlm_sdk.data.source import DataSource
    from ecomlm_sdk.models.base import Embedder, TextClassifier, TextGenerator
    from ecomlm_sdk.roi.base import RoiMetric
    from ecomlm_sdk.tasks.base import Task

    bases: dict[str, tuple[type, ...]] = {
        "data_source": (DataSource,),
        "model": (TextGenerator, TextClassifier, Embedder),
        "task": (Task,),
        "roi_metric": (RoiMetric,),
    }
    expected = bases[kind]
    if isinstance(component, type) and issubclass(component, expected):
        return None
    names = " or ".join(b.__name__ for b in expected)
    return f"{component!r} is not a subclass of {names}"


def _build_registry(state: _State) -> Registry:
    registry = Registry()
    found: dict[str, list[Any]] = {}
    failed: set[str] = set()
    for kind, (hook_name, _) in KINDS.items():
        for impl in getattr(state.pm.hook, hook_name).get_hookimpls():
            plugin = impl.plugin_name
            if plugin in failed:
                continue
            try:
                found.setdefault(plugin, []).extend(
                    collect(kind, plugin, impl.function, impl.argnames, _validate)
                )
            except Exception as exc:
                failed.add(plugin)
                found.pop(plugin, None)
                state.pm.unregister(name=plugin)
                record = state.records[plugin]
                _skip(state, record, f"{hook_name} raised {type(exc).__name__}: {exc}", exc)
    for plugin in sorted(found, key=lambda p: (p != CORE_PLUGIN, p)):
        for registration in found[plugin]:
            registry.add(registration)
            state.records[plugin].components.append(f"{registration.kind}:{registration.name}")
    return registry


def get_registry() -> Registry:
    """The registry of every component, built from all loaded plugins on first use."""
    state = _get_state()
    with _lock:
        if state.registry is None:
            for record in state.records.values():
                record.components.clear()
            state.registry = _build_registry(state)
        return state.registry


def plugin_report() -> list[PluginInfo]:
    """The load report: one :class:`PluginInfo` per plugin seen, loaded or skipped."""
    state = _get_state()
    get_registry()
    rows = []
    for name, record in sorted(state.records.items()):
        plugin = state.pm.get_plugin(name) if record.status == "loaded" else None
        hooks = (
            sorted(caller.name for caller in state.pm.get_hookcallers(plugin) or [])
            if plugin is not None
            else []
        )
        rows.append(
            PluginInfo(
                name=name,
                distribution=record.distribution,
                version=record.version,
                builtin=record.builtin,
                hooks=hooks,
                components=sorted(record.components),
                status=record.status,
                reason=record.reason,
            )
        )
    return rows


def register_plugin(plugin: object, name: str | None = None) -> str:
    """Register an in-process plugin object (a module or an instance with hook methods).

    The registry is rebuilt on next use, so the plugin's components appear at once.

    Returns:
        The name the plugin was registered under (use it with :func:`unregister_plugin`).
    """
    state = _get_state()
    with _lock:
        plugin_name = name or getattr(plugin, "__name__", None) or f"plugin-{id(plugin)}"
        record = _Record(plugin_name, None, None, builtin=False)
        try:
            state.pm.register(plugin, name=plugin_name)
            state.pm.check_pending()
        except Exception as exc:
            if state.pm.has_plugin(plugin_name):
                state.pm.unregister(name=plugin_name)
            raise PluginError(f"Cannot register plugin {plugin_name!r}: {exc}") from exc
        state.records[plugin_name] = record
        state.registry = None
        return plugin_name


def unregister_plugin(name: str) -> None:
    """Remove a plugin registered with :func:`register_plugin`; the registry is rebuilt."""
    state = _get_state()
    with _lock:
        if state.pm.has_plugin(name):
            state.pm.unregister(name=name)
        state.records.pop(name, None)
        state.registry = None


def reset_plugins() -> None:
    """Forget the plugin manager; the next use reloads every entry point (re-reads the env)."""
    global _state
    with _lock:
        _state = None
