"""``Configurable``: the one validated ``__init__`` shared by data sources, models and tasks.

A component class is generic in its options model, so ``self.options`` has the subclass's
own type for mypy without a ``# type: ignore`` or an ``assert isinstance``::

    class MySource(DataSource[MyOptions]):
        name = "my-source"
        Options = MyOptions          # optional: taken from the type parameter when omitted

        def _load(self) -> EcomStore:
            return read(self.options.path)   # mypy knows options is MyOptions

A subclass written without a type parameter (``class MySource(DataSource): Options = ...``)
works unchanged at run time; mypy then sees the base's options type.

Options are validated once, here: a pydantic ``ValidationError`` becomes the component's own
error class (``DataSourceError``, ``ModelError``, ``TaskError``) naming the component by the
name it was looked up under (:func:`constructing_as`, used by ``plugins.resolve``) and listing
the accepted options.

This module sits in the lowest layers: it imports only pydantic and :mod:`ecomlm_sdk.errors`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar, Generic, get_args, get_origin

from pydantic import BaseModel, ValidationError
from typing_extensions import TypeVar

from ecomlm_sdk.errors import EcomlmError

__all__ = ["Configurable", "OptionsT", "constructing_as"]

#: The options model of a :class:`Configurable` subclass.
OptionsT = TypeVar("OptionsT", bound=BaseModel, default=BaseModel)

#: (class, registered name) of the component :func:`constructing_as` is creating.
_constructing: ContextVar[tuple[type, str] | None] = ContextVar("_constructing", default=None)


@contextmanager
def constructing_as(cls: type, name: str) -> Iterator[None]:
    """Within this block, an instance of exactly ``cls`` is created as ``name``.

    ``plugins.resolve`` wraps construction in it, so that an options error (and
    :attr:`Configurable.display_name`) names the component as the caller spelt it, also when it
    is registered under another name than its class's ``name``.
    """
    token = _constructing.set((cls, name))
    try:
        yield
    finally:
        _constructing.reset(token)


class Configurable(Generic[OptionsT]):
    """Validated, typed options for a component; the base of ``DataSource``, ``Model``, ``Task``.

    Subclasses set ``Options`` (a pydantic model, ``extra="forbid"``) or give it as the type
    parameter; component bases set :attr:`component_label` and :attr:`options_error`.
    """

    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]] = BaseModel
    #: How errors call this kind of component: "data source", "model", "task".
    component_label: ClassVar[str] = "component"
    #: The error raised for options that do not validate.
    options_error: ClassVar[type[EcomlmError]] = EcomlmError

    options: OptionsT
    #: The name this instance was created under (``plugins.resolve``), or ``None``.
    registered_as: str | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # ``class S(DataSource[MyOptions])`` without ``Options = MyOptions``: take the parameter.
        if "Options" in cls.__dict__:
            return
        for base in getattr(cls, "__orig_bases__", ()):
            origin = get_origin(base)
            if isinstance(origin, type) and issubclass(origin, Configurable):
                for arg in get_args(base):
                    if isinstance(arg, type) and issubclass(arg, BaseModel):
                        cls.Options = arg
                        return

    def __init__(self, **options: Any) -> None:
        current = _constructing.get()
        self.registered_as = (
            current[1] if current is not None and current[0] is type(self) else None
        )
        self.options = self.validate_options(options, as_name=self.registered_as)

    @classmethod
    def validate_options(cls, options: Mapping[str, Any], *, as_name: str | None = None) -> Any:
        """``cls.Options(**options)``, or :attr:`options_error` naming the component.

        Args:
            options: The keyword arguments given to the component.
            as_name: The name to use in the message (default: the class's ``name``).
        """
        try:
            return cls.Options(**options)
        except ValidationError as exc:
            shown = as_name or getattr(cls, "name", cls.__name__)
            raise cls.options_error(
                f"Invalid options for {cls.component_label} {shown!r}: {exc}. "
                f"Accepted options: {sorted(cls.Options.model_fields)}"
            ) from exc

    @property
    def display_name(self) -> str:
        """The name to show in messages: the registered name used to create it, else ``name``."""
        if self.registered_as:
            return self.registered_as
        return str(getattr(self, "name", type(self).__name__))
