"""Helpers shared by the CLI commands."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar, cast

import click

import ecomlm_sdk
from ecomlm_sdk.data.store import EcomStore

__all__ = [
    "StoreArgs",
    "echo_warnings",
    "emit_json",
    "json_option",
    "parse_options",
    "store_options",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The real stdout while a ``--json`` command runs (everything else printed goes to stderr).
_json_stdout: ContextVar[IO[str] | None] = ContextVar("_json_stdout", default=None)


def emit_json(payload: Any) -> None:
    """Print ``payload`` as indented JSON (dates and other objects via ``str``)."""
    click.echo(json.dumps(payload, indent=2, default=str), file=_json_stdout.get())


@contextlib.contextmanager
def _stdout_reserved_for_json() -> Iterator[None]:
    """Send every other print (a plugin's, a library's) to stderr, so stdout is pure JSON."""
    token = _json_stdout.set(sys.stdout)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        _json_stdout.reset(token)


def _json_mode(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.with_resource(_stdout_reserved_for_json())
    return value


def json_option(help: str) -> Callable[[F], F]:
    """The ``--json`` flag: the command's stdout then holds only what :func:`emit_json` prints.

    Args:
        help: The flag's help text.
    """
    return click.option("--json", "as_json", is_flag=True, help=help, callback=_json_mode)


def parse_options(pairs: Iterable[str]) -> dict[str, Any]:
    """``("k=5", "embedder=null", "weights={\"repeat\": 1}")`` -> task options.

    Each value is read as JSON when it parses (numbers, ``true``/``false``, ``null``, lists,
    objects), else kept as a string.

    Raises:
        click.BadParameter: A pair has no ``=`` or an empty key.
    """
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(
                f"{pair!r} is not KEY=VALUE (e.g. --option k=5)", param_hint="--option"
            )
        try:
            value: Any = json.loads(text)
        except json.JSONDecodeError:
            value = text
        options[key.strip().replace("-", "_")] = value
    return options


@contextlib.contextmanager
def echo_warnings() -> Iterator[None]:
    """Print each ecomlm-sdk warning raised in the block as one ``warning: ...`` line on stderr."""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as recorded:
            # "default": each distinct warning once per place. Not "always": a library that
            # warns in a polling loop would pile up records.
            warnings.simplefilter("default")
            try:
                yield
            finally:
                caught = list(recorded)
    finally:
        # Replayed after the block: inside it, showwarning is the recorder itself (a library's
        # warning replayed there was recorded again, while the loop read the list: forever).
        seen: set[str] = set()
        for warning in caught:
            text = str(warning.message)
            ours = warning.category.__module__.startswith("ecomlm_sdk")
            if not ours and "ecomlm_sdk" not in warning.filename:  # a library's: as usual
                warnings.showwarning(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
                continue
            if text not in seen:
                seen.add(text)
                click.echo(f"warning: {text}", err=True)


# ------------------------------------------------------------------ the store a command reads
#: The data source read when ``--option`` pairs are given without ``--source``.
DEFAULT_SOURCE = "shopify_csv"


@dataclass(frozen=True)
class StoreArgs:
    """What :func:`store_options` collected: ``--path``, ``--source`` and the source's options.

    Attributes:
        path: ``--path`` (passed to the source as its ``path`` option), or ``None``.
        source: ``--source``: a registered data source name, or ``None``.
        options: The ``--option KEY=VALUE`` pairs, parsed by :func:`parse_options`.
    """

    path: str | None = None
    source: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_sample(self) -> bool:
        """Nothing was given: the command reads the bundled sample store."""
        return self.path is None and self.source is None and not self.options

    def load(self, **extra: Any) -> EcomStore:
        """The store: through ``source`` (default ``shopify_csv``) with ``path`` and ``options``,
        or the bundled sample store when nothing was given.

        Args:
            **extra: More source options given by the command itself (``strict=True``).
        """
        if self.is_sample and not extra:
            return ecomlm_sdk.sample_store()
        options = {**self.options, **extra}
        if self.path is not None:
            options.setdefault("path", self.path)
        return ecomlm_sdk.load_store(self.source or DEFAULT_SOURCE, **options)


def store_options(
    *, option_flags: tuple[str, ...] = ("--option", "--source-option")
) -> Callable[[F], F]:
    """``--path``, ``--source NAME`` and ``--option KEY=VALUE`` for a command that reads a store.

    The command receives one ``data: StoreArgs`` argument instead of three; ``data.load()``
    gives the store. A command with options of its own under ``--option`` (``fit``) passes
    ``option_flags=("--source-option",)``.
    """

    def decorate(command: F) -> F:
        def run(
            *args: Any,
            path: str | None,
            source: str | None,
            source_pairs: tuple[str, ...],
            **kwargs: Any,
        ) -> Any:
            pairs = parse_options(source_pairs)
            return command(*args, data=StoreArgs(path=path, source=source, options=pairs), **kwargs)

        functools.update_wrapper(run, command)
        decorators = (
            click.option(
                "--path",
                type=click.Path(exists=True, file_okay=True, dir_okay=True),
                default=None,
                help="Export file or folder, passed to the data source as its path option "
                "(default: the bundled sample store).",
            ),
            click.option(
                "--source",
                default=None,
                metavar="NAME",
                help=f"Registered data source to read (`ecomlm plugins` lists them) "
                f"[default: {DEFAULT_SOURCE}].",
            ),
            click.option(
                *option_flags,
                "source_pairs",
                multiple=True,
                metavar="KEY=VALUE",
                help="A data source option (repeatable); VALUE is read as JSON when it parses.",
            ),
        )
        wrapped: Any = run
        for decorator in reversed(decorators):
            wrapped = decorator(wrapped)
        return cast(F, wrapped)

    return decorate
