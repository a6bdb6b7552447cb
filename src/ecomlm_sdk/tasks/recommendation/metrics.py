"""Top-k ranking metrics, as defined in the recommendation guide.

For one customer with relevant set ``R`` (products bought after the cutoff) and ranked list
``L`` of length ``k``:

* HR@k = 1 if any of ``L`` is in ``R``, else 0.
* recall@k = |L ∩ R| / |R|.
* NDCG@k = DCG / IDCG with DCG = sum over hits at rank i (1-based) of 1 / log2(i + 1) and
  IDCG the DCG of a perfect list, min(|R|, k) hits at the top.
* MAP@k = (sum over hits at rank i of precision@i) / min(|R|, k).

Each is averaged over customers. Catalogue coverage = distinct products recommended to anyone
/ products that could have been recommended.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["ranking_metrics"]


def ranking_metrics(
    recommended: Mapping[str, Sequence[str]],
    relevant: Mapping[str, set[str]],
    k: int,
    catalogue_size: int,
) -> dict[str, float]:
    """HR@k, recall@k, NDCG@k, MAP@k averaged over the customers of ``relevant``, plus coverage.

    Args:
        recommended: Customer id -> ranked product ids (only the first ``k`` count).
        relevant: Customer id -> products that count as hits; customers with an empty set
            are skipped.
        k: Cut-off rank.
        catalogue_size: Number of products that could have been recommended.
    """
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    hr, recall, ndcg, average_precision = [], [], [], []
    shown: set[str] = set()
    for customer, truth in relevant.items():
        if not truth:
            continue
        ranked = list(recommended.get(customer, ()))[:k]
        shown.update(ranked)
        hits = np.array([p in truth for p in ranked], dtype=np.float64)
        n_hits = float(hits.sum())
        ideal = min(len(truth), k)
        hr.append(1.0 if n_hits else 0.0)
        recall.append(n_hits / len(truth))
        ndcg.append(float((hits * discounts[: len(hits)]).sum() / discounts[:ideal].sum()))
        precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
        average_precision.append(float((precision_at * hits).sum() / ideal))
    n = len(hr)

    def mean(values: list[float]) -> float:
        return float(np.mean(values)) if n else 0.0

    return {
        f"hr@{k}": mean(hr),
        f"recall@{k}": mean(recall),
        f"ndcg@{k}": mean(ndcg),
        f"map@{k}": mean(average_precision),
        "coverage": len(shown) / catalogue_size if catalogue_size else 0.0,
        "customers": float(n),
    }
