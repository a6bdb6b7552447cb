"""The ``ecomlm`` command line.

Exit codes: 0 success, 1 an ecomlm-sdk error (bad input, unknown name, ...), 2 a usage error,
3 an unexpected failure. Errors print as one line; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

import click

from ecomlm_sdk._version import __version__
from ecomlm_sdk.cli.common import emit_json, json_option
from ecomlm_sdk.cli.device import device_command
from ecomlm_sdk.cli.models import copy_command, fit_command
from ecomlm_sdk.cli.plan import plan_command
from ecomlm_sdk.cli.roi import roi_group
from ecomlm_sdk.cli.serve import serve_command
from ecomlm_sdk.cli.tasks import ingest, predict, quickstart, recommend, report, support
from ecomlm_sdk.errors import EcomlmError

__all__ = ["main"]

EXIT_ERROR, EXIT_USAGE, EXIT_UNEXPECTED = 1, 2, 3


class _Group(click.Group):
    """Turns exceptions into one clear line and a meaningful exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except EcomlmError as exc:
            self._fail(ctx, exc, EXIT_ERROR)
        except Exception as exc:
            self._fail(ctx, exc, EXIT_UNEXPECTED)

    @staticmethod
    def _fail(ctx: click.Context, exc: BaseException, code: int) -> None:
        if ctx.obj and ctx.obj.get("debug"):
            traceback.print_exception(exc)
        else:
            click.echo(f"error: {exc} (run with --debug for the traceback)", err=True)
        ctx.exit(code)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="ecomlm")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """ecomlm-sdk: language models that earn money for e-commerce."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@main.command("plugins")
@json_option("Print a JSON list instead of a table.")
def plugins_command(as_json: bool) -> None:
    """List every plugin seen, loaded or skipped, with what it registered."""
    from ecomlm_sdk.api import plugins

    rows = plugins()
    if as_json:
        emit_json([row.model_dump() for row in rows])
        return
    click.echo(f"{'name':<16} {'status':<8} {'version':<10} {'builtin':<8} components / reason")
    for row in rows:
        detail = ", ".join(row.components) if row.status == "loaded" else f"({row.reason})"
        click.echo(
            f"{row.name:<16} {row.status:<8} {row.version or '-':<10} "
            f"{'yes' if row.builtin else 'no':<8} {detail}"
        )
        for conflict in row.conflicts:
            click.echo(f"{'':<16} clash: {conflict}")


main.add_command(roi_group)
main.add_command(device_command)
main.add_command(plan_command)
for _command in (
    copy_command,
    fit_command,
    ingest,
    predict,
    quickstart,
    recommend,
    report,
    serve_command,
    support,
):
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
