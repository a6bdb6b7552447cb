"""Choose the recommender's defaults on a validation split that never sees the test labels.

The test protocol (issue 6, ``bench_recommendation.py``) trains on purchases before 2011-10-01
and judges what customers bought from then to the end of the data (69 days). Every setting
tuned here is chosen on an EARLIER split of the same length that ends where the test training
window ends:

* validation store = the sample store cut at 2011-10-01 (nothing on or after it is read);
* validation cutoff = 2011-07-24: fit on purchases before it, judge 2011-07-24 .. 2011-09-30.

Search (coordinate descent, NDCG@10 on the validation split):

1. EASE lambda, judged on variant 2 (``exclude_owned=True``) with the EASE component alone.
2. Half-lives (repeat / taste ``half_life_days``; trending ``popularity_half_life_days``),
   judged by the mean NDCG@10 of both variants with the starting blends.
3. Blend weights, a grid per variant (buy-again: ``repeat`` fixed at 1; discover: ``ease``
   fixed at 1), at the chosen half-lives.
4. Half-lives again with the chosen blends.

The chosen values are printed as Python literals; they are copied by hand into
``ecomlm_sdk/tasks/recommendation/task.py`` and the test figures are then measured ONCE with
``bench_recommendation.py``. Component scores are computed once per setting and blends are
re-ranked from them, which is what makes a few hundred settings affordable on a small CPU.

Usage::

    .venv/bin/python benchmarks/tune_recommendation.py [--embedder minilm-embedder|none]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import time
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

import ecomlm_sdk
from ecomlm_sdk.tasks.features import NON_PRODUCT_CODES
from ecomlm_sdk.tasks.recommendation import RecommendationTask
from ecomlm_sdk.tasks.recommendation.matrix import build_interactions
from ecomlm_sdk.tasks.recommendation.scorers import COMPONENTS, ease_weights
from ecomlm_sdk.tasks.recommendation.state import RecommenderState, clean_purchases
from ecomlm_sdk.tasks.recommendation.task import _component_scores

TEST_CUTOFF = dt.datetime(2011, 10, 1, tzinfo=dt.UTC)
VALIDATION_CUTOFF = TEST_CUTOFF - dt.timedelta(days=69)
K = 10
START_BUY_AGAIN = {"repeat": 1.0, "ease": 0.3, "content": 0.1, "popularity": 0.2}
START_DISCOVER = {"ease": 1.0, "content": 0.2, "popularity": 0.1}
HALF_LIVES = (30.0, 60.0, 120.0, 365.0)
POPULARITY_HALF_LIVES = (10.0, 20.0, 45.0, 90.0)
EASE_L2 = (100.0, 250.0, 500.0, 1000.0)


class Split:
    """The validation split, its state and its relevant sets as sparse matrices."""

    def __init__(self, embedder: str | None) -> None:
        store = ecomlm_sdk.sample_store().split(TEST_CUTOFF)[0]
        history, future = store.split(VALIDATION_CUTOFF)
        self.past = clean_purchases(history, NON_PRODUCT_CODES)
        later = clean_purchases(future, NON_PRODUCT_CODES)
        self.rec = RecommendationTask(embedder=embedder, quiet=True)
        self.state: RecommenderState = self.rec._build(
            history, self.past, VALIDATION_CUTOFF, VALIDATION_CUTOFF, evaluate=True
        )
        column = {p: j for j, p in enumerate(self.state.products)}
        owned = _sets(self.past)
        bought = _sets(later)
        customers = sorted(set(owned) & set(bought))
        self.rows = self.state.rows(customers)
        self.owned = _indicator([owned[c] for c in customers], column)
        self.relevant = {
            False: _indicator([bought[c] for c in customers], column),
            True: _indicator([bought[c] - owned[c] for c in customers], column),
        }
        self.scores: dict[str, np.ndarray] = {}

    def set_half_lives(self, half_life: float, popularity_half_life: float) -> None:
        products = self.state.products
        self.state.weights = build_interactions(
            self.past, products, VALIDATION_CUTOFF, half_life
        ).weights
        self.state.trending = build_interactions(
            self.past, products, VALIDATION_CUTOFF, popularity_half_life
        ).popularity.astype(np.float32)
        everything = dict.fromkeys((*COMPONENTS, "popularity_all"), 1.0)
        raw = _component_scores(self.state, self.rows, everything)
        self.scores = {name: _scaled(values) for name, values in raw.items()}

    def set_ease_l2(self, l2: float) -> None:
        assert self.state.ease_index is not None
        binary = self.state.counts[:, self.state.ease_index]
        binary.data = np.ones_like(binary.data)
        self.state.ease = ease_weights(binary.tocsr(), l2)

    def ndcg(self, weights: Mapping[str, float], exclude_owned: bool) -> float:
        """Mean NDCG@10 of the blend (same definition as ``ranking_metrics``)."""
        total = np.zeros_like(self.scores["popularity"])
        for name, weight in weights.items():
            if weight:
                total += weight * self.scores[name]
        if exclude_owned:
            total[self.owned.nonzero()] = -np.inf
        relevant = self.relevant[exclude_owned]
        sizes = np.asarray(relevant.sum(axis=1)).ravel()
        keep = sizes > 0
        candidates = -total[keep]
        part = np.argpartition(candidates, K, axis=1)[:, :K]
        order = np.argsort(np.take_along_axis(candidates, part, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(part, order, axis=1)
        hits = np.take_along_axis(relevant[keep].toarray() > 0, top, axis=1)
        discounts = 1.0 / np.log2(np.arange(2, K + 2))
        ideal = np.cumsum(discounts)[np.minimum(sizes[keep], K).astype(np.int64) - 1]
        return float(((hits * discounts).sum(axis=1) / ideal).mean())


def _sets(purchases: object) -> dict[str, set[str]]:
    import polars as pl

    assert isinstance(purchases, pl.DataFrame)
    grouped = purchases.group_by("customer_id").agg(pl.col("product_id").unique())
    return {c: set(p) for c, p in grouped.iter_rows()}


def _indicator(sets: list[set[str]], column: Mapping[str, int]) -> sp.csr_matrix:
    rows, cols = [], []
    for i, products in enumerate(sets):
        for p in products:
            if p in column:
                rows.append(i)
                cols.append(column[p])
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(sets), len(column)))


def _scaled(values: np.ndarray) -> np.ndarray:
    part = np.clip(np.asarray(values, dtype=np.float32), 0.0, None)
    peak = part.max(axis=1, keepdims=True)
    out: np.ndarray = part / np.where(peak > 0, peak, 1.0)
    return out


def _grid(fixed: str, ranges: Mapping[str, tuple[float, ...]]) -> list[dict[str, float]]:
    names = list(ranges)
    return [
        {fixed: 1.0, **dict(zip(names, values, strict=True))}
        for values in itertools.product(*ranges.values())
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedder", default="minilm-embedder")
    args = parser.parse_args()
    embedder = None if args.embedder == "none" else args.embedder
    started = time.perf_counter()
    split = Split(embedder)
    print(
        f"validation: fit before {VALIDATION_CUTOFF.date()}, judge to {TEST_CUTOFF.date()}; "
        f"{len(split.rows):,} customers, {len(split.state.products):,} products "
        f"({time.perf_counter() - started:.0f}s)"
    )
    if embedder is None:
        START_BUY_AGAIN.pop("content")
        START_DISCOVER.pop("content")
    split.set_half_lives(60.0, 20.0)

    best_l2, best = 250.0, -1.0
    for l2 in EASE_L2:
        split.set_ease_l2(l2)
        split.set_half_lives(60.0, 20.0)
        value = split.ndcg({"ease": 1.0, "popularity_all": 1e-3}, True)
        print(f"  ease_l2 {l2:>6.0f}: variant-2 EASE NDCG@10 {value:.4f}")
        if value > best:
            best_l2, best = l2, value
    split.set_ease_l2(best_l2)

    def half_lives(buy: Mapping[str, float], discover: Mapping[str, float]) -> tuple[float, float]:
        chosen, top = (60.0, 20.0), -1.0
        for hl, phl in itertools.product(HALF_LIVES, POPULARITY_HALF_LIVES):
            split.set_half_lives(hl, phl)
            v1, v2 = split.ndcg(buy, False), split.ndcg(discover, True)
            print(f"  half-lives {hl:>5.0f}/{phl:>3.0f}: v1 {v1:.4f} v2 {v2:.4f}")
            if (v1 + v2) / 2 > top:
                chosen, top = (hl, phl), (v1 + v2) / 2
        split.set_half_lives(*chosen)
        return chosen

    def weights(exclude_owned: bool) -> dict[str, float]:
        content = (0.0, 0.05, 0.1, 0.2, 0.4) if embedder else (0.0,)
        if exclude_owned:
            grid = _grid(
                "ease",
                {
                    "itemknn": (0.0, 0.1, 0.3, 0.6),
                    "content": content,
                    "popularity": (0.0, 0.05, 0.1, 0.2, 0.4),
                },
            )
        else:
            grid = _grid(
                "repeat",
                {
                    "ease": (0.0, 0.1, 0.3, 0.6, 1.0),
                    "itemknn": (0.0, 0.1, 0.3),
                    "content": content,
                    "popularity": (0.0, 0.1, 0.2, 0.4),
                },
            )
        scored = [(split.ndcg(w, exclude_owned), w) for w in grid]
        scored.sort(key=lambda item: -item[0])
        for value, w in scored[:5]:
            print(f"  variant {2 if exclude_owned else 1}: {value:.4f} {w}")
        return {n: v for n, v in scored[0][1].items() if v}

    print("1. half-lives with the starting blends")
    hl = half_lives(START_BUY_AGAIN, START_DISCOVER)
    print("2. blend weights")
    buy, discover = weights(False), weights(True)
    print("3. half-lives with the chosen blends")
    hl = half_lives(buy, discover)
    v1, v2 = split.ndcg(buy, False), split.ndcg(discover, True)
    print("\nchosen on validation (copy into recommendation/task.py):")
    print(f"  ease_l2 = {best_l2}")
    print(f"  half_life_days = {hl[0]}, popularity_half_life_days = {hl[1]}")
    print(f"  DEFAULT_WEIGHTS = {buy}  (validation NDCG@10 {v1:.4f})")
    print(f"  DEFAULT_DISCOVER_WEIGHTS = {discover}  (validation NDCG@10 {v2:.4f})")
    print(f"total {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
