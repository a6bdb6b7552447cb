"""Choose purchase-prediction features and LightGBM settings without touching the test labels.

The test protocol (issue 6, ``bench_prediction.py``) scores customers at 2011-09-09 against the
90 days after it, training on snapshots whose label windows end by the cutoff. Here only the
history before 2011-09-09 is read, and the choices are made by a **customer holdout of that
training window**: the same stacked snapshots ``evaluate`` trains on are split into 4 folds by
customer (a customer's rows are all in one fold), each fold is scored by a model trained on the
other three, and ROC-AUC / PR-AUC are computed on the latest snapshot (2011-06-11 features,
label = bought by 2011-09-09), the one that looks like the test.

Compared: feature sets (the original 25 tabular features + categories; + the new inter-purchase
features; + BG/NBD expected purchases and P(alive); + MiniLM product-text components) and a
small LightGBM grid. The winner is copied by hand into ``tasks/prediction`` defaults and the test
figures are measured once with ``bench_prediction.py``.

Usage::

    .venv/bin/python benchmarks/tune_prediction.py [--embedder minilm-embedder|none]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import time
from typing import Any

import numpy as np
import polars as pl

import ecomlm_sdk
from ecomlm_sdk.tasks.prediction import PurchasePredictionTask
from ecomlm_sdk.tasks.prediction.learners import Learner, LightGBMLearner, LogisticLearner
from ecomlm_sdk.tasks.prediction.metrics import classification_metrics

TEST_CUTOFF = dt.datetime(2011, 9, 9, tzinfo=dt.UTC)
HORIZON = 90
FOLDS = 4
NEW_IPT = (
    "ipt_median_days",
    "ipt_cv",
    "recency_gap_z",
    "purchase_days",
    "decayed_orders_30d",
    "decayed_orders_90d",
)
BGNBD = ("bgnbd_expected", "bgnbd_p_alive")


def lightgbm(params: dict[str, Any], rounds: int) -> Learner:
    base = {"bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 5.0, "seed": 0}
    return LightGBMLearner({**base, "deterministic": True, **params}, rounds=rounds)


def cross_validate(
    rows: pl.DataFrame, columns: list[str], make: Any, latest: np.ndarray, folds: np.ndarray
) -> dict[str, float]:
    x = rows.select(columns).to_numpy().astype(np.float64)
    y = rows.get_column("bought").to_numpy().astype(np.int64)
    scores = np.zeros(len(y))
    for fold in range(FOLDS):
        train, test = folds != fold, (folds == fold) & latest
        learner = make()
        learner.fit(x[train], y[train], columns)
        scores[test] = learner.predict_proba(x[test])
    return classification_metrics(y[latest], scores[latest])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedder", default="minilm-embedder")
    args = parser.parse_args()
    embedder = None if args.embedder == "none" else args.embedder
    started = time.perf_counter()
    history = ecomlm_sdk.sample_store().split(TEST_CUTOFF)[0]
    task = PurchasePredictionTask(horizon_days=HORIZON, text_embedder=embedder, quiet=True)
    horizon = dt.timedelta(days=HORIZON)
    from ecomlm_sdk.tasks.features import top_categories
    from ecomlm_sdk.tasks.prediction.text_features import fit_text_projection

    task.categories = top_categories(history, TEST_CUTOFF - horizon, task.options.categories)
    if embedder is not None:
        task.text_projection = fit_text_projection(
            history, TEST_CUTOFF - horizon, embedder, task.options.text_components
        )
    snapshots = []
    for i in range(task.options.snapshots):
        start = TEST_CUTOFF - horizon - dt.timedelta(days=task.options.snapshot_step_days * i)
        snapshots.append(task._snapshot(history, start).with_columns(pl.lit(i).alias("_i")))
    rows = pl.concat(snapshots, how="diagonal")
    latest = (rows.get_column("_i") == 0).to_numpy()
    customers = rows.get_column("customer_id").to_numpy()
    folds = _folds(customers)
    print(
        f"{rows.height:,} training rows, {int(latest.sum()):,} customers in the latest snapshot "
        f"({time.perf_counter() - started:.0f}s)"
    )
    everything = [c for c in rows.columns if c not in ("customer_id", "bought", "revenue", "_i")]
    text = [c for c in everything if c.startswith("text_")]
    original = [c for c in everything if c not in (*NEW_IPT, *BGNBD, *text)]
    sets = {
        "original": original,
        "+ipt": original + list(NEW_IPT),
        "+bgnbd": original + list(BGNBD),
        "+ipt+bgnbd": original + list(NEW_IPT) + list(BGNBD),
    }
    if text:
        sets["+ipt+bgnbd+text"] = sets["+ipt+bgnbd"] + text
        sets["+text"] = original + text
    previous = {"learning_rate": 0.02, "num_leaves": 5, "min_data_in_leaf": 300}
    print("feature sets, previous LightGBM settings (300 rounds), 4-fold customer holdout:")
    results = {}
    for name, columns in sets.items():
        m = cross_validate(
            rows,
            columns,
            lambda: lightgbm({**previous, "feature_fraction": 0.7}, 300),
            latest,
            folds,
        )
        results[name] = m
        print(f"  {name:<18} ROC-AUC {m['roc_auc']:.4f} PR-AUC {m['pr_auc']:.4f}")
    best_set = max(results, key=lambda n: results[n]["roc_auc"])
    m = cross_validate(rows, sets[best_set], LogisticLearner, latest, folds)
    print(f"  logistic on {best_set}: ROC-AUC {m['roc_auc']:.4f} PR-AUC {m['pr_auc']:.4f}")
    print(f"LightGBM grid on {best_set}:")
    grid = itertools.product((5, 15), (100, 300), (0.5, 0.8), (300, 600))
    best, best_params = -1.0, (5, 300, 0.7, 300)
    for leaves, leaf, fraction, rounds in grid:
        params = {
            "learning_rate": 0.02,
            "num_leaves": leaves,
            "min_data_in_leaf": leaf,
            "feature_fraction": fraction,
        }
        m = cross_validate(
            rows, sets[best_set], lambda p=params, r=rounds: lightgbm(p, r), latest, folds
        )
        print(
            f"  leaves {leaves:>2} min_leaf {leaf:>3} feature_fraction {fraction} rounds {rounds}: "
            f"ROC-AUC {m['roc_auc']:.4f} PR-AUC {m['pr_auc']:.4f}"
        )
        if m["roc_auc"] > best:
            best, best_params = m["roc_auc"], (leaves, leaf, fraction, rounds)
    print(f"\nchosen: features {best_set}; num_leaves, min_data_in_leaf, feature_fraction, rounds")
    print(f"  = {best_params} (holdout ROC-AUC {best:.4f})")
    print(f"total {time.perf_counter() - started:.0f}s")


def _folds(customers: np.ndarray) -> np.ndarray:
    ids = np.unique(customers)
    rng = np.random.default_rng(0)
    fold_of = dict(zip(ids.tolist(), rng.integers(0, FOLDS, len(ids)).tolist(), strict=True))
    return np.array([fold_of[c] for c in customers.tolist()])


if __name__ == "__main__":
    main()
