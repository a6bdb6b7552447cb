"""Helpers shared by the CLI commands."""

from __future__ import annotations

import contextlib
import json
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import IO, Any, TypeVar

import click

__all__ = ["echo_warnings", "emit_json", "json_option", "parse_options"]

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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
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
