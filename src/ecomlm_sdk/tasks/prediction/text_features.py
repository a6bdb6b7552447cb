"""Product-text features for purchase prediction: what each customer bought, as a few numbers.

Each purchased line's title is embedded by a registered ``Embedder`` (through the in-process
cache of :mod:`ecomlm_sdk.tasks.embeddings`), each customer's taste is the spend-weighted mean
of those vectors, and the taste is projected on the top principal components of the product
embeddings (fitted once, at training time, on products sold before the training end). A tree
model then sees ``text_0 .. text_{n-1}`` next to the tabular features, instead of hundreds of
raw embedding dimensions it would overfit.

Titles are the only input: no label, no future row, so the features are as leak-free as the
rest of the snapshot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.tasks.embeddings import embed_texts

__all__ = ["TextProjection", "fit_text_projection", "text_features"]


@dataclass
class TextProjection:
    """Mean and principal axes of product-title embeddings (``components`` rows x dim)."""

    mean: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    components: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))

    @property
    def names(self) -> list[str]:
        """Feature columns this projection produces."""
        return [f"text_{i}" for i in range(self.components.shape[0])]

    def to_json(self) -> dict[str, list[float] | list[list[float]]]:
        """Plain lists, for the task's JSON state."""
        return {"mean": self.mean.tolist(), "components": self.components.tolist()}

    @classmethod
    def from_json(cls, state: dict[str, list[float] | list[list[float]]]) -> TextProjection:
        """Inverse of :meth:`to_json`."""
        return cls(
            mean=np.asarray(state["mean"], dtype=np.float32),
            components=np.asarray(state["components"], dtype=np.float32),
        )


def _bought(store: EcomStore, as_of: dt.datetime) -> pl.DataFrame:
    catalogue = (
        store.products.select("variant_id", pl.col("title").alias("_catalogue_title"))
        .drop_nulls()
        .unique("variant_id")
    )
    return (
        store.purchases()
        .filter(pl.col("created_at") < as_of)
        .join(catalogue, on="variant_id", how="left")
        .with_columns(pl.coalesce("title", "_catalogue_title").alias("title"))
        .filter(pl.col("title").is_not_null())
        .group_by("customer_id", "title")
        .agg(pl.col("revenue").sum())
    )


def fit_text_projection(
    store: EcomStore, as_of: dt.datetime, embedder: str, components: int
) -> TextProjection:
    """Principal axes of the embeddings of titles sold before ``as_of`` (SVD, numpy)."""
    titles = _bought(store, as_of).get_column("title").unique().sort().to_list()
    if not titles or components <= 0:
        return TextProjection()
    vectors = embed_texts(embedder, titles).astype(np.float64)
    mean = vectors.mean(axis=0)
    _, _, axes = np.linalg.svd(vectors - mean, full_matrices=False)
    return TextProjection(
        mean=mean.astype(np.float32), components=axes[:components].astype(np.float32)
    )


def text_features(
    store: EcomStore, as_of: dt.datetime, embedder: str, projection: TextProjection
) -> pl.DataFrame:
    """``customer_id, text_0, ...``: each customer's spend-weighted taste, projected."""
    names = projection.names
    schema = {"customer_id": pl.String, **dict.fromkeys(names, pl.Float64)}
    bought = _bought(store, as_of)
    if bought.height == 0 or not names:
        return pl.DataFrame(schema=schema)
    titles = bought.get_column("title").unique().sort().to_list()
    vectors = embed_texts(embedder, titles)
    column = pl.DataFrame(
        {"title": titles, "_row": np.arange(len(titles), dtype=np.int64)},
        schema={"title": pl.String, "_row": pl.Int64},
    )
    pairs = bought.join(column, on="title").sort("customer_id")
    customers, row_of = np.unique(pairs.get_column("customer_id").to_numpy(), return_inverse=True)
    spend = pairs.get_column("revenue").to_numpy().astype(np.float64)
    taste = np.zeros((len(customers), vectors.shape[1]), dtype=np.float64)
    np.add.at(taste, row_of, spend[:, None] * vectors[pairs.get_column("_row").to_numpy()])
    totals = np.bincount(row_of, weights=spend, minlength=len(customers))
    taste /= np.where(totals > 0, totals, 1.0)[:, None]
    projected = (taste - projection.mean) @ projection.components.T
    return pl.DataFrame(
        {"customer_id": customers.astype(str).tolist()}
        | {n: projected[:, i] for i, n in enumerate(names)},
        schema=schema,
    )
