"""The component registry: every data source, model, task and ROI metric, by name, with its owner.

Components are collected by calling each plugin's ``register_*`` implementation separately, so
each component records the plugin that registered it. Names and aliases are compared after
:func:`normalize_name` (Unicode NFKC, surrounding whitespace stripped, case-folded), so
``" Shopify_CSV "`` and ``"shopify_csv"`` are one name.

When two plugins claim one name, :func:`resolve` decides, without regard to load order:

* a built-in plugin (one shipped in the ``ecomlm-sdk`` distribution) always keeps its names:
  a third-party component claiming one is skipped and the clash recorded;
* two third-party plugins claiming one name both lose it: neither component is registered
  under that name, and looking the name up raises :class:`PluginError` naming both;
* two built-in plugins claiming one name is a bug in the SDK and raises at once.

The registry knows the kinds (:data:`KINDS`) but not their base classes: each base declares
itself with :func:`register_kind` where it is defined (``DataSource`` in ``data/source.py``, the
three model bases in ``models/base.py``, ``Task``, ``RoiMetric``), so this runtime layer never
imports the components layered above it.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ecomlm_sdk.errors import PluginError, UnknownComponentError

__all__ = [
    "KINDS",
    "Conflict",
    "Registration",
    "Registry",
    "bases",
    "collect",
    "normalize_name",
    "register_kind",
    "resolve",
    "validate",
]

#: Component kind -> (registration hook, human-readable name).
KINDS: Final[Mapping[str, tuple[str, str]]] = {
    "data_source": ("register_data_sources", "data source"),
    "model": ("register_models", "model"),
    "task": ("register_tasks", "task"),
    "roi_metric": ("register_roi_metrics", "ROI metric"),
    "engine": ("register_engines", "engine"),
}


#: Kind -> the base classes declared for it with :func:`register_kind`.
_BASES: Final[dict[str, tuple[type, ...]]] = {kind: () for kind in KINDS}


def register_kind(kind: str, base: type) -> None:
    """Declare ``base`` as a base class for components of ``kind`` (one of :data:`KINDS`).

    Called once by the module defining each base, e.g. ``register_kind("model", Embedder)``.
    A registered component must subclass one of its kind's bases.

    Raises:
        PluginError: ``kind`` is not one of :data:`KINDS`.
    """
    if kind not in KINDS:
        raise PluginError(
            f"register_kind() got unknown component kind {kind!r}; expected one of {sorted(KINDS)}"
        )
    if base not in _BASES[kind]:
        _BASES[kind] = (*_BASES[kind], base)


def bases(kind: str) -> tuple[type, ...]:
    """The base classes declared for ``kind`` with :func:`register_kind`, in declaration order."""
    return _BASES[kind]


def validate(kind: str, component: Any) -> str | None:
    """``None`` when ``component`` is a subclass of a base of ``kind``, else what is wrong."""
    expected = _BASES[kind]
    if isinstance(component, type) and expected and issubclass(component, expected):
        return None
    names = " or ".join(b.__name__ for b in expected) or f"a declared {KINDS[kind][1]} base"
    return f"{component!r} is not a subclass of {names}"


def normalize_name(name: str) -> str:
    """The form names are compared in: NFKC, surrounding whitespace stripped, case-folded."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


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

    def lookup_keys(self) -> list[str]:
        """The normalized name and aliases, each once, name first."""
        return list(dict.fromkeys(normalize_name(n) for n in (self.name, *self.aliases)))


@dataclass(frozen=True)
class Conflict:
    """Two or more plugins claimed one (normalized) name of one kind.

    Attributes:
        kind: One of :data:`KINDS`.
        name: The contested name, normalized.
        plugins: Every plugin that claimed it, sorted.
        kept: The built-in plugin that keeps the name, or ``None`` when nobody gets it.
    """

    kind: str
    name: str
    plugins: tuple[str, ...]
    kept: str | None

    @property
    def losers(self) -> tuple[str, ...]:
        """The plugins whose claim was refused."""
        return tuple(p for p in self.plugins if p != self.kept)

    def message(self) -> str:
        """One line saying what happened and how to fix it."""
        label = KINDS[self.kind][1]
        losers = " and ".join(repr(p) for p in self.losers)
        if self.kept is not None:
            return (
                f"{label} name {self.name!r} belongs to built-in plugin {self.kept!r}, so the "
                f"{label} plugin {losers} registered under it was skipped; rename it in that "
                "plugin."
            )
        return (
            f"{label} name {self.name!r} is claimed by plugins {losers}, so neither gets it. "
            f"Rename it in one plugin, or block one with ECOMLM_DISABLE_PLUGINS={self.losers[0]}."
        )


@dataclass
class Registry:
    """Components of every kind, indexed by normalized name and alias."""

    _by_kind: dict[str, dict[str, Registration]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    _lookup: dict[str, dict[str, Registration]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    _contested: dict[str, dict[str, Conflict]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    conflicts: list[Conflict] = field(default_factory=list)

    def add(self, registration: Registration) -> None:
        """Add a registration; raise :class:`PluginError` when a name is already taken."""
        table = self._lookup[registration.kind]
        label = KINDS[registration.kind][1]
        for key in registration.lookup_keys():
            existing = table.get(key) or self._contested[registration.kind].get(key)
            if existing is not None:
                owner = existing.plugin if isinstance(existing, Registration) else existing.plugins
                raise PluginError(
                    f"Duplicate {label} name {key!r}: registered by plugin {owner!r} and by "
                    f"plugin {registration.plugin!r}. Rename one, or block one with "
                    f"ECOMLM_DISABLE_PLUGINS={registration.plugin}."
                )
        for key in registration.lookup_keys():
            table[key] = registration
        self._by_kind[registration.kind][registration.name] = registration

    def contest(self, conflict: Conflict) -> None:
        """Mark a name that nobody gets: looking it up raises naming every claimant."""
        self._contested[conflict.kind][conflict.name] = conflict

    def get(self, kind: str, name: str) -> Registration:
        """Return the registration for ``name``.

        Raises:
            UnknownComponentError: No component of ``kind`` has that name.
            PluginError: Several third-party plugins claimed the name, so none has it.
        """
        key = normalize_name(name)
        found = self._lookup[kind].get(key)
        if found is not None:
            return found
        contested = self._contested[kind].get(key)
        if contested is not None:
            raise PluginError(f"Cannot use {KINDS[kind][1]} {name!r}: {contested.message()}")
        raise UnknownComponentError(KINDS[kind][1], name, self._lookup[kind].keys())

    def names(self, kind: str) -> list[str]:
        """Canonical names of every component of ``kind``, sorted."""
        return sorted(self._by_kind[kind])

    def find(self, kind: str, *, capability: str | None = None) -> list[Registration]:
        """Every registration of ``kind`` (sorted by name) that declares ``capability``.

        A component declares capability ``x`` with a true class attribute ``can_x``, e.g. a
        data source that writes sets ``can_write = True``; ``capability=None`` matches all.
        """
        return [
            r
            for r in self.registrations(kind)
            if capability is None or getattr(r.component, f"can_{capability}", False) is True
        ]

    def registrations(self, kind: str | None = None) -> list[Registration]:
        """Every registration (of one kind, or of all kinds)."""
        kinds = [kind] if kind else list(KINDS)
        return [r for k in kinds for _, r in sorted(self._by_kind[k].items())]


def _claims(registrations: Iterable[Registration]) -> dict[str, list[Registration]]:
    claims: dict[str, list[Registration]] = {}
    for registration in registrations:
        for key in registration.lookup_keys():
            claims.setdefault(key, []).append(registration)
    return claims


def _resolve_kind(
    kind: str, registrations: list[Registration], builtins: Collection[str], registry: Registry
) -> None:
    label = KINDS[kind][1]
    # Pass 1: a built-in keeps every name it registers; third-party claimants are dropped whole.
    dropped: set[int] = set()
    for key, claimants in _claims(registrations).items():
        owners = sorted({r.plugin for r in claimants if r.plugin in builtins})
        if len(owners) > 1:
            raise PluginError(
                f"Built-in plugins {owners} both register {label} {key!r}: a bug in "
                "ecomlm-sdk; please report it"
            )
        others = [r for r in claimants if r.plugin not in builtins]
        if owners and others:
            dropped.update(id(r) for r in others)
            plugins = tuple(sorted({owners[0], *(r.plugin for r in others)}))
            registry.conflicts.append(Conflict(kind, key, plugins, kept=owners[0]))
    survivors = [r for r in registrations if id(r) not in dropped]
    # Pass 2: a name several third parties claim goes to none of them.
    contested: dict[str, Conflict] = {}
    for key, claimants in _claims(survivors).items():
        if len(claimants) > 1:
            plugins = tuple(sorted({r.plugin for r in claimants}))
            contested[key] = Conflict(kind, key, plugins, kept=None)
    for conflict in contested.values():
        registry.conflicts.append(conflict)
        registry.contest(conflict)
    for registration in survivors:
        if normalize_name(registration.name) in contested:
            continue  # its own name is contested: registering it under aliases alone misleads
        aliases = tuple(a for a in registration.aliases if normalize_name(a) not in contested)
        registry.add(dataclasses.replace(registration, aliases=aliases))


def resolve(registrations: Iterable[Registration], builtins: Collection[str]) -> Registry:
    """Build a registry from every plugin's registrations, settling name clashes.

    Args:
        registrations: What every plugin registered (see :func:`collect`).
        builtins: Names of the plugins shipped with ecomlm-sdk, which keep their names.

    Returns:
        The registry; its ``conflicts`` list every clash that was settled.

    Raises:
        PluginError: Two built-in plugins register one name.
    """
    registry = Registry()
    by_kind: dict[str, list[Registration]] = {kind: [] for kind in KINDS}
    for registration in registrations:
        by_kind[registration.kind].append(registration)
    for kind, found in by_kind.items():
        _resolve_kind(kind, found, builtins, registry)
    return registry


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

    Raises:
        PluginError: A component has no name, an empty or non-string alias, is not of the
            right base class, or reuses a name the same plugin already registered.
    """
    found: list[Registration] = []
    taken: dict[str, str] = {}
    label = KINDS[kind][1]

    def register(component: Any, *, name: str | None = None, aliases: Iterable[str] = ()) -> None:
        resolved = name or getattr(component, "name", None)
        if not isinstance(resolved, str) or not resolved.strip():
            raise PluginError(
                f"Plugin {plugin!r} registered a {label} without a name: pass name=... to "
                "register() or give the class a `name` attribute."
            )
        alias_list = tuple(aliases)
        if any(not isinstance(a, str) or not a.strip() for a in alias_list):
            raise PluginError(
                f"Plugin {plugin!r} registered {label} {resolved!r} with aliases {alias_list!r}; "
                "every alias must be a non-empty string"
            )
        problem = validate(kind, component)
        if problem:
            raise PluginError(f"Plugin {plugin!r} registered {label} {resolved!r}: {problem}")
        registration = Registration(kind, resolved, component, plugin, alias_list)
        for key in registration.lookup_keys():
            if key in taken:
                raise PluginError(
                    f"Plugin {plugin!r} registered {label} name {key!r} twice ({taken[key]!r} "
                    f"and {resolved!r}); names are compared case-insensitively, ignoring "
                    "surrounding spaces"
                )
            taken[key] = resolved
        found.append(registration)

    kwargs = {"register": register}
    function(**{k: v for k, v in kwargs.items() if k in set(argnames)})
    return found
