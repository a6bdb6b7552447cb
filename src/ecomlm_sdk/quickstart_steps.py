"""The steps of ``ecomlm quickstart``: each runs one part of the SDK and adds a report section."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import polars as pl

from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import TaskError
from ecomlm_sdk.privacy import redact
from ecomlm_sdk.report.html import HtmlReport

if TYPE_CHECKING:
    from ecomlm_sdk.quickstart import QuickstartOptions

Echo = Callable[[str], None]

#: Evaluation cutoffs of the bundled sample store (the issue's benchmark protocol).
SAMPLE_CUTOFFS = {"prediction": "2011-09-09", "recommendation": "2011-10-01"}


def cutoffs(store: EcomStore, path: str | None, horizon_days: int = 90) -> dict[str, str]:
    """Evaluation cutoffs: the sample store's, or the last order date minus the horizon."""
    import datetime as dt

    if path is None:
        return SAMPLE_CUTOFFS
    last = store.orders.get_column("created_at").max()
    if not isinstance(last, dt.datetime):
        raise TaskError(
            "quickstart: the store has no orders to evaluate on; load a store with at least a "
            "few months of orders"
        )
    prediction = (last - dt.timedelta(days=horizon_days)).date().isoformat()
    recommendation = (last - dt.timedelta(days=horizon_days * 2 // 3)).date().isoformat()
    return {"prediction": prediction, "recommendation": recommendation}


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------- store
def load(path: str | None) -> EcomStore:
    """The store at ``path`` (a folder of Shopify exports), or the bundled sample store."""
    import ecomlm_sdk

    return (
        ecomlm_sdk.sample_store()
        if path is None
        else ecomlm_sdk.load_store("shopify_csv", path=path)
    )


def store_step(path: str | None, report: HtmlReport, echo: Echo) -> EcomStore:
    """Load the store and show its load report."""
    store = load(path)
    summary = store.summary()
    echo(
        f"      {summary['customers']:,} customers, {summary['orders']:,} orders, "
        f"{summary['order_lines']:,} order lines, {summary['products']:,} products"
    )
    echo("      " + str(store.load_report).replace("\n", "\n      "))
    section = report.section("The store")
    section.text(
        "The bundled sample store is the UCI Online Retail log (every transaction of a UK gift "
        "retailer, 2010-12-01 to 2011-12-09) converted to Shopify export files and loaded through "
        "the shopify_csv plugin, exactly as your own exports would be."
        if path is None
        else f"Shopify exports loaded from {path} through the shopify_csv plugin."
    )
    countries = store.orders.get_column("country").n_unique()
    section.metrics(
        {
            "customers": summary["customers"],
            "orders": summary["orders"],
            "order lines": summary["order_lines"],
            "products": summary["products"],
            "countries": countries,
            "rows rejected": store.load_report.rows_rejected,
        }
    )
    section.preformatted(str(store.load_report))
    return store


# ------------------------------------------------------------------------------------- prediction
def _calibration_chart(calibration: pl.DataFrame) -> bytes:
    """Reliability diagram: observed buying rate against mean predicted probability, per bin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    centres = ((calibration["bin_low"] + calibration["bin_high"]) / 2).to_list()
    ax.bar(
        centres,
        calibration["observed_rate"].to_list(),
        width=0.08,
        color="#3b6fd8",
        label="observed rate",
    )
    ax.plot(
        calibration["mean_predicted"].to_list(),
        calibration["observed_rate"].to_list(),
        "o",
        color="#e0702b",
        label="bin mean p_buy",
    )
    ax.plot([0, 1], [0, 1], "--", color="#888", label="perfect calibration")
    for x, y, n in zip(
        centres,
        calibration["observed_rate"].to_list(),
        calibration["customers"].to_list(),
        strict=True,
    ):
        ax.annotate(
            f"{n}", (x, y), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7
        )
    ax.set_xlabel("predicted probability of buying in the horizon")
    ax.set_ylabel("share who bought")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Calibration on the held-out window (customers per bin on the bars)")
    return _png(fig)


def prediction_step(
    store: EcomStore, cutoff: str, report: HtmlReport, headline: dict[str, float], echo: Echo
) -> pl.DataFrame:
    """Evaluate purchase prediction leak-free, then fit on everything and score every customer."""
    import ecomlm_sdk

    pp = ecomlm_sdk.task("purchase-prediction", horizon_days=90)
    evaluation = pp.evaluate(store, cutoff=cutoff)
    metrics = evaluation.metrics
    recency = evaluation.baselines.get("recency", {})
    echo(
        f"      ROC-AUC {metrics['roc_auc']:.3f} (recency baseline {recency.get('roc_auc', float('nan')):.3f}), "
        f"PR-AUC {metrics['pr_auc']:.3f}"
    )
    scores: pl.DataFrame = pp.fit(store).predict(store)
    headline["purchase ROC-AUC"] = metrics["roc_auc"]
    section = report.section("Who will buy in the next 90 days")
    section.text(
        f"Trained on the history before {cutoff} minus the horizon, scored at "
        f"{cutoff}, judged on the 90 days after: nothing the model learns from "
        "comes from the window it is judged on."
    )
    tiles = {k: v for k, v in metrics.items() if isinstance(v, float)}
    section.metrics(tiles)
    baseline_rows = [
        {"model": name, **{k: v for k, v in values.items() if k in ("roc_auc", "pr_auc")}}
        for name, values in {"ecomlm (this model)": metrics, **evaluation.baselines}.items()
    ]
    section.table(pl.DataFrame(baseline_rows))
    calibration = evaluation.details.get("calibration")
    if isinstance(calibration, pl.DataFrame) and calibration.height:
        section.image(
            _calibration_chart(calibration), "Calibration: predicted against observed buying rate"
        )
    section.table(scores.sort("expected_revenue", descending=True).head(10))
    return scores


# ------------------------------------------------------------------------------------- recommendation
def recommendation_step(
    store: EcomStore,
    cutoff: str,
    scores: pl.DataFrame,
    top: int,
    report: HtmlReport,
    headline: dict[str, float],
    echo: Echo,
) -> None:
    """Evaluate the recommender on a time split, then recommend for the most valuable customers."""
    import ecomlm_sdk

    evaluation = ecomlm_sdk.task("recommendation", k=10).evaluate(store, cutoff=cutoff)
    ndcg = evaluation.metrics["ndcg@10"]
    popularity = evaluation.baselines.get("popularity", {}).get("ndcg@10", float("nan"))
    echo(f"      NDCG@10 {ndcg:.3f} (popularity baseline {popularity:.3f})")
    headline["recommendation NDCG@10"] = ndcg
    rec = ecomlm_sdk.task("recommendation", k=10).fit(store)
    ids = (
        scores.sort("expected_revenue", descending=True)
        .get_column("customer_id")
        .head(top)
        .to_list()
    )
    picks = rec.recommend(ids, k=5)
    section = report.section("What to show each customer")
    section.text(
        f"Hybrid recommender evaluated on purchases after {cutoff} (trained only on "
        "what came before), then refitted on everything to recommend for the customers with the "
        "highest expected revenue."
    )
    section.metrics({k: v for k, v in evaluation.metrics.items() if isinstance(v, float)})
    rows = [{"recommender": "ecomlm hybrid", **evaluation.metrics}] + [
        {"recommender": name, **values} for name, values in evaluation.baselines.items()
    ]
    section.table(pl.DataFrame(rows))
    section.table(picks, max_rows=5 * top)


# ------------------------------------------------------------------------------------- support
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


def support_step(
    store: EcomStore, report: HtmlReport, headline: dict[str, float], echo: Echo
) -> None:
    """Train the intent model and answer a few messages, including order questions."""
    import ecomlm_sdk

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
    rows = []
    for (message, customer), reply in zip(messages, replies, strict=True):
        rows.append(
            {
                "customer": customer,
                "message (redacted)": redact(message),
                "intent": reply.intent,
                "confidence": round(reply.confidence, 3),
                "hand-off": reply.handoff,
                "reply": reply.text,
            }
        )
    handoffs = sum(r.handoff for r in replies)
    echo(f"      answered {len(replies)} messages, {handoffs} handed to a person")
    headline["support messages answered without a person"] = float(len(replies) - handoffs)
    section = report.section("Automated customer support")
    section.text(
        "Intents from the bert-classifier plugin trained on the Bitext customer-support taxonomy "
        "(CDLA-Sharing-1.0); answers from the store's own order data (only to the order's owner) "
        "or the FAQ; a person takes over when confidence is low. Personal data is redacted "
        "before any model or log sees it."
    )
    section.metrics({k.replace("_", " "): float(v) for k, v in support.fit_summary.items()})
    section.text(
        "validation accuracy is the intent classifier's score on the share of its training "
        "utterances it held out; benchmarks/bench_support.py measures it on a held-out 20% of "
        "the whole Bitext set.",
        note=True,
    )
    section.table(pl.DataFrame(rows))


# ------------------------------------------------------------------------------------- copy
def copy_step(
    store: EcomStore, scores: pl.DataFrame, report: HtmlReport, echo: Echo, seed: int
) -> None:
    """Train a small GPT-2 on the store's product text and write copy for one segment."""
    import ecomlm_sdk

    copy = ecomlm_sdk.task("generate-copy", seed=seed).fit(store)
    ids = scores.sort("p_buy", descending=True).get_column("customer_id").head(5).to_list()
    written = copy.generate(ids, store)
    echo(
        f"      wrote copy for {written.height} customers; first subject: {written['subject'][0]!r}"
    )
    section = report.section("Marketing copy")
    section.text(
        "Written by a small GPT-2 that ecomlm-sdk trained from scratch in this run on the store's "
        "own product titles (no model was downloaded); prompts hold the customer's segment and "
        "recommended products, never personal data. Rows marked generated=False fell back to a "
        "template because the model's text did not pass the grounding checks."
    )
    section.table(written.with_columns(pl.col("products").list.join(" | ")))


# ------------------------------------------------------------------------------------- campaign
def campaign_step(
    options: QuickstartOptions, report: HtmlReport, headline: dict[str, float], echo: Echo
) -> None:
    """Measure a randomized campaign with intervals and plan the next one from uplift scores."""
    from ecomlm_sdk.roi import (
        TwoModelUplift,
        analyze_experiment,
        plan_campaign,
        plot_arm_increments,
        plot_profit_curve,
        synthetic_experiment,
    )

    experiment = synthetic_experiment(
        40_000, uplift={"email": 0.02, "email_discount": 0.035}, seed=options.seed
    )
    frame = experiment.frame
    result = analyze_experiment(
        frame,
        arm="arm",
        control="control",
        outcome="revenue",
        converted="converted",
        cost_per_contact=options.cost_per_contact,
        margin=options.margin,
    )
    train = frame.filter(pl.col("customer_id").hash(options.seed) % 2 == 0)
    holdout = frame.filter(pl.col("customer_id").hash(options.seed) % 2 == 1)

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
        cost_per_contact=options.cost_per_contact,
        margin=options.margin,
        validation=validation,
        arm="arm",
        control="control",
        outcome="revenue",
    )
    arm_email = result.arm("email")
    roi = arm_email.incremental_roi
    if roi is not None:
        headline["email incremental ROI"] = roi.value
        echo(
            f"      email arm incremental ROI {roi.value:.2f} (95% interval {roi.low:.2f} to {roi.high:.2f})"
        )
    echo(
        f"      plan: contact {plan.contacts:,} customers, expected ROI {plan.expected_roi or 0:.2f}"
    )
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
    if measured is not None:
        headline["planned campaign measured incremental ROI"] = measured.value
    section.text(
        f"Plan for the email arm from a two-model uplift model trained on half the customers and "
        f"validated on the other half: contact {plan.contacts:,} customers at "
        f"{options.cost_per_contact:.2f} each; the scores expect an incremental profit of "
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
