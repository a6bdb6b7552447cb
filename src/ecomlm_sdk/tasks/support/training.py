"""The ``support`` task's training rows, calibration split and calibration.

``fit`` trains the intent classifier on capped Bitext rows, the store's labelled tickets and the
FAQ's questions. Rows are grouped into paraphrase families (``scope.py``); whole families are
held out to fit the temperature and the out-of-scope threshold here.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import TaskError
from ecomlm_sdk.models.base import TextClassifier
from ecomlm_sdk.privacy import CustomerRedactors
from ecomlm_sdk.tasks.support.data import cap_per_intent
from ecomlm_sdk.tasks.support.options import SupportOptions
from ecomlm_sdk.tasks.support.scope import (
    expected_calibration_error,
    fit_temperature,
    grouped_split,
    neighbour_similarity,
    paraphrase_families,
    scale,
)

__all__ = [
    "MIN_HELD_OUT",
    "builtin_rows",
    "calibrate",
    "calibration_split",
    "labelled",
    "no_rows",
    "taught_rows",
    "validation_accuracy",
    "with_store_tickets",
]

#: Fewer held-out rows than this fit a temperature and a threshold on noise: skip both.
MIN_HELD_OUT = 20


def no_rows() -> pl.DataFrame:
    """An empty frame of training rows (``text``, ``intent``)."""
    return pl.DataFrame(schema={"text": pl.String, "intent": pl.String})


def labelled(tickets: pl.DataFrame) -> pl.DataFrame:
    """The tickets that have both a body and an intent label."""
    return tickets.filter(pl.col("intent").is_not_null() & pl.col("body").is_not_null())


def builtin_rows(bitext: pl.DataFrame, options: SupportOptions) -> pl.DataFrame:
    """The Bitext rows ``fit`` trains on: capped per intent, or none (``builtin_intents``)."""
    if not options.builtin_intents:
        return no_rows()
    capped = cap_per_intent(bitext, options.examples_per_intent, seed=options.seed)
    return capped.select("text", "intent")


def with_store_tickets(
    frame: pl.DataFrame, store: EcomStore, options: SupportOptions
) -> pl.DataFrame:
    """``frame``'s rows and the store's labelled tickets (redacted), as the options say."""
    if not options.builtin_intents:
        _check_shop_intents(store, options.min_tickets_per_intent)
    elif not options.use_store_tickets:
        return frame.select("text", "intent")
    rows = labelled(store.tickets)
    owners = rows.get_column("customer_id").to_list()
    known = CustomerRedactors(store.customers, only=[c for c in owners if c is not None])
    bodies = rows.get_column("body").to_list()
    extra = pl.DataFrame(
        {
            "text": [known.get(c)(b) for b, c in zip(bodies, owners, strict=True)],
            "intent": rows.get_column("intent"),
        },
        schema={"text": pl.String, "intent": pl.String},
    )
    return pl.concat([frame.select("text", "intent"), extra])


def _check_shop_intents(store: EcomStore, needed: int) -> None:
    """Refuse to train on the shop's taxonomy alone without enough labelled tickets."""
    counts = labelled(store.tickets).get_column("intent").value_counts()
    if counts.height == 0:
        raise TaskError(
            "support with builtin_intents=False trains only on the store's labelled tickets, "
            f"but its {store.tickets.height} tickets have no 'intent' (and 'body'): label at "
            f"least {needed} tickets per intent, or use builtin_intents=True"
        )
    if counts.height < 2:
        raise TaskError(
            "support with builtin_intents=False needs at least 2 intents among the store's "
            f"labelled tickets, found only {counts.get_column('intent')[0]!r}; label tickets "
            "of another intent, or use builtin_intents=True"
        )
    few = counts.filter(pl.col("count") < needed).sort("count")
    if few.height:
        listed = ", ".join(f"{intent!r} ({n})" for intent, n in few.head(10).iter_rows())
        more = f" and {few.height - 10} more" if few.height > 10 else ""
        raise TaskError(
            f"support with builtin_intents=False needs at least {needed} labelled tickets per "
            f"intent (min_tickets_per_intent); too few for {listed}{more}. Label more tickets "
            "of those intents, merge them into others, lower min_tickets_per_intent, or use "
            "builtin_intents=True"
        )


def calibration_split(
    vectors: np.ndarray, intents: list[str], faq_from: int | None, options: SupportOptions
) -> tuple[np.ndarray, list[int], list[int]]:
    """The rows' paraphrase families, and the rows kept for training and held out.

    Whole families are held out (``calibration_split``); none when fewer than
    :data:`MIN_HELD_OUT` rows would be. Rows from ``faq_from`` on (the FAQ's plain questions)
    always train the classifier.
    """
    families = paraphrase_families(
        vectors, intents, similarity=options.family_similarity, seed=options.seed
    )
    if options.calibration_split > 0:
        kept, held = grouped_split(
            families, intents, fraction=options.calibration_split, seed=options.seed
        )
    else:
        kept, held = list(range(len(intents))), []
    if len(held) < MIN_HELD_OUT:
        kept, held = list(range(len(intents))), []
    if faq_from is not None:  # the FAQ's plain questions always train the classifier
        kept = sorted({*kept, *(i for i in held if i >= faq_from)})
        held = [i for i in held if i < faq_from]
    return families, kept, held


def taught_rows(kept: list[int], faq_from: int | None, options: SupportOptions) -> list[int]:
    """The rows the classifier is fitted on: ``kept``, each FAQ question ``faq_repeats`` times.

    FAQ questions weigh more (repeated); the neighbour memory holds each row once.
    """
    if faq_from is not None and options.faq_repeats > 1:
        return kept + [i for i in kept if i >= faq_from] * (options.faq_repeats - 1)
    return kept


def calibrate(
    classifier: TextClassifier,
    texts: list[str],
    intents: list[str],
    vectors: np.ndarray,
    kept: list[int],
    held: list[int],
    options: SupportOptions,
) -> dict[str, float]:
    """Temperature and out-of-scope threshold from the held-out families (none: T = 1)."""
    if not held:
        return {"temperature": 1.0}
    probs = classifier.predict_proba(texts)
    index = {label: j for j, label in enumerate(classifier.labels)}
    targets = [index[t] for t in intents]  # every held-out intent keeps a family in training
    temperature = fit_temperature(probs, targets)
    calibrated = scale(probs, temperature)
    top = calibrated.argmax(axis=1)
    correct = [int(p) == t for p, t in zip(top, targets, strict=True)]
    near = neighbour_similarity(vectors[held], vectors[kept], neighbours=options.oos_neighbours)
    return {
        "temperature": temperature,
        "scope_threshold": float(np.quantile(near, options.oos_quantile)),
        "held_out_accuracy": float(np.mean(correct)),
        "held_out_ece": expected_calibration_error(calibrated.max(axis=1), correct),
        "held_out_ece_uncalibrated": expected_calibration_error(probs.max(axis=1), correct),
    }


def validation_accuracy(classifier: TextClassifier) -> float | None:
    """Accuracy on the classifier's own validation split, when it reports one.

    ``bert-classifier`` keeps a ``fit_report`` whose history has ``val_accuracy`` per epoch;
    other classifiers may have nothing of the kind.
    """
    report = getattr(classifier, "fit_report", None)
    history = getattr(report, "history", None)
    best = getattr(report, "best_epoch", None)
    if not history or not isinstance(best, int):
        return None
    for epoch in history:
        if getattr(epoch, "epoch", None) == best:
            value = getattr(epoch, "val_accuracy", None)
            return float(value) if isinstance(value, int | float) else None
    return None
