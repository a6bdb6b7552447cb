"""The plugin manager: entry-point loading, the load report and the component registry.

Plugins are found through the entry-point group ``ecomlm_sdk``; the built-in plugins in
``plugins/`` are declared there exactly as a third party's would be. Loading is forgiving by
default: a plugin that fails to import, declares an incompatible API range, or raises while
registering is skipped with a warning and recorded in the load report, while every other
plugin keeps working. Environment variables:

* ``ECOMLM_STRICT_PLUGINS=1``: any such failure raises :class:`PluginError` instead.
* ``ECOMLM_LOAD_PLUGINS=a,b``: load only these entry points, besides the SDK's own
  ``ecomlm_sdk`` entry point (its tasks and ROI metrics), which an allow-list of optional
  plugins never drops; name it in ``ECOMLM_DISABLE_PLUGINS`` to leave it out.
* ``ECOMLM_DISABLE_PLUGINS=a,b``: never load these entry points.

The SDK's own tasks and ROI metrics come through the entry point ``ecomlm_sdk``
(:mod:`ecomlm_sdk._builtins`) like any plugin's. Only the task-stage runner
(:mod:`ecomlm_sdk.stages`) is registered directly, because ``Task.fit`` needs it even when
every entry point is disabled.

A plugin cannot take the SDK down with it: anything it raises at import or while registering
(``SystemExit`` included; only ``KeyboardInterrupt`` passes) skips that plugin, whatever it
prints meanwhile goes to the log instead of stdout (so ``--json`` output stays valid), a name
clash is settled by :func:`ecomlm_sdk.registry.resolve` (built-ins keep their names), and an
exception from a runtime hook becomes a :class:`PluginError` naming the plugin
(:func:`call_hook`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any, Final, Literal, TypeVar, cast

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict

from ecomlm_sdk import hookspecs, stages
from ecomlm_sdk._version import API_VERSION, __version__
from ecomlm_sdk.errors import ComponentTypeError, EcomlmError, IncompatiblePluginError, PluginError
from ecomlm_sdk.options import constructing_as
from ecomlm_sdk.registry import (
    KINDS,
    Registration,
    Registry,
    collect,
    normalize_name,
    validate,
)
from ecomlm_sdk.registry import resolve as settle_clashes

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "PluginWarning",
    "call_hook",
    "get_plugin_manager",
    "get_registry",
    "plugin_report",
    "register_plugin",
    "reset_plugins",
    "resolve",
    "resolve_class",
    "unregister_plugin",
]

logger = logging.getLogger(__name__)

C = TypeVar("C")

ENTRY_POINT_GROUP: Final = hookspecs.PROJECT_NAME
#: The entry-point name of the SDK's own plugin (tasks and ROI metrics, :mod:`ecomlm_sdk._builtins`).
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
    conflicts: list[str] = []


@dataclass
class _Record:
    name: str
    distribution: str | None
    version: str | None
    builtin: bool
    status: Literal["loaded", "skipped"] = "loaded"
    reason: str | None = None
    components: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


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


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"SystemExit: it called sys.exit({exc.code!r})"
    return f"{type(exc).__name__}: {exc}"


@contextlib.contextmanager
def _stdout_to_log(plugin: str) -> Iterator[None]:
    """Keep a plugin's prints off stdout (which may carry ``--json``); log them instead."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    finally:
        text = buffer.getvalue().strip()
        if text:
            logger.warning("plugin %r printed while loading (kept off stdout): %s", plugin, text)


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
        _skip(state, record, _describe(exc), exc)
        return
    state.records[record.name] = record


def _is_builtin(dist: metadata.Distribution | None) -> bool:
    return dist is not None and canonicalize_name(dist.name) == _DISTRIBUTION


def _load_entry_points(state: _State) -> None:
    only = _env_list("ECOMLM_LOAD_PLUGINS")
    disabled = _env_list("ECOMLM_DISABLE_PLUGINS") or set()
    entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    # Built-ins first, so a third party can never take a built-in's plugin name.
    for ep in sorted(entry_points, key=lambda e: (not _is_builtin(e.dist), e.name)):
        dist = ep.dist
        record = _Record(
            name=ep.name,
            distribution=dist.name if dist else None,
            version=dist.version if dist else None,
            builtin=_is_builtin(dist),
        )
        taken = next(
            (
                r
                for r in state.records.values()
                if normalize_name(r.name) == normalize_name(ep.name)
            ),
            None,
        )
        if taken is not None:
            if taken.distribution == record.distribution:
                continue  # the same entry point seen twice (e.g. an editable install and a wheel)
            record.name = f"{ep.name}@{record.distribution}"
            reason = (
                f"its entry-point name {ep.name!r} is taken by plugin {taken.name!r} of "
                f"{taken.distribution or 'an unknown distribution'}; rename the entry point"
            )
            _skip(state, record, reason, PluginError(reason))
            continue
        core = record.builtin and ep.name == CORE_PLUGIN
        if only is not None and ep.name not in only and not core:
            _skip(state, record, "not listed in ECOMLM_LOAD_PLUGINS")
            continue
        if ep.name in disabled:
            _skip(state, record, "disabled by ECOMLM_DISABLE_PLUGINS")
            continue
        try:
            with _stdout_to_log(ep.name):
                module = ep.load()
            _check_api(module, ep.name)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: a plugin must not end the process
            _skip(state, record, _describe(exc), exc)
            continue
        _register_module(state, module, record)


def _new_state() -> _State:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    state = _State(pm=pm, records={})
    record = _Record(stages.PLUGIN_NAME, _DISTRIBUTION, __version__, builtin=True)
    _register_module(state, stages, record)
    _load_entry_points(state)
    return state


def _get_state() -> _State:
    global _state
    with _lock:
        if _state is None:
            _state = _new_state()
        return _state


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, created (and entry points loaded) on first use.

    Call hooks through :func:`call_hook`, which names the plugin when one fails.
    """
    return _get_state().pm


def _collect_all(state: _State) -> list[Registration]:
    """Call every plugin's ``register_*`` hooks one plugin at a time; skip a plugin that fails."""
    found: dict[str, list[Registration]] = {}
    failed: set[str] = set()
    for kind, (hook_name, _) in KINDS.items():
        for impl in getattr(state.pm.hook, hook_name).get_hookimpls():
            plugin = impl.plugin_name
            if plugin in failed:
                continue
            try:
                with _stdout_to_log(plugin):
                    registrations = collect(kind, plugin, impl.function, impl.argnames, validate)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                failed.add(plugin)
                found.pop(plugin, None)
                state.pm.unregister(name=plugin)
                record = state.records[plugin]
                _skip(state, record, f"{hook_name} raised {_describe(exc)}", exc)
                continue
            found.setdefault(plugin, []).extend(registrations)
    return [r for plugin in sorted(found) for r in found[plugin]]


def _build_registry(state: _State) -> Registry:
    builtins = {name for name, record in state.records.items() if record.builtin}
    registry = settle_clashes(_collect_all(state), builtins)
    for conflict in registry.conflicts:
        message = conflict.message()
        if _strict():
            raise PluginError(f"{message} (ECOMLM_STRICT_PLUGINS is set, so this is an error)")
        warnings.warn(f"ecomlm-sdk: {message}", PluginWarning, stacklevel=4)
        for plugin in conflict.plugins:
            state.records[plugin].conflicts.append(message)
    for registration in registry.registrations():
        state.records[registration.plugin].components.append(
            f"{registration.kind}:{registration.name}"
        )
    return registry


def get_registry() -> Registry:
    """The registry of every component, built from all loaded plugins on first use."""
    state = _get_state()
    with _lock:
        if state.registry is None:
            for record in state.records.values():
                record.components.clear()
                record.conflicts.clear()
            state.registry = _build_registry(state)
        return state.registry


def _article(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def resolve_class(kind: str, name: str, base: Callable[..., C] | type[C]) -> type[C]:
    """The class registered as ``name`` among components of ``kind``, checked against ``base``.

    Use it where a class, not an instance, is needed (``cls.load(folder)``); see :func:`resolve`.
    ``base`` is a class (typed also as a callable so that mypy accepts an abstract, generic base).

    Raises:
        UnknownComponentError: No component of ``kind`` has that name (the message lists those
            that do).
        PluginError: Several third-party plugins claimed the name, so none has it.
        ComponentTypeError: The name is registered, but not as a subclass of ``base``.
    """
    if not isinstance(base, type):
        raise ComponentTypeError(
            f"resolve_class() needs a class as base (e.g. Embedder), got {base!r}"
        )
    registration = get_registry().get(kind, name)
    cls = registration.component
    if isinstance(cls, type) and issubclass(cls, base):
        return cast("type[C]", cls)
    label = KINDS[kind][1]
    fitting = [
        r.name
        for r in get_registry().registrations(kind)
        if isinstance(r.component, type) and issubclass(r.component, base)
    ]
    raise ComponentTypeError(
        f"{label.capitalize()} {name!r} (plugin {registration.plugin!r}) is a "
        f"{getattr(cls, '__name__', cls)}, not {_article(base.__name__)}; pass the name of a registered "
        f"{base.__name__} ({', '.join(map(repr, fitting)) or 'none is registered'})"
    )


def resolve(kind: str, name: str, base: Callable[..., C] | type[C], /, **options: Any) -> C:
    """Create the component registered as ``name`` (a ``kind``, subclassing ``base``).

    The one name-to-component lookup: ``load_store``, ``load_model``, ``task`` and every task
    that uses a model by name go through it, so a plugin can swap any component by name.

    Example:
        ```python
        embedder = resolve("model", "minilm-embedder", Embedder, device="cpu")
        ```

    Raises:
        UnknownComponentError: No component of ``kind`` has that name.
        PluginError: Several third-party plugins claimed the name, so none has it.
        ComponentTypeError: The name is registered, but not as a subclass of ``base``.
    """
    cls = resolve_class(kind, name, base)
    # Errors name the component by its registered name, which may differ from its class's.
    with constructing_as(cls, get_registry().get(kind, name).name):
        return cls(**options)


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
                conflicts=list(record.conflicts),
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Runtime hooks
# ---------------------------------------------------------------------------------------------

#: Keyword arguments that are the SDK's own callbacks (run_task_stage's ``run``): an error they
#: raise is the task's, not a plugin's, and passes through unchanged.
_SDK_CALLBACKS: Final = frozenset({"run"})


def _culprit(hook: pluggy.HookCaller, exc: BaseException) -> str | None:
    """The plugin whose hook implementation raised ``exc``, read from its traceback.

    The innermost traceback frame that runs one of the hook's implementations is the one that
    raised (or called what raised): a wrapper that only re-raises sits further out. A method
    shared by two plugin instances is told apart by the frame's ``self``.
    """
    owners: dict[Any, list[tuple[str, object]]] = {}
    for impl in hook.get_hookimpls():
        code = getattr(impl.function, "__code__", None)
        if code is not None:
            owners.setdefault(code, []).append((impl.plugin_name, impl.plugin))
    culprit = None
    tb = exc.__traceback__
    while tb is not None:
        candidates = owners.get(tb.tb_frame.f_code, [])
        if len(candidates) > 1:
            this = tb.tb_frame.f_locals.get("self")
            candidates = [c for c in candidates if c[1] is this] or candidates
        if candidates:
            culprit = candidates[0][0]
        tb = tb.tb_next
    return culprit


def call_hook(name: str, /, **kwargs: Any) -> Any:
    """Call runtime hook ``name`` with keyword arguments; a failing plugin is named.

    An exception a plugin raises (``SystemExit`` included, ``KeyboardInterrupt`` excepted)
    becomes ``PluginError: plugin 'x' failed in <hook>: <original>``, chained to the original.
    An :class:`~ecomlm_sdk.errors.EcomlmError` passes through unchanged (it already says what
    to do, e.g. a ``DeviceError`` for a missing GPU), with a note naming the plugin; so does
    whatever the SDK's own callbacks (``run``) raise, which is the task's error.

    Raises:
        PluginError: A plugin's implementation raised.
    """
    hook: pluggy.HookCaller = getattr(get_plugin_manager().hook, name)
    own: list[BaseException] = []

    def guard(callback: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(*args: Any, **kw: Any) -> Any:
            try:
                return callback(*args, **kw)
            except BaseException as exc:
                own.append(exc)
                raise

        return guarded

    for key in _SDK_CALLBACKS & kwargs.keys():
        kwargs[key] = guard(kwargs[key])
    try:
        return hook(**kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        if any(exc is mine for mine in own):
            raise
        plugin = _culprit(hook, exc)
        if isinstance(exc, EcomlmError):
            if plugin is not None:
                exc.add_note(f"raised by plugin {plugin!r} in {name}")
            raise
        if plugin is None:
            implementers = ", ".join(repr(i.plugin_name) for i in hook.get_hookimpls())
            raise PluginError(
                f"a plugin failed in {name} (implemented by {implementers}): {_describe(exc)}. "
                "Run with --debug for the traceback, then fix or disable that plugin with "
                "ECOMLM_DISABLE_PLUGINS"
            ) from exc
        raise PluginError(
            f"plugin {plugin!r} failed in {name}: {_describe(exc)}. Fix or update the plugin, "
            f"or disable it with ECOMLM_DISABLE_PLUGINS={plugin}"
        ) from exc


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
