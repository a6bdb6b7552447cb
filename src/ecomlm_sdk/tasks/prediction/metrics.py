"""Scores for a purchase-probability model: ROC-AUC, PR-AUC, lift and calibration."""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["calibration_table", "classification_metrics", "lift_at"]


def lift_at(labels: np.ndarray, scores: np.ndarray, fraction: float) -> float:
    """Positive rate among the top ``fraction`` by score, divided by the overall positive rate."""
    base = float(labels.mean()) if len(labels) else 0.0
    if base == 0.0:
        return 0.0
    top = max(1, round(len(scores) * fraction))
    order = np.argsort(-scores, kind="stable")[:top]
    return float(labels[order].mean()) / base


def classification_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """``roc_auc``, ``pr_auc`` (average precision) and ``lift@10%`` of ``scores``."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    if len(np.unique(labels)) < 2:
        nan = float("nan")
        return {"roc_auc": nan, "pr_auc": nan, "lift@10%": lift_at(labels, scores, 0.1)}
    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "pr_auc": float(average_precision_score(labels, scores)),
        "lift@10%": lift_at(labels, scores, 0.1),
    }


def calibration_table(
    labels: np.ndarray, probabilities: np.ndarray, bins: int = 10
) -> pl.DataFrame:
    """Predicted against observed purchase rate in equal-width probability bins.

    Returns:
        ``bin_low, bin_high, customers, mean_predicted, observed_rate`` for non-empty bins.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    frame = pl.DataFrame({"bin": which, "p": probabilities, "y": labels.astype(np.float64)})
    table = (
        frame.group_by("bin")
        .agg(
            pl.len().alias("customers"),
            pl.col("p").mean().alias("mean_predicted"),
            pl.col("y").mean().alias("observed_rate"),
        )
        .sort("bin")
    )
    return table.select(
        pl.col("bin")
        .map_elements(lambda b: float(edges[b]), return_dtype=pl.Float64)
        .alias("bin_low"),
        pl.col("bin")
        .map_elements(lambda b: float(edges[b + 1]), return_dtype=pl.Float64)
        .alias("bin_high"),
        "customers",
        "mean_predicted",
        "observed_rate",
    )
