"""Saved models on the command line: ``ecomlm fit`` and ``ecomlm copy``, and the helpers the
scoring commands (``predict``, ``recommend``, ``copy``, ``support ask``) share.

``ecomlm fit TASK --path EXPORTS --out DIR [--option k=v ...]`` fits any registered task and
saves it; the scoring commands take ``--model DIR`` to score without retraining and
``--output FILE`` to write every row (``.csv``, ``.parquet`` or ``.jsonl``, by extension).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click
import polars as pl

import ecomlm_sdk
from ecomlm_sdk.cli.common import (
    StoreArgs,
    echo_warnings,
    emit_json,
    json_option,
    parse_options,
    store_options,
)
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import TaskError
from ecomlm_sdk.tasks.baselines import strongest_baseline
from ecomlm_sdk.tasks.fingerprint import describe, store_fingerprint

__all__ = [
    "MODEL",
    "OUTPUT",
    "PATH",
    "copy_command",
    "fit_command",
    "fitted_or_saved",
    "write_output",
]

PATH = click.option(
    "--path",
    type=click.Path(exists=True, file_okay=True, dir_okay=True),
    default=None,
    help="Shopify export file or folder (default: the bundled sample store).",
)
MODEL = click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="A task saved by `ecomlm fit`: score with it instead of fitting one now.",
)
OUTPUT = click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every row to FILE: .csv (lists joined with '|'), .parquet or .jsonl.",
)


def fitted_or_saved(name: str, model_dir: str | None, store: EcomStore, **options: Any) -> Any:
    """The task saved in ``model_dir`` (checked to be a ``name`` task), else ``name`` fitted now.

    A saved task applied to another store than the one it was fitted on prints a warning.
    """
    if model_dir is None:
        return ecomlm_sdk.task(name, **options).fit(store)
    task = ecomlm_sdk.load_task(model_dir)
    if task.name != name:
        raise TaskError(
            f"{model_dir} holds a {task.name!r} task; this command needs a {name!r} task: "
            f"ecomlm fit {name} --path EXPORTS --out DIR"
        )
    task.check_store_matches(store)
    return task


def write_output(frame: pl.DataFrame, output: Path | None) -> None:
    """Write ``frame`` to ``output`` (format by extension) and say so on stderr."""
    if output is None:
        return
    written = ecomlm_sdk.write_table(frame, output)
    click.echo(f"wrote {frame.height:,} rows to {written}", err=True)


@click.command("fit")
@click.argument("task_name", metavar="TASK")
@store_options(option_flags=("--source-option",))  # --option is the task's, below
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to save the fitted task in (replaced atomically if it holds an earlier save).",
)
@click.option(
    "--option",
    "pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A task option (repeatable); VALUE is read as JSON when it parses: k=5, embedder=null.",
)
@click.option(
    "--evaluate/--no-evaluate",
    default=True,
    show_default=True,
    help="Tasks with fallback_to_baseline (purchase-prediction, recommendation): evaluate on "
    "the last months first, and serve the strongest baseline when it beats the model.",
)
@json_option("Print what was saved as JSON.")
def fit_command(
    task_name: str,
    data: StoreArgs,
    out: Path,
    pairs: tuple[str, ...],
    evaluate: bool,
    as_json: bool,
) -> None:
    """Fit TASK (purchase-prediction, recommendation, generate-copy, support, ...) on a store and
    save it to --out, for `--model DIR` of predict, recommend, copy, support ask and plan.
    """
    options = parse_options(pairs)
    store = data.load()
    with echo_warnings():
        task = ecomlm_sdk.task(task_name, **options)
        checked = _evaluate_first(task, store, data.is_sample) if evaluate else None
        task.fit(store)
        task.save(out)
    fingerprint = task.store_fingerprint or store_fingerprint(store)
    if as_json:
        emit_json(
            {
                "task": task.name,
                "saved_to": str(out),
                "options": task.options.model_dump(mode="json"),
                "store": fingerprint,
                "evaluation": checked,
                "fallback": task.fallback,
            }
        )
        return
    click.echo(f"fitted {task.name} on {describe(fingerprint)}")
    if checked is not None:
        best = checked["strongest_baseline"]
        click.echo(
            f"evaluated at {checked['cutoff'][:10]}: {checked['metric']} "
            f"{checked['model']:.3f}, strongest baseline {best} {checked['baseline']:.3f}"
        )
    if task.fallback:
        click.echo(
            f"the {task.fallback['baseline']} baseline beats the model on this store: "
            "the saved task serves it (fallback_to_baseline)"
        )
    click.echo(f"saved to {out}")


class EvaluationSkippedWarning(UserWarning):
    """``ecomlm fit`` could not evaluate the task before fitting it."""


#: The metric each task with a fallback is judged on (higher is better).
_JUDGED_ON = {"purchase-prediction": "roc_auc", "recommendation": "ndcg@{k}"}


def _evaluate_first(task: Any, store: EcomStore, is_sample: bool) -> dict[str, Any] | None:
    """Evaluate a task that can fall back to a baseline; the next fit then serves the winner.

    The cutoff is the store's last order minus the prediction horizon (recommendation: two
    thirds of it), as in ``ecomlm report``. A store too small to evaluate is fitted as it is,
    with a warning.
    """
    if "fallback_to_baseline" not in type(task).Options.model_fields:
        return None
    metric = _JUDGED_ON.get(task.name)
    if metric is None:
        return None
    from ecomlm_sdk.app.steps import cutoffs

    horizon = int(getattr(task.options, "horizon_days", 90))
    metric = metric.format(k=getattr(task.options, "k", 10))
    cutoff = "?"
    try:
        cut = cutoffs(store, None if is_sample else "store", horizon_days=horizon)
        cutoff = cut["prediction" if task.name == "purchase-prediction" else "recommendation"]
        report = task.evaluate(store, cutoff=cutoff)
    except ecomlm_sdk.EcomlmError as exc:
        warnings.warn(
            f"{task.name}: could not evaluate at {cutoff} ({exc}); fitted without comparing "
            "with the baselines",
            EvaluationSkippedWarning,
            stacklevel=2,
        )
        return None
    best = strongest_baseline(report.baselines, metric)
    return {
        "cutoff": report.cutoff or cutoff,
        "metric": metric,
        "model": float(report.metrics.get(metric, float("nan"))),
        "strongest_baseline": best[0] if best else None,
        "baseline": best[1] if best else float("nan"),
        "fallback": report.details.get("fallback"),
    }


@click.command("copy")
@click.argument("customer_ids", nargs=-1)
@store_options()
@MODEL
@OUTPUT
@click.option("--top", type=int, default=20, show_default=True, help="Rows to print.")
@json_option("Print the rows as JSON.")
def copy_command(
    customer_ids: tuple[str, ...],
    data: StoreArgs,
    model_dir: str | None,
    output: Path | None,
    top: int,
    as_json: bool,
) -> None:
    """Write an email subject and blurb for each CUSTOMER_ID (none: every consenting customer).

    Without --model a small GPT-2 is trained on the store's product titles first.
    """
    store = data.load()
    with echo_warnings():
        task = fitted_or_saved("generate-copy", model_dir, store)
        written: pl.DataFrame = (
            task.generate(list(customer_ids), store) if customer_ids else task.predict(store)
        )
    write_output(written, output)
    if as_json:
        emit_json(written.head(top).to_dicts())
        return
    for row in written.head(top).iter_rows(named=True):
        click.echo(f"{row['customer_id']:>8}  {row['subject']}")
        click.echo(f"{'':>8}  {row['blurb']}")
