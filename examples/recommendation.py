"""Recommend products: buy-again lists, discovery lists, and an offline evaluation.

Run: python examples/recommendation.py
"""

from __future__ import annotations

import ecomlm_sdk


def main() -> None:
    store = ecomlm_sdk.sample_store()
    rec = ecomlm_sdk.task("recommendation", k=10).fit(store)
    print(rec.recommend(["17850"], k=5))  # customer_id, rank, product_id, title, score
    print(rec.recommend(["17850"], k=5, exclude_owned=True))  # only products new to them

    report = ecomlm_sdk.task("recommendation", k=10).evaluate(store, cutoff="2011-10-01")
    print(f"NDCG@10 {report.metrics['ndcg@10']:.3f}", {k: round(v["ndcg@10"], 3) for k, v in report.baselines.items()})


if __name__ == "__main__":
    main()
