"""Tests of the recommendation task and its ranking metrics (small stores, FakeEmbedder)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp
from polars.testing import assert_frame_equal

import ecomlm_sdk
from ecomlm_sdk import EcomStore, NotFittedError, TaskError, testing
from ecomlm_sdk.hookspecs import Register, hookimpl
from ecomlm_sdk.tasks.recommendation import RecommendationTask, ranking_metrics
from ecomlm_sdk.tasks.recommendation.scorers import (
    blend,
    cosine_neighbours,
    ease_weights,
    keep_top_per_row,
)

START = dt.datetime(2011, 1, 1, tzinfo=dt.UTC)
KITCHEN = ["mug-red", "mug-blue", "teapot", "plate"]
GARDEN = ["spade", "rake", "hose", "gloves"]
TITLES = {
    "mug-red": "red ceramic mug",
    "mug-blue": "blue ceramic mug",
    "teapot": "ceramic teapot",
    "plate": "ceramic plate",
    "spade": "garden spade",
    "rake": "garden rake",
    "hose": "garden hose",
    "gloves": "garden gloves",
    "bowl": "ceramic bowl",  # in the catalogue, never sold
    "POST": "postage",
}


def taste_store() -> EcomStore:
    """Even customers buy kitchen things, odd ones garden things; everyone pays postage."""
    rng = np.random.default_rng(1)
    orders, lines = [], []
    for c in range(30):
        group = KITCHEN if c % 2 == 0 else GARDEN
        for o in range(4):
            order_id = f"#{c}-{o}"
            orders.append((order_id, f"c{c}", START + dt.timedelta(days=int(rng.integers(0, 300)))))
            picks = [str(p) for p in rng.choice(group, size=2, replace=False)]
            for n, product in enumerate([*picks, "POST"]):
                lines.append((order_id, n + 1, product, 1, 4.0))
    orders_frame = pl.DataFrame(
        orders, schema=["order_id", "customer_id", "created_at"], orient="row"
    )
    lines_frame = pl.DataFrame(
        lines,
        schema=["order_id", "line_number", "product_id", "quantity", "unit_price"],
        orient="row",
    ).with_columns(pl.col("product_id").alias("variant_id"))
    products = pl.DataFrame(
        {"product_id": list(TITLES), "variant_id": list(TITLES), "title": list(TITLES.values())}
    )
    customers = pl.DataFrame({"customer_id": [f"c{c}" for c in range(30)]})
    return EcomStore(customers, products, orders_frame, lines_frame)


class _EmbedderPlugin:
    @hookimpl
    def register_models(self, register: Register) -> None:
        register(testing.FakeEmbedder, name="rec-test-embedder")


@pytest.fixture
def embedder() -> Iterator[str]:
    with testing.registered_plugin(_EmbedderPlugin(), name="rec-test"):
        yield "rec-test-embedder"


@pytest.fixture(scope="module")
def shop() -> EcomStore:
    return taste_store()


def test_registered() -> None:
    rec = ecomlm_sdk.task("recommendation", k=5, embedder=None)
    assert isinstance(rec, RecommendationTask)
    with pytest.raises(TaskError, match="Unknown blend component"):
        RecommendationTask(weights={"repeat": 1.0, "magic": 2.0})


def test_recommends_within_taste(shop: EcomStore, embedder: str) -> None:
    rec = RecommendationTask(k=3, embedder=embedder).fit(shop)
    out = rec.recommend(["c0", "c1"])
    assert out.columns == ["customer_id", "rank", "product_id", "title", "score"]
    assert out.get_column("rank").to_list() == [1, 2, 3, 1, 2, 3]
    kitchen = out.filter(pl.col("customer_id") == "c0").get_column("product_id").to_list()
    garden = out.filter(pl.col("customer_id") == "c1").get_column("product_id").to_list()
    assert set(kitchen) <= set(KITCHEN)
    assert set(garden) <= set(GARDEN)
    assert "POST" not in out.get_column("product_id").to_list()  # fees are never recommended
    scores = out.filter(pl.col("customer_id") == "c0").get_column("score").to_list()
    assert scores == sorted(scores, reverse=True)


def test_exclude_owned_and_cold_start(shop: EcomStore, embedder: str) -> None:
    rec = RecommendationTask(k=4, embedder=embedder).fit(shop)
    owned = set(
        shop.purchases().filter(pl.col("customer_id") == "c0").get_column("product_id").to_list()
    )
    fresh = rec.recommend("c0", exclude_owned=True).get_column("product_id").to_list()
    assert fresh and not set(fresh) & owned
    # the never-sold ceramic bowl reaches kitchen customers through content similarity
    if "bowl" not in owned:
        assert "bowl" in fresh
    newcomer = rec.recommend(["someone-new"]).get_column("product_id").to_list()
    assert len(newcomer) == 4 and "bowl" not in newcomer  # trending products only


def test_predict_covers_every_customer_and_round_trips(
    shop: EcomStore, embedder: str, tmp_path: Path
) -> None:
    rec = RecommendationTask(k=2, embedder=embedder)
    frame = testing.check_task(rec, shop, tmp_path)
    assert frame.get_column("customer_id").n_unique() == 30
    assert frame.height == 60


def test_single_strategies(shop: EcomStore) -> None:
    pop = RecommendationTask(k=2, strategy="popularity", embedder=None).fit(shop)
    first = pop.recommend(["c0", "c1"])
    # popularity ignores the customer: both get the same list
    lists = first.group_by("customer_id", maintain_order=True).agg(pl.col("product_id"))
    assert (
        lists.get_column("product_id").to_list()[0] == lists.get_column("product_id").to_list()[1]
    )
    ease = RecommendationTask(k=2, strategy="ease", embedder=None).fit(shop)
    assert set(ease.recommend("c1", exclude_owned=False).get_column("product_id")) <= set(GARDEN)


def test_evaluate_reports_metrics_and_baselines(shop: EcomStore, embedder: str) -> None:
    rec = RecommendationTask(k=3, embedder=embedder)
    report = rec.evaluate(shop, cutoff="2011-08-01")
    for key in ("hr@3", "ndcg@3", "recall@3", "map@3", "coverage"):
        assert 0.0 <= report.metrics[key] <= 1.0
    assert report.metrics["hr@3"] > 0.5
    assert set(report.baselines) == {"popularity", "repeat", "itemknn", "ease", "content"}
    discover = rec.evaluate(shop, cutoff="2011-08-01", exclude_owned=True)
    assert discover.details["exclude_owned"] is True
    assert "bowl" not in str(discover.details)  # unsold items of unknown launch date left out
    assert not rec.fitted
    with pytest.raises(TaskError, match="needs a cutoff"):
        rec.evaluate(shop)
    with pytest.raises(TaskError, match="unknown argument"):
        rec.evaluate(shop, cutoff="2011-08-01", exclude=True)


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        RecommendationTask(embedder=None).recommend(["c1"])


def test_ranking_metrics_by_hand() -> None:
    metrics = ranking_metrics(
        {"a": ["x", "y", "z"], "b": ["q", "r", "s"]},
        {"a": {"y", "w"}, "b": {"zz"}, "c": set()},
        k=3,
        catalogue_size=10,
    )
    assert metrics["hr@3"] == 0.5
    assert metrics["recall@3"] == pytest.approx(0.25)
    ideal_a = 1 + 1 / np.log2(3)
    assert metrics["ndcg@3"] == pytest.approx((1 / np.log2(3)) / ideal_a / 2)
    assert metrics["map@3"] == pytest.approx((0.5 / 2) / 2)
    assert metrics["coverage"] == pytest.approx(0.6)
    assert metrics["customers"] == 2


def test_scorers() -> None:
    x = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=np.float32))
    knn = cosine_neighbours(x, top_n=1)
    assert knn[0, 1] == pytest.approx(1.0) and knn[0, 2] == 0 and knn[0, 0] == 0
    weights = ease_weights(x, l2=1.0)
    assert np.allclose(np.diag(weights), 0.0)
    assert weights[0, 1] > 0 and weights[0, 2] == pytest.approx(0.0, abs=1e-6)
    mixed = blend({"a": np.array([[2.0, 1.0]]), "b": np.array([[0.0, 4.0]])}, {"a": 1, "b": 1})
    assert mixed.tolist() == [[1.0, 1.5]]


def test_keep_top_per_row() -> None:
    dense = np.array([[0.0, 0.5, -0.2, 0.9], [0.3, 0.0, 0.1, -0.4]], dtype=np.float32)
    top = keep_top_per_row(dense, 2)
    assert sp.issparse(top)
    np.testing.assert_allclose(top.toarray(), [[0.0, 0.5, 0.0, 0.9], [0.3, 0.0, 0.1, 0.0]])
    assert np.array_equal(keep_top_per_row(dense, 10).toarray(), dense)


def test_sparse_ease_ranks_like_dense_and_round_trips(shop: EcomStore, tmp_path: Path) -> None:
    ids = [f"c{c}" for c in range(30)]
    lists = {}
    for keep in (None, 4):
        rec = RecommendationTask(k=3, strategy="ease", embedder=None, ease_keep=keep).fit(shop)
        assert rec.state is not None and sp.issparse(rec.state.ease) == (keep is not None)
        lists[keep] = rec.recommend(ids, exclude_owned=True)
    assert lists[None].get_column("product_id").to_list() == (
        lists[4].get_column("product_id").to_list()
    )
    loaded = RecommendationTask.load(rec.save(tmp_path / "rec"))
    assert loaded.state is not None and sp.issparse(loaded.state.ease)
    assert_frame_equal(loaded.recommend(ids, exclude_owned=True), lists[4])


def test_fallback_to_a_stronger_baseline_is_used_and_saved(shop: EcomStore, tmp_path: Path) -> None:
    # A "hybrid" of best sellers only: buy-again beats it on this shop of repeat buyers.
    rec = ecomlm_sdk.task("recommendation", k=3, embedder=None, weights={"popularity": 1.0})
    report = rec.evaluate(shop, cutoff="2011-08-01")
    fallback = report.details["fallback"]
    assert report.details["strongest_baseline"] == "repeat"
    assert fallback["baseline"] == "repeat" and fallback["exclude_owned"] is False
    assert fallback["baseline_value"] > fallback["model_value"]
    assert fallback["model_value"] == pytest.approx(report.metrics["ndcg@3"])
    assert rec.fallback is None  # evaluate() leaves the fitted task alone; fit() serves it
    rec.fit(shop)
    assert rec.fallback == fallback
    buyer = shop.purchases().get_column("customer_id")[0]
    owned = set(shop.purchases().filter(pl.col("customer_id") == buyer)["product_id"])
    assert set(rec.recommend([buyer])["product_id"]) & owned  # buy-again lists owned products
    again = ecomlm_sdk.load_task(rec.save(tmp_path / "rec"))
    assert again.fallback == rec.fallback
    assert_frame_equal(again.recommend([buyer]), rec.recommend([buyer]), check_exact=False)
    off = ecomlm_sdk.task(
        "recommendation",
        k=3,
        embedder=None,
        weights={"popularity": 1.0},
        fallback_to_baseline=False,
    )
    assert off.evaluate(shop, cutoff="2011-08-01").details["fallback"] is None
    assert off.pending_fallback is None
