"""CLI commands that run the SDK on a store: quickstart, ingest, predict, recommend, support, report.

``predict``, ``recommend`` and ``support ask`` fit their task on the store unless ``--model DIR``
names one saved by ``ecomlm fit`` (see :mod:`ecomlm_sdk.cli.models`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import polars as pl

from ecomlm_sdk.app.quickstart import QuickstartOptions, run_quickstart
from ecomlm_sdk.cli.common import StoreArgs, echo_warnings, emit_json, json_option, store_options
from ecomlm_sdk.cli.models import MODEL, OUTPUT, fitted_or_saved, write_output
from ecomlm_sdk.data.partition import write_parquet_dataset
from ecomlm_sdk.data.schema import TABLES
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import DataSourceError, TaskError
from ecomlm_sdk.plugins import get_registry

__all__ = ["ingest", "predict", "quickstart", "recommend", "report", "support"]

#: The data source ``ingest --to URI`` writes through (the built-in ``ecomlm_sql`` plugin's).
SQL_SOURCE = "sql"
#: ``ingest --to`` prefixes that mean a Parquet dataset folder, and its default partitions.
PARQUET_SCHEMES = ("parquet://", "parquet:")
PARQUET_PARTITIONS = 16


OUTPUT_TABLE = click.option(
    "--output-table",
    metavar="TABLE",
    default=None,
    help="Write every row to this table of the --source database (a data source that can "
    "write results, e.g. sql with --option uri=...), with a run_id and written_at.",
)
ENGINE = click.option(
    "--engine",
    "engine",
    metavar="NAME",
    default=None,
    help="Where the batch job runs: local (in-process), ray, auto, or a plugin's engine "
    "[default: ECOMLM_ENGINE, else local].",
)
TABLE_MODE = click.option(
    "--table-mode",
    type=click.Choice(["append", "replace", "upsert"]),
    default="append",
    show_default=True,
    help="How --output-table is written (upsert replaces the rows of the same customer, or "
    "ticket).",
)


def _store(data: StoreArgs) -> EcomStore:
    """The store a command reads (one place, so tests can hand a command a store)."""
    return data.load()


def _run_report(output: Path, data: StoreArgs, quiet: bool, as_json: bool) -> None:
    options = QuickstartOptions(
        output=output,
        path=data.path,
        source=data.source,
        source_options=data.options,
        quiet=quiet or as_json,
    )
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
    _run_report(output, StoreArgs(), quiet, as_json)


@click.command("report")
@store_options()
@_report_options
def report(data: StoreArgs, output: Path, quiet: bool, as_json: bool) -> None:
    """Write the HTML report (prediction, recommendations, support, copy, ROI) for a store."""
    _run_report(output, data, quiet, as_json)


def _check_recognised(store: EcomStore, where: str) -> None:
    """Refuse a load in which the source recognised no file and found nothing at all."""
    recognised = [f for f in store.load_report if f.table in TABLES]
    if recognised or any(store.summary().values()):
        return
    skipped = "; ".join(
        f"{Path(f.file).name} ({'; '.join(f.warnings) or 'not recognised'})"
        for f in store.load_report
    )
    raise DataSourceError(
        f"No file in {where} was recognised{': ' + skipped if skipped else ''}; give a folder "
        "of the source's exports, or --source NAME for another format (`ecomlm plugins` lists "
        "the data sources)"
    )


def _parquet_target(to_uri: str | None, partitions: int | None) -> Path | None:
    """The folder of ``--to parquet:DIR`` (or ``parquet://DIR``); ``None`` for a database."""
    scheme = next((p for p in PARQUET_SCHEMES if (to_uri or "").startswith(p)), None)
    if scheme is None:
        if partitions is not None:
            raise click.UsageError("--partitions applies only to --to parquet:DIR")
        return None
    folder = (to_uri or "")[len(scheme) :]
    if not folder:
        raise click.UsageError(f"--to {to_uri}: name the folder, e.g. --to parquet:shop-parquet")
    return Path(folder)


def _write_parquet(store: EcomStore, folder: Path, partitions: int) -> None:
    written = write_parquet_dataset(store, folder, partitions)
    click.echo(
        f"wrote {sum(store.summary().values()):,} rows in {partitions} partitions to the "
        f"Parquet dataset {written}",
        err=True,
    )


@click.command("ingest")
@click.argument("exports", metavar="PATH", type=click.Path(exists=True), required=False)
@store_options()
@click.option(
    "--strict", is_flag=True, help="Stop at the first bad row instead of setting it aside."
)
@click.option("--rejects", type=click.Path(path_type=Path), help="Write rejected rows to this CSV.")
@click.option(
    "--to",
    "to_uri",
    metavar="URI",
    default=None,
    help="Also write the store, in the canonical schema, into this database through the "
    "'sql' data source: duckdb:///shop.db, sqlite:///shop.db or postgresql://...; or, with "
    "parquet:DIR (or parquet://DIR), as a Parquet dataset cut by customer into folder DIR.",
)
@click.option(
    "--partitions",
    type=click.IntRange(min=1),
    default=None,
    help=f"Partitions of a --to parquet:DIR dataset  [default: {PARQUET_PARTITIONS}]",
)
@json_option("Print summary and load report as JSON.")
def ingest(
    exports: str | None,
    data: StoreArgs,
    strict: bool,
    rejects: Path | None,
    to_uri: str | None,
    partitions: int | None,
    as_json: bool,
) -> None:
    """Load exports from PATH (or --path) and print the summary and the load report.

    Reads Shopify exports unless --source names another data source; exits 1 when no file
    was recognised. With --to URI the store is also written into that database, or with
    --to parquet:DIR into a Parquet dataset.
    """
    if exports is not None and data.path is not None and exports != data.path:
        raise click.UsageError(f"give PATH or --path, not both ({exports!r}, {data.path!r})")
    parquet_dir = _parquet_target(to_uri, partitions)
    data = StoreArgs(path=exports or data.path, source=data.source, options=data.options)
    if data.is_sample:
        raise click.UsageError("give PATH (or --source NAME with its --option KEY=VALUE pairs)")
    store = data.load(**({"strict": True} if strict else {}))
    _check_recognised(store, str(data.path or data.options.get("path") or data.source))
    if rejects is not None:
        store.rejects.write_csv(rejects)
    if parquet_dir is not None:
        _write_parquet(store, parquet_dir, partitions or PARQUET_PARTITIONS)
    elif to_uri is not None:
        # the folder argument is unused when uri= is given (a URI is no path)
        store.write(SQL_SOURCE, Path.cwd(), uri=to_uri)
        click.echo(f"wrote {sum(store.summary().values()):,} rows to the database", err=True)
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
@store_options()
@MODEL
@click.option(
    "--horizon",
    "horizon_days",
    type=int,
    default=None,
    help="Days to predict purchases in when fitting [default: 90; a --model keeps its own].",
)
@click.option("--top", type=int, default=20, show_default=True, help="Rows to print.")
@OUTPUT
@OUTPUT_TABLE
@TABLE_MODE
@ENGINE
@json_option("Print the top rows as JSON.")
def predict(
    data: StoreArgs,
    model_dir: str | None,
    horizon_days: int | None,
    top: int,
    output: Path | None,
    output_table: str | None,
    table_mode: str,
    engine: str | None,
    as_json: bool,
) -> None:
    """Score every customer's probability of buying within the horizon, and expected revenue."""
    _check_table_source(data, output_table)
    store = _store(data)
    with echo_warnings():
        if model_dir is None:
            task = fitted_or_saved(
                "purchase-prediction", None, store, horizon_days=horizon_days or 90
            )
        else:
            task = fitted_or_saved("purchase-prediction", model_dir, store)
            saved = task.options.horizon_days
            if horizon_days is not None and horizon_days != saved:
                raise click.UsageError(
                    f"--horizon {horizon_days} differs from the saved model's {saved} days; "
                    "drop --horizon, or fit a model with --option horizon_days="
                    f"{horizon_days}"
                )
        scores = task.predict(store, engine=engine).sort("expected_revenue", descending=True)
    write_output(scores, output)
    _write_table(data, output_table, scores, table_mode, key=["customer_id"])
    if as_json:
        emit_json(scores.head(top).to_dicts())
    else:
        click.echo(str(scores.head(top)))


def _check_table_source(data: StoreArgs, output_table: str | None) -> None:
    if output_table is not None and data.source is None:
        raise click.UsageError("--output-table needs --source (e.g. --source sql --option uri=...)")


def _write_table(
    data: StoreArgs, table: str | None, frame: pl.DataFrame, mode: str, key: list[str]
) -> None:
    """Write ``frame`` into ``table`` through the source the store was read from."""
    if table is None:
        return
    assert data.source is not None
    registry = get_registry()
    component = registry.get("data_source", data.source).component
    if not getattr(component, "can_write_results", False):
        writers = [r.name for r in registry.find("data_source", capability="write_results")]
        raise click.UsageError(
            f"data source {data.source!r} cannot write results to a table; sources that can: "
            f"{', '.join(writers) or 'none is registered'}"
        )
    component.save_results(data.options, table, frame, mode=mode, key=key)
    click.echo(f"wrote {frame.height:,} rows to table {table}", err=True)


def _unknown_ids(store: EcomStore, task: Any, ids: list[str]) -> list[str]:
    """Ids neither in the store's customers nor among the customers the model learned."""
    in_store = set(store.customers.get_column("customer_id").to_list())
    cold = task.cold_start(ids)
    return [c for c, is_cold in zip(ids, cold, strict=True) if is_cold and c not in in_store]


@click.command("recommend")
@click.argument("customer_ids", nargs=-1)
@store_options()
@MODEL
@click.option("-k", "k", type=int, default=10, show_default=True)
@click.option("--exclude-owned", is_flag=True, help="Only products new to each customer.")
@click.option(
    "--strict", is_flag=True, help="Fail (exit 1) on a customer id the store does not hold."
)
@OUTPUT
@OUTPUT_TABLE
@TABLE_MODE
@ENGINE
@json_option("Print JSON.")
def recommend(
    customer_ids: tuple[str, ...],
    data: StoreArgs,
    model_dir: str | None,
    k: int,
    exclude_owned: bool,
    strict: bool,
    output: Path | None,
    output_table: str | None,
    table_mode: str,
    engine: str | None,
    as_json: bool,
) -> None:
    """Recommend K products for each CUSTOMER_ID (none: every customer, with --output).

    Unknown ids are named in a warning (an error with --strict); customers without purchases
    get the trending products, marked cold_start in the output.
    """
    _check_table_source(data, output_table)
    if not customer_ids and output is None and output_table is None:
        raise click.UsageError(
            "give one or more CUSTOMER_IDs, or --output FILE to recommend for every customer"
        )
    store = _store(data)
    with echo_warnings():
        task = fitted_or_saved("recommendation", model_dir, store, k=k)
        ids = list(customer_ids) or sorted(
            set(store.customers.get_column("customer_id").to_list())
            | set(store.purchases().get_column("customer_id").to_list())
        )
        unknown = _unknown_ids(store, task, ids)
        if unknown:
            shown = ", ".join(unknown[:10]) + (
                f" and {len(unknown) - 10:,} more" if len(unknown) > 10 else ""
            )
            message = (
                f"unknown customer id(s) {shown}: not in the store nor in the model's purchases"
            )
            if strict:
                raise TaskError(message + "; check the ids or drop --strict")
            click.echo(f"warning: {message}; they get the trending products (cold_start)", err=True)
        picks = task.recommend(ids, k=k, exclude_owned=exclude_owned, engine=engine)
        cold = dict(zip(ids, task.cold_start(ids), strict=True))
    picks = picks.with_columns(
        pl.col("customer_id").replace_strict(cold, return_dtype=pl.Boolean).alias("cold_start")
    )
    write_output(picks, output)
    _write_table(data, output_table, picks, table_mode, key=["customer_id"])
    if as_json:
        emit_json(picks.to_dicts())
    elif customer_ids:
        for row in picks.iter_rows(named=True):
            marker = "  [cold start: trending]" if row["cold_start"] else ""
            click.echo(
                f"{row['customer_id']:>8} {row['rank']:>3}  {row['product_id']:<10} "
                f"{row['title']}  ({row['score']:.3f}){marker}"
            )


@click.group("support")
def support() -> None:
    """Automated customer support."""


@support.command("ask")
@click.argument("message", required=False)
@click.option("--customer", "customer_id", default=None, help="The signed-in customer's id.")
@store_options()
@MODEL
@click.option(
    "--classifier",
    default=None,
    metavar="NAME",
    help="Registered intent classifier to fit (a TextClassifier) [default: the task's, "
    "bert-classifier]; not with --model.",
)
@click.option(
    "--save",
    "save_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Save the fitted task here.",
)
@OUTPUT
@ENGINE
@json_option("Print the reply as JSON.")
def ask(
    message: str | None,
    customer_id: str | None,
    data: StoreArgs,
    model_dir: str | None,
    classifier: str | None,
    save_dir: Path | None,
    output: Path | None,
    engine: str | None,
    as_json: bool,
) -> None:
    """Answer MESSAGE as the support bot would (fits the intent model unless --model is given).

    Without MESSAGE, answers every ticket of the store (write them with --output).
    """
    if message is None and output is None and not as_json:
        raise click.UsageError("give a MESSAGE, or --output FILE to answer the store's tickets")
    if classifier is not None and model_dir is not None:
        raise click.UsageError("--classifier chooses the model to fit; a --model is fitted already")
    store = _store(data)
    with echo_warnings():
        chosen = {"classifier": classifier} if classifier is not None else {}
        task = fitted_or_saved("support", model_dir, store, **chosen)
        if save_dir is not None:
            task.save(save_dir)
        if message is None:
            replies: pl.DataFrame = task.predict(store, engine=engine)
            write_output(replies, output)
            if as_json:
                emit_json(replies.to_dicts())
            return
        reply = task.answer(message, customer_id=customer_id, store=store)
    if output is not None:
        write_output(pl.DataFrame([reply.model_dump(mode="json")]), output)
    if as_json:
        emit_json(reply.model_dump(mode="json"))
        return
    click.echo(f"intent: {reply.intent} (confidence {reply.confidence:.2f})")
    click.echo(f"hand-off: {'yes' if reply.handoff else 'no'}")
    click.echo(reply.text)
