"""The scoring components a recommender blends: popularity, repeat, item-item, EASE, content.

Each component turns a batch of customers' purchase rows into one score per product. Scores are
computed batch by batch (a batch x products array at a time), so memory stays bounded by the
batch size, never by customers x products.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import scipy.sparse as sp

__all__ = [
    "COMPONENTS",
    "blend",
    "content_profiles",
    "cosine_neighbours",
    "ease_weights",
    "keep_top_per_row",
]

#: Every component a recommender can blend, in the order reports list them.
COMPONENTS: Final[tuple[str, ...]] = ("popularity", "repeat", "itemknn", "ease", "content")


def cosine_neighbours(binary: sp.csr_matrix, top_n: int) -> sp.csr_matrix:
    """Item-item cosine similarity over buyers, keeping each item's ``top_n`` neighbours.

    Args:
        binary: Customers x products, 1.0 where bought.
        top_n: Neighbours kept per product (the rest are dropped to keep the matrix sparse).

    Returns:
        Products x products CSR; row ``i`` holds the similarities of product ``i``'s
        neighbours; the diagonal is zero.
    """
    items = binary.T.tocsr().astype(np.float32)
    norms = np.sqrt(np.asarray(items.multiply(items).sum(axis=1)).ravel())
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    normalized = sp.diags(inverse.astype(np.float32)) @ items
    similarity = (normalized @ normalized.T).tocsr()
    similarity.setdiag(0.0)
    similarity.eliminate_zeros()
    return _keep_top(similarity, top_n)


def _keep_top(matrix: sp.csr_matrix, top_n: int) -> sp.csr_matrix:
    rows, cols, vals = [], [], []
    for i in range(matrix.shape[0]):
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        if start == end:
            continue
        data = matrix.data[start:end]
        keep = np.argsort(-data, kind="stable")[:top_n]
        rows.append(np.full(len(keep), i, dtype=np.int64))
        cols.append(matrix.indices[start:end][keep])
        vals.append(data[keep])
    if not rows:
        return sp.csr_matrix(matrix.shape, dtype=np.float32)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=matrix.shape,
        dtype=np.float32,
    )


def ease_weights(binary: sp.csr_matrix, l2: float) -> np.ndarray:
    """EASE item-item weights (Steck 2019): ``B = I - P / diag(P)``, ``P = (X'X + l2 I)^-1``.

    Args:
        binary: Customers x products, 1.0 where bought.
        l2: Ridge penalty (lambda); larger values shrink towards popularity-free scores.

    Returns:
        Dense products x products float32 weights with a zero diagonal. Memory is products^2,
        independent of the number of customers.
    """
    gram: np.ndarray = (binary.T @ binary).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += l2
    inverse: np.ndarray = np.linalg.inv(gram)
    weights: np.ndarray = -inverse / np.diag(inverse)
    weights[np.diag_indices_from(weights)] = 0.0
    return weights.astype(np.float32)


def keep_top_per_row(weights: np.ndarray, keep: int) -> sp.csr_matrix:
    """The ``keep`` largest weights of each row of a dense square matrix, as CSR.

    EASE scores are sums of rows of its weight matrix; dropping the small weights saves
    products^2 memory but does change some lists (the recommendation guide gives the
    measurement), so it is opt-in through the ``ease_keep`` option.
    """
    keep = min(keep, weights.shape[1])
    cols = np.argpartition(-weights, keep - 1, axis=1)[:, :keep]
    vals = np.take_along_axis(weights, cols, axis=1)
    rows = np.repeat(np.arange(weights.shape[0]), keep)
    matrix = sp.csr_matrix(
        (vals.ravel().astype(np.float32), (rows, cols.ravel())), shape=weights.shape
    )
    matrix.eliminate_zeros()
    return matrix


def content_profiles(weights: sp.csr_matrix, embeddings: np.ndarray) -> np.ndarray:
    """Each customer's taste as the weighted mean of what they bought, L2-normalized.

    Args:
        weights: Customers x products purchase weights (a batch of rows).
        embeddings: Products x dimension, L2-normalized product-text embeddings.
    """
    profiles = np.asarray(weights @ embeddings, dtype=np.float32)
    norms = np.linalg.norm(profiles, axis=1, keepdims=True)
    result: np.ndarray = profiles / np.where(norms == 0, 1.0, norms)
    return result


def blend(scores: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """Weighted sum of component scores, each first scaled to [0, 1] per customer.

    Scaling by each row's maximum puts components with very different ranges (counts,
    cosines, regression weights) on one footing; negative scores are clipped to zero.
    """
    total: np.ndarray | None = None
    for name, weight in weights.items():
        if weight == 0 or name not in scores:
            continue
        part = np.clip(scores[name], 0.0, None)
        peak = part.max(axis=1, keepdims=True)
        part = part / np.where(peak > 0, peak, 1.0)
        total = weight * part if total is None else total + weight * part
    if total is None:
        empty: np.ndarray = np.zeros_like(next(iter(scores.values())))
        return empty
    return total
