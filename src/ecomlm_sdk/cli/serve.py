"""``ecomlm serve``: the saved tasks of a folder over HTTP (needs the ``serve`` extra)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from ecomlm_sdk.cli.common import StoreArgs, store_options
from ecomlm_sdk.errors import EcomlmError

__all__ = ["serve_command"]


@click.command("serve")
@click.option(
    "--model-dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path),
    help="Folder of saved tasks, one sub-folder each (ecomlm fit TASK --out DIR/NAME).",
)
@store_options()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="JSON file of hashed API keys (default: $ECOMLM_SERVE_KEYS holds that JSON).",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    metavar="ORIGIN",
    help="Origin allowed to call from a browser, e.g. https://shop.example (repeatable).",
)
@click.option("--rate", default=20.0, show_default=True, help="Requests a second per key.")
@click.option("--burst", default=40, show_default=True, help="Requests at once per key.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
def serve_command(
    model_dir: Path,
    data: StoreArgs,
    host: str,
    port: int,
    keys_file: Path | None,
    cors_origins: tuple[str, ...],
    rate: float,
    burst: int,
    log_level: str,
) -> None:
    """Serve support answers, recommendations and scores from the saved tasks in MODEL_DIR.

    The store (--path/--source) is where support looks orders up and what /v1/scores scores;
    without one, order questions are handed to a person and /v1/scores answers 503. The
    customer-token secret is read from $ECOMLM_SERVE_TOKEN_SECRET (never from the command
    line, where other users could see it). SIGHUP reloads MODEL_DIR.
    """
    try:
        import uvicorn

        from ecomlm_sdk.serve import SECRET_ENV, ServeSettings, create_app, read_keys
    except ImportError as exc:  # pragma: no cover - the extra is part of the dev stack
        raise click.ClickException(
            f"ecomlm serve needs the serve extra: pip install 'ecomlm-sdk[serve]' ({exc})"
        ) from exc
    keys = read_keys(keys_file)
    if not keys:
        click.echo(
            "warning: no API keys (--keys FILE or $ECOMLM_SERVE_KEYS): every /v1 call is refused",
            err=True,
        )
    try:
        settings = ServeSettings(
            model_dir=model_dir,
            api_keys=keys,
            customer_token_secret=os.environ.get(SECRET_ENV) or None,
            cors_origins=cors_origins,
            rate_per_second=rate,
            rate_burst=burst,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    store = None if data.is_sample else data.load()
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    app = create_app(settings, store=store, handle_sighup=True)
    # uvicorn's own access log prints paths and queries (customer ids): ours does not.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level=log_level)
    if not app.state.holder.ready and app.state.holder.current is None:
        raise EcomlmError(f"no models were served: {app.state.holder.error}")
