"""Campaign ROI from a store: attribution rules, cost, and the experiment behind a control arm."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from ecomlm_sdk import EcomStore, RoiError, campaign_roi
from ecomlm_sdk.roi import campaign_experiment, campaign_outcomes


def test_last_touch_attribution_on_the_fixture_store(store: EcomStore) -> None:
    result = campaign_roi(store, "spring", window_days=30, margin=0.5)
    # Exposed 2011-04-20; c3 (treated) ordered 30.5 on 2011-05-20, exactly 30 days later.
    assert result.attributed_orders == 1 and result.attributed_revenue == 30.5
    assert result.cost == pytest.approx(0.5 + 0.5 + 10.0)
    assert result.roi == pytest.approx((30.5 - 11.0) / 11.0)
    assert result.roas == pytest.approx(30.5 / 11.0)
    assert result.profit == pytest.approx(30.5 * 0.5 - 11.0)
    assert result.margin_roi == pytest.approx((30.5 * 0.5 - 11.0) / 11.0)
    assert result.cpa == pytest.approx(11.0)
    assert (result.exposed_customers, result.touched_customers) == (4, 2)


def test_window_and_control_arm(store: EcomStore) -> None:
    assert campaign_roi(store, "spring", window_days=29).attributed_revenue == 0.0
    # c4 (control) ordered on 2011-07-15: held-out customers are never touched.
    assert campaign_roi(store, "spring", window_days=120).attributed_orders == 1


def test_last_touch_gives_the_order_to_the_latest_campaign(store: EcomStore) -> None:
    later = pl.DataFrame(
        {
            "campaign_id": ["summer"],
            "name": ["Summer"],
            "start_at": [dt.datetime(2011, 5, 1, tzinfo=dt.UTC)],
        }
    )
    exposure = pl.DataFrame(
        {
            "campaign_id": ["summer"],
            "customer_id": ["c3"],
            "arm": ["treatment"],
            "exposed_at": [dt.datetime(2011, 5, 10, tzinfo=dt.UTC)],
            "cost": [1.0],
        }
    )

    def extend(table: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
        return pl.concat([table, rows], how="diagonal_relaxed").select(table.columns)

    both = store.replace(
        campaigns=extend(store.campaigns, later),
        campaign_exposures=extend(store.campaign_exposures, exposure),
    )
    assert campaign_roi(both, "spring").attributed_revenue == 0.0
    assert campaign_roi(both, "summer").attributed_revenue == 30.5
    assert campaign_roi(both, "spring", attribution="any_touch").attributed_revenue == 30.5


def test_outcomes_and_experiment(store: EcomStore) -> None:
    outcomes = campaign_outcomes(store, "spring")
    assert outcomes["customer_id"].to_list() == ["c1", "c2", "c3", "c4"]
    assert outcomes["revenue"].to_list() == [0.0, 0.0, 30.5, 0.0]
    result = campaign_experiment(store, "spring", margin=0.5)
    treated = result.arm("treatment")
    assert treated.incremental_outcome_per_customer.value == pytest.approx(15.25)
    # Cost model: 2 contacts at 0.5 plus the campaign's fixed cost of 10, as campaign_roi counts.
    assert treated.total_cost == pytest.approx(campaign_roi(store, "spring").cost)
    assert treated.total_cost == pytest.approx(11.0)
    assert treated.incremental_profit.value == pytest.approx(0.5 * 2 * 15.25 - 11.0)


def test_planned_holdout_feeds_the_sample_ratio_check(store: EcomStore) -> None:
    # 80 contacted, 20 held out: an 80/20 design, not an equal split.
    ids = [f"x{i}" for i in range(100)]
    at = store.campaign_exposures["exposed_at"][0]
    exposures = pl.DataFrame(
        {
            "campaign_id": ["spring"] * 100,
            "customer_id": ids,
            "arm": ["treatment"] * 80 + ["control"] * 20,
            "exposed_at": [at] * 100,
            "cost": [0.1] * 80 + [0.0] * 20,
        },
        schema=store.campaign_exposures.schema,
    )
    customers = pl.concat(
        [
            store.customers,
            store.customers.head(1)
            .select(pl.all().exclude("customer_id"))
            .join(pl.DataFrame({"customer_id": ids}), how="cross")
            .select(store.customers.columns),
        ]
    )
    design = store.replace(customers=customers, campaign_exposures=exposures)
    with pytest.warns(UserWarning):
        equal = campaign_experiment(design, "spring")
    assert equal.sample_ratio.mismatch
    planned = campaign_experiment(design, "spring", holdout_share=0.2)
    assert not planned.sample_ratio.mismatch
    assert planned.sample_ratio.expected_share == pytest.approx({"control": 0.2, "treatment": 0.8})
    assert planned.arm("treatment").total_cost == pytest.approx(campaign_roi(design, "spring").cost)
    with pytest.raises(RoiError, match=r"holdout_share=1\.5"):
        campaign_experiment(design, "spring", holdout_share=1.5)


def test_campaign_errors(store: EcomStore) -> None:
    with pytest.raises(RoiError, match=r"no campaign 'winter'.*\['spring'\]"):
        campaign_roi(store, "winter")
    with pytest.raises(RoiError, match="window_days=0"):
        campaign_roi(store, "spring", window_days=0)
    with pytest.raises(RoiError, match="margin=2"):
        campaign_roi(store, "spring", margin=2)
    bad = store.replace(campaign_exposures=store.campaign_exposures.with_columns(cost=pl.lit(-1.0)))
    with pytest.raises(RoiError, match="negative"):
        campaign_roi(bad, "spring")
