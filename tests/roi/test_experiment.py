"""analyze_experiment: values against independent formulas, coverage on synthetic data, bad input."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ecomlm_sdk import RoiError, analyze_experiment
from ecomlm_sdk.roi import SampleRatioMismatchWarning, synthetic_experiment

SMALL = pl.DataFrame(
    {
        "arm": ["control"] * 6 + ["mail"] * 6,
        "revenue": [0.0, 0.0, 10.0, 0.0, 20.0, 0.0, 30.0, 0.0, 10.0, 25.0, 0.0, 40.0],
    }
)


def _analyze(frame: object, **options: object) -> object:
    base = {"arm": "arm", "control": "control", "outcome": "revenue"}
    return analyze_experiment(frame, **{**base, **options})


def test_small_experiment_matches_scipy() -> None:
    result = _analyze(SMALL, cost_per_contact=2.0, margin=0.5)
    mail = result.arm("mail")
    a = SMALL.filter(pl.col("arm") == "mail")["revenue"].to_numpy()
    b = SMALL.filter(pl.col("arm") == "control")["revenue"].to_numpy()
    welch = stats.ttest_ind(a, b, equal_var=False)
    ci = welch.confidence_interval(0.95)
    inc = mail.incremental_outcome_per_customer
    assert inc.value == pytest.approx(a.mean() - b.mean())
    assert (inc.low, inc.high) == pytest.approx((ci.low, ci.high))
    assert inc.p_value == pytest.approx(welch.pvalue)
    assert mail.customers == 6 and mail.total_cost == 12.0
    assert mail.incremental_outcome_total.value == pytest.approx(6 * (a.mean() - b.mean()))
    # profit = margin * total increment - cost; ROI = profit / cost.
    profit = 0.5 * 6 * (a.mean() - b.mean()) - 12.0
    assert mail.incremental_profit.value == pytest.approx(profit)
    assert mail.incremental_profit.low == pytest.approx(0.5 * 6 * ci.low - 12.0)
    assert mail.incremental_roi.value == pytest.approx(profit / 12.0)
    assert mail.incremental_roi.high == pytest.approx((0.5 * 6 * ci.high - 12.0) / 12.0)
    # Conversion: 4/6 vs 2/6; Wilson interval for 4/6 from its closed form.
    assert mail.conversion_rate.value == pytest.approx(4 / 6)
    z = stats.norm.ppf(0.975)
    centre = (4 / 6 + z**2 / 12) / (1 + z**2 / 6)
    half = z * math.sqrt((4 / 6) * (2 / 6) / 6 + z**2 / 144) / (1 + z**2 / 6)
    assert mail.conversion_rate.low == pytest.approx(centre - half)
    assert mail.incremental_conversion.value == pytest.approx(2 / 6)
    assert result.arm("control").incremental_roi is None
    assert mail.relative_lift.method == "bootstrap"
    assert mail.relative_lift.value == pytest.approx(a.mean() / b.mean() - 1)


def test_pandas_polars_and_csv_agree(tmp_path: Path) -> None:
    path = tmp_path / "exp.csv"
    SMALL.write_csv(path)
    results = [_analyze(f, cost_per_contact=1.0) for f in (SMALL, SMALL.to_pandas(), path)]
    frames = [r.to_frame() for r in results]
    assert frames[0].equals(frames[1]) and frames[0].equals(frames[2])
    assert isinstance(SMALL.to_pandas(), pd.DataFrame)


def test_three_arms_recover_the_truth() -> None:
    synth = synthetic_experiment(30_000, uplift={"email": 0.03, "sms": 0.01}, seed=5)
    result = _analyze(synth.frame, converted="converted", cost_per_contact=0.2, margin=0.5)
    assert [a.arm for a in result.arms] == ["control", "email", "sms"]
    for arm, truth in synth.truth.revenue_uplift.items():
        assert result.arm(arm).incremental_outcome_per_customer.covers(truth)
    for arm, truth in synth.truth.conversion_uplift.items():
        assert result.arm(arm).incremental_conversion.covers(truth)
    assert not result.sample_ratio.mismatch


def test_bootstrap_is_seeded_and_agrees_with_delta_method() -> None:
    frame = synthetic_experiment(8000, uplift={"t": 0.03}, seed=2).frame
    one = _analyze(frame, seed=7).arm("t").relative_lift
    two = _analyze(frame, seed=7).arm("t").relative_lift
    other = _analyze(frame, seed=8).arm("t").relative_lift
    delta = _analyze(frame, bootstrap_max_rows=0).arm("t").relative_lift
    assert one == two and one.method == "bootstrap" and delta.method == "delta"
    assert (one.low, one.high) != (other.low, other.high)
    width = delta.high - delta.low
    assert abs(one.low - delta.low) < 0.15 * width and abs(one.high - delta.high) < 0.15 * width


@pytest.mark.filterwarnings("ignore::ecomlm_sdk.roi.SampleRatioMismatchWarning")
@settings(max_examples=4, deadline=None)
@given(
    uplift=st.floats(min_value=0.0, max_value=0.04),
    treated_share=st.sampled_from([0.5, 0.8]),
)
def test_interval_coverage_is_about_95_percent(uplift: float, treated_share: float) -> None:
    covered = []
    for seed in range(40):
        synth = synthetic_experiment(
            1500,
            uplift={"t": uplift},
            split={"control": 1 - treated_share, "t": treated_share},
            seed=seed,
        )
        arm = _analyze(
            synth.frame,
            cost_per_contact=0.5,
            margin=0.3,
            bootstrap_max_rows=0,
            expected_split={"control": 1 - treated_share, "t": treated_share},
        ).arm("t")
        truth = synth.truth.revenue_uplift["t"]
        n = arm.customers
        covered.append(
            arm.incremental_outcome_per_customer.covers(truth)
            and arm.incremental_profit.covers(0.3 * n * truth - 0.5 * n)
        )
    # 40 draws at a true 95%: fewer than 33 covered has probability below 0.1%.
    assert sum(covered) >= 33


@pytest.mark.filterwarnings("ignore::ecomlm_sdk.roi.SampleRatioMismatchWarning")
def test_bootstrap_lift_interval_coverage() -> None:
    covered = 0
    for seed in range(40):
        synth = synthetic_experiment(1200, uplift={"t": 0.03}, seed=100 + seed)
        lift = _analyze(synth.frame, bootstrap_samples=300, seed=seed).arm("t").relative_lift
        assert lift.method == "bootstrap"
        # True relative lift of mean revenue: 0.03 * 60 / (0.10 * 60).
        covered += lift.covers(0.3)
    assert covered >= 33


def test_missing_outcomes_are_counted_not_dropped_and_strict_rejects() -> None:
    frame = SMALL.with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(None)
        .otherwise(pl.col("revenue"))
        .alias("revenue")
    )
    result = _analyze(frame)
    control = result.arm("control")
    assert (control.assigned, control.customers, control.missing_outcome) == (6, 5, 1)
    assert result.missing_outcome == 1 and "1 rows" in result.notes[0]
    with pytest.raises(RoiError, match=r"missing in 1 rows \(first: row 4\)"):
        _analyze(frame, strict=True)


def test_sample_ratio_mismatch_warns() -> None:
    frame = synthetic_experiment(4000, split={"control": 0.4, "treatment": 0.6}, seed=1).frame
    with pytest.warns(SampleRatioMismatchWarning, match="sample ratio mismatch"):
        result = _analyze(frame)
    assert result.sample_ratio.mismatch and result.sample_ratio.p_value < 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok = _analyze(frame, expected_split={"control": 0.4, "treatment": 0.6})
    assert not ok.sample_ratio.mismatch


@pytest.mark.parametrize(
    ("frame", "options", "match"),
    [
        (SMALL, {"control": "holdout"}, "control arm 'holdout' not found"),
        (SMALL, {"outcome": "sales"}, "outcome column 'sales' not found"),
        (SMALL, {"margin": 0.0}, r"margin=0.0 is outside \(0, 1\]"),
        (SMALL, {"margin": 1.5}, "margin=1.5"),
        (SMALL, {"cost_per_contact": -1.0}, "arm 'mail' is -1.0"),
        (SMALL, {"cost_per_contact": {"email": 1.0}}, r"names arms \['email'\]"),
        (SMALL, {"expected_split": {"control": 1, "mail": 1, "sms": 1}}, r"\['sms'\].*no rows"),
        (SMALL, {"colour": "red"}, "bad options"),
        (SMALL.filter(pl.col("arm") == "control"), {}, "only the control arm"),
        (
            pl.concat([SMALL, pl.DataFrame({"arm": ["sms"], "revenue": [1.0]})]),
            {},
            "arm 'sms' has 1 customer",
        ),
        (
            SMALL.with_columns(pl.col("revenue").cast(pl.String()).replace("25.0", "n/a")),
            {},
            r"non-numeric value 'n/a' at row 10 \(CSV line 11\)",
        ),
        (SMALL.with_columns(c=pl.lit(2)), {"converted": "c"}, "must hold 0/1"),
        (SMALL.with_columns(arm=pl.lit(None, pl.String())), {}, "arm column 'arm' is empty"),
        ("no/such/file.csv", {}, "no such file"),
    ],
)
def test_bad_input_is_a_clear_error(frame: object, options: dict[str, object], match: str) -> None:
    with pytest.raises(RoiError, match=match):
        _analyze(frame, **options)


def test_integer_arm_column() -> None:
    frame = SMALL.with_columns(arm=(pl.col("arm") == "mail").cast(pl.Int64))
    result = _analyze(frame, control=0)
    assert [a.arm for a in result.arms] == ["0", "1"]
    mail = _analyze(SMALL).arm("mail").incremental_outcome_per_customer
    assert result.arm("1").incremental_outcome_per_customer == mail


def test_to_frame_flattens_every_estimate() -> None:
    frame = _analyze(SMALL, cost_per_contact=1.0).to_frame()
    assert frame.height == 2
    assert frame.filter(pl.col("arm") == "control")["incremental_roi"].to_list() == [None]
    for column in ("incremental_roi_low", "incremental_profit_p", "relative_lift_high"):
        assert column in frame.columns
    assert np.isfinite(frame.filter(pl.col("arm") == "mail")["incremental_roi"][0])
