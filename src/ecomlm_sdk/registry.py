"""The component registry: every data source, model, task and ROI metric, by name, with its owner.

Components are collected by calling each plugin's ``register_*`` implementation separately, so
each component records the plugin that registered it. Names are case-insensitive; aliases are
names too. Two plugins registering one name is an error naming both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ecomlm_sdk.errors import PluginError, UnknownComponentError

__all__ = ["KINDS", "Registration", "Registry"]

#: Component kind -> (registration hook, human-readable name).
KINDS: Final[Mapping[str, tuple[str, str]]] = {
    "data_source": ("register_data_sources", "data source"),
    "model": ("register_models", "model"),
    "task": ("register_tasks", "task"),
    "roi_metric": ("register_roi_metrics", "ROI metric"),
}


@dataclass(frozen=True)
class Registration:
    """One registered component.

    Attributes:
        kind: One of :data:`KINDS`.
        name: The canonical name.
        component: The registered class.
        plugin: Name of the plugin that registered it.
        aliases: Other names that resolve to it.
    """

    kind: str
    name: str
    component: Any
    plugin: str
    aliases: tuple[str, ...] = ()


def _normalize(name: str) -> str:
    return name.strip().lower()


@dataclass
class Registry:
    """Components of every kind, indexed by name and alias."""

    _by_kind: dict[str, dict[str, Registration]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    _lookup: dict[str, dict[str, Registration]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )

    def add(self, registration: Registration) -> None:
        """Add a registration; raise :class:`PluginError` when a name is already taken."""
        table = self._lookup[registration.kind]
        label = KINDS[registration.kind][1]
        for key in (registration.name, *registration.aliases):
            existing = table.get(_normalize(key))
            if existing is not None:
                raise PluginError(
                    f"Duplicate {label} name {key!r}: registered by plugin {existing.plugin!r} "
                    f"and by plugin {registration.plugin!r}. Rename one, or block one with "
                    f"ECOMLM_DISABLE_PLUGINS={registration.plugin}."
                )
        for key in (registration.name, *registration.aliases):
            table[_normalize(key)] = registration
        self._by_kind[registration.kind][registration.name] = registration

    def get(self, kind: str, name: str) -> Registration:
        """Return the registration for ``name``; raise :class:`UnknownComponentError` if none."""
        found = self._lookup[kind].get(_normalize(name))
        if found is None:
            raise UnknownComponentError(KINDS[kind][1], name, self._lookup[kind].keys())
        return found

    def names(self, kind: str) -> list[str]:
        """Canonical names of every component of ``kind``, sorted."""
        return sorted(self._by_kind[kind])

    def registrations(self, kind: str | None = None) -> list[Registration]:
        """Every registration (of one kind, or of all kinds)."""
        kinds = [kind] if kind else list(KINDS)
        return [r for k in kinds for _, r in sorted(self._by_kind[k].items())]


def collect(
    kind: str,
    plugin: str,
    function: Callable[..., Any],
    argnames: Iterable[str],
    validate: Callable[[str, Any], str | None],
) -> list[Registration]:
    """Call one plugin's ``register_*`` implementation and return what it registered.

    Args:
        kind: The component kind the hook registers.
        plugin: The plugin's name, recorded as each component's owner.
        function: The plugin's hook implementation.
        argnames: The arguments the implementation accepts (a subset of the hookspec's).
        validate: Returns an error message when a component is not of the right base class.
    """
    found: list[Registration] = []
    label = KINDS[kind][1]

    def register(component: Any, *, name: str | None = None, aliases: Iterable[str] = ()) -> None:
        resolved = name or getattr(component, "name", None)
        if not isinstance(resolved, str) or not resolved:
            raise PluginError(
                f"Plugin {plugin!r} registered a {label} without a name: pass name=... to "
                "register() or give the class a `name` attribute."
            )
        problem = validate(kind, component)
        if problem:
            raise PluginError(f"Plugin {plugin!r} registered {label} {resolved!r}: {problem}")
        found.append(Registration(kind, resolved, component, plugin, tuple(aliases)))

    kwargs = {"register": register}
    function(**{k: v for k, v in kwargs.items() if k in set(argnames)})
    return found
