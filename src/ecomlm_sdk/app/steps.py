"""The computation of each ``ecomlm quickstart`` step: what it runs and what it returns.

Each step runs one part of the SDK through its public API and returns a frozen result;
:mod:`ecomlm_sdk.report.quickstart` turns the results into report sections. The ``echo`` lines
are the run's console progress, not the report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

import ecomlm_sdk
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import TaskError
from ecomlm_sdk.privacy import redact
from ecomlm_sdk.roi.campaign import CampaignRoi, campaign_experiment, campaign_roi
from ecomlm_sdk.roi.experiment import ExperimentResult, analyze_experiment
from ecomlm_sdk.roi.planner import CampaignPlan, plan_campaign
from ecomlm_sdk.roi.synthetic import synthetic_experiment
from ecomlm_sdk.roi.uplift import TwoModelUplift
from ecomlm_sdk.tasks.baselines import strongest_baseline

__all__ = [
    "SAMPLE_CUTOFFS",
    "CampaignStep",
    "CopyStep",
    "PredictionStep",
    "RecommendationStep",
    "StoreCampaign",
    "StoreStep",
    "SupportStep",
    "campaign_step",
    "copy_step",
    "cutoffs",
    "load",
    "prediction_step",
    "recommendation_step",
    "store_campaigns_step",
    "store_step",
    "support_step",
]

Echo = Callable[[str], None]

#: Evaluation cutoffs of the bundled sample store (the issue's benchmark protocol).
SAMPLE_CUTOFFS: Final[Mapping[str, str]] = {
    "prediction": "2011-09-09",
    "recommendation": "2011-10-01",
}


def cutoffs(store: EcomStore, path: str | None, horizon_days: int = 90) -> dict[str, str]:
    """Evaluation cutoffs: the sample store's, or the last order date minus the horizon."""
    if path is None:
        return dict(SAMPLE_CUTOFFS)
    last = store.orders.get_column("created_at").max()
    if not isinstance(last, dt.datetime):
        raise TaskError(
            "quickstart: the store has no orders to evaluate on; load a store with at least a "
            "few months of orders"
        )
    prediction = (last - dt.timedelta(days=horizon_days)).date().isoformat()
    recommendation = (last - dt.timedelta(days=horizon_days * 2 // 3)).date().isoformat()
    return {"prediction": prediction, "recommendation": recommendation}


# ------------------------------------------------------------------------------------- store
@dataclass(frozen=True)
class StoreStep:
    """The loaded store, where it came from (``None``: the sample store) and its counts."""

    store: EcomStore
    path: str | None
    counts: dict[str, int]


def load(
    path: str | None, *, source: str | None = None, source_options: dict[str, Any] | None = None
) -> EcomStore:
    """The store read by data source ``source`` (default ``shopify_csv``) from ``path`` with
    ``source_options``, or the bundled sample store when none of them is given."""
    options = dict(source_options or {})
    if path is None and source is None and not options:
        return ecomlm_sdk.sample_store()
    if path is not None:
        options.setdefault("path", path)
    return ecomlm_sdk.load_store(source or "shopify_csv", **options)


def store_step(
    path: str | None,
    echo: Echo,
    *,
    source: str | None = None,
    source_options: dict[str, Any] | None = None,
) -> StoreStep:
    """Load the store (see :func:`load`) and count what it holds."""
    store = load(path, source=source, source_options=source_options)
    summary = store.summary()
    echo(
        f"      {summary['customers']:,} customers, {summary['orders']:,} orders, "
        f"{summary['order_lines']:,} order lines, {summary['products']:,} products"
    )
    echo("      " + str(store.load_report).replace("\n", "\n      "))
    counts = {
        "customers": summary["customers"],
        "orders": summary["orders"],
        "order lines": summary["order_lines"],
        "products": summary["products"],
        "countries": store.orders.get_column("country").n_unique(),
        "rows rejected": store.load_report.rows_rejected,
    }
    return StoreStep(store=store, path=path if path is not None else source, counts=counts)


# ------------------------------------------------------------------------------------- prediction
@dataclass(frozen=True)
class PredictionStep:
    """Leak-free evaluation at ``cutoff`` and every customer's scores from the refitted task."""

    cutoff: str
    metrics: dict[str, Any]
    baselines: dict[str, dict[str, float]]
    calibration: pl.DataFrame | None
    scores: pl.DataFrame
    #: The baseline served instead of the model (``details["fallback"]``), or ``None``.
    fallback: dict[str, Any] | None = None


def prediction_step(store: EcomStore, cutoff: str, echo: Echo) -> PredictionStep:
    """Evaluate purchase prediction leak-free, then fit on everything and score every customer."""
    pp = ecomlm_sdk.task("purchase-prediction", horizon_days=90)
    evaluation = pp.evaluate(store, cutoff=cutoff)
    metrics = evaluation.metrics
    best = strongest_baseline(evaluation.baselines, "roc_auc")
    echo(
        f"      ROC-AUC {metrics['roc_auc']:.3f} (strongest baseline "
        f"{best[0] if best else '-'} {best[1] if best else float('nan'):.3f}), "
        f"PR-AUC {metrics['pr_auc']:.3f}"
    )
    fallback = evaluation.details.get("fallback")
    if fallback:
        echo(f"      the {fallback['baseline']} baseline scores better: the task uses it")
    scores: pl.DataFrame = pp.fit(store).predict(store)  # fits the fallback, if any
    calibration = evaluation.details.get("calibration")
    return PredictionStep(
        cutoff=cutoff,
        metrics=dict(metrics),
        baselines=dict(evaluation.baselines),
        calibration=calibration if isinstance(calibration, pl.DataFrame) else None,
        scores=scores,
        fallback=fallback if isinstance(fallback, dict) else None,
    )


# ------------------------------------------------------------------------------------- recommendation
@dataclass(frozen=True)
class RecommendationStep:
    """Time-split evaluation at ``cutoff`` and picks for the most valuable customers."""

    cutoff: str
    metrics: dict[str, Any]
    baselines: dict[str, dict[str, float]]
    picks: pl.DataFrame
    top: int
    #: The baseline served instead of the hybrid (``details["fallback"]``), or ``None``.
    fallback: dict[str, Any] | None = None


def recommendation_step(
    store: EcomStore, cutoff: str, scores: pl.DataFrame, top: int, echo: Echo
) -> RecommendationStep:
    """Evaluate the recommender on a time split, then recommend for the most valuable customers."""
    rec = ecomlm_sdk.task("recommendation", k=10)
    evaluation = rec.evaluate(store, cutoff=cutoff)
    ndcg = evaluation.metrics["ndcg@10"]
    best = strongest_baseline(evaluation.baselines, "ndcg@10")
    echo(
        f"      NDCG@10 {ndcg:.3f} (strongest baseline {best[0] if best else '-'} "
        f"{best[1] if best else float('nan'):.3f})"
    )
    fallback = evaluation.details.get("fallback")
    if fallback:
        echo(f"      the {fallback['baseline']} baseline ranks better: the task uses it")
    rec.fit(store)  # serves the fallback baseline, if any
    ids = (
        scores.sort("expected_revenue", descending=True)
        .get_column("customer_id")
        .head(top)
        .to_list()
    )
    return RecommendationStep(
        cutoff=cutoff,
        metrics=dict(evaluation.metrics),
        baselines=dict(evaluation.baselines),
        picks=rec.recommend(ids, k=5),
        top=top,
        fallback=fallback if isinstance(fallback, dict) else None,
    )


# ------------------------------------------------------------------------------------- support
@dataclass(frozen=True)
class SupportStep:
    """The support task's fit summary and its replies to a few messages (redacted)."""

    fit_summary: dict[str, float]
    replies: pl.DataFrame
    handoffs: int


def _two_customers(store: EcomStore) -> tuple[str, str]:
    """The sample store's customer 17850 (or the most active one) and another customer."""
    counts = (
        store.orders.filter(pl.col("customer_id").is_not_null())
        .group_by("customer_id")
        .len()
        .sort(["len", "customer_id"], descending=[True, False])
    )
    ids = counts.get_column("customer_id").to_list()
    owner = "17850" if "17850" in ids else ids[0]
    other = next(c for c in ids if c != owner)
    return owner, other


def support_step(store: EcomStore, echo: Echo) -> SupportStep:
    """Train the intent model and answer a few messages, including order questions."""
    support = ecomlm_sdk.task("support").fit(store)
    owner, other = _two_customers(store)
    order = (
        store.orders.filter(
            (pl.col("customer_id") == owner) & ~pl.col("is_cancelled").fill_null(False)
        )
        .sort("created_at")
        .get_column("order_id")
        .tail(1)
        .item()
    )
    messages = [
        (f"Where is my order {order}?", owner),
        (f"Where is my order {order}?", other),
        ("How can I get a refund for a broken mug?", owner),
        ("I need to change the shipping address on my account", owner),
        ("my card 4111 1111 1111 1111 was charged twice!! call me on +44 20 7946 0958", owner),
        ("This is the third time. I want to talk to a human right now.", owner),
    ]
    replies = support.answer_many([m for m, _ in messages], [c for _, c in messages], store=store)
    rows = [
        {
            "customer": customer,
            "message (redacted)": redact(message),
            "intent": reply.intent,
            "confidence": round(reply.confidence, 3),
            "hand-off": reply.handoff,
            "reply": reply.text,
        }
        for (message, customer), reply in zip(messages, replies, strict=True)
    ]
    handoffs = sum(r.handoff for r in replies)
    echo(f"      answered {len(replies)} messages, {handoffs} handed to a person")
    return SupportStep(
        fit_summary=dict(support.fit_summary), replies=pl.DataFrame(rows), handoffs=handoffs
    )


# ------------------------------------------------------------------------------------- copy
@dataclass(frozen=True)
class CopyStep:
    """Copy written for the customers most likely to buy."""

    written: pl.DataFrame


def copy_step(store: EcomStore, scores: pl.DataFrame, echo: Echo, seed: int) -> CopyStep:
    """Train a small GPT-2 on the store's product text and write copy for one segment."""
    copy = ecomlm_sdk.task("generate-copy", seed=seed).fit(store)
    ids = scores.sort("p_buy", descending=True).get_column("customer_id").head(5).to_list()
    written = copy.generate(ids, store)
    echo(
        f"      wrote copy for {written.height} customers; first subject: {written['subject'][0]!r}"
    )
    return CopyStep(written=written)


# ------------------------------------------------------------------------------------- campaign
@dataclass(frozen=True)
class CampaignStep:
    """A synthetic randomized experiment measured with intervals, and a validated plan."""

    result: ExperimentResult
    plan: CampaignPlan
    cost_per_contact: float


def campaign_step(cost_per_contact: float, margin: float, seed: int, echo: Echo) -> CampaignStep:
    """Measure a randomized campaign with intervals and plan the next one from uplift scores."""
    experiment = synthetic_experiment(
        40_000, uplift={"email": 0.02, "email_discount": 0.035}, seed=seed
    )
    frame = experiment.frame
    result = analyze_experiment(
        frame,
        arm="arm",
        control="control",
        outcome="revenue",
        converted="converted",
        cost_per_contact=cost_per_contact,
        margin=margin,
    )
    train = frame.filter(pl.col("customer_id").hash(seed) % 2 == 0)
    holdout = frame.filter(pl.col("customer_id").hash(seed) % 2 == 1)

    def email(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("arm").is_in(["control", "email"]))

    features = list(experiment.features)
    model = TwoModelUplift().fit(
        email(train).select(features), email(train)["arm"], email(train)["converted"]
    )
    validation = email(holdout).with_columns(
        pl.Series("uplift", model.predict(email(holdout).select(features)))
    )
    mean_order = float(
        frame.filter(pl.col("converted") == 1).select(pl.col("revenue").mean()).item() or 0.0
    )
    plan = plan_campaign(
        validation.select("customer_id", "uplift"),
        score="uplift",
        kind="conversion",
        order_value=mean_order,
        cost_per_contact=cost_per_contact,
        margin=margin,
        validation=validation,
        arm="arm",
        control="control",
        outcome="revenue",
    )
    roi = result.arm("email").incremental_roi
    if roi is not None:
        echo(
            f"      synthetic experiment (not the shop's data): email arm incremental ROI "
            f"{roi.value:.2f} (95% interval {roi.low:.2f} to {roi.high:.2f})"
        )
    echo(
        f"      synthetic plan: contact {plan.contacts:,} of the synthetic customers, "
        f"expected ROI {plan.expected_roi or 0:.2f}"
    )
    return CampaignStep(result=result, plan=plan, cost_per_contact=cost_per_contact)


# ------------------------------------------------------------------------------------- own campaigns
@dataclass(frozen=True)
class StoreCampaign:
    """One of the store's own campaigns: attributed ROI, and the experiment when it has a control."""

    roi: CampaignRoi
    experiment: ExperimentResult | None
    name: str


def store_campaigns_step(
    store: EcomStore, margin: float, echo: Echo, *, control: str = "control", limit: int = 5
) -> list[StoreCampaign]:
    """Measure the store's own campaigns (those with exposures), most recent first.

    Returns an empty list when the store holds no campaign exposures: nothing is invented.
    """
    exposed = store.campaign_exposures.get_column("campaign_id").unique().to_list()
    names = dict(store.campaigns.select("campaign_id", "name").iter_rows())
    starts = dict(store.campaigns.select("campaign_id", "start_at").iter_rows())
    ordered = sorted(exposed, key=lambda c: (starts.get(c) is None, starts.get(c)), reverse=True)
    measured = []
    for campaign_id in ordered[:limit]:
        roi = campaign_roi(store, campaign_id, margin=margin, control=control)
        arms = set(
            store.campaign_exposures.filter(pl.col("campaign_id") == campaign_id)
            .get_column("arm")
            .to_list()
        )
        experiment = None
        if control in arms and len(arms) >= 2:
            experiment = campaign_experiment(store, campaign_id, margin=margin, control=control)
        measured.append(
            StoreCampaign(roi=roi, experiment=experiment, name=str(names.get(campaign_id) or ""))
        )
    echo(f"      {len(measured)} campaign(s) of the store's own measured")
    return measured
