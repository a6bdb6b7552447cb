"""``ecomlm quickstart``: the sample shop analysed end to end, in one HTML report.

Steps, each timed: load and validate the bundled store (real UCI Online Retail transactions);
evaluate and fit purchase prediction; recommend products for the top customers; train the support
intent model and answer real-looking messages (an order-status question from its owner and from
someone else, a hand-off); train a small GPT-2 on the store's own product text and write
marketing copy for one segment; measure the store's own campaigns (with ``--path``: only those;
without campaign exposures the section says so), or, for the bundled sample shop only, show the
method on a synthetic experiment labelled synthetic everywhere; write the report. Everything runs offline; models run on a GPU when one is available.

Each step computes in :mod:`ecomlm_sdk.app.steps` and is written up by
:mod:`ecomlm_sdk.report.quickstart`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ecomlm_sdk._version import __version__
from ecomlm_sdk.app.steps import (
    CampaignStep,
    PredictionStep,
    StoreCampaign,
    campaign_step,
    copy_step,
    cutoffs,
    prediction_step,
    recommendation_step,
    store_campaigns_step,
    store_step,
    support_step,
)
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.models.device import resolve_device
from ecomlm_sdk.report import campaigns as campaign_sections
from ecomlm_sdk.report import quickstart as sections
from ecomlm_sdk.report.html import HtmlReport
from ecomlm_sdk.tasks.baselines import strongest_baseline

__all__ = [
    "QuickstartOptions",
    "QuickstartResult",
    "campaign_report",
    "report_title",
    "run_quickstart",
    "store_currency",
]

#: How the bundled sample shop is named in titles.
SAMPLE_SHOP = "the bundled sample shop (UCI Online Retail)"

T = TypeVar("T")


class QuickstartOptions(BaseModel):
    """Settings of the quickstart run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    output: Path = Field(default=Path("ecomlm-report/report.html"), description="Report path.")
    path: str | None = Field(
        default=None, description="Folder of Shopify exports; None: the bundled sample store."
    )
    source: str | None = Field(
        default=None, description="Registered data source to read (None: shopify_csv)."
    )
    source_options: dict[str, Any] = Field(
        default_factory=dict, description="Options of the data source (besides path)."
    )
    top_customers: int = Field(default=5, ge=1, le=50, description="Customers to recommend for.")
    cost_per_contact: float = Field(default=0.10, ge=0, description="Cost of one email.")
    margin: float = Field(default=0.35, gt=0, le=1, description="Gross margin.")
    seed: int = Field(default=0, description="Seed for every random step.")
    quiet: bool = Field(default=False, description="Print nothing but the result line.")

    @property
    def origin(self) -> str | None:
        """Where the store comes from: the path, else the data source; ``None``: the sample."""
        return self.path if self.path is not None else self.source


class QuickstartResult(BaseModel):
    """Where the report is and the headline figures."""

    model_config = ConfigDict(frozen=True)

    report: Path
    headline: dict[str, float]
    timings: dict[str, float]
    device: str


class _Runner:
    def __init__(self, options: QuickstartOptions, echo: Callable[[str], None]) -> None:
        self.options = options
        self.echo = (lambda _: None) if options.quiet else echo
        self.timings: dict[str, float] = {}
        self.step_no = 0

    def step(self, title: str, fn: Callable[[], T]) -> T:
        self.step_no += 1
        self.echo(f"[{self.step_no}/7] {title} ...")
        started = time.perf_counter()
        result = fn()
        self.timings[title] = time.perf_counter() - started
        self.echo(f"      done in {self.timings[title]:.1f}s")
        return result


def _synthetic_headline(step: CampaignStep) -> dict[str, float]:
    figures: dict[str, float] = {}
    roi = step.result.arm("email").incremental_roi
    if roi is not None:
        figures["synthetic experiment (not the shop's): email incremental ROI"] = roi.value
    measured = step.plan.incremental_roi
    if measured is not None:
        figures["synthetic experiment (not the shop's): plan's measured incremental ROI"] = (
            measured.value
        )
    return figures


def _own_headline(campaigns: list[StoreCampaign]) -> dict[str, float]:
    """The most recent own campaign: incremental ROI when it had a control, else attributed."""
    if not campaigns:
        return {}
    latest = campaigns[0]
    if latest.experiment is not None:
        for arm in latest.experiment.arms:
            if not arm.is_control and arm.incremental_roi is not None:
                return {
                    f"campaign {latest.roi.campaign_id} ({arm.arm}) incremental ROI": (
                        arm.incremental_roi.value
                    )
                }
    if latest.roi.roi is not None:
        return {f"campaign {latest.roi.campaign_id} attributed ROI": latest.roi.roi}
    return {}


def store_currency(store: EcomStore) -> str | None:
    """The currency most of the store's orders are in (ISO code), or ``None`` when unknown."""
    codes = store.orders.get_column("currency").drop_nulls()
    if codes.is_empty():
        return None
    return str(codes.mode().sort().first())


def report_title(path: str | None, store: EcomStore | None = None) -> str:
    """The report's title, naming where the store came from."""
    if path is None:
        return f"ecomlm-sdk report: {SAMPLE_SHOP}"
    source = store.source if store is not None and store.source else "shopify_csv"
    return f"ecomlm-sdk report: {source} exports in {path}"


def campaign_report(
    report: HtmlReport,
    store: EcomStore,
    path: str | None,
    options: QuickstartOptions,
    echo: Callable[[str], None],
) -> dict[str, float]:
    """Add the campaign section and return its headline figures.

    The store's own campaigns when it has exposures; otherwise, for your exports, a section
    saying there are none and how to measure one (no figures); only for the bundled sample shop
    (``path`` is None), the method on a synthetic experiment, labelled synthetic everywhere.
    """
    own = store_campaigns_step(store, options.margin, echo)
    if own:
        campaign_sections.store_campaigns_section(report, own)
        return _own_headline(own)
    if path is not None:
        campaign_sections.no_campaigns_section(report)
        echo("      no campaign exposures in the exports: no campaign figures")
        return {}
    step = campaign_step(options.cost_per_contact, options.margin, options.seed, echo)
    campaign_sections.synthetic_campaign_section(
        report, step.result, step.plan, step.cost_per_contact
    )
    return _synthetic_headline(step)


def _baseline_headline(
    label: str, baselines: dict[str, dict[str, float]], metric: str
) -> dict[str, float]:
    best = strongest_baseline(baselines, metric)
    return {f"{label}, strongest baseline ({best[0]})": best[1]} if best else {}


def run_quickstart(
    options: QuickstartOptions | None = None, echo: Callable[[str], None] = print
) -> QuickstartResult:
    """Run every step on the sample store and write the HTML report."""
    options = options or QuickstartOptions()
    run = _Runner(options, echo)
    device = resolve_device()
    run.echo(f"ecomlm-sdk {__version__} on {device.device} ({device.reason})")
    headline: dict[str, float] = {}

    loaded = run.step(
        "Loading the store",
        lambda: store_step(
            options.path, run.echo, source=options.source, source_options=options.source_options
        ),
    )
    report = HtmlReport(
        report_title(options.origin, loaded.store),
        currency=store_currency(loaded.store),
        subtitle=(
            "Real UCI Online Retail transactions (Chen, Sain & Guo 2012, CC BY 4.0)"
            if options.origin is None
            else f"Your exports from {options.origin}"
        )
        + f", analysed offline on {device.device}.",
    )
    sections.store_section(report, loaded.path, loaded.counts, str(loaded.store.load_report))
    shop = loaded.store
    cuts = cutoffs(shop, options.origin)

    def prediction() -> PredictionStep:
        step = prediction_step(shop, cuts["prediction"], run.echo)
        sections.prediction_section(
            report,
            step.cutoff,
            step.metrics,
            step.baselines,
            step.calibration,
            step.scores,
            step.fallback,
        )
        return step

    predicted = run.step("Purchase prediction", prediction)
    headline["purchase ROC-AUC"] = predicted.metrics["roc_auc"]
    headline.update(_baseline_headline("purchase ROC-AUC", predicted.baselines, "roc_auc"))
    scores = predicted.scores

    def recommendation() -> None:
        step = recommendation_step(
            shop, cuts["recommendation"], scores, options.top_customers, run.echo
        )
        sections.recommendation_section(
            report, step.cutoff, step.metrics, step.baselines, step.picks, step.top, step.fallback
        )
        headline["recommendation NDCG@10"] = step.metrics["ndcg@10"]
        headline.update(_baseline_headline("recommendation NDCG@10", step.baselines, "ndcg@10"))

    run.step("Recommendations", recommendation)

    def support() -> None:
        step = support_step(shop, run.echo)
        sections.support_section(report, step.fit_summary, step.replies)
        answered = step.replies.height - step.handoffs
        headline["support messages answered without a person"] = float(answered)

    run.step("Customer support", support)

    def copy() -> None:
        step = copy_step(shop, scores, run.echo, options.seed)
        sections.copy_section(report, step.written)

    run.step("Marketing copy", copy)

    def campaign() -> None:
        headline.update(campaign_report(report, shop, options.origin, options, run.echo))

    run.step("Campaigns and incremental ROI", campaign)
    sections.timings_section(report, run.timings)
    path = run.step("Writing the report", lambda: report.write(options.output))
    return QuickstartResult(
        report=path, headline=headline, timings=run.timings, device=device.device
    )
