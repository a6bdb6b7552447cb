"""What a fitted recommender knows, how it is built from a store, and how it is saved.

Everything is saved as JSON (ids, titles) and safetensors (sparse matrices as their CSR
arrays, dense weights, embeddings): no pickle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import scipy.sparse as sp
from safetensors.numpy import load_file, save_file

from ecomlm_sdk._persist import check_safetensors, read_json, write_json
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import TaskError
from ecomlm_sdk.tasks.recommendation.matrix import build_interactions
from ecomlm_sdk.tasks.recommendation.scorers import (
    cosine_neighbours,
    ease_weights,
    keep_top_per_row,
)

__all__ = ["RecommenderState", "build_state", "candidate_products", "clean_purchases"]

STATE_JSON = "recommender.json"
STATE_TENSORS = "recommender.safetensors"


@dataclass
class RecommenderState:
    """Fitted state: indexes, sparse purchase matrices and the learned component weights."""

    customers: list[str]
    products: list[str]
    titles: list[str]
    counts: sp.csr_matrix
    weights: sp.csr_matrix
    popularity: np.ndarray
    trending: np.ndarray
    neighbours: sp.csr_matrix | None = None
    ease: np.ndarray | sp.csr_matrix | None = None
    ease_index: np.ndarray | None = None
    embeddings: np.ndarray | None = None
    _rows: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._rows = {c: i for i, c in enumerate(self.customers)}

    def rows(self, customer_ids: list[str]) -> np.ndarray:
        """Row of each customer, -1 for customers without purchases (cold start)."""
        return np.array([self._rows.get(c, -1) for c in customer_ids], dtype=np.int64)

    # ------------------------------------------------------------------ persistence
    def save(self, folder: Path) -> None:
        """Write ``recommender.json`` and ``recommender.safetensors`` into ``folder``."""
        tensors: dict[str, np.ndarray] = {
            "popularity": self.popularity,
            "trending": self.trending,
        }
        sparse_ease = ("ease",) if isinstance(self.ease, sp.csr_matrix) else ()
        for name in ("counts", "weights", "neighbours", *sparse_ease):
            matrix = getattr(self, name)
            if matrix is not None:
                tensors[f"{name}.data"] = matrix.data.astype(np.float32)
                tensors[f"{name}.indices"] = matrix.indices.astype(np.int64)
                tensors[f"{name}.indptr"] = matrix.indptr.astype(np.int64)
        for name in ("ease", "ease_index", "embeddings"):
            value = getattr(self, name)
            if value is not None and not sp.issparse(value):
                tensors[name] = np.ascontiguousarray(value)
        save_file(tensors, str(folder / STATE_TENSORS))
        meta = {"customers": self.customers, "products": self.products, "titles": self.titles}
        write_json(folder / STATE_JSON, meta)

    @classmethod
    def load(cls, folder: Path) -> RecommenderState:
        """Read a state written by :meth:`save`."""
        for name in (STATE_JSON, STATE_TENSORS):
            if not (folder / name).is_file():
                raise TaskError(
                    f"{folder / name} is missing: the folder was not written by "
                    "RecommendationTask.save(); fit and save the task again"
                )
        meta_path, tensor_path = folder / STATE_JSON, folder / STATE_TENSORS
        meta = read_json(meta_path, error=TaskError, what="saved task")
        if not isinstance(meta, dict):
            raise TaskError(f"{meta_path} must hold a JSON object; save the task again")
        for key in ("customers", "products", "titles"):
            value = meta.get(key)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TaskError(f"{meta_path} key {key!r} must be a list of strings; save again")
        if len(meta["titles"]) != len(meta["products"]):
            raise TaskError(
                f"{meta_path} lists {len(meta['products'])} products but "
                f"{len(meta['titles'])} titles; save the task again"
            )
        check_safetensors(tensor_path, error=TaskError)
        try:
            tensors = load_file(str(tensor_path))
        except Exception as exc:  # SafetensorError has no stable public name
            raise TaskError(f"{tensor_path} cannot be read ({exc}); save the task again") from exc
        shape = (len(meta["customers"]), len(meta["products"]))

        def csr(name: str, size: tuple[int, int]) -> sp.csr_matrix | None:
            if f"{name}.data" not in tensors:
                return None
            try:
                parts = (
                    tensors[f"{name}.data"],
                    tensors[f"{name}.indices"],
                    tensors[f"{name}.indptr"],
                )
                matrix = sp.csr_matrix(parts, shape=size)
                matrix.check_format(full_check=True)
            except (KeyError, ValueError, IndexError) as exc:
                raise TaskError(
                    f"{tensor_path}: matrix {name!r} does not fit {size[0]} x {size[1]} "
                    f"({exc}); the file does not match {meta_path}. Save the task again"
                ) from exc
            return matrix

        counts, weights = csr("counts", shape), csr("weights", shape)
        if counts is None or weights is None:
            raise TaskError(f"{tensor_path} lacks the 'counts'/'weights' matrices; save again")
        for key in ("popularity", "trending"):
            if key not in tensors or tensors[key].shape != (shape[1],):
                raise TaskError(
                    f"{tensor_path}: {key!r} must have one value per product ({shape[1]}), got "
                    f"{tensors[key].shape if key in tensors else 'nothing'}; save the task again"
                )
        embeddings = tensors.get("embeddings")
        if embeddings is not None and (embeddings.ndim != 2 or embeddings.shape[0] != shape[1]):
            raise TaskError(
                f"{tensor_path}: 'embeddings' has shape {embeddings.shape}, not one row per "
                f"product ({shape[1]}); save the task again"
            )
        square = (shape[1], shape[1])
        return cls(
            customers=meta["customers"],
            products=meta["products"],
            titles=meta["titles"],
            counts=counts,
            weights=weights,
            popularity=tensors["popularity"],
            trending=tensors["trending"],
            neighbours=csr("neighbours", square),
            ease=_ease(tensors, csr),
            ease_index=tensors.get("ease_index"),
            embeddings=embeddings,
        )


def _ease(
    tensors: dict[str, np.ndarray],
    csr: Callable[[str, tuple[int, int]], sp.csr_matrix | None],
) -> np.ndarray | sp.csr_matrix | None:
    """EASE weights as saved: top-k CSR (``ease.data`` ...) or, from older saves, dense."""
    if "ease.data" in tensors and "ease_index" in tensors:
        size = len(tensors["ease_index"])
        return csr("ease", (size, size))
    return tensors.get("ease")


def clean_purchases(store: EcomStore, non_products: Collection[str]) -> pl.DataFrame:
    """Purchases of real products (fees and services such as postage left out)."""
    return (
        store.purchases()
        .filter(pl.col("product_id").is_not_null())
        .filter(~pl.col("product_id").is_in(list(non_products)))
    )


def candidate_products(
    store: EcomStore,
    purchases: pl.DataFrame,
    non_products: Collection[str],
    *,
    include_unsold: bool,
    launched_before: dt.datetime | None,
) -> pl.DataFrame:
    """Products that may be recommended, with their titles: ``product_id, title``.

    Every product bought in ``purchases``; with ``include_unsold`` also catalogue products
    never bought (only content similarity can rank those: the cold-start case). When
    ``launched_before`` is given, unsold products count only if their ``created_at`` is known
    and earlier, so an evaluation never learns of a product from the future.
    """
    sold = purchases.group_by("product_id").agg(pl.col("title").drop_nulls().first())
    catalogue = store.products.filter(pl.col("product_id").is_not_null()).filter(
        ~pl.col("product_id").is_in(list(non_products))
    )
    if launched_before is not None:
        catalogue = catalogue.filter(pl.col("created_at") < launched_before)
    catalogue_titles = catalogue.group_by("product_id").agg(pl.col("title").drop_nulls().first())
    ids = sold.select("product_id")
    if include_unsold:
        ids = pl.concat([ids, catalogue_titles.select("product_id")]).unique()
    return (
        ids.join(catalogue_titles, on="product_id", how="left")
        .join(sold.rename({"title": "_sold_title"}), on="product_id", how="left")
        .select(
            "product_id",
            pl.coalesce("title", "_sold_title", "product_id").alias("title"),
        )
        .sort("product_id")
    )


def build_state(
    purchases: pl.DataFrame,
    candidates: pl.DataFrame,
    as_of: dt.datetime,
    *,
    components: Collection[str],
    half_life_days: float,
    popularity_half_life_days: float,
    neighbours: int,
    ease_l2: float,
    ease_max_products: int,
    embeddings: np.ndarray | None,
    ease_keep: int | None = None,
) -> RecommenderState:
    """Fit every component in ``components`` on ``purchases`` over ``candidates``."""
    products = candidates.get_column("product_id").to_list()
    interactions = build_interactions(purchases, products, as_of, half_life_days)
    trending = build_interactions(purchases, products, as_of, popularity_half_life_days)
    binary = interactions.binary
    state = RecommenderState(
        customers=interactions.customers,
        products=products,
        titles=candidates.get_column("title").to_list(),
        counts=interactions.counts,
        weights=interactions.weights,
        popularity=np.asarray(binary.sum(axis=0), dtype=np.float32).ravel(),
        trending=trending.popularity.astype(np.float32),
        embeddings=embeddings,
    )
    if "itemknn" in components:
        state.neighbours = cosine_neighbours(binary, neighbours)
    if "ease" in components:
        ranked = np.argsort(-state.popularity, kind="stable")
        index = np.sort(ranked[: min(ease_max_products, len(products))]).astype(np.int64)
        state.ease_index = index
        dense = ease_weights(binary[:, index], ease_l2)
        state.ease = dense if ease_keep is None else keep_top_per_row(dense, ease_keep)
    return state
