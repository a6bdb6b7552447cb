"""The strongest baseline of an evaluation, and the fallback a task records when it wins.

Every task's ``evaluate`` scores classic baselines on the same split as its model. A headline
compares the model with the *strongest* of them (:func:`strongest_baseline`), never the weakest.
When a baseline beats the model and the task can serve it, a task with
``fallback_to_baseline=True`` (the default) records :func:`fallback_record` in
``task.fallback`` and in the evaluation's ``details["fallback"]``; its next ``fit`` serves the
baseline, and ``save`` keeps the choice.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

__all__ = ["fallback_record", "strongest_baseline"]


def strongest_baseline(
    baselines: Mapping[str, Mapping[str, float]], metric: str
) -> tuple[str, float] | None:
    """The baseline with the highest ``metric`` (name, value); ``None`` when none has it."""
    scored = [
        (name, float(values[metric]))
        for name, values in baselines.items()
        if metric in values and math.isfinite(float(values[metric]))
    ]
    if not scored:
        return None
    return max(scored, key=lambda item: item[1])


def fallback_record(
    metrics: Mapping[str, float],
    baselines: Mapping[str, Mapping[str, float]],
    metric: str,
    servable: Collection[str],
    **extra: Any,
) -> dict[str, Any] | None:
    """What to serve instead of the model: the best *servable* baseline when it beats the model.

    Args:
        metrics: The model's metrics.
        baselines: Baseline name -> metrics, from the same evaluation.
        metric: The metric compared (higher is better), e.g. ``"ndcg@10"`` or ``"roc_auc"``.
        servable: Baselines the task can serve in place of its model.
        extra: Further keys for the record (e.g. ``exclude_owned``).

    Returns:
        ``{"baseline", "metric", "model_value", "baseline_value", ...extra}``, or ``None`` when
        the model is at least as good as every servable baseline.
    """
    model = metrics.get(metric)
    best = strongest_baseline({k: v for k, v in baselines.items() if k in servable}, metric)
    if model is None or best is None or not best[1] > float(model):
        return None
    return {
        "baseline": best[0],
        "metric": metric,
        "model_value": float(model),
        "baseline_value": best[1],
        **extra,
    }
