"""CLI commands that run the SDK on a store: quickstart, ingest, predict, recommend, support, report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

import ecomlm_sdk
from ecomlm_sdk.app.quickstart import QuickstartOptions, run_quickstart
from ecomlm_sdk.app.steps import load
from ecomlm_sdk.cli.common import emit_json, json_option
from ecomlm_sdk.data.store import EcomStore

__all__ = ["ingest", "predict", "quickstart", "recommend", "report", "support"]

_PATH = click.option(
    "--path",
    type=click.Path(exists=True, file_okay=True, dir_okay=True),
    default=None,
    help="Shopify export file or folder (default: the bundled sample store).",
)


def _store(path: str | None) -> EcomStore:
    return load(path)


def _run_report(output: Path, path: str | None, quiet: bool, as_json: bool) -> None:
    options = QuickstartOptions(output=output, path=path, quiet=quiet or as_json)
    result = run_quickstart(options, echo=click.echo)
    if as_json:
        emit_json(result.model_dump(mode="json"))
        return
    figures = ", ".join(
        f"{k} {int(v)}" if float(v).is_integer() else f"{k} {v:.3f}"
        for k, v in result.headline.items()
    )
    click.echo(f"\nReport: {result.report}")
    click.echo(f"Headline: {figures}")


def _report_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options shared by ``quickstart`` and ``report``."""
    for option in reversed(
        (
            click.option(
                "--output",
                type=click.Path(path_type=Path),
                default=Path("ecomlm-report/report.html"),
                show_default=True,
            ),
            click.option(
                "--quiet", is_flag=True, help="Print only the report path and headline figures."
            ),
            json_option("Print the result as JSON."),
        )
    ):
        command = option(command)
    return command


@click.command("quickstart")
@_report_options
def quickstart(output: Path, quiet: bool, as_json: bool) -> None:
    """Analyse the bundled sample shop end to end and write an HTML report."""
    _run_report(output, None, quiet, as_json)


@click.command("report")
@_PATH
@_report_options
def report(path: str | None, output: Path, quiet: bool, as_json: bool) -> None:
    """Write the HTML report (prediction, recommendations, support, copy, ROI) for a store."""
    _run_report(output, path, quiet, as_json)


@click.command("ingest")
@click.argument("path", type=click.Path(exists=True))
@click.option(
    "--strict", is_flag=True, help="Stop at the first bad row instead of setting it aside."
)
@click.option("--rejects", type=click.Path(path_type=Path), help="Write rejected rows to this CSV.")
@json_option("Print summary and load report as JSON.")
def ingest(path: str, strict: bool, rejects: Path | None, as_json: bool) -> None:
    """Load Shopify exports from PATH and print the summary and the load report."""
    store = ecomlm_sdk.load_store("shopify_csv", path=path, strict=strict)
    if rejects is not None:
        store.rejects.write_csv(rejects)
    if as_json:
        emit_json(
            {
                "tables": store.summary(),
                "load_report": [f.model_dump() for f in store.load_report],
                "rows_rejected": store.load_report.rows_rejected,
                "integrity": [i.model_dump() for i in store.integrity],
            }
        )
        return
    click.echo(", ".join(f"{name}: {count:,}" for name, count in store.summary().items() if count))
    click.echo(str(store.load_report))
    if store.load_report.rows_rejected:
        reasons = store.rejects.group_by("reason").len().sort("len", descending=True).head(5)
        for reason, count in reasons.iter_rows():
            click.echo(f"  rejected {count:,}: {reason}")


@click.command("predict")
@_PATH
@click.option("--horizon", "horizon_days", type=int, default=90, show_default=True)
@click.option("--top", type=int, default=20, show_default=True, help="Rows to print.")
@click.option(
    "--output", type=click.Path(path_type=Path), help="Write every customer's score to CSV."
)
@json_option("Print the top rows as JSON.")
def predict(
    path: str | None, horizon_days: int, top: int, output: Path | None, as_json: bool
) -> None:
    """Score every customer's probability of buying within the horizon, and expected revenue."""
    store = _store(path)
    scores = (
        ecomlm_sdk.task("purchase-prediction", horizon_days=horizon_days).fit(store).predict(store)
    )
    scores = scores.sort("expected_revenue", descending=True)
    if output is not None:
        scores.write_csv(output)
    if as_json:
        emit_json(scores.head(top).to_dicts())
    else:
        click.echo(str(scores.head(top)))


@click.command("recommend")
@click.argument("customer_ids", nargs=-1, required=True)
@_PATH
@click.option("-k", "k", type=int, default=10, show_default=True)
@click.option("--exclude-owned", is_flag=True, help="Only products new to each customer.")
@json_option("Print JSON.")
def recommend(
    customer_ids: tuple[str, ...], path: str | None, k: int, exclude_owned: bool, as_json: bool
) -> None:
    """Recommend K products for each CUSTOMER_ID."""
    store = _store(path)
    picks = (
        ecomlm_sdk.task("recommendation", k=k)
        .fit(store)
        .recommend(list(customer_ids), exclude_owned=exclude_owned)
    )
    if as_json:
        emit_json(picks.to_dicts())
    else:
        for row in picks.iter_rows(named=True):
            click.echo(
                f"{row['customer_id']:>8} {row['rank']:>3}  {row['product_id']:<10} {row['title']}  ({row['score']:.3f})"
            )


@click.group("support")
def support() -> None:
    """Automated customer support."""


@support.command("ask")
@click.argument("message")
@click.option("--customer", "customer_id", default=None, help="The signed-in customer's id.")
@_PATH
@click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False),
    help="A support task saved with --save.",
)
@click.option(
    "--save",
    "save_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Save the fitted task here.",
)
@json_option("Print the reply as JSON.")
def ask(
    message: str,
    customer_id: str | None,
    path: str | None,
    model_dir: str | None,
    save_dir: Path | None,
    as_json: bool,
) -> None:
    """Answer MESSAGE as the support bot would (fits the intent model unless --model is given)."""
    from ecomlm_sdk.tasks.support import SupportTask  # lazy: imports torch and transformers

    store = _store(path)
    task = SupportTask.load(model_dir) if model_dir else ecomlm_sdk.task("support").fit(store)
    if save_dir is not None:
        task.save(save_dir)
    reply = task.answer(message, customer_id=customer_id, store=store)
    if as_json:
        emit_json(reply.model_dump(mode="json"))
        return
    click.echo(f"intent: {reply.intent} (confidence {reply.confidence:.2f})")
    click.echo(f"hand-off: {'yes' if reply.handoff else 'no'}")
    click.echo(reply.text)
