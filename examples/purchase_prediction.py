"""Who will buy in the next 90 days? Evaluate leak-free, then score every customer.

Run: python examples/purchase_prediction.py
"""

from __future__ import annotations

import ecomlm_sdk


def main() -> None:
    store = ecomlm_sdk.sample_store()  # real UCI Online Retail transactions
    pp = ecomlm_sdk.task("purchase-prediction", horizon_days=90)

    report = pp.evaluate(store, cutoff="2011-09-09")  # fit on history, judge the next 90 days
    print(f"ROC-AUC {report.metrics['roc_auc']:.3f}  PR-AUC {report.metrics['pr_auc']:.3f}")
    for name, values in report.baselines.items():
        print(f"  baseline {name:<14} ROC-AUC {values['roc_auc']:.3f}")

    scores = pp.fit(store).predict(store)  # customer_id, p_buy, expected_revenue
    print(scores.sort("expected_revenue", descending=True).head(5))


if __name__ == "__main__":
    main()
