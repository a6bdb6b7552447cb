"""``ecomlm plan``: the target list of a campaign, in a file a marketing tool imports.

``ecomlm plan --model DIR --path EXPORTS --budget 50 --output targets.csv`` scores the store with
a saved purchase-prediction task, keeps the consenting customers worth contacting within the
budget and writes them (see :mod:`ecomlm_sdk.app.targets`). Exit code 0 also when nobody is
worth contacting (the file then holds only its header, or, for ``--format shopify``, is not
written); 1 on an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from ecomlm_sdk.app.targets import (
    TARGET_FORMATS,
    TargetFormat,
    default_tag,
    target_list,
    write_targets,
)
from ecomlm_sdk.cli.common import StoreArgs, echo_warnings, emit_json, json_option, store_options
from ecomlm_sdk.cli.models import fitted_or_saved

__all__ = ["plan_command"]


@click.command("plan")
@click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False),
    required=True,
    help="A purchase-prediction task saved by `ecomlm fit purchase-prediction`.",
)
@store_options()
@click.option("--budget", type=float, default=None, help="Most to spend on contacts [no limit].")
@click.option("--cost-per-contact", type=float, default=0.10, show_default=True)
@click.option("--margin", type=float, default=0.35, show_default=True, help="Gross margin.")
@click.option(
    "--incremental-share",
    type=float,
    default=0.10,
    show_default=True,
    help="Share of a contacted customer's expected purchase the contact causes (measure it "
    "with a holdout: lift / (1 + lift)).",
)
@click.option(
    "--copy",
    "copy_dir",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="A generate-copy task saved by `ecomlm fit generate-copy` [default: templates].",
)
@click.option(
    "--include-non-consenting",
    is_flag=True,
    help="Also list customers without marketing consent (never e-mail them).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(TARGET_FORMATS),
    default="csv",
    show_default=True,
    help="csv: every column; profiles: Klaviyo / Mailchimp import; shopify: customer import.",
)
@click.option(
    "--tag", default=None, help="Tag of profiles and shopify rows [ecomlm-target-YYYY-MM]."
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write.",
)
@json_option("Print the plan's figures as JSON.")
def plan_command(
    model_dir: str,
    data: StoreArgs,
    budget: float | None,
    cost_per_contact: float,
    margin: float,
    incremental_share: float,
    copy_dir: str | None,
    include_non_consenting: bool,
    fmt: str,
    tag: str | None,
    output: Path,
    as_json: bool,
) -> None:
    """Write the customers to contact, best first, with products, subject line and blurb."""
    store = data.load()
    label = tag or default_tag()
    with echo_warnings():
        prediction = fitted_or_saved("purchase-prediction", model_dir, store)
        copy = fitted_or_saved("generate-copy", copy_dir, store) if copy_dir else None
        targets = target_list(
            store,
            prediction,
            budget=budget,
            cost_per_contact=cost_per_contact,
            margin=margin,
            incremental_share=incremental_share,
            only_consenting=not include_non_consenting,
            copy=copy,
        )
        plan = targets.plan
        written = None
        if plan.contacts or fmt != "shopify":
            written = write_targets(
                targets, output, format=cast(TargetFormat, fmt), tag=label, store=store
            )
    summary = {
        "output": str(written) if written else None,
        "format": fmt,
        "tag": label,
        "contacts": plan.contacts,
        "candidates": targets.candidates,
        "skipped_without_consent": targets.skipped_without_consent,
        "total_cost": plan.total_cost,
        "expected_incremental_profit": plan.expected_incremental_profit,
        "expected_roi": plan.expected_roi,
        "budget_limited": plan.budget_limited,
    }
    if as_json:
        emit_json(summary)
        return
    if not plan.contacts:
        click.echo("nobody is worth contacting at this cost per contact; nothing to send")
    else:
        roi = f"{plan.expected_roi:.2f}" if plan.expected_roi is not None else "-"
        click.echo(
            f"contact {plan.contacts:,} of {targets.candidates:,} consenting customers for "
            f"{plan.total_cost:,.2f}: expected incremental profit "
            f"{plan.expected_incremental_profit:,.2f} (expected ROI {roi})"
        )
    if targets.skipped_without_consent and not include_non_consenting:
        click.echo(
            f"left out {targets.skipped_without_consent:,} customers without marketing consent "
            "or an e-mail address"
        )
    if written:
        click.echo(f"wrote {written} ({fmt}{', tag ' + label if fmt != 'csv' else ''})")
