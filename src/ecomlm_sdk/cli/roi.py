"""``ecomlm roi``: measure campaigns from the command line.

``ecomlm roi experiment FILE --arm COL --control VALUE --outcome COL`` reads a CSV with one
row per customer and prints each arm's incremental outcome, profit and ROI with intervals
(``--json`` for machines). Bad input exits with code 1 and one line naming the column or value.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import click

from ecomlm_sdk.cli.common import emit_json, json_option
from ecomlm_sdk.errors import RoiError

__all__ = ["roi_group"]


def _cost(text: str) -> float | dict[str, float]:
    """``"0.05"`` -> 0.05; ``"a=0.05,b=0.08"`` -> per-arm costs."""
    try:
        if "=" not in text:
            return float(text)
        pairs = (item.split("=", 1) for item in text.split(",") if item.strip())
        return {arm.strip(): float(value) for arm, value in pairs}
    except ValueError as exc:
        raise RoiError(
            f"--cost-per-contact {text!r} is not a number or a list like 'arm_a=0.05,arm_b=0.1'"
        ) from exc


def _finite(value: Any) -> Any:
    """Non-finite floats (an unbounded interval end) as ``None``: JSON has no Infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _fmt(est: Any, digits: int = 2) -> str:
    if est is None:
        return "-"
    text = f"{est.value:,.{digits}f} [{est.low:,.{digits}f}, {est.high:,.{digits}f}]"
    return text + (f" p={est.p_value:.3g}" if est.p_value is not None else "")


@click.group("roi")
def roi_group() -> None:
    """Measure campaigns: experiments with intervals, incremental profit and ROI."""


@roi_group.command("experiment")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--arm", required=True, help="Column holding each customer's arm.")
@click.option("--control", required=True, help="Value of --arm marking the control arm.")
@click.option("--outcome", required=True, help="Numeric outcome column (e.g. revenue).")
@click.option("--converted", default=None, help="0/1 conversion column [default: outcome > 0].")
@click.option(
    "--cost-per-contact",
    default="0",
    show_default=True,
    help="Cost of one contact: a number for every treated arm, or 'arm_a=0.05,arm_b=0.1'.",
)
@click.option(
    "--margin", type=float, default=1.0, show_default=True, help="Gross margin in (0, 1]."
)
@click.option(
    "--confidence", type=float, default=0.95, show_default=True, help="Interval coverage."
)
@click.option("--strict", is_flag=True, help="Reject rows with a missing outcome.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--plot", "plot_path", default=None, help="Write the per-arm ROI plot (.png/.svg).")
@json_option("Print the full result as JSON.")
def experiment_command(
    file: str,
    arm: str,
    control: str,
    outcome: str,
    converted: str | None,
    cost_per_contact: str,
    margin: float,
    confidence: float,
    strict: bool,
    seed: int,
    plot_path: str | None,
    as_json: bool,
) -> None:
    """Analyse a randomized experiment stored as a CSV FILE (one row per customer).

    With --json, an unbounded interval end (a ratio whose control mean can be 0) is null.
    """
    from ecomlm_sdk.roi.experiment import analyze_experiment

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = analyze_experiment(
            file,
            arm=arm,
            control=control,
            outcome=outcome,
            converted=converted,
            cost_per_contact=_cost(cost_per_contact),
            margin=margin,
            confidence=confidence,
            strict=strict,
            seed=seed,
        )
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    if plot_path:
        from ecomlm_sdk.roi.plots import plot_arm_increments

        has_cost = any(a.incremental_roi is not None for a in result.arms)
        metric = "incremental_roi" if has_cost else "incremental_outcome_per_customer"
        plot_arm_increments(result, metric, path=plot_path)
    if as_json:
        emit_json(_finite(result.model_dump()))
        return
    level = f"{result.confidence:.0%}"
    click.echo(f"Experiment: {outcome!r} by {arm!r} against {control!r} ({level} intervals)")
    for a in result.arms:
        click.echo(
            f"\n{a.arm}{' (control)' if a.is_control else ''}: {a.customers:,} customers"
            f"{f', {a.missing_outcome:,} missing outcome' if a.missing_outcome else ''}"
        )
        click.echo(f"  conversion rate        {_fmt(a.conversion_rate, 4)}")
        click.echo(f"  mean {outcome:<18.18} {_fmt(a.mean_outcome)}")
        if a.is_control:
            continue
        click.echo(f"  incremental / customer {_fmt(a.incremental_outcome_per_customer)}")
        click.echo(f"  incremental total      {_fmt(a.incremental_outcome_total)}")
        click.echo(f"  relative lift          {_fmt(a.relative_lift, 3)}")
        click.echo(
            f"  incremental profit     {_fmt(a.incremental_profit)} (cost {a.total_cost:,.2f})"
        )
        click.echo(f"  incremental ROI        {_fmt(a.incremental_roi, 3)}")
    srm = result.sample_ratio
    click.echo(
        f"\nsample ratio check: chi2={srm.chi2:.2f} p={srm.p_value:.3g} "
        f"{'MISMATCH' if srm.mismatch else 'ok'}"
    )
    for note in result.notes:
        click.echo(f"note: {note}")
