"""Registering a plugin for the length of a test, whether or not it is also installed."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final

from ecomlm_sdk.plugins import register_plugin, reset_plugins, unregister_plugin

__all__ = ["fresh_plugins", "registered_plugin"]

# The module itself: ``ecomlm_sdk.plugins`` the attribute is the ``plugins()`` function.
_plugins: Final[Any] = importlib.import_module("ecomlm_sdk.plugins")
_BLOCKED_REASON: Final = "blocked by ecomlm_sdk.testing.registered_plugin while a test registers it"


@dataclass(frozen=True)
class _Blocked:
    """An entry-point registration taken out for the length of a ``with`` block."""

    state: Any
    name: str
    plugin: object
    record: Any


def _same_plugin(registered: object, plugin: object) -> bool:
    if registered is plugin:
        return True
    # A module imported twice under one name (an installed copy and a source checkout) is still
    # the same plugin: its components would clash with themselves.
    return (
        isinstance(registered, ModuleType)
        and isinstance(plugin, ModuleType)
        and registered.__name__ == plugin.__name__
    )


def _block_installed_copies(plugin: object) -> list[_Blocked]:
    """Unregister every entry-point registration of ``plugin``; return what to restore."""
    state = _plugins._get_state()
    blocked: list[_Blocked] = []
    with _plugins._lock:
        for name, registered in list(state.pm.list_name_plugin()):
            record = state.records.get(name)
            from_entry_point = record is not None and (record.distribution or record.builtin)
            if name == _plugins.CORE_PLUGIN or not from_entry_point:
                continue
            if registered is None or not _same_plugin(registered, plugin):
                continue
            state.pm.unregister(name=name)
            state.records[name] = dataclasses.replace(
                record, status="skipped", reason=_BLOCKED_REASON, components=[]
            )
            state.registry = None
            blocked.append(_Blocked(state, name, registered, record))
    return blocked


def _restore(blocked: list[_Blocked]) -> None:
    with _plugins._lock:
        for item in blocked:
            # after a reset_plugins() inside the block, the new state loaded the entry point itself
            if _plugins._state is not item.state or item.state.pm.has_plugin(item.name):
                continue
            item.state.pm.register(item.plugin, name=item.name)
            item.state.records[item.name] = item.record
            item.state.registry = None


@contextmanager
def registered_plugin(plugin: object, name: str | None = None) -> Iterator[str]:
    """Register ``plugin`` for the length of a ``with`` block; always unregister it after.

    ``plugin`` is a module or an object with hook methods. When it is also installed (its
    entry point has loaded the same module), that entry-point registration is blocked for the
    block and restored after it, so the plugin's components are registered once, not twice
    under two names. The plugin's own entry-point name is then the default ``name``, so its
    components keep the owner they have in production.

    Example:
        ```py
        with testing.registered_plugin(ecomlm_woo) as name:
            testing.check_data_source(WooOrders, path="tests/fixtures/orders.csv")
        ```

    Yields:
        The name the plugin is registered under.
    """
    blocked = _block_installed_copies(plugin)
    if name is None and len(blocked) == 1:
        name = blocked[0].name
    try:
        plugin_name = register_plugin(plugin, name=name)
    except BaseException:
        _restore(blocked)
        raise
    try:
        yield plugin_name
    finally:
        unregister_plugin(plugin_name)
        _restore(blocked)


@contextmanager
def fresh_plugins() -> Iterator[None]:
    """Reload every plugin (re-reading ``ECOMLM_*`` env vars) on entry and again on exit."""
    reset_plugins()
    try:
        yield
    finally:
        reset_plugins()
