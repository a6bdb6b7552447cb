"""Purchase-prediction benchmark on the bundled sample store (UCI Online Retail).

Protocol (issue 6): cutoff 2011-09-09, label = any purchase in the 90 days from the cutoff,
population = every customer with a purchase before it. ``evaluate`` trains on snapshots
ending at cutoff - 90 days and scores at the cutoff. Baselines are computed in the same run on
the same split; the issue's published anchors are printed next to them.

Usage::

    .venv/bin/python benchmarks/bench_prediction.py
"""

from __future__ import annotations

import time

import ecomlm_sdk

ANCHORS = {
    "recency only": (0.684, 0.715),
    "RFM logistic regression": (0.736, 0.803),
    "BG/NBD expected purchases": (0.729, 0.795),
    "gradient boosting, 14 RFM features, tuned": (0.749, 0.815),
}
TARGET = (0.75, 0.815)


def main() -> None:
    store = ecomlm_sdk.sample_store()
    pp = ecomlm_sdk.task("purchase-prediction", horizon_days=90, quiet=True)
    started = time.perf_counter()
    report = pp.evaluate(store, cutoff="2011-09-09")
    evaluate_s = time.perf_counter() - started
    print(
        f"customers {report.details['customers']:,}, positive rate "
        f"{report.details['positive_rate']:.1%}"
    )
    print(f"{'model':<44} {'ROC-AUC':>8} {'PR-AUC':>8} {'lift@10%':>9}")
    rows = {"ecomlm purchase-prediction (lightgbm)": report.metrics}
    rows |= {f"baseline: {name}": m for name, m in report.baselines.items()}
    for name, m in rows.items():
        print(f"{name:<44} {m['roc_auc']:>8.3f} {m['pr_auc']:>8.3f} {m['lift@10%']:>9.2f}")
    for name, (roc, pr) in ANCHORS.items():
        print(f"{'anchor: ' + name:<44} {roc:>8.3f} {pr:>8.3f} {'':>9}")
    print(f"target: ROC-AUC >= {TARGET[0]}, PR-AUC >= {TARGET[1]}")
    print(
        f"expected revenue: MAE {report.metrics['revenue_mae']:.1f}, "
        f"correlation with actual {report.metrics['revenue_corr']:.3f}"
    )
    print("calibration:")
    print(report.details["calibration"])
    started = time.perf_counter()
    pp.fit(store)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    scores = pp.predict(store)
    predict_s = time.perf_counter() - started
    print(
        f"times: evaluate {evaluate_s:.1f}s; fit {fit_s:.1f}s; "
        f"predict {predict_s:.2f}s for {scores.height:,} customers"
    )


if __name__ == "__main__":
    main()
