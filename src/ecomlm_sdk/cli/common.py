"""Helpers shared by the CLI commands."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import IO, Any, TypeVar

import click

__all__ = ["emit_json", "json_option"]

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
