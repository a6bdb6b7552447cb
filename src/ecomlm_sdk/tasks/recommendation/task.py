"""The ``recommendation`` task: top-k products per customer, for buying again or discovering.

A hybrid of five components (popularity, the customer's own repeat purchases, item-item
cosine, EASE and product-text content similarity) blended with two weight sets: one for "buy
again" lists and one for ``exclude_owned=True`` "discover something new" lists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Final, Literal

import numpy as np
import polars as pl
import scipy.sparse as sp
from pydantic import Field

from ecomlm_sdk._deprecated import renamed
from ecomlm_sdk.data.store import Cutoff, EcomStore, to_utc_datetime
from ecomlm_sdk.engines import Engine, EngineArg, choose_engine
from ecomlm_sdk.errors import TaskError
from ecomlm_sdk.progress import progress
from ecomlm_sdk.tasks.base import EvaluateOptions, EvaluationReport, Task, TaskOptions
from ecomlm_sdk.tasks.baselines import fallback_record, strongest_baseline
from ecomlm_sdk.tasks.embeddings import embed_texts
from ecomlm_sdk.tasks.features import NON_PRODUCT_CODES
from ecomlm_sdk.tasks.recommendation.metrics import ranking_metrics
from ecomlm_sdk.tasks.recommendation.scorers import COMPONENTS, blend, content_profiles
from ecomlm_sdk.tasks.recommendation.state import (
    RecommenderState,
    build_state,
    candidate_products,
    clean_purchases,
)

__all__ = [
    "DEFAULT_DISCOVER_WEIGHTS",
    "DEFAULT_WEIGHTS",
    "RecommendationOptions",
    "RecommendationTask",
]

#: Blend for "buy again" lists. Chosen by ``benchmarks/tune_recommendation.py`` on a validation
#: split (fit before 2011-07-24, judge to 2011-10-01) that ends where the test training window
#: ends, so the reported test figures were never used to choose it.
DEFAULT_WEIGHTS: Final[Mapping[str, float]] = {
    "repeat": 1.0,
    "ease": 0.3,
    "itemknn": 0.1,
    "content": 0.1,
    "popularity": 0.4,
}
#: Blend for ``exclude_owned=True`` lists: only products new to the customer (same procedure).
DEFAULT_DISCOVER_WEIGHTS: Final[Mapping[str, float]] = {
    "ease": 1.0,
    "content": 0.4,
    "popularity": 0.2,
}
#: Single-strategy blends; a tiny popularity weight breaks ties (and serves cold start).
_SINGLE: Final = 1e-3
#: Baselines reported by ``evaluate``: the classic recipes, scored on the same split.
_BASELINES: Final[Mapping[str, Mapping[str, float]]] = {
    "popularity": {"popularity_all": 1.0},
    "repeat": {"bought_count": 1.0, "popularity_all": _SINGLE},
    "itemknn": {"itemknn": 1.0, "popularity_all": _SINGLE},
    "ease": {"ease": 1.0, "popularity_all": _SINGLE},
    "content": {"content": 1.0, "popularity_all": _SINGLE},
}

Strategy = Literal["hybrid", "popularity", "repeat", "itemknn", "ease", "content"]


class RecommendationOptions(TaskOptions):
    """Options of :class:`RecommendationTask`."""

    k: int = Field(default=10, ge=1, description="Products per customer.")
    strategy: Strategy = Field(
        default="hybrid", description="'hybrid' (blend) or one component alone."
    )
    weights: dict[str, float] | None = Field(
        default=None,
        description="Blend for buy-again lists, component -> weight (default DEFAULT_WEIGHTS).",
    )
    discover_weights: dict[str, float] | None = Field(
        default=None,
        description="Blend for exclude_owned lists (default DEFAULT_DISCOVER_WEIGHTS).",
    )
    embedder: str | None = Field(
        default="minilm-embedder",
        description="Registered embedder for product-text content scores; None turns content off.",
    )
    half_life_days: float = Field(
        default=120.0, gt=0, description="A purchase this old counts half (repeat and taste)."
    )
    popularity_half_life_days: float = Field(
        default=10.0, gt=0, description="Half-life of the trending-popularity component."
    )
    neighbours: int = Field(default=200, ge=1, description="Item-item neighbours kept per product.")
    ease_l2: float = Field(default=500.0, gt=0, description="EASE ridge penalty (lambda).")
    ease_keep: int | None = Field(
        default=None,
        ge=1,
        description="Keep only each product's top-k EASE weights (sparse); None (default) keeps "
        "the dense matrix: top-300 lowered test NDCG@10 (see the recommendation guide).",
    )
    ease_max_products: int = Field(
        default=20_000, ge=1, description="EASE is fitted on at most this many best sellers."
    )
    include_unsold: bool = Field(
        default=True, description="Let catalogue products never sold be recommended (by content)."
    )
    non_products: tuple[str, ...] = Field(
        default=NON_PRODUCT_CODES, description="Product ids that are fees or services, never shown."
    )
    batch_size: int = Field(default=1024, ge=1, description="Customers scored per batch.")
    fallback_to_baseline: bool = Field(
        default=True,
        description="When evaluate() finds a baseline (e.g. buy-again 'repeat') with a higher "
        "NDCG@k than the blend, the next fit() serves that baseline (recorded in the evaluation "
        "and the saved task).",
    )


#: The frame :meth:`RecommendationTask.recommend` and ``predict`` return.
_SCHEMA: Final = {
    "customer_id": pl.String,
    "rank": pl.Int32,
    "product_id": pl.String,
    "title": pl.String,
    "score": pl.Float64,
}


class RecommendationEvaluateOptions(EvaluateOptions):
    """Arguments of :meth:`RecommendationTask.evaluate` besides ``store`` and ``cutoff``."""

    exclude_owned: bool = Field(
        default=False, description="Judge discover lists (products the customer never bought)."
    )
    k: int | None = Field(default=None, ge=1, description="List length judged; None: option k.")


class RecommendationTask(Task[RecommendationOptions]):
    """Top-k product recommendations per customer.

    Example:
        ```py
        rec = ecomlm_sdk.task("recommendation", k=10).fit(store)
        rec.recommend(["17850"])  # customer_id, rank, product_id, title, score
        ```
    """

    name: ClassVar[str] = "recommendation"
    Options: ClassVar[type[TaskOptions]] = RecommendationOptions
    EvaluateOptions: ClassVar[type[EvaluateOptions]] = RecommendationEvaluateOptions
    requires_cutoff: ClassVar[bool] = True
    output_schema: ClassVar[Mapping[str, type[pl.DataType]]] = _SCHEMA

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.state: RecommenderState | None = None
        #: The fallback the last evaluate() found; the next fit() serves it (``self.fallback``).
        self.pending_fallback: dict[str, Any] | None = None
        unknown = set(self._weights(False)) | set(self._weights(True))
        unknown -= {*COMPONENTS, "popularity_all", "bought_count"}
        if unknown:
            raise TaskError(
                f"Unknown blend component(s) {sorted(unknown)} in the weights of task "
                f"'recommendation'; use {list(COMPONENTS)}"
            )
        if self.options.embedder is None and self.options.strategy == "content":
            raise TaskError("strategy='content' needs an embedder: pass embedder='minilm-embedder'")

    # ------------------------------------------------------------------ public API
    def recommend(
        self,
        customer_ids: Iterable[str],
        *,
        k: int | None = None,
        exclude_owned: bool = False,
        engine: EngineArg = None,
    ) -> pl.DataFrame:
        """Top-``k`` products for each customer.

        Customers the model has never seen (no purchases) get the trending products: the
        cold-start answer.

        Args:
            customer_ids: Customers to recommend for (a single id string works too).
            k: List length (default: the ``k`` option).
            exclude_owned: Leave out products the customer already bought ("discover").
            engine: Where to run: ``None`` (``ECOMLM_ENGINE`` for lists of 1,000 customers or
                more, else in-process), ``"local"``, ``"ray"`` (customers partitioned across
                actors, the item tables shared through the object store) or an engine.

        Returns:
            ``customer_id, rank, product_id, title, score``; ``rank`` starts at 1.
        """
        state = self._require_state()
        ids = [customer_ids] if isinstance(customer_ids, str) else [str(c) for c in customer_ids]
        chosen = choose_engine(engine, kind="customers", rows=len(ids))
        if chosen is not None:
            from ecomlm_sdk.tasks.recommendation.batch import recommend_on

            return recommend_on(self, ids, k, exclude_owned, chosen)
        return self._rank(state, ids, self._weights(exclude_owned), exclude_owned, k)

    def cold_start(self, customer_ids: Iterable[str]) -> list[bool]:
        """For each customer, whether the model has no purchases of theirs (trending products)."""
        state = self._require_state()
        ids = [customer_ids] if isinstance(customer_ids, str) else [str(c) for c in customer_ids]
        return [bool(row < 0) for row in state.rows(ids)]

    # ------------------------------------------------------------------ Task hooks
    def _fit(self, store: EcomStore) -> None:
        purchases = clean_purchases(store, self.options.non_products)
        if purchases.height == 0:
            raise TaskError(
                "Task 'recommendation' found no purchases in the store (lines with a customer, "
                "not cancelled, quantity > 0 and price > 0); load order data first"
            )
        as_of = purchases.get_column("created_at").max()
        assert isinstance(as_of, dt.datetime)
        self.fallback = self.pending_fallback  # what the last evaluate() found, if anything
        self.state = self._build(store, purchases, as_of + dt.timedelta(seconds=1), None)

    def _predict(self, store: EcomStore) -> pl.DataFrame:
        return self.recommend(_every_customer(store), engine="local")

    def _predict_on(self, store: EcomStore, engine: Engine) -> pl.DataFrame:
        return self.recommend(_every_customer(store), engine=engine)

    def _evaluate(self, store: EcomStore, cutoff: Cutoff | None, **kwargs: Any) -> EvaluationReport:
        assert cutoff is not None  # requires_cutoff: Task.evaluate checked it
        given = RecommendationEvaluateOptions(**kwargs)
        exclude_owned, k = given.exclude_owned, given.k or self.options.k
        at = to_utc_datetime(cutoff)
        history, future = store.split(at)
        past = clean_purchases(history, self.options.non_products)
        later = clean_purchases(future, self.options.non_products)
        if past.height == 0 or later.height == 0:
            raise TaskError(
                f"No purchases on one side of cutoff {at.date()}: pick a cutoff inside the data"
            )
        state = self._build(history, past, at, at, evaluate=True)
        owned = _products_by_customer(past)
        bought = _products_by_customer(later)
        customers = sorted(set(owned) & set(bought))
        relevant = {c: (bought[c] - owned[c]) if exclude_owned else bought[c] for c in customers}
        relevant = {c: r for c, r in relevant.items() if r}

        def score(weights: Mapping[str, float]) -> dict[str, float]:
            ranked = self._rank(state, list(relevant), weights, exclude_owned, k)
            lists = {
                c: g.get_column("product_id").to_list()
                for (c,), g in ranked.group_by("customer_id", maintain_order=True)
            }
            return ranking_metrics(lists, relevant, k, len(state.products))

        baselines = {
            name: score(weights)
            for name, weights in _BASELINES.items()
            if name != "content" or state.embeddings is not None
        }
        metrics = score(self._weights(exclude_owned, own=True))
        metric = f"ndcg@{k}"
        # Buy-again ("repeat") cannot serve discover lists: it only recommends owned products.
        servable = set(baselines) - ({"repeat"} if exclude_owned else set())
        fallback = fallback_record(
            metrics, baselines, metric, servable, exclude_owned=exclude_owned
        )
        if self.options.strategy != "hybrid" or not self.options.fallback_to_baseline:
            fallback = None
        self.pending_fallback = fallback
        strongest = strongest_baseline(baselines, metric)
        return EvaluationReport(
            task=self.name,
            cutoff=at.isoformat(),
            metrics=metrics,
            baselines=baselines,
            details={
                "exclude_owned": exclude_owned,
                "k": k,
                "candidates": len(state.products),
                "weights": dict(self._weights(exclude_owned, own=True)),
                "strongest_baseline": strongest[0] if strongest else None,
                "fallback_to_baseline": self.options.fallback_to_baseline,
                "fallback": fallback,
            },
        )

    def _save(self, folder: Path) -> None:
        self._require_state().save(folder)

    def _load(self, folder: Path) -> None:
        self.state = RecommenderState.load(folder)

    # ------------------------------------------------------------------ internals
    def _require_state(self) -> RecommenderState:
        return self.require_fitted(self.state)

    def _weights(self, exclude_owned: bool, *, own: bool = False) -> Mapping[str, float]:
        """The blend for a list kind: the recorded fallback baseline's, unless ``own``."""
        fallback = self.fallback
        if not own and fallback and bool(fallback.get("exclude_owned")) == exclude_owned:
            baseline = _BASELINES.get(str(fallback.get("baseline")))
            if baseline is not None:
                return baseline
        strategy = self.options.strategy
        if strategy != "hybrid":
            return (
                {strategy: 1.0}
                if strategy == "popularity"
                else {strategy: 1.0, "popularity": _SINGLE}
            )
        if exclude_owned:
            return self.options.discover_weights or DEFAULT_DISCOVER_WEIGHTS
        return self.options.weights or DEFAULT_WEIGHTS

    def _build(
        self,
        store: EcomStore,
        purchases: pl.DataFrame,
        as_of: dt.datetime,
        launched_before: dt.datetime | None,
        *,
        evaluate: bool = False,
    ) -> RecommenderState:
        options = self.options
        candidates = candidate_products(
            store,
            purchases,
            options.non_products,
            include_unsold=options.include_unsold,
            launched_before=launched_before,
        )
        used = {*self._weights(False), *self._weights(True)}
        if evaluate:
            used |= set(COMPONENTS)
        embeddings = None
        if options.embedder is not None and "content" in used:
            embeddings = _embed_titles(options.embedder, candidates.get_column("title").to_list())
        return build_state(
            purchases,
            candidates,
            as_of,
            components=used,
            half_life_days=options.half_life_days,
            popularity_half_life_days=options.popularity_half_life_days,
            neighbours=options.neighbours,
            ease_l2=options.ease_l2,
            ease_max_products=options.ease_max_products,
            embeddings=embeddings,
            ease_keep=options.ease_keep,
        )

    def _rank(
        self,
        state: RecommenderState,
        customer_ids: list[str],
        weights: Mapping[str, float],
        exclude_owned: bool,
        k: int | None,
    ) -> pl.DataFrame:
        top_k = min(k or self.options.k, len(state.products))
        rows = state.rows(customer_ids)
        out_ids: list[str] = []
        out_cols: list[np.ndarray] = []
        out_scores: list[np.ndarray] = []
        size = self.options.batch_size
        batches = range(0, len(customer_ids), size)
        for start in progress(batches, desc="recommend", unit="batch", quiet=self.options.quiet):
            batch = rows[start : start + size]
            scores = _component_scores(state, batch, weights)
            total = blend(scores, weights)
            if exclude_owned:
                owned = _select(state.counts, batch)
                total[owned.nonzero()] = -np.inf
            top = np.argsort(-total, axis=1, kind="stable")[:, :top_k]
            values = np.take_along_axis(total, top, axis=1)
            out_ids.extend(customer_ids[start : start + size])
            out_cols.append(top)
            out_scores.append(values)
        if not out_ids:
            return _empty_frame()
        columns = np.concatenate(out_cols)
        values = np.concatenate(out_scores)
        keep = np.isfinite(values).ravel()
        products = np.array(state.products, dtype=object)[columns.ravel()]
        titles = np.array(state.titles, dtype=object)[columns.ravel()]
        frame = pl.DataFrame(
            {
                "customer_id": np.repeat(np.array(out_ids, dtype=object), top_k)[keep].tolist(),
                "rank": np.tile(np.arange(1, top_k + 1, dtype=np.int32), len(out_ids))[keep],
                "product_id": products[keep].tolist(),
                "title": titles[keep].tolist(),
                "score": values.ravel()[keep].astype(np.float64),
            },
            schema=_SCHEMA,
        )
        return frame


def _every_customer(store: EcomStore) -> list[str]:
    """The store's customers and every customer who bought, sorted."""
    customers = pl.concat(
        [store.customers.get_column("customer_id"), store.purchases().get_column("customer_id")]
    )
    ids: list[str] = customers.unique().drop_nulls().sort().to_list()
    return ids


def _empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=_SCHEMA)


def _select(matrix: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    """Rows of ``matrix``; row index -1 gives an empty row (a customer never seen)."""
    known = (rows >= 0).astype(np.float32)
    picked: sp.csr_matrix = sp.diags(known) @ matrix[np.where(rows >= 0, rows, 0)]
    return picked.tocsr()


def _component_scores(
    state: RecommenderState, rows: np.ndarray, weights: Mapping[str, float]
) -> dict[str, np.ndarray]:
    n = len(rows)
    scores: dict[str, np.ndarray] = {}
    wanted = {name for name, w in weights.items() if w}
    if "popularity" in wanted:
        scores["popularity"] = np.broadcast_to(state.trending, (n, len(state.products)))
    if "popularity_all" in wanted:
        scores["popularity_all"] = np.broadcast_to(state.popularity, (n, len(state.products)))
    recent = _select(state.weights, rows)
    if "repeat" in wanted:
        scores["repeat"] = recent.toarray()
    if "bought_count" in wanted:
        scores["bought_count"] = _select(state.counts, rows).toarray()
    if "itemknn" in wanted and state.neighbours is not None:
        scores["itemknn"] = (recent @ state.neighbours).toarray()
    if "ease" in wanted and state.ease is not None and state.ease_index is not None:
        binary = _select(state.counts, rows)[:, state.ease_index]
        binary.data = np.ones_like(binary.data)
        ease = np.zeros((n, len(state.products)), dtype=np.float32)
        product = binary @ state.ease
        ease[:, state.ease_index] = product.toarray() if sp.issparse(product) else product
        scores["ease"] = ease
    if "content" in wanted and state.embeddings is not None:
        scores["content"] = content_profiles(recent, state.embeddings) @ state.embeddings.T
    return scores


def _products_by_customer(purchases: pl.DataFrame) -> dict[str, set[str]]:
    grouped = purchases.group_by("customer_id").agg(pl.col("product_id").unique())
    return {c: set(p) for c, p in grouped.iter_rows()}


def _embed_titles(embedder: str, titles: list[str]) -> np.ndarray:
    """Title embeddings through the in-process cache: evaluate() then fit() embeds once."""
    return embed_texts(embedder, titles)


#: The class was called ``Recommendation`` in 0.1 (kept, with a warning, for one release).
__getattr__ = renamed(__name__, {"Recommendation": "RecommendationTask"}, globals())
