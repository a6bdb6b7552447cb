"""The sections of the ``ecomlm quickstart`` report: the prose, tables and charts for each step.

The figures come from :mod:`ecomlm_sdk.app.steps`, passed in as plain values (frames, dicts,
ROI results), so this module computes nothing and the app layer writes no prose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from ecomlm_sdk.report.charts import calibration_chart
from ecomlm_sdk.report.html import HtmlReport
from ecomlm_sdk.roi.experiment import ExperimentResult
from ecomlm_sdk.roi.planner import CampaignPlan

__all__ = [
    "campaign_section",
    "copy_section",
    "prediction_section",
    "recommendation_section",
    "store_section",
    "support_section",
    "timings_section",
]


def store_section(
    report: HtmlReport, path: str | None, counts: Mapping[str, int], load_report: str
) -> None:
    """The store: where it came from, its counts and its load report."""
    section = report.section("The store")
    section.text(
        "The bundled sample store is the UCI Online Retail log (every transaction of a UK gift "
        "retailer, 2010-12-01 to 2011-12-09) converted to Shopify export files and loaded through "
        "the shopify_csv plugin, exactly as your own exports would be."
        if path is None
        else f"Shopify exports loaded from {path} through the shopify_csv plugin."
    )
    section.metrics(dict(counts))
    section.preformatted(load_report)


def prediction_section(
    report: HtmlReport,
    cutoff: str,
    metrics: Mapping[str, Any],
    baselines: Mapping[str, Mapping[str, float]],
    calibration: pl.DataFrame | None,
    scores: pl.DataFrame,
) -> None:
    """Purchase prediction: the leak-free protocol, metrics against baselines, calibration."""
    section = report.section("Who will buy in the next 90 days")
    section.text(
        f"Trained on the history before {cutoff} minus the horizon, scored at "
        f"{cutoff}, judged on the 90 days after: nothing the model learns from "
        "comes from the window it is judged on."
    )
    section.metrics({k: v for k, v in metrics.items() if isinstance(v, float)})
    baseline_rows = [
        {"model": name, **{k: v for k, v in values.items() if k in ("roc_auc", "pr_auc")}}
        for name, values in {"ecomlm (this model)": metrics, **baselines}.items()
    ]
    section.table(pl.DataFrame(baseline_rows))
    if calibration is not None and calibration.height:
        section.image(
            calibration_chart(calibration), "Calibration: predicted against observed buying rate"
        )
    section.table(scores.sort("expected_revenue", descending=True).head(10))


def recommendation_section(
    report: HtmlReport,
    cutoff: str,
    metrics: Mapping[str, Any],
    baselines: Mapping[str, Mapping[str, float]],
    picks: pl.DataFrame,
    top: int,
) -> None:
    """Recommendations: the time split, metrics against baselines, the picks."""
    section = report.section("What to show each customer")
    section.text(
        f"Hybrid recommender evaluated on purchases after {cutoff} (trained only on "
        "what came before), then refitted on everything to recommend for the customers with the "
        "highest expected revenue."
    )
    section.metrics({k: v for k, v in metrics.items() if isinstance(v, float)})
    rows = [{"recommender": "ecomlm hybrid", **metrics}] + [
        {"recommender": name, **values} for name, values in baselines.items()
    ]
    section.table(pl.DataFrame(rows))
    section.table(picks, max_rows=5 * top)


def support_section(
    report: HtmlReport, fit_summary: Mapping[str, float], replies: pl.DataFrame
) -> None:
    """Customer support: how it answers, its fit summary, the replies (redacted)."""
    section = report.section("Automated customer support")
    section.text(
        "Intents from the bert-classifier plugin trained on the Bitext customer-support taxonomy "
        "(CDLA-Sharing-1.0); answers from the store's own order data (only to the order's owner) "
        "or the FAQ; a person takes over when confidence is low. Personal data is redacted "
        "before any model or log sees it."
    )
    section.metrics({k.replace("_", " "): float(v) for k, v in fit_summary.items()})
    section.text(
        "validation accuracy is the intent classifier's score on the share of its training "
        "utterances it held out; benchmarks/bench_support.py measures it on a held-out 20% of "
        "the whole Bitext set.",
        note=True,
    )
    section.table(replies)


def copy_section(report: HtmlReport, written: pl.DataFrame) -> None:
    """Marketing copy: how it was written, and the copy."""
    section = report.section("Marketing copy")
    section.text(
        "Written by a small GPT-2 that ecomlm-sdk trained from scratch in this run on the store's "
        "own product titles (no model was downloaded); prompts hold the customer's segment and "
        "recommended products, never personal data. Rows marked generated=False fell back to a "
        "template because the model's text did not pass the grounding checks."
    )
    section.table(written.with_columns(pl.col("products").list.join(" | ")))


def campaign_section(
    report: HtmlReport, result: ExperimentResult, plan: CampaignPlan, cost_per_contact: float
) -> None:
    """The campaign: the measured experiment with intervals and the validated plan."""
    # lazy: roi.plots imports matplotlib at module level
    from ecomlm_sdk.roi.plots import plot_arm_increments, plot_profit_curve

    section = report.section("Campaign: what it really earned, and whom to target next")
    section.text(
        "The sample store holds no campaign experiment, so this section uses a synthetic "
        "randomized experiment with known true uplift (ecomlm_sdk.roi.synthetic_experiment, "
        "40,000 customers, arms control / email / email_discount) to show the method. With your "
        "own data, pass your campaign exposures and outcomes to analyze_experiment."
    )
    keep = ["arm", "customers", "total_cost", "conversion_rate"] + [
        f"{name}{suffix}"
        for name in ("incremental_outcome_per_customer", "incremental_profit", "incremental_roi")
        for suffix in ("", "_low", "_high", "_p")
    ]
    section.table(result.to_frame().select(keep))
    section.image(
        plot_arm_increments(result, "incremental_roi"), "Incremental ROI per arm with 95% intervals"
    )
    measured = plan.incremental_roi
    measured_text = (
        f" Measured on the held-out half, the plan's incremental ROI is {measured.value:.2f} "
        f"(95% interval {measured.low:.2f} to {measured.high:.2f}): the model's own scores "
        "promise more than the experiment confirms, which is why plans are validated."
        if measured is not None
        else ""
    )
    section.text(
        f"Plan for the email arm from a two-model uplift model trained on half the customers and "
        f"validated on the other half: contact {plan.contacts:,} customers at "
        f"{cost_per_contact:.2f} each; the scores expect an incremental profit of "
        f"{plan.expected_incremental_profit:,.0f}." + measured_text
    )
    validated = {
        name: estimate
        for name, estimate in (
            ("incremental revenue", plan.incremental_revenue),
            ("incremental profit", plan.incremental_profit),
            ("incremental ROI", plan.incremental_roi),
        )
        if estimate is not None
    }
    if validated:
        section.table(
            pl.DataFrame(
                [
                    {
                        "measured on holdout": k,
                        "value": v.value,
                        "95% low": v.low,
                        "95% high": v.high,
                    }
                    for k, v in validated.items()
                ]
            )
        )
    section.image(
        plot_profit_curve(plan), "Expected and measured incremental profit by contacts made"
    )
    section.table(plan.targets.head(10))


def timings_section(report: HtmlReport, timings: Mapping[str, float]) -> None:
    """How long each step took."""
    report.section("Timings").table(
        pl.DataFrame({"step": list(timings), "seconds": [round(t, 1) for t in timings.values()]})
    )
