"""Tests of the purchase-prediction task on small synthetic stores (fast, offline)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import ecomlm_sdk
from ecomlm_sdk import EcomStore, NotFittedError, TaskError, testing
from ecomlm_sdk.hookspecs import Register, hookimpl
from ecomlm_sdk.models.base import TextClassifier
from ecomlm_sdk.tasks.features import BASE_FEATURES, customer_features, purchase_labels
from ecomlm_sdk.tasks.prediction import PurchasePredictionTask, calibration_table, lift_at

START = dt.datetime(2011, 1, 1, tzinfo=dt.UTC)


def synthetic_store(n_customers: int = 120, seed: int = 0, future_scale: int = 1) -> EcomStore:
    """Loyal customers keep buying every few weeks; others stop at a random date.

    ``future_scale`` multiplies quantities of orders from 2011-09-01 on (labels unchanged).
    """
    rng = np.random.default_rng(seed)
    orders, lines = [], []
    for c in range(n_customers):
        loyal = c % 2 == 0
        day = float(rng.integers(0, 60))
        stop = 365.0 if loyal else float(rng.integers(60, 330))
        gap = 12.0 if loyal else 30.0
        while day < min(stop, 330):
            order_id = f"#{len(orders) + 1}"
            when = START + dt.timedelta(days=day)
            orders.append((order_id, f"c{c}", when))
            scale = future_scale if when >= START + dt.timedelta(days=243) else 1
            for n, product in enumerate(rng.choice(6, size=2, replace=False)):
                lines.append((order_id, n + 1, f"p{product}", int(rng.integers(1, 4)) * scale))
            day += float(rng.exponential(gap)) + 1.0
    order_frame = pl.DataFrame(
        orders, schema=["order_id", "customer_id", "created_at"], orient="row"
    )
    line_frame = pl.DataFrame(
        lines, schema=["order_id", "line_number", "product_id", "quantity"], orient="row"
    ).with_columns(pl.col("product_id").alias("variant_id"), pl.lit(5.0).alias("unit_price"))
    customers = pl.DataFrame({"customer_id": [f"c{c}" for c in range(n_customers)]})
    products = pl.DataFrame(
        {"product_id": [f"p{i}" for i in range(6)], "variant_id": [f"p{i}" for i in range(6)]}
    )
    return EcomStore(customers, products, order_frame, line_frame)


@pytest.fixture(scope="module")
def shop() -> EcomStore:
    return synthetic_store()


def test_features_use_only_the_past(store: EcomStore) -> None:
    as_of = dt.datetime(2011, 3, 20, tzinfo=dt.UTC)
    features = customer_features(store, as_of)
    # c1 bought on 2011-01-10 and 2011-03-15 before as_of; c2 on 2011-02-03; c3, c4 later.
    assert features.get_column("customer_id").to_list() == ["c1", "c2"]
    assert list(features.columns[1:]) == list(BASE_FEATURES)
    c1 = features.row(0, named=True)
    assert c1["n_orders"] == 2.0
    assert c1["revenue_total"] == pytest.approx(13.0 + 6.5 + 5.0)
    assert c1["recency_days"] == pytest.approx(5.0)
    assert c1["ipt_mean_days"] == pytest.approx(64.0)
    assert features.row(1, named=True)["ipt_mean_days"] is None


def test_cancelled_orders_count_as_returns(store: EcomStore) -> None:
    features = customer_features(store, dt.datetime(2011, 12, 1, tzinfo=dt.UTC))
    c1 = features.filter(pl.col("customer_id") == "c1").row(0, named=True)
    assert c1["cancelled_orders"] == 1.0  # order #1006 is cancelled
    assert c1["n_orders"] == 2.0  # and is not a purchase


def test_labels_window(store: EcomStore) -> None:
    labels = purchase_labels(
        store,
        dt.datetime(2011, 5, 1, tzinfo=dt.UTC),
        dt.datetime(2011, 7, 20, tzinfo=dt.UTC),
    )
    assert sorted(labels.get_column("customer_id").to_list()) == ["c3", "c4"]


def test_registered_and_options_checked() -> None:
    task = ecomlm_sdk.task("purchase-prediction", horizon_days=30)
    assert isinstance(task, PurchasePredictionTask)
    assert task.options.horizon_days == 30
    with pytest.raises(TaskError, match="horizon_dayz"):
        ecomlm_sdk.task("purchase-prediction", horizon_dayz=30)


def test_evaluate_learns_the_signal(shop: EcomStore) -> None:
    pp = PurchasePredictionTask(horizon_days=60, snapshots=3, threads=1)
    report = pp.evaluate(shop, cutoff="2011-09-01")
    assert report.metrics["roc_auc"] > 0.85
    assert 0 < report.metrics["pr_auc"] <= 1
    assert report.metrics["lift@10%"] > 1.0
    assert set(report.baselines) == {"recency", "bgnbd", "rfm_logistic", "logistic"}
    calibration = report.details["calibration"]
    assert calibration.columns == [
        "bin_low",
        "bin_high",
        "customers",
        "mean_predicted",
        "observed_rate",
    ]
    assert int(calibration.get_column("customers").sum()) == report.details["customers"]
    assert not pp.fitted  # evaluate trains its own copy


def test_evaluate_is_leak_free(shop: EcomStore) -> None:
    # Same history, same future buyers, different future basket sizes: a model that
    # never looks past the cutoff must score the customers identically.
    other = synthetic_store(future_scale=3)
    a = PurchasePredictionTask(horizon_days=60, snapshots=2, threads=1).evaluate(shop, "2011-09-01")
    b = PurchasePredictionTask(horizon_days=60, snapshots=2, threads=1).evaluate(
        other, "2011-09-01"
    )
    assert a.metrics["roc_auc"] == b.metrics["roc_auc"]
    assert a.metrics["pr_auc"] == b.metrics["pr_auc"]
    assert a.metrics["revenue_mae"] != b.metrics["revenue_mae"]


def test_fit_predict_save_load(shop: EcomStore, tmp_path: Path) -> None:
    pp = PurchasePredictionTask(horizon_days=60, snapshots=2, threads=1)
    scores = testing.check_task(pp, shop, tmp_path)
    assert scores.columns == ["customer_id", "p_buy", "expected_revenue"]
    assert scores.height == 120
    assert scores.get_column("p_buy").is_between(0, 1).all()
    assert (scores.get_column("expected_revenue") >= 0).all()
    assert (tmp_path / "task" / "lightgbm.txt").is_file()
    # loyal customers (even ids) should on average score higher than churners
    loyal = scores.filter(pl.col("customer_id").str.extract(r"(\d+)").cast(int) % 2 == 0)
    assert loyal.get_column("p_buy").mean() > scores.get_column("p_buy").mean()


def test_logistic_learner_round_trip(shop: EcomStore, tmp_path: Path) -> None:
    pp = PurchasePredictionTask(horizon_days=60, snapshots=2, learner="logistic", threads=1)
    scores = testing.check_task(pp, shop, tmp_path)
    assert (tmp_path / "task" / "logistic.json").is_file()
    assert scores.get_column("p_buy").is_between(0, 1).all()


class _UnsavableClassifier(testing.FakeClassifier):
    """The kit's fake classifier without save() (the base's, which raises ModelError)."""

    def save(self, path: str | Path) -> Path:
        return TextClassifier.save(self, path)


class _ClassifierPlugin:
    @hookimpl
    def register_models(self, register: Register) -> None:
        register(_UnsavableClassifier, name="tabular-test-classifier")


def test_text_classifier_plugin_as_learner(shop: EcomStore, tmp_path: Path) -> None:
    with testing.registered_plugin(_ClassifierPlugin(), name="tabular-test"):
        pp = PurchasePredictionTask(
            horizon_days=60, snapshots=1, learner="tabular-test-classifier", threads=1
        )
        scores = pp.fit(shop).predict(shop)
        assert scores.get_column("p_buy").is_between(0, 1).all()
        assert scores.get_column("p_buy").n_unique() > 1
        with pytest.raises(TaskError, match="cannot be saved"):
            pp.save(tmp_path / "fake")


def test_errors(store: EcomStore) -> None:
    pp = PurchasePredictionTask()
    with pytest.raises(NotFittedError):
        pp.predict(store)
    with pytest.raises(TaskError, match="needs a cutoff"):
        pp.evaluate(store)
    with pytest.raises(TaskError, match="shorter horizon_days"):
        PurchasePredictionTask(horizon_days=300).fit(store)


def test_metric_helpers() -> None:
    labels = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
    scores = np.linspace(1, 0, 10)
    assert lift_at(labels, scores, 0.1) == pytest.approx(1 / 0.3)
    table = calibration_table(np.array([0, 1, 1]), np.array([0.05, 0.95, 0.99]))
    assert table.get_column("observed_rate").to_list() == [0.0, 1.0]
    assert table.get_column("customers").to_list() == [1, 2]


def test_fallback_to_logistic_regression_is_recorded_and_saved(
    shop: EcomStore, tmp_path: Path
) -> None:
    from ecomlm_sdk.tasks.baselines import fallback_record

    cutoff = "2011-09-01"
    pp = ecomlm_sdk.task("purchase-prediction", horizon_days=60, snapshots=2, threads=1)
    report = pp.evaluate(shop, cutoff=cutoff)
    expected = fallback_record(report.metrics, report.baselines, "roc_auc", {"logistic"})
    assert report.details["fallback"] == expected == pp.pending_fallback
    assert report.details["strongest_baseline"] in report.baselines
    assert pp.fallback is None  # served from the next fit() on
    pp.fit(shop)
    assert pp.fallback == expected and pp._learner() == ("logistic" if expected else "lightgbm")
    again = ecomlm_sdk.load_task(pp.save(tmp_path / "pp"))
    assert again.fallback == pp.fallback and again._learner() == pp._learner()
    # Forced: a record naming logistic regression makes fit() train it.
    pp.pending_fallback = {"baseline": "logistic", "metric": "roc_auc"}
    pp.fit(shop)
    pp.save(tmp_path / "pp2")
    assert (tmp_path / "pp2" / "logistic.json").is_file()
    off = ecomlm_sdk.task(
        "purchase-prediction", horizon_days=60, snapshots=2, threads=1, fallback_to_baseline=False
    )
    assert off.evaluate(shop, cutoff=cutoff).details["fallback"] is None


def test_fallback_record_takes_the_best_servable_baseline() -> None:
    from ecomlm_sdk.tasks.baselines import fallback_record, strongest_baseline

    baselines = {"bgnbd": {"roc_auc": 0.8}, "logistic": {"roc_auc": 0.75}}
    assert strongest_baseline(baselines, "roc_auc") == ("bgnbd", 0.8)
    record = fallback_record({"roc_auc": 0.7}, baselines, "roc_auc", {"logistic"})
    assert record is not None and record["baseline"] == "logistic"
    assert record["baseline_value"] == pytest.approx(0.75)
    assert fallback_record({"roc_auc": 0.76}, baselines, "roc_auc", {"logistic"}) is None


def test_one_evaluate_joins_purchases_once_per_store(
    shop: EcomStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The feature functions share the store's cached join (issue 14, item 8): a spy counts it."""
    calls: Counter[int] = Counter()
    original = EcomStore._purchases

    def spy(self: EcomStore, include_guests: bool) -> pl.DataFrame:
        calls[id(self)] += 1
        return original(self, include_guests)

    monkeypatch.setattr(EcomStore, "_purchases", spy)
    store = synthetic_store()  # a store of its own: the module's ``shop`` may be cached already
    PurchasePredictionTask(horizon_days=60, snapshots=2, threads=1).evaluate(
        store, cutoff="2011-09-01"
    )
    assert calls and max(calls.values()) == 1, calls
