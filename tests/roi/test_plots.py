"""Plots return PNG or SVG bytes, write files, and refuse what they cannot draw."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from ecomlm_sdk import RoiError, analyze_experiment, plan_campaign
from ecomlm_sdk.roi import (
    plot_arm_increments,
    plot_profit_curve,
    plot_qini_curve,
    plot_uplift_curve,
    synthetic_experiment,
)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def synth() -> pl.DataFrame:
    return synthetic_experiment(3000, uplift={"email": 0.04, "sms": 0.02}, seed=9).frame


def test_curves_as_png_and_svg(synth: pl.DataFrame) -> None:
    two = synth.filter(pl.col("arm") != "sms")
    y, t = two["converted"], (two["arm"] == "email").cast(int)
    png = plot_uplift_curve(y, two["true_uplift_email"], t)
    svg = plot_qini_curve(y, two["true_uplift_email"], t, format="svg")
    assert png.startswith(PNG) and len(png) > 5000
    assert b"<svg" in svg and b"Qini curve" in svg
    # No date in the SVG: the same data gives the same bytes.
    assert plot_qini_curve(y, two["true_uplift_email"], t, format="svg") == svg


def test_profit_curve_and_arm_increments_write_files(synth: pl.DataFrame, tmp_path: Path) -> None:
    scores = synth.with_columns(uplift=pl.col("true_uplift_email"))
    plan = plan_campaign(
        scores, order_value=60.0, cost_per_contact=0.5, margin=0.5, validation=scores
    )
    data = plot_profit_curve(plan, path=tmp_path / "profit.svg")
    assert (tmp_path / "profit.svg").read_bytes() == data and b"measured (validation)" in data
    assert plot_profit_curve(plan.profit_curve).startswith(PNG)
    result = analyze_experiment(
        synth, arm="arm", control="control", outcome="revenue", cost_per_contact=0.5, margin=0.5
    )
    svg = plot_arm_increments(result, format="svg")
    assert b"email" in svg and b"sms" in svg and b"incremental roi" in svg
    assert plot_arm_increments(result, "relative_lift", path=tmp_path / "lift.png").startswith(PNG)
    assert (tmp_path / "lift.png").stat().st_size > 1000


def test_plot_errors(synth: pl.DataFrame, tmp_path: Path) -> None:
    free = analyze_experiment(synth, arm="arm", control="control", outcome="revenue")
    with pytest.raises(RoiError, match="no arm has a 'incremental_roi'"):
        plot_arm_increments(free)
    with pytest.raises(RoiError, match=r"end it in \.png or \.svg"):
        plot_arm_increments(free, "relative_lift", path=tmp_path / "lift.jpg")
    with pytest.raises(RoiError, match="format='pdf'"):
        plot_uplift_curve([1, 0], np.array([0.2, 0.1]), [1, 0], format="pdf")  # type: ignore[arg-type]
