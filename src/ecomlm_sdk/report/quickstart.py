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
from ecomlm_sdk.report.html import HtmlReport
from ecomlm_sdk.tasks.baselines import strongest_baseline

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
    section.metrics(dict(counts))
    section.preformatted(load_report)


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
    section.metrics({k: v for k, v in metrics.items() if isinstance(v, float)})
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
    section.table(scores.sort("expected_revenue", descending=True).head(10))


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
    section.metrics({k: v for k, v in metrics.items() if isinstance(v, float)})
    section.text(versus("NDCG@10", metrics, baselines, "ndcg@10", fallback))
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


def timings_section(report: HtmlReport, timings: Mapping[str, float]) -> None:
    """How long each step took."""
    report.section("Timings").table(
        pl.DataFrame({"step": list(timings), "seconds": [round(t, 1) for t in timings.values()]})
    )
