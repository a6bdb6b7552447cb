"""Every exception ecomlm-sdk raises on purpose.

The tree::

    EcomlmError                      base of everything below; catch this to catch them all
    ├── PluginError                  a plugin failed to import, register, or clashed with another
    │   └── IncompatiblePluginError  a plugin needs an SDK API version this SDK does not offer
    ├── UnknownComponentError        (also a KeyError) no component of that kind and name
    ├── DataSourceError              input data could not be read (names file, line, column, value)
    │   └── SchemaError              a table lacks required columns or has uncastable values
    ├── ModelError                   a model could not be loaded, trained or run
    │   └── NotFittedError           predict/evaluate called before fit
    ├── DeviceError                  the requested device is not usable
    ├── EngineError                  a batch job failed on an engine (names the rows and engine)
    ├── TaskError                    a task got inputs it cannot work with
    │   └── ComponentTypeError       (also a TypeError) a name resolves to the wrong base class
    ├── InvalidValueError            (also a ValueError) an argument not in an accepted form
    └── RoiError                     bad input to an ROI computation (names the column or value)

Every message says what failed, where, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches

__all__ = [
    "ComponentTypeError",
    "DataSourceError",
    "DeviceError",
    "EcomlmError",
    "EngineError",
    "IncompatiblePluginError",
    "InvalidValueError",
    "ModelError",
    "NotFittedError",
    "PluginError",
    "RoiError",
    "SchemaError",
    "TaskError",
    "UnknownComponentError",
]


class EcomlmError(Exception):
    """Base class of every error raised on purpose by ecomlm-sdk."""


class PluginError(EcomlmError):
    """A plugin failed to import or register, or two plugins registered the same name."""


class IncompatiblePluginError(PluginError):
    """A plugin declared an ``ecomlm_sdk_api`` range that excludes this SDK's API version."""


class UnknownComponentError(EcomlmError, KeyError):
    """No component of the requested kind has that name.

    Attributes:
        kind: The kind of component looked up (``"model"``, ``"data source"``, ...).
        name: The name that was asked for.
        available: The names that do exist.
        suggestion: The closest existing name, or ``None``.
    """

    def __init__(self, kind: str, name: str, available: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.available = sorted(available)
        matches = get_close_matches(name, self.available, n=1, cutoff=0.5)
        self.suggestion = matches[0] if matches else None
        hint = f" Did you mean {self.suggestion!r}?" if self.suggestion else ""
        listing = ", ".join(repr(a) for a in self.available) or "none"
        message = (
            f"Unknown {kind} {name!r}.{hint} Available {kind}s: {listing}. "
            "Run `ecomlm plugins` to see which plugin provides what."
        )
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.message


class DataSourceError(EcomlmError):
    """Input data could not be read; the message names the file, line, column and value."""


class SchemaError(DataSourceError):
    """A table does not match the canonical schema: a required column is missing or uncastable."""


class ModelError(EcomlmError):
    """A model could not be loaded, trained or run."""


class NotFittedError(ModelError):
    """A model or task was used before ``fit`` (or ``load``) gave it something to use."""


class DeviceError(EcomlmError):
    """The requested compute device cannot be used; the message says what to do instead."""


class EngineError(EcomlmError):
    """A batch job failed on an execution engine (in-process or Ray).

    The message names the engine, the job, the input rows of the failing block and the error
    raised there, and says how to fix it when the SDK knows.
    """


class TaskError(EcomlmError):
    """A task was given inputs it cannot work with."""


class ComponentTypeError(TaskError, TypeError):
    """A name resolves to a registered component of the wrong base class.

    Raised by :func:`ecomlm_sdk.plugins.resolve`, e.g. when a task is given a generator's name
    where it needs an embedder. It is a :class:`TaskError` because tasks are what resolve models
    by name, so code catching ``TaskError`` keeps catching it.
    """


class InvalidValueError(EcomlmError, ValueError):
    """An argument has a value the SDK cannot use, e.g. a cutoff that is not an ISO date.

    The message names the value and the accepted form. It is also a :class:`ValueError`, so
    code that caught the ``ValueError`` raised before 0.2 keeps catching it.
    """


class RoiError(EcomlmError):
    """Bad input to an ROI computation: the message names the column or value and the fix."""
