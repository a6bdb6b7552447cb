"""The synthetic experiment: seeded, its truth exact, its bad parameters refused."""

from __future__ import annotations

import polars as pl
import pytest

from ecomlm_sdk import RoiError
from ecomlm_sdk.roi import synthetic_experiment


def test_seeded_and_true_uplift_averages_to_the_truth() -> None:
    one = synthetic_experiment(50_000, uplift={"a": 0.03, "b": 0.01}, seed=3)
    assert one.frame.equals(
        synthetic_experiment(50_000, uplift={"a": 0.03, "b": 0.01}, seed=3).frame
    )
    assert not one.frame.equals(
        synthetic_experiment(50_000, uplift={"a": 0.03, "b": 0.01}, seed=4).frame
    )
    assert one.truth.revenue_uplift == pytest.approx({"a": 1.8, "b": 0.6})
    # Per-customer truths average to the population truth (uniform features: mean +- 0.5%).
    assert one.frame["true_uplift_a"].mean() == pytest.approx(0.03, rel=0.02)
    assert one.frame["true_revenue_uplift_b"].mean() == pytest.approx(0.6, rel=0.02)
    control = one.frame.filter(pl.col("arm") == "control")
    assert control["converted"].mean() == pytest.approx(0.10, abs=0.005)
    assert set(one.frame["arm"].unique()) == {"control", "a", "b"}
    assert one.features == ("x1", "x2", "x3", "x4", "x5", "x6")


def test_split_missing_rate_and_sleeping_dogs() -> None:
    synth = synthetic_experiment(
        20_000,
        split={"control": 0.2, "treatment": 0.8},
        missing_rate=0.1,
        heterogeneity=4.0,
        seed=1,
    )
    shares = synth.frame["arm"].value_counts(normalize=True).sort("arm")["proportion"].to_list()
    assert shares == pytest.approx([0.2, 0.8], abs=0.01)
    assert synth.frame["revenue"].null_count() == pytest.approx(2000, rel=0.1)
    assert synth.frame["true_uplift_treatment"].min() < 0  # some customers are put off


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"uplift": {"t": 0.5}}, "outside"),
        ({"uplift": {"control": 0.01}}, "distinct"),
        ({"split": {"control": 1.0}}, "must name exactly"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(RoiError, match=match):
        synthetic_experiment(100, **kwargs)  # type: ignore[arg-type]
