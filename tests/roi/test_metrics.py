"""The built-in money metrics: values, formulas, registration and bad input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ecomlm_sdk
from ecomlm_sdk import RoiError, testing
from ecomlm_sdk.roi.metrics import BUILTIN_METRICS, Cpa, MarginRoi, Profit, Roas, Roi

money = st.floats(min_value=0.01, max_value=1e7, allow_nan=False)
margins = st.floats(min_value=0.001, max_value=1.0)


def test_values_match_their_formulas() -> None:
    assert Roi().compute(revenue=1500.0, investment=1000.0) == 0.5
    assert Roas().compute(revenue=1500.0, investment=1000.0) == 1.5
    assert Profit().compute(revenue=1500.0, margin=0.4, investment=200.0) == pytest.approx(400.0)
    assert MarginRoi().compute(revenue=1500.0, margin=0.4, investment=200.0) == pytest.approx(2.0)
    assert Cpa().compute(investment=300.0, acquisitions=12.0) == 25.0


@pytest.mark.parametrize("metric", BUILTIN_METRICS)
def test_every_builtin_is_registered_with_a_formula(fresh_plugins: None, metric: type) -> None:
    found = ecomlm_sdk.roi_metric(metric.name)
    assert type(found) is metric
    values = {name: 0.5 if name == "margin" else 100.0 for name in metric.inputs}
    assert isinstance(testing.check_roi_metric(found, **values), float)
    assert all(name in metric.formula for name in metric.inputs)


@pytest.mark.parametrize(
    ("metric", "values", "fragment"),
    [
        (Roi(), {"revenue": 10.0, "investment": 0.0}, "investment must be > 0"),
        (Roas(), {"revenue": 10.0, "investment": -1.0}, "investment must be > 0"),
        (Profit(), {"revenue": 10.0, "margin": 1.2, "investment": 1.0}, "margin=1.2"),
        (MarginRoi(), {"revenue": 10.0, "margin": 0.0, "investment": 1.0}, "outside (0, 1]"),
        (Profit(), {"revenue": 10.0, "margin": 0.5, "investment": -3.0}, "investment must be >= 0"),
        (Cpa(), {"investment": 10.0, "acquisitions": 0.0}, "acquisitions must be > 0"),
        (Roi(), {"revenue": math.nan, "investment": 1.0}, "revenue=nan"),
    ],
)
def test_bad_input_names_the_value(metric: object, values: dict[str, float], fragment: str) -> None:
    with pytest.raises(RoiError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        metric.compute(**values)  # type: ignore[attr-defined]


@settings(max_examples=60, deadline=None)
@given(revenue=money, investment=money, margin=margins)
def test_metric_identities(revenue: float, investment: float, margin: float) -> None:
    roi = Roi().compute(revenue=revenue, investment=investment)
    roas = Roas().compute(revenue=revenue, investment=investment)
    profit = Profit().compute(revenue=revenue, margin=margin, investment=investment)
    margin_roi = MarginRoi().compute(revenue=revenue, margin=margin, investment=investment)
    assert roi == pytest.approx(roas - 1, rel=1e-9, abs=1e-9)
    assert margin_roi == pytest.approx(profit / investment, rel=1e-9, abs=1e-9)
    # Counting only the margin never makes a campaign look better than plain ROI.
    assert margin_roi <= roi + 1e-9
    full = MarginRoi().compute(revenue=revenue, margin=1.0, investment=investment)
    assert full == pytest.approx(roi, rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(investment=money, acquisitions=st.integers(min_value=1, max_value=10**6))
def test_cpa_times_acquisitions_is_spend(investment: float, acquisitions: int) -> None:
    cpa = Cpa().compute(investment=investment, acquisitions=float(acquisitions))
    assert cpa * acquisitions == pytest.approx(investment, rel=1e-9)
