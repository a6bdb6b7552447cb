"""Measure what a campaign really earned (incremental ROI with intervals) and plan the next one.

Run: python examples/measure_campaign.py
"""

from __future__ import annotations

import polars as pl

from ecomlm_sdk.roi import TwoModelUplift, analyze_experiment, plan_campaign, synthetic_experiment


def main() -> None:
    # A randomized experiment with known true uplift; with your data, read your CSV instead.
    experiment = synthetic_experiment(20_000, uplift={"email": 0.02}, seed=0)
    frame = experiment.frame
    result = analyze_experiment(
        frame, arm="arm", control="control", outcome="revenue", converted="converted",
        cost_per_contact=0.10, margin=0.35,
    )
    roi = result.arm("email").incremental_roi
    assert roi is not None
    print(f"email incremental ROI {roi.value:.2f} (95% interval {roi.low:.2f} to {roi.high:.2f})")

    # Learn uplift on half the customers; judge the plan on the other half.
    half = pl.int_range(pl.len()) % 2 == 0
    train, holdout = frame.filter(half), frame.filter(~half)
    features = list(experiment.features)
    model = TwoModelUplift().fit(train.select(features), train["arm"], train["converted"])
    scored = holdout.with_columns(pl.Series("uplift", model.predict(holdout.select(features))))
    plan = plan_campaign(
        scored.select("customer_id", "uplift"), kind="conversion", order_value=50.0,
        cost_per_contact=0.10, margin=0.35, validation=scored,
    )
    print(f"contact {plan.contacts:,} customers; expected incremental profit {plan.expected_incremental_profit:,.0f}")


if __name__ == "__main__":
    main()
