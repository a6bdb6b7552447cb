"""Uplift curves and scores against hand-worked values; learners recover a known uplift."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from ecomlm_sdk import NotFittedError, RoiError
from ecomlm_sdk.roi import (
    ClassTransformationUplift,
    TwoModelUplift,
    auuc,
    evaluate_uplift,
    perfect_uplift_curve,
    qini_coefficient,
    qini_curve,
    synthetic_experiment,
    uplift_at_k,
    uplift_curve,
)

Y = np.array([1, 0, 1, 0, 1, 0])
T = np.array([1, 1, 0, 0, 1, 0])
S = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])


def test_curves_match_hand_computed_points() -> None:
    x, v = uplift_curve(Y, S, T)
    assert x.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert v == pytest.approx([0, 1, 1, -1.5, 0, 5 / 6, 2])
    x, q = qini_curve(Y, S, T)
    assert q == pytest.approx([0, 1, 1, -1, 0, 0.5, 1])


def test_tied_scores_give_one_point() -> None:
    x, _ = uplift_curve([1, 0, 0, 1], [1.0, 1.0, 0.0, 0.0], [1, 0, 1, 0])
    assert x.tolist() == [0, 2, 4]


def test_uplift_at_k_strategies() -> None:
    assert uplift_at_k(Y, S, T, k=0.5) == pytest.approx(-0.5)
    assert uplift_at_k(Y, S, T, k=0.5, strategy="by_group") == pytest.approx(0.0)
    assert uplift_at_k(Y, S, T, k=6) == pytest.approx(2 / 3 - 1 / 3)
    with pytest.raises(RoiError, match="no treated or no control"):
        uplift_at_k(Y, S, T, k=1)
    with pytest.raises(RoiError, match=r"k=1\.5"):
        uplift_at_k(Y, S, T, k=1.5)


def test_perfect_and_constant_scores_bound_the_scores() -> None:
    rng = np.random.default_rng(0)
    y, t = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    _, v = perfect_uplift_curve(y, t)
    # The oracle ordering scores 1; a constant score is the random line and scores 0.
    assert auuc(y, np.zeros(len(y)), t) == pytest.approx(0.0)
    assert qini_coefficient(y, np.zeros(len(y)), t) == pytest.approx(0.0)
    perfect_score = 2 * (y == t) + (
        y if ((y == 1) & (t == 0)).sum() > ((y == 0) & (t == 1)).sum() else t
    )
    assert auuc(y, perfect_score, t) == pytest.approx(1.0)
    assert qini_coefficient(y, y * t - y * (1 - t), t) == pytest.approx(1.0)
    assert v[-1] == pytest.approx(uplift_curve(y, rng.random(400), t)[1][-1])


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    scale=st.floats(min_value=0.1, max_value=100),
    shift=st.floats(min_value=-5, max_value=5),
)
def test_scores_are_rank_invariant(seed: int, scale: float, shift: float) -> None:
    rng = np.random.default_rng(seed)
    y, t, s = rng.integers(0, 2, 300), rng.integers(0, 2, 300), rng.random(300)
    assert auuc(y, s * scale + shift, t) == pytest.approx(auuc(y, s, t))
    assert qini_coefficient(y, np.exp(s), t) == pytest.approx(qini_coefficient(y, s, t))


@pytest.fixture(scope="module")
def data() -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    uplift = {"email": 0.04, "sms": 0.03}
    train = synthetic_experiment(20_000, uplift=uplift, heterogeneity=3.0, seed=11)
    test = synthetic_experiment(20_000, uplift=uplift, heterogeneity=3.0, seed=12)
    return train.frame, test.frame, list(train.features)


@pytest.mark.parametrize("learner", [TwoModelUplift, ClassTransformationUplift])
def test_learners_recover_the_true_uplift(
    learner: type, data: tuple[pl.DataFrame, pl.DataFrame, list[str]]
) -> None:
    train, test, features = data
    model = learner(LogisticRegression(max_iter=500)).fit(
        train.select(features), train["arm"], train["converted"]
    )
    assert model.treatments == ["email", "sms"]
    scores = model.predict_frame(test.select(features))
    assert scores.columns == ["uplift_email", "uplift_sms"]
    for arm in ("email", "sms"):
        corr = np.corrcoef(scores[f"uplift_{arm}"], test[f"true_uplift_{arm}"])[0, 1]
        # Class transformation has the higher variance of the two (one noisy label per row).
        assert corr > (0.8 if learner is TwoModelUplift else 0.45), (learner.__name__, arm, corr)
    report = evaluate_uplift(test["converted"], scores, test["arm"])
    assert report["arm"].to_list() == ["email", "sms"]
    assert (report["qini"] > 0).all() and (report["auuc"] > 0).all()
    # The ranking beats random: the top 30% responds more than the average (0.04 and 0.03).
    assert report["uplift_at_30"][0] > 0.04 or learner is ClassTransformationUplift
    assert (report["uplift_at_30"] > 0.02).all()


def test_default_lightgbm_learner_runs_on_several_arms() -> None:
    synth = synthetic_experiment(3000, uplift={"a": 0.04, "b": 0.02}, seed=4)
    x = synth.frame.select(synth.features)
    model = TwoModelUplift().fit(x, synth.frame["arm"], synth.frame["converted"])
    assert model.predict(x).shape == (3000, 2)
    single = synthetic_experiment(2000, seed=4)
    one = ClassTransformationUplift().fit(
        single.frame.select(single.features).to_numpy(),
        single.frame["arm"],
        single.frame["converted"],
    )
    pred = one.predict(single.frame.select(single.features))
    assert pred.shape == (2000,) and np.all(np.abs(pred) <= 1)


class _NoWeights:
    def fit(self, x: np.ndarray, y: np.ndarray) -> _NoWeights:
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.full((len(x), 2), 0.5)


def test_uplift_errors() -> None:
    synth = synthetic_experiment(500, seed=1)
    x, arm, y = synth.frame.select(synth.features), synth.frame["arm"], synth.frame["converted"]
    with pytest.raises(NotFittedError):
        TwoModelUplift().predict(x)
    with pytest.raises(RoiError, match="control arm 'holdout' not found"):
        TwoModelUplift(control="holdout").fit(x, arm, y)
    with pytest.raises(RoiError, match="only 0 and 1"):
        TwoModelUplift().fit(x, arm, y * 2)
    with pytest.raises(RoiError, match="does not accept sample_weight"):
        ClassTransformationUplift(_NoWeights()).fit(x, arm, y)
    with pytest.raises(RoiError, match="not numeric"):
        TwoModelUplift().fit(synth.frame.select("customer_id"), arm, y)
    assert TwoModelUplift(_NoWeights()).fit(x, arm, y).predict(x) == pytest.approx(0.0)
