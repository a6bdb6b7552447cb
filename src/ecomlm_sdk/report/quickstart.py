"""The sections of the ``ecomlm quickstart`` report: the prose, tables and charts for each step.

The figures come from :mod:`ecomlm_sdk.app.steps`, passed in as plain values (frames, dicts,
ROI results), so this module computes nothing and the app layer writes no prose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from ecomlm_sdk.report.campaigns import synthetic_campaign_section as campaign_section
from ecomlm_sdk.report.charts import calibration_chart
from ecomlm_sdk.report.html import HtmlReport, money
from ecomlm_sdk.tasks.baselines import strongest_baseline
from ecomlm_sdk.tasks.copy.corpus import nice_title

__all__ = [
    "campaign_section",
    "copy_section",
    "prediction_section",
    "recommendation_section",
    "store_section",
    "support_section",
    "timings_section",
]


#: Plain names of the baselines the evaluations compute.
BASELINE_NAMES = {
    "repeat": "buy-again (each customer's own most-bought products)",
    "popularity": "best sellers",
    "itemknn": "item-to-item similarity",
    "ease": "EASE",
    "content": "product-text similarity",
    "recency": "recency alone",
    "bgnbd": "BG/NBD",
    "rfm_logistic": "logistic regression on recency, frequency and spend",
    "logistic": "logistic regression on every feature",
}


def metric_notes(metrics: Mapping[str, Any], currency: str | None = None) -> dict[str, str]:
    """A plain-language line for each metric tile, with the figure in it."""
    notes: dict[str, str] = {}
    for key, value in metrics.items():
        if not isinstance(value, float):
            continue
        k = key.split("@")[0]
        at = key.split("@")[1] if "@" in key else ""
        note = {
            "roc_auc": f"Take one customer who bought and one who did not: the model ranks the "
            f"buyer higher {value:.0%} of the time (50% is a coin toss).",
            "pr_auc": "How pure the top of the list is: 1 means the buyers all come first; a "
            "random order scores the share of customers who bought.",
            "lift": f"The top {at} of the list holds {value:.1f} times as many buyers as a "
            f"random {at}.",
            "revenue_mae": f"Expected spend is off by {money(value, currency)} per customer on "
            "average.",
            "revenue_corr": "How closely expected spend follows what customers spent: 1 is "
            "exact, 0 is no relation.",
            "hr": f"{value:.0%} of customers bought at least one of their {at} recommended "
            "products.",
            "recall": f"The {at}-product lists held {value:.0%} of what customers went on to buy.",
            "ndcg": "Like recall, but a product near the top of the list counts more; 1 is a "
            "perfect list.",
            "map": "Average precision of the lists, top-weighted (1 is perfect).",
            "coverage": f"{value:.0%} of the catalogue appears in at least one list.",
            "customers": "Customers judged: they bought before and after the cutoff.",
            "train examples": "Example messages the intent model learned from.",
            "fit seconds": "Seconds it took to train on this machine.",
            "validation accuracy": f"{value:.0%} of held-out example messages got the right "
            "intent.",
        }.get(k, "Measured on the held-out data.")
        notes[key] = note
    return notes


def versus(
    label: str,
    metrics: Mapping[str, Any],
    baselines: Mapping[str, Mapping[str, float]],
    metric: str,
    fallback: Mapping[str, Any] | None,
) -> str:
    """One sentence: the model against the strongest baseline, and what the task serves."""
    best = strongest_baseline(baselines, metric)
    model = metrics.get(metric)
    if best is None or not isinstance(model, float):
        return f"No baseline was computed for {label}."
    name, value = best
    plain = BASELINE_NAMES.get(name, name)
    if model > value:
        return (
            f"The model's {label} is {model:.3f}, above the strongest baseline, {plain} "
            f"({value:.3f}): the model is used."
        )
    if fallback:
        served = BASELINE_NAMES.get(str(fallback["baseline"]), str(fallback["baseline"]))
        return (
            f"The model does not beat the strongest baseline on this shop's data: {label} "
            f"{model:.3f} against {value:.3f} for {plain}. The task therefore uses {served} "
            f"({float(fallback['baseline_value']):.3f}) instead (fallback_to_baseline=True): "
            "the scores below come from it."
            if fallback["baseline"] == name
            else f"The model does not beat the strongest baseline on this shop's data: {label} "
            f"{model:.3f} against {value:.3f} for {plain}, which cannot serve in its place; the "
            f"task uses {served} ({float(fallback['baseline_value']):.3f}) instead "
            "(fallback_to_baseline=True)."
        )
    return (
        f"The model does not beat the strongest baseline on this shop's data: {label} "
        f"{model:.3f} against {value:.3f} for {plain}. The task keeps its own model: that "
        "baseline cannot serve in its place, or fallback_to_baseline is off."
    )


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
    section.metrics(
        dict(counts),
        notes={
            "customers": "Customers in the exports.",
            "orders": "Orders, cancelled ones included.",
            "order lines": "Products ordered, one line per product per order.",
            "products": "Products in the catalogue.",
            "countries": "Countries the orders went to.",
            "rows rejected": "Rows that could not be loaded; the load report below says why.",
        },
    )
    section.preformatted(load_report)
    rejected = counts.get("rows rejected", 0)
    section.next_steps(
        [
            f"Fix the {rejected:,} rejected rows (ecomlm ingest EXPORTS --rejects rejected.csv "
            "lists them) and export again."
            if rejected
            else "Nothing to fix: every row loaded.",
            "Run this report every week on fresh exports (see the weekly routine guide).",
        ]
    )


def prediction_section(
    report: HtmlReport,
    cutoff: str,
    metrics: Mapping[str, Any],
    baselines: Mapping[str, Mapping[str, float]],
    calibration: pl.DataFrame | None,
    scores: pl.DataFrame,
    fallback: Mapping[str, Any] | None = None,
) -> None:
    """Purchase prediction: the leak-free protocol, metrics against baselines, calibration."""
    section = report.section("Who will buy in the next 90 days")
    section.text(
        f"Trained on the history before {cutoff} minus the horizon, scored at "
        f"{cutoff}, judged on the 90 days after: nothing the model learns from "
        "comes from the window it is judged on."
    )
    tiles = {k: v for k, v in metrics.items() if isinstance(v, float)}
    section.metrics(tiles, notes=metric_notes(tiles, report.currency), money=("revenue_mae",))
    section.text(versus("ROC-AUC", metrics, baselines, "roc_auc", fallback))
    baseline_rows = [
        {"model": name, **{k: v for k, v in values.items() if k in ("roc_auc", "pr_auc")}}
        for name, values in {"ecomlm (this model)": metrics, **baselines}.items()
    ]
    section.table(pl.DataFrame(baseline_rows))
    if calibration is not None and calibration.height:
        section.image(
            calibration_chart(calibration), "Calibration: predicted against observed buying rate"
        )
    section.table(
        scores.sort("expected_revenue", descending=True).head(10), money=("expected_revenue",)
    )
    section.next_steps(
        [
            "Write this week's list of likely buyers who accept e-mail: ecomlm fit "
            "purchase-prediction --path EXPORTS --out models/prediction, then ecomlm plan "
            "--model models/prediction --path EXPORTS --budget 50 --output targets.csv.",
            "Hold out a random 20% of that list and do not e-mail them: comparing the two "
            "groups shows what the e-mail really adds.",
        ]
    )


def recommendation_section(
    report: HtmlReport,
    cutoff: str,
    metrics: Mapping[str, Any],
    baselines: Mapping[str, Mapping[str, float]],
    picks: pl.DataFrame,
    top: int,
    fallback: Mapping[str, Any] | None = None,
) -> None:
    """Recommendations: the time split, metrics against baselines, the picks."""
    section = report.section("What to show each customer")
    section.text(
        f"Hybrid recommender evaluated on purchases after {cutoff} (trained only on "
        "what came before), then refitted on everything to recommend for the customers with the "
        "highest expected revenue."
    )
    tiles = {k: v for k, v in metrics.items() if isinstance(v, float)}
    section.metrics(tiles, notes=metric_notes(tiles, report.currency))
    section.text(versus("NDCG@10", metrics, baselines, "ndcg@10", fallback))
    rows = [{"recommender": "ecomlm hybrid", **metrics}] + [
        {"recommender": name, **values} for name, values in baselines.items()
    ]
    section.table(pl.DataFrame(rows))
    shown = picks.select(
        "customer_id",
        "rank",
        pl.col("title").map_elements(nice_title, return_dtype=pl.String).alias("product"),
        pl.col("product_id").alias("code"),
        "score",
    )
    section.table(shown, max_rows=5 * top)
    served = (
        BASELINE_NAMES.get(str(fallback["baseline"]), str(fallback["baseline"]))
        if fallback
        else "the hybrid recommender"
    )
    section.next_steps(
        [
            f"Feature each customer's top products in their e-mail: the recommendations come "
            f"from {served}, the best on your data (ecomlm recommend --model DIR --output "
            "recommendations.csv lists them for everyone).",
            "Show the same products on the site for signed-in customers.",
        ]
    )


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
    tiles = {k.replace("_", " "): float(v) for k, v in fit_summary.items()}
    section.metrics(tiles, notes=metric_notes(tiles))
    section.text(
        "validation accuracy is the intent classifier's score on the share of its training "
        "utterances it held out; benchmarks/bench_support.py measures it on a held-out 20% of "
        "the whole Bitext set.",
        note=True,
    )
    section.table(replies)
    section.next_steps(
        [
            "Read the messages handed to a person: add FAQ entries (and your policies) for the "
            "questions that keep coming back.",
            'Try it on a real message: ecomlm support ask "Where is my order?" --customer ID.',
        ]
    )


def copy_section(report: HtmlReport, written: pl.DataFrame) -> None:
    """Marketing copy: how it was written, and the copy."""
    section = report.section("Marketing copy")
    section.text(
        "Written by a small GPT-2 that ecomlm-sdk trained from scratch in this run on the store's "
        "own product titles (no model was downloaded); prompts hold the customer's segment and "
        "recommended products, never personal data. Rows marked generated=False fell back to a "
        "template because the model's text did not pass the grounding checks."
    )
    section.table(
        written.with_columns(
            pl.col("products")
            .list.eval(pl.element().map_elements(nice_title, return_dtype=pl.String))
            .list.join(" | ")
        )
    )
    section.next_steps(
        [
            "Read the subject lines before sending; edit any that do not sound like your shop.",
            "Send them with the target list: ecomlm plan --copy DIR puts subject and blurb on "
            "each row.",
        ]
    )


def timings_section(report: HtmlReport, timings: Mapping[str, float]) -> None:
    """How long each step took."""
    report.section("Timings").table(
        pl.DataFrame({"step": list(timings), "seconds": [round(t, 1) for t in timings.values()]})
    )
