"""BG/NBD, product-text features and the new inter-purchase features of purchase prediction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from ecomlm_sdk import EcomStore, testing
from ecomlm_sdk.hookspecs import Register, hookimpl
from ecomlm_sdk.tasks.embeddings import clear_embedding_cache
from ecomlm_sdk.tasks.features import customer_features
from ecomlm_sdk.tasks.prediction import PurchasePredictionTask
from ecomlm_sdk.tasks.prediction.bgnbd import BgNbd, bgnbd_features, rfm_summary

START = dt.datetime(2011, 1, 1, tzinfo=dt.UTC)
TRUE = {"r": 0.8, "alpha": 20.0, "a": 0.8, "b": 2.5}


def simulate(n: int, big_t: float, horizon: float, seed: int = 0) -> tuple[np.ndarray, ...]:
    """BG/NBD's own generative story: Poisson buying, drop-out after a repeat purchase w.p. p."""
    rng = np.random.default_rng(seed)
    x, t_x, future = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        rate = rng.gamma(TRUE["r"], 1.0 / TRUE["alpha"])
        p = rng.beta(TRUE["a"], TRUE["b"])
        now = 0.0
        while True:  # the first purchase is at 0; drop-out may follow each repeat purchase
            now += rng.exponential(1.0 / rate)
            if now < big_t:
                x[i], t_x[i] = x[i] + 1, now
            elif now < big_t + horizon:
                future[i] += 1
            else:
                break
            if rng.random() < p:
                break
    return x, t_x, np.full(n, big_t), future


def test_bgnbd_recovers_parameters_and_predicts_future_counts() -> None:
    x, t_x, big_t, future = simulate(3000, 200.0, 90.0)
    model = BgNbd().fit(x, t_x, big_t)
    assert model.r == pytest.approx(TRUE["r"], rel=0.3)
    assert model.alpha == pytest.approx(TRUE["alpha"], rel=0.4)
    assert model.a / (model.a + model.b) == pytest.approx(0.8 / 3.3, rel=0.3)
    expected = model.expected_purchases(90.0, x, t_x, big_t)
    assert expected.mean() == pytest.approx(future.mean(), rel=0.15)
    # Ranking power: customers the model expects to buy more do buy more.
    assert np.corrcoef(expected, future)[0, 1] > 0.4
    alive = model.p_alive(x, t_x, big_t)
    assert np.all((alive > 0) & (alive <= 1))
    assert np.all(alive[x == 0] == 1.0)  # BG/NBD: no repeat purchase, no chance to drop out


def test_bgnbd_expected_purchases_by_hand() -> None:
    model = BgNbd(r=1.0, alpha=10.0, a=2.0, b=3.0)
    # x = 0: E = (a+b-1)/(a-1) * (1 - (alpha+T)/(alpha+T+t) ** r * 2F1(r, b; a+b-1; z)).
    from scipy.special import hyp2f1

    z = 30.0 / (10.0 + 50.0 + 30.0)
    by_hand = 4.0 * (1.0 - (60.0 / 90.0) * hyp2f1(1.0, 3.0, 4.0, z))
    got = model.expected_purchases(30.0, np.array([0.0]), np.array([0.0]), np.array([50.0]))
    assert got[0] == pytest.approx(by_hand, rel=1e-9)


def _store() -> EcomStore:
    orders = pl.DataFrame(
        {
            "order_id": ["#1", "#2", "#3", "#4", "#5"],
            "customer_id": ["a", "a", "a", "b", "b"],
            "created_at": [START + dt.timedelta(days=d) for d in (0, 10, 30, 5, 5.5)],
        }
    )
    lines = pl.DataFrame(
        {
            "order_id": ["#1", "#2", "#3", "#4", "#5"],
            "line_number": [1, 1, 1, 1, 1],
            "product_id": ["mug", "mug", "hose", "hose", "rake"],
            "quantity": [1, 1, 1, 1, 1],
            "unit_price": [5.0, 5.0, 15.0, 10.0, 30.0],
        }
    ).with_columns(pl.col("product_id").alias("variant_id"))
    products = pl.DataFrame(
        {
            "product_id": ["mug", "hose", "rake"],
            "variant_id": ["mug", "hose", "rake"],
            "title": ["red ceramic mug", "garden hose", "garden rake"],
        }
    )
    return EcomStore(pl.DataFrame({"customer_id": ["a", "b"]}), products, orders, lines)


def test_summary_and_inter_purchase_features_by_hand() -> None:
    store = _store()
    as_of = START + dt.timedelta(days=40)
    summary = rfm_summary(store, as_of).rows_by_key("customer_id", named=True, unique=True)
    assert summary["a"] == {"x": 2.0, "t_x": 30.0, "T": 40.0}
    assert summary["b"] == {"x": 0.0, "t_x": 0.0, "T": 35.0}  # two orders, one day
    f = customer_features(store, as_of).rows_by_key("customer_id", named=True, unique=True)
    assert f["a"]["purchase_days"] == 3.0
    assert f["a"]["ipt_median_days"] == pytest.approx(15.0)
    assert f["a"]["ipt_cv"] == pytest.approx(np.std([10, 20], ddof=1) / 15.0)
    assert f["a"]["recency_gap_z"] == pytest.approx((10.0 - 15.0) / (np.std([10, 20], ddof=1) + 1))
    decayed = 0.5 ** (40 / 30) + 0.5 ** (30 / 30) + 0.5 ** (10 / 30)
    assert f["a"]["decayed_orders_30d"] == pytest.approx(decayed)
    assert f["b"]["purchase_days"] == 1.0
    bg = bgnbd_features(store, as_of, 30.0)
    assert bg.columns == ["customer_id", "bgnbd_expected", "bgnbd_p_alive"]
    assert bg.height == 2 and bg.get_column("bgnbd_expected").min() >= 0.0


class _Plugin:
    @hookimpl
    def register_models(self, register: Register) -> None:
        register(testing.FakeEmbedder, name="pp-test-embedder")


@pytest.fixture
def embedder() -> Iterator[str]:
    clear_embedding_cache()
    with testing.registered_plugin(_Plugin(), name="pp-test"):
        yield "pp-test-embedder"
    clear_embedding_cache()


def _shop(n_customers: int = 60) -> EcomStore:
    """Half the customers buy every ~12 days all year, the rest stop early."""
    rng = np.random.default_rng(0)
    orders, lines = [], []
    for c in range(n_customers):
        day, stop = float(rng.integers(0, 30)), 330.0 if c % 2 else float(rng.integers(60, 300))
        while day < stop:
            order_id = f"#{len(orders)}"
            orders.append((order_id, f"c{c}", START + dt.timedelta(days=day)))
            lines.append((order_id, 1, f"p{(c + len(orders)) % 6}", 1, 5.0))
            day += float(rng.exponential(12.0)) + 1.0
    products = [f"p{i}" for i in range(6)]
    return EcomStore(
        pl.DataFrame({"customer_id": [f"c{c}" for c in range(n_customers)]}),
        pl.DataFrame(
            {
                "product_id": products,
                "variant_id": products,
                "title": [f"{'garden' if i % 2 else 'kitchen'} thing {i}" for i in range(6)],
            }
        ),
        pl.DataFrame(orders, schema=["order_id", "customer_id", "created_at"], orient="row"),
        pl.DataFrame(
            lines,
            schema=["order_id", "line_number", "product_id", "quantity", "unit_price"],
            orient="row",
        ).with_columns(pl.col("product_id").alias("variant_id")),
    )


def test_text_features_are_used_saved_and_loaded(embedder: str, tmp_path: Path) -> None:
    shop = _shop()
    pp = PurchasePredictionTask(
        horizon_days=60,
        snapshots=2,
        threads=1,
        bgnbd=True,
        text_embedder=embedder,
        text_components=3,
    )
    scores = pp.fit(shop).predict(shop)
    assert [c for c in pp.features if c.startswith("text_")] == ["text_0", "text_1", "text_2"]
    assert {"bgnbd_expected", "bgnbd_p_alive"} <= set(pp.features)
    folder = tmp_path / "pp"
    pp.save(folder)
    again = PurchasePredictionTask.load(folder).predict(shop)
    np.testing.assert_allclose(again.get_column("p_buy"), scores.get_column("p_buy"))
