"""Scoring the support task: intent accuracy, hand-offs, automated resolution and money saved.

Definitions (over the held-out messages):

* ``intent_accuracy``: share of messages whose predicted intent is the labelled one.
* ``handoff_rate``: share passed to a person.
* ``automated_resolution_rate``: share answered without a person *and* with the right intent.
* ``wrong_answer_rate``: share answered without a person but with the wrong intent (the risk).
* ``money_saved``: automated resolutions x ``cost_per_ticket`` (what those tickets would have
  cost a person); ``money_saved_per_1000`` scales it to 1,000 messages.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

import polars as pl

from ecomlm_sdk.errors import TaskError
from ecomlm_sdk.models.base import classification_report
from ecomlm_sdk.privacy import redact
from ecomlm_sdk.tasks.base import EvaluationReport
from ecomlm_sdk.tasks.support.reply import SupportOptions, SupportReply

__all__ = ["evaluate_replies", "tfidf_baseline"]


def tfidf_baseline(
    train_texts: Sequence[str], train_labels: Sequence[str], test_texts: Sequence[str]
) -> list[str]:
    """Predictions of a TF-IDF (word 1-2 grams) + linear SVM intent classifier."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    features = vectorizer.fit_transform([redact(t) for t in train_texts])
    model = LinearSVC(C=1.0)
    model.fit(features, list(train_labels))
    predicted = model.predict(vectorizer.transform([redact(t) for t in test_texts]))
    return [str(p) for p in predicted]


def _rates(replies: Sequence[SupportReply], truth: Sequence[str], cost: float) -> dict[str, float]:
    n = len(replies)
    handed = sum(r.handoff for r in replies)
    resolved = sum((not r.handoff) and r.intent == t for r, t in zip(replies, truth, strict=True))
    wrong = n - handed - resolved
    automated = n - handed
    return {
        "handoff_rate": handed / n,
        "automated_resolution_rate": resolved / n,
        "wrong_answer_rate": wrong / n,
        "accuracy_when_automated": resolved / automated if automated else 0.0,
        "money_saved": resolved * cost,
        "money_saved_per_1000": 1000 * resolved / n * cost,
    }


def evaluate_replies(
    replies: Sequence[SupportReply],
    *,
    texts: Sequence[str],
    truth: Sequence[str],
    train: pl.DataFrame,
    cost_per_ticket: float,
    cutoff: str | dt.date | dt.datetime | None,
    extra: dict[str, float],
    options: SupportOptions,
) -> EvaluationReport:
    """Build the support :class:`EvaluationReport` from replies to labelled messages.

    Args:
        replies: The task's replies, one per message.
        texts: The messages.
        truth: Their labelled intents.
        train: The training rows (``text``, ``intent``) the baselines learn from.
        cost_per_ticket: Cost of one ticket handled by a person.
        cutoff: The evaluation cutoff, if any.
        extra: More metrics to report as they are (fit time, ...).
        options: The task options (thresholds are copied into ``details``).
    """
    if not replies:
        raise TaskError(
            "support.evaluate() has no labelled messages to evaluate on; give a store with "
            "labelled tickets or a test_size > 0"
        )
    predicted = [r.intent for r in replies]
    report = classification_report(truth, predicted, sorted(set(truth)))
    metrics = {
        "intent_accuracy": report.accuracy,
        "macro_f1": report.macro_f1,
        **_rates(replies, truth, cost_per_ticket),
        "test_examples": float(len(replies)),
        **extra,
    }
    majority = Counter(train.get_column("intent").to_list()).most_common(1)[0][0]
    majority_accuracy = sum(t == majority for t in truth) / len(truth)
    tfidf = tfidf_baseline(
        train.get_column("text").to_list(), train.get_column("intent").to_list(), texts
    )
    tfidf_report = classification_report(truth, tfidf, sorted(set(truth)))
    baselines = {
        "majority": {"intent_accuracy": majority_accuracy},
        "tfidf_svm": {
            "intent_accuracy": tfidf_report.accuracy,
            "macro_f1": tfidf_report.macro_f1,
        },
        "all_to_human": {
            "handoff_rate": 1.0,
            "automated_resolution_rate": 0.0,
            "money_saved": 0.0,
        },
    }
    reasons = Counter(r.reason for r in replies if r.handoff)
    per_intent = _per_intent(predicted, truth)
    details: dict[str, Any] = {
        "thresholds": {
            "min_confidence": options.min_confidence,
            "min_margin": options.min_margin,
            "min_similarity": options.min_similarity,
            "handoff_intents": list(options.handoff_intents),
        },
        "cost_per_ticket": cost_per_ticket,
        "handoff_reasons": dict(reasons),
        "per_intent_accuracy": per_intent,
        "confusion": {"labels": report.labels, "matrix": report.confusion},
    }
    return EvaluationReport(
        task="support",
        cutoff=str(cutoff) if cutoff is not None else None,
        metrics=metrics,
        baselines=baselines,
        details=details,
    )


def _per_intent(predicted: Sequence[str], truth: Sequence[str]) -> dict[str, float]:
    totals: Counter[str] = Counter(truth)
    right: Counter[str] = Counter(t for p, t in zip(predicted, truth, strict=True) if p == t)
    return {label: right[label] / totals[label] for label in sorted(totals)}
