"""ROI inputs: NaN and infinity are rejected with the column and row; duplicated customers warn."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from ecomlm_sdk import EcomStore, RoiError, testing
from ecomlm_sdk.cli import main
from ecomlm_sdk.roi import (
    DuplicateUnitWarning,
    analyze_experiment,
    campaign_roi,
    plan_campaign,
)


def _experiment(revenue: list[float], customer_id: list[str] | None = None) -> pl.DataFrame:
    n = len(revenue)
    frame = pl.DataFrame(
        {
            "arm": ["control" if i % 2 == 0 else "email" for i in range(n)],
            "revenue": revenue,
        }
    )
    if customer_id is not None:
        frame = frame.with_columns(customer_id=pl.Series(customer_id))
    return frame


REVENUE = [0.0, 12.0, 5.0, 0.0, 7.5, 20.0, 0.0, 3.0]


# ------------------------------------------------------------------------ non-finite values
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_outcome_is_rejected(bad: float) -> None:
    revenue = [*REVENUE]
    revenue[5] = bad
    revenue[6] = bad
    with pytest.raises(RoiError) as info:
        analyze_experiment(_experiment(revenue), arm="arm", control="control", outcome="revenue")
    message = str(info.value)
    assert "outcome column 'revenue' holds 2 non-finite value(s)" in message
    assert f"the first is {bad!r} at row 6 (CSV line 7)" in message


def test_infinite_outcome_in_csv_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "exp.csv"
    path.write_text("arm,revenue\ncontrol,1\nemail,2\ncontrol,3\nemail,inf\n")
    with pytest.raises(
        RoiError, match=r"'revenue' holds 1 non-finite.*inf at row 4 \(CSV line 5\)"
    ):
        analyze_experiment(path, arm="arm", control="control", outcome="revenue")


def test_non_finite_conversion_and_cost_are_rejected() -> None:
    frame = _experiment(REVENUE).with_columns(
        converted=pl.Series([0.0, 1.0, 1.0, 0.0, 1.0, math.nan, 0.0, 1.0])
    )
    with pytest.raises(RoiError, match=r"converted column 'converted' holds 1 non-finite"):
        analyze_experiment(
            frame, arm="arm", control="control", outcome="revenue", converted="converted"
        )
    for cost in (math.inf, math.nan, {"email": math.inf}):
        with pytest.raises(RoiError, match=r"cost_per_contact for arm 'email' is .*finite"):
            analyze_experiment(
                _experiment(REVENUE),
                arm="arm",
                control="control",
                outcome="revenue",
                cost_per_contact=cost,
            )
    with pytest.raises(RoiError, match="expected_split"):
        analyze_experiment(
            _experiment(REVENUE),
            arm="arm",
            control="control",
            outcome="revenue",
            expected_split={"control": 1.0, "email": math.nan},
        )


def test_missing_values_are_still_missing_not_rejected() -> None:
    revenue: list[float | None] = [*REVENUE]
    revenue[2] = None
    frame = pl.DataFrame({"arm": _experiment(REVENUE)["arm"], "revenue": revenue})
    result = analyze_experiment(frame, arm="arm", control="control", outcome="revenue")
    assert result.missing_outcome == 1
    assert result.arm("control").customers == 3


def test_cli_experiment_with_inf_exits_1_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "exp.csv"
    path.write_text("arm,revenue\ncontrol,1\nemail,2\ncontrol,3\nemail,inf\ncontrol,0\nemail,4\n")
    result = CliRunner().invoke(
        main,
        ["roi", "experiment", str(path), "--arm", "arm", "--control", "control", "--outcome",
         "revenue", "--json"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: outcome column 'revenue' holds 1 non-finite value(s)")
    assert "inf at row 4 (CSV line 5)" in line


def test_planner_rejects_non_finite_scores_and_order_values() -> None:
    scores = pl.DataFrame({"customer_id": ["a", "b", "c"], "uplift": [0.1, math.inf, 0.2]})
    with pytest.raises(RoiError, match=r"score column 'uplift' holds 1 non-finite.*row 2"):
        plan_campaign(scores, order_value=50.0, cost_per_contact=1.0, margin=0.5)
    finite = scores.with_columns(uplift=pl.Series([0.1, 0.3, 0.2]))
    with pytest.raises(RoiError, match=r"order_value=inf must be a finite number"):
        plan_campaign(finite, order_value=math.inf, cost_per_contact=1.0, margin=0.5)
    with pytest.raises(RoiError, match=r"order_value column 'value' holds 1 non-finite"):
        plan_campaign(
            finite.with_columns(value=pl.Series([10.0, -math.inf, 5.0])),
            order_value="value",
            cost_per_contact=1.0,
            margin=0.5,
        )
    with pytest.raises(RoiError, match=r"budget=nan"):
        plan_campaign(finite, order_value=50.0, cost_per_contact=1.0, margin=0.5, budget=math.nan)
    validation = pl.DataFrame(
        {"uplift": [0.1, 0.2, 0.3, 0.4], "arm": ["control", "email"] * 2,
         "revenue": [1.0, math.inf, 0.0, 2.0]}
    )  # fmt: skip
    with pytest.raises(RoiError, match=r"outcome column 'revenue' holds 1 non-finite"):
        plan_campaign(
            finite, order_value=50.0, cost_per_contact=1.0, margin=0.5, validation=validation
        )


def _store_with(exposure_costs: list[float], order_total: float | None = None) -> EcomStore:
    store = testing.fixture_store()
    exposures = store.campaign_exposures.with_columns(
        cost=pl.Series(exposure_costs[: store.campaign_exposures.height], dtype=pl.Float64())
    )
    orders = store.orders
    if order_total is not None:
        orders = orders.with_columns(
            total=pl.when(pl.int_range(pl.len()) == 0).then(order_total).otherwise(pl.col("total"))
        )
    return store.replace(campaign_exposures=exposures, orders=orders)


def test_campaign_roi_rejects_non_finite_costs_and_revenue() -> None:
    store = testing.fixture_store()
    campaign = store.campaigns["campaign_id"][0]
    n = store.campaign_exposures.height
    bad_cost = _store_with([0.1] * (n - 1) + [math.inf])
    with pytest.raises(RoiError, match=r"cost column of campaign_exposures holds 1 non-finite"):
        campaign_roi(bad_cost, campaign)
    bad_total = _store_with([0.1] * n, order_total=math.nan)
    with pytest.raises(RoiError, match=r"1 order\(s\) have a non-finite revenue.*nan"):
        campaign_roi(bad_total, campaign)


# ------------------------------------------------------------------------ duplicated customers
def test_duplicate_customer_rows_warn_by_default() -> None:
    ids = ["c1", "c2", "c3", "c4", "c5", "c6", "c1", "c2"]  # c1 and c2 appear twice
    with pytest.warns(DuplicateUnitWarning) as caught:
        result = analyze_experiment(
            _experiment(REVENUE, ids), arm="arm", control="control", outcome="revenue"
        )
    (warning,) = [w for w in caught if w.category is DuplicateUnitWarning]
    assert "2 row(s) repeat a 'customer_id' already seen (first: 'c1' at row 7" in str(
        warning.message
    )
    assert warning.filename == __file__  # points at the caller
    assert result.arm("control").assigned == 4  # still analysed, as asked


def test_duplicate_customer_rows_error_on_request() -> None:
    ids = ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c3"]
    with pytest.raises(RoiError, match=r"1 row\(s\) repeat a 'customer_id'.*'c3' at row 8"):
        analyze_experiment(
            _experiment(REVENUE, ids),
            arm="arm",
            control="control",
            outcome="revenue",
            on_duplicate="error",
        )


def test_unit_column_can_be_named_and_unique_units_are_silent() -> None:
    frame = _experiment(REVENUE).with_columns(user=pl.Series([f"u{i}" for i in range(8)]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        analyze_experiment(frame, arm="arm", control="control", outcome="revenue", unit="user")
    repeated = frame.with_columns(user=pl.Series(["u1"] * 8))
    with pytest.raises(RoiError, match=r"7 row\(s\) repeat a 'user'"):
        analyze_experiment(
            repeated,
            arm="arm",
            control="control",
            outcome="revenue",
            unit="user",
            on_duplicate="error",
        )
    with pytest.raises(RoiError, match=r"unit column 'nope' not found"):
        analyze_experiment(frame, arm="arm", control="control", outcome="revenue", unit="nope")
    with pytest.raises(RoiError, match="on_duplicate"):
        analyze_experiment(
            frame, arm="arm", control="control", outcome="revenue", on_duplicate="ignore"
        )


def test_planner_warns_or_errors_on_duplicate_customers() -> None:
    scores = pl.DataFrame({"customer_id": ["a", "b", "a"], "uplift": [0.1, 0.3, 0.2]})
    with pytest.warns(DuplicateUnitWarning, match=r"scores: 1 row\(s\) repeat a 'customer_id'"):
        plan = plan_campaign(scores, order_value=50.0, cost_per_contact=1.0, margin=0.5)
    assert plan.contacts == 3
    with pytest.raises(RoiError, match=r"scores: 1 row\(s\) repeat.*'a' at row 3"):
        plan_campaign(
            scores, order_value=50.0, cost_per_contact=1.0, margin=0.5, on_duplicate="error"
        )


def test_cli_experiment_prints_the_duplicate_warning(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = ["customer_id,arm,revenue"] + [
        f"c{i % 39},{'control' if i % 2 else 'email'},{rng.integers(0, 30)}" for i in range(40)
    ]
    path = tmp_path / "exp.csv"
    path.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(
        main,
        ["roi", "experiment", str(path), "--arm", "arm", "--control", "control", "--outcome",
         "revenue"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning: frame: 1 row(s) repeat a 'customer_id' already seen (first: 'c0'" in (
        result.stderr
    )
