"""The campaign sections of the report: the store's own campaigns, or why there are none.

Nothing synthetic is presented as the shop's: a store with campaign exposures gets
:func:`store_campaigns_section` (its own campaigns, measured); a store without them gets
:func:`no_campaigns_section`, which says so and shows how to measure one. Only the quickstart on
the bundled sample shop adds :func:`synthetic_campaign_section`, labelled synthetic throughout.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from ecomlm_sdk.report.html import HtmlReport, money
from ecomlm_sdk.roi.campaign import CampaignRoi
from ecomlm_sdk.roi.experiment import ExperimentResult
from ecomlm_sdk.roi.planner import CampaignPlan

__all__ = [
    "NO_CAMPAIGNS_TITLE",
    "STORE_CAMPAIGNS_TITLE",
    "SYNTHETIC_TITLE",
    "no_campaigns_section",
    "store_campaigns_section",
    "synthetic_campaign_section",
]

STORE_CAMPAIGNS_TITLE = "Your campaigns: what they earned"
NO_CAMPAIGNS_TITLE = "Campaigns: none in your data yet"
SYNTHETIC_TITLE = "Campaign method, shown on a synthetic experiment (not your shop's data)"

_HOW_TO_MEASURE = (
    "To measure a campaign: before sending, hold out a random share of the customers you would "
    "contact (an 80/20 split is usual for e-mail) and record every assigned customer, contacted "
    "or held out, with their arm ('control' for the held-out ones), the time and the cost of "
    "the contact. Load those rows as the store's campaign_exposures (and the campaign, with its "
    "fixed cost, in campaigns), then ecomlm_sdk.roi.campaign_experiment(store, campaign_id) "
    "gives the incremental revenue, profit and ROI with 95% intervals. From a CSV with one row "
    "per customer: ecomlm roi experiment FILE --arm arm --control control --outcome revenue."
)


def no_campaigns_section(report: HtmlReport) -> None:
    """The store holds no campaign exposures: say so, and how to measure a campaign."""
    section = report.section(NO_CAMPAIGNS_TITLE)
    section.text(
        "Your exports hold no campaign exposures, so this report shows no campaign figures: "
        "none are estimated or borrowed from other data."
    )
    section.text(_HOW_TO_MEASURE)
    section.next_steps(
        [
            "Send your next campaign with a random 20% holdout, and keep the list of who was "
            "held out.",
            "Load the exposures and run ecomlm report again: this section then shows what the "
            "campaign earned.",
        ]
    )


def roi_note(roi: float, currency: str | None) -> str:
    """``"ROI 4.35: each £1.00 spent brought £4.35 of profit beyond its cost."``"""
    return (
        f"ROI {roi:.2f}: each {money(1.0, currency)} spent brought {money(roi, currency)} of "
        "profit beyond its cost."
        if roi >= 0
        else f"ROI {roi:.2f}: each {money(1.0, currency)} spent lost {money(-roi, currency)}."
    )


def _arms(result: ExperimentResult) -> pl.DataFrame:
    keep = ["arm", "customers", "total_cost", "conversion_rate"] + [
        f"{name}{suffix}"
        for name in ("incremental_profit", "incremental_roi")
        for suffix in ("", "_low", "_high")
    ]
    return result.to_frame().select(keep)


def store_campaigns_section(report: HtmlReport, campaigns: Sequence[Any]) -> None:
    """The store's own campaigns: attributed ROI, and the experiment where one had a control.

    Args:
        report: The report to add to.
        campaigns: ``app.steps.StoreCampaign`` rows (``roi``, ``experiment``, ``name``).
    """
    section = report.section(STORE_CAMPAIGNS_TITLE)
    section.text(
        "Measured from your own campaign exposures and orders. Attributed revenue counts the "
        "orders of contacted customers within 30 days of the contact (last touch): some would "
        "have bought anyway. Where a campaign held out a control group, the incremental figures "
        "say what the campaign caused. Cost counts every contact's cost plus the campaign's "
        "fixed cost."
    )
    rows = []
    for item in campaigns:
        roi: CampaignRoi = item.roi
        rows.append(
            {
                "campaign": f"{item.name} ({roi.campaign_id})" if item.name else roi.campaign_id,
                "contacted": roi.touched_customers,
                "attributed revenue": roi.attributed_revenue,
                "cost": roi.cost,
                "attributed ROI": roi.roi,
            }
        )
    latest = campaigns[0]
    tiles: dict[str, float] = {"contacted": float(latest.roi.touched_customers)}
    notes = {"contacted": f"Customers campaign {latest.roi.campaign_id} contacted."}
    incremental = None
    if latest.experiment is not None:
        incremental = next(
            (a.incremental_roi for a in latest.experiment.arms if not a.is_control), None
        )
    if incremental is not None:
        tiles["incremental ROI"] = incremental.value
        notes["incremental ROI"] = (
            roi_note(incremental.value, report.currency)
            + f" 95% interval {incremental.low:.2f} to {incremental.high:.2f}."
        )
    elif latest.roi.roi is not None:
        tiles["attributed ROI"] = latest.roi.roi
        notes["attributed ROI"] = (
            f"Revenue of contacted customers within 30 days, against the cost: "
            f"{roi_note(latest.roi.roi, report.currency)} Some would have bought anyway."
        )
    section.metrics(tiles, digits=2, notes=notes)
    section.table(pl.DataFrame(rows), money=("attributed revenue", "cost"))
    for item in campaigns:
        result: ExperimentResult | None = item.experiment
        if result is None:
            continue
        section.text(f"Campaign {item.roi.campaign_id} against its control group (95% intervals):")
        section.table(
            _arms(result),
            money=(
                "total_cost",
                "incremental_profit",
                "incremental_profit_low",
                "incremental_profit_high",
            ),
        )
        srm = result.sample_ratio
        if srm.mismatch:
            section.text(
                f"Warning: the arm sizes ({srm.observed}) stray from the planned split "
                f"({srm.expected_share}) more than chance allows (p={srm.p_value:.3g}): check how "
                "customers were assigned before trusting these figures.",
                note=True,
            )
    section.next_steps(
        [
            "Keep a random holdout in every campaign: only the comparison with it says what a "
            "campaign caused.",
            "Plan the next one from this week's scores: ecomlm plan --model DIR --budget ... "
            "--output targets.csv.",
        ]
    )


def synthetic_campaign_section(
    report: HtmlReport, result: ExperimentResult, plan: CampaignPlan, cost_per_contact: float
) -> None:
    """The quickstart's demonstration: a synthetic experiment, labelled synthetic everywhere."""
    # lazy: roi.plots imports matplotlib at module level
    from ecomlm_sdk.roi.plots import plot_arm_increments, plot_profit_curve

    section = report.section(SYNTHETIC_TITLE)
    section.text(
        "SYNTHETIC DATA, NOT THE SHOP'S. The sample shop holds no campaign experiment, so this "
        "section shows the method on a synthetic randomized experiment with known true uplift "
        "(ecomlm_sdk.roi.synthetic_experiment: 40,000 invented customers, arms control / email "
        "/ email_discount). None of these figures describe the sample shop or yours."
    )
    section.text(_HOW_TO_MEASURE, note=True)
    keep = ["arm", "customers", "total_cost", "conversion_rate"] + [
        f"{name}{suffix}"
        for name in ("incremental_profit", "incremental_roi")
        for suffix in ("", "_low", "_high")
    ]
    section.table(
        result.to_frame().select(keep),
        money=(
            "total_cost",
            "incremental_profit",
            "incremental_profit_low",
            "incremental_profit_high",
        ),
    )
    section.image(
        plot_arm_increments(result, "incremental_roi"),
        "Synthetic experiment: incremental ROI per arm with 95% intervals",
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
        "Synthetic plan for the email arm from a two-model uplift model trained on half the "
        f"synthetic customers and validated on the other half: contact {plan.contacts:,} "
        f"synthetic customers at {cost_per_contact:.2f} each; the scores expect an incremental "
        f"profit of {plan.expected_incremental_profit:,.0f}." + measured_text
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
                        "synthetic, measured on holdout": k,
                        "value": v.value,
                        "95% low": v.low,
                        "95% high": v.high,
                    }
                    for k, v in validated.items()
                ]
            )
        )
    section.image(
        plot_profit_curve(plan),
        "Synthetic experiment: expected and measured incremental profit by contacts made",
    )
    section.table(
        plan.targets.head(10),
        money=("expected_incremental_revenue", "expected_incremental_profit"),
    )
    section.next_steps(
        [
            "Measure your own campaign the same way: send it with a random 20% holdout and "
            "load its exposures.",
            "Until then, plan from purchase scores: ecomlm plan --model DIR --budget ... "
            "--output targets.csv.",
        ]
    )
