"""Sparse customer x product interaction matrices built from a store's purchases.

The matrices are ``scipy.sparse`` CSR: a shop with 100,000 customers and 20,000 products holds
only the pairs that were bought, never a dense customer x product array.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

__all__ = ["Interactions", "build_interactions"]

_DAY = 86_400.0


@dataclass(frozen=True)
class Interactions:
    """Purchases as sparse matrices over fixed customer and product indexes.

    Attributes:
        customers: Customer ids, row order.
        products: Product ids, column order.
        counts: Orders in which each customer bought each product (CSR, float32).
        weights: ``counts`` with each order down-weighted by its age (half-life decay).
        popularity: Distinct buyers per product, each weighted by the age of their last purchase.
    """

    customers: list[str]
    products: list[str]
    counts: sp.csr_matrix
    weights: sp.csr_matrix
    popularity: np.ndarray

    @property
    def binary(self) -> sp.csr_matrix:
        """1.0 wherever the customer bought the product."""
        out = self.counts.copy()
        out.data = np.ones_like(out.data)
        return out

    def rows(self, customer_ids: Sequence[str]) -> np.ndarray:
        """Row index of each customer id, -1 for customers without purchases."""
        index = {c: i for i, c in enumerate(self.customers)}
        return np.array([index.get(c, -1) for c in customer_ids], dtype=np.int64)


def build_interactions(
    purchases: pl.DataFrame,
    products: Sequence[str],
    as_of: dt.datetime,
    half_life_days: float,
) -> Interactions:
    """Build :class:`Interactions` from purchase lines.

    Args:
        purchases: Lines with ``customer_id, order_id, product_id, created_at``.
        products: The product index (columns); purchases of other products are ignored.
        as_of: The reference instant for ages (usually the end of the data).
        half_life_days: An order this many days old counts half as much as one today.
    """
    index = pl.DataFrame(
        {"product_id": list(products), "_col": np.arange(len(products), dtype=np.int64)},
        schema={"product_id": pl.String, "_col": pl.Int64},
    )
    pairs = (
        purchases.join(index, on="product_id", how="inner")
        .group_by("customer_id", "_col", "order_id")
        .agg(pl.col("created_at").max())
        .with_columns(
            (
                0.5
                ** (
                    (pl.lit(as_of) - pl.col("created_at")).dt.total_seconds()
                    / _DAY
                    / half_life_days
                )
            ).alias("_w")
        )
        .group_by("customer_id", "_col")
        .agg(pl.len().alias("_n"), pl.col("_w").sum(), pl.col("_w").max().alias("_last"))
        .sort("customer_id", "_col")
    )
    customers = pairs.get_column("customer_id").unique(maintain_order=True).to_list()
    rows = pairs.select(pl.col("customer_id").rank("dense") - 1).to_series().to_numpy()
    cols = pairs.get_column("_col").to_numpy()
    shape = (len(customers), len(products))

    def matrix(values: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((values.astype(np.float32), (rows, cols)), shape=shape)

    last = matrix(pairs.get_column("_last").to_numpy())
    popularity = np.asarray(last.sum(axis=0), dtype=np.float64).ravel()
    return Interactions(
        customers=customers,
        products=list(products),
        counts=matrix(pairs.get_column("_n").to_numpy()),
        weights=matrix(pairs.get_column("_w").to_numpy()),
        popularity=popularity,
    )
