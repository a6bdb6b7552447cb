"""Helpers shared by the CLI commands."""

from __future__ import annotations

import json
from typing import Any

import click

__all__ = ["emit_json"]


def emit_json(payload: Any) -> None:
    """Print ``payload`` as indented JSON (dates and other objects via ``str``)."""
    click.echo(json.dumps(payload, indent=2, default=str))
