"""``DataSource``: the base every data source plugin derives from."""

from __future__ import annotations

import csv
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
from pydantic import BaseModel, ConfigDict
from typing_extensions import TypeVar

from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import DataSourceError, EcomlmError
from ecomlm_sdk.options import Configurable
from ecomlm_sdk.registry import register_kind

__all__ = ["DataSource", "DataSourceOptions", "SourceOptionsT"]


class DataSourceOptions(BaseModel):
    """Options of a data source. Subclass it, keep ``extra="forbid"``, describe every field."""

    model_config = ConfigDict(extra="forbid", frozen=True)


#: The options model of a :class:`DataSource` subclass.
SourceOptionsT = TypeVar("SourceOptionsT", bound=DataSourceOptions, default=DataSourceOptions)


class DataSource(Configurable[SourceOptionsT], ABC):
    """Reads a shop's data into an :class:`EcomStore`.

    Subclasses set ``name`` and ``Options`` (or give the options model as the type parameter,
    ``DataSource[MyOptions]``, which also types ``self.options``) and implement :meth:`_load`.
    Options are validated once by the shared base (:class:`~ecomlm_sdk.options.Configurable`).
    The public :meth:`load` validates the result and wraps unexpected exceptions in
    :class:`DataSourceError` naming the source, so callers catch one exception type.

    A source that can also write a store back in its own format declares it: it sets
    ``can_write = True`` and implements the classmethod :meth:`_write`; callers reach it by
    name through the registry with ``store.write(name, folder)``, or find every writer with
    ``get_registry().find("data_source", capability="write")``.

    Example:
        ```python
        class MyOptions(DataSourceOptions):
            path: str

        class MySource(DataSource[MyOptions]):
            name = "my-source"

            def _load(self) -> EcomStore:  # self.options is a MyOptions
                return EcomStore(orders=..., order_lines=...)
        ```
    """

    name: ClassVar[str]
    Options: ClassVar[type[DataSourceOptions]] = DataSourceOptions
    #: Whether :meth:`write` works: the source implements :meth:`_write`.
    can_write: ClassVar[bool] = False
    component_label: ClassVar[str] = "data source"
    options_error: ClassVar[type[EcomlmError]] = DataSourceError

    def load(self) -> EcomStore:
        """Read the data and return a validated :class:`EcomStore`.

        A foreign exception is wrapped with its message, except a CSV parser's (polars,
        ``csv``): those quote raw input rows, personal data included, so only the exception
        type is named and the original is not chained.
        """
        try:
            store = self._load()
        except EcomlmError:
            raise
        except (pl.exceptions.PolarsError, csv.Error) as exc:
            message = (
                f"Data source {self.display_name!r} failed: {type(exc).__name__} while parsing its input "
                "(the parser's message is withheld: it quotes input rows); check the input's "
                "CSV quoting, or load it in smaller pieces to find the bad row."
            )
        except Exception as exc:
            raise DataSourceError(
                f"Data source {self.display_name!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
        else:
            message = ""
        if message:
            raise DataSourceError(message)
        if not isinstance(store, EcomStore):
            raise DataSourceError(
                f"Data source {self.display_name!r} returned {type(store).__name__}, not an EcomStore"
            )
        return store

    @abstractmethod
    def _load(self) -> EcomStore:
        """Read the data; raise :class:`DataSourceError` with file/line/column on bad input."""

    @classmethod
    def write(cls, store: EcomStore, folder: str | Path, **options: Any) -> list[Path]:
        """Write ``store`` into ``folder`` in this source's format; loading it gives it back.

        Returns:
            The files written.

        Raises:
            DataSourceError: The source cannot write (``can_write`` is false), or writing
                failed (a foreign exception is wrapped, naming the source).
        """
        if not cls.can_write:
            raise DataSourceError(
                f"Data source {cls.name!r} cannot write a store (it does not set can_write); "
                "write with a data source that can, e.g. store.write('shopify_csv', folder)"
            )
        try:
            return cls._write(store, Path(folder), **options)
        except EcomlmError:
            raise
        except Exception as exc:
            raise DataSourceError(
                f"Data source {cls.name!r} could not write to {folder}: {type(exc).__name__}: {exc}"
            ) from exc

    @classmethod
    def _write(cls, store: EcomStore, folder: Path, **options: Any) -> list[Path]:
        """Write ``store`` into ``folder``; implement it (and set ``can_write``) to support
        :meth:`write`."""
        raise NotImplementedError(f"{cls.__name__} does not implement _write")


register_kind("data_source", DataSource)
