"""plan_campaign: who is contacted, the budget, the figures, and validated intervals."""

from __future__ import annotations

import polars as pl
import pytest

from ecomlm_sdk import RoiError, plan_campaign
from ecomlm_sdk.roi import synthetic_experiment

SCORES = pl.DataFrame({"customer_id": ["a", "b", "c", "d"], "uplift": [0.05, 0.10, -0.02, 0.01]})


def test_contacts_every_profitable_customer_best_first() -> None:
    plan = plan_campaign(SCORES, order_value=100.0, cost_per_contact=1.0, margin=0.5)
    # incremental revenue 5, 10, -2, 1 -> profit 1.5, 4, -2, -0.5: contact b then a.
    assert plan.targets["customer_id"].to_list() == ["b", "a"]
    assert plan.targets["rank"].to_list() == [1, 2]
    assert plan.contacts == 2 and plan.total_cost == 2.0
    assert plan.expected_incremental_revenue == pytest.approx(15.0)
    assert plan.expected_incremental_profit == pytest.approx(5.5)
    assert plan.expected_roi == pytest.approx(2.75)
    assert not plan.budget_limited and plan.incremental_profit is None
    curve = plan.profit_curve
    assert curve["contacts"].to_list() == [0, 1, 2, 3, 4]
    assert curve["expected_incremental_profit"].to_list() == pytest.approx([0, 4, 5.5, 5.0, 3.0])
    assert curve["expected_incremental_profit"].arg_max() == 2


def test_budget_limits_the_list() -> None:
    plan = plan_campaign(SCORES, order_value=100.0, cost_per_contact=1.0, margin=0.5, budget=1.5)
    assert plan.contacts == 1 and plan.budget_limited
    assert plan.expected_incremental_profit == pytest.approx(4.0)


def test_revenue_and_propensity_scores() -> None:
    revenue = plan_campaign(
        SCORES.with_columns(pl.col("uplift") * 100),
        kind="revenue",
        cost_per_contact=1.0,
        margin=0.5,
    )
    assert revenue.targets["customer_id"].to_list() == ["b", "a"]
    propensity = pl.DataFrame({"customer_id": ["x", "y"], "p": [0.5, 0.1]})
    plan = plan_campaign(
        propensity,
        score="p",
        kind="propensity",
        incremental_share=0.2,
        order_value=50.0,
        cost_per_contact=1.0,
        margin=0.5,
    )
    # incremental revenue 0.5 * 0.2 * 50 = 5 and 1 -> profit 1.5 and -0.5: only x pays.
    assert plan.targets["customer_id"].to_list() == ["x"]
    assert plan.expected_incremental_revenue == pytest.approx(5.0)


def test_order_value_column() -> None:
    frame = SCORES.with_columns(value=pl.Series([10.0, 10.0, 10.0, 1000.0]))
    plan = plan_campaign(frame, order_value="value", cost_per_contact=1.0, margin=0.5)
    # d: 0.01 * 1000 * 0.5 - 1 = 4 is the best; b: 0.1 * 10 * 0.5 - 1 < 0.
    assert plan.targets["customer_id"].to_list() == ["d"]


def test_validated_interval_covers_the_truth() -> None:
    population = synthetic_experiment(20_000, heterogeneity=3.0, uplift={"treatment": 0.04}, seed=3)
    validation = synthetic_experiment(20_000, heterogeneity=3.0, uplift={"treatment": 0.04}, seed=4)
    scores = population.frame.with_columns(uplift=pl.col("true_uplift_treatment"))
    val = validation.frame.with_columns(uplift=pl.col("true_uplift_treatment"))
    plan = plan_campaign(scores, order_value=60.0, cost_per_contact=1.0, margin=0.5, validation=val)
    chosen = scores.join(plan.targets.select("customer_id"), on="customer_id")
    true_revenue = chosen["true_revenue_uplift_treatment"].sum()
    assert 0 < plan.contacts < 20_000
    assert plan.incremental_revenue is not None and plan.incremental_revenue.covers(true_revenue)
    assert plan.incremental_profit is not None
    assert plan.incremental_profit.covers(0.5 * true_revenue - plan.total_cost)
    assert plan.incremental_roi is not None and plan.incremental_roi.low > 0
    measured = plan.profit_curve.drop_nulls("measured_profit")
    assert measured.height >= 15
    assert (measured["measured_profit_low"] <= measured["measured_profit_high"]).all()


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"margin": 0.0}, r"outside \(0, 1\]"),
        ({"cost_per_contact": -1.0}, "cost_per_contact=-1.0"),
        ({"budget": -5.0}, "budget=-5.0"),
        ({"score": "propensity"}, "score column 'propensity' not found"),
        ({"order_value": None}, "needs order_value"),
        ({"kind": "propensity"}, "needs incremental_share"),
        ({"kind": "clicks"}, "kind='clicks'"),
    ],
)
def test_planner_errors(options: dict[str, object], match: str) -> None:
    base: dict[str, object] = {"order_value": 10.0, "cost_per_contact": 1.0, "margin": 0.5}
    with pytest.raises(RoiError, match=match):
        plan_campaign(SCORES, **{**base, **options})  # type: ignore[arg-type]
