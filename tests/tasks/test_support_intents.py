"""The shop's own intents: builtin_intents=False trains on its labelled tickets only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar

import polars as pl
import pytest

import ecomlm_sdk
from ecomlm_sdk import EcomStore, TaskError, testing
from ecomlm_sdk.hookspecs import hookimpl
from ecomlm_sdk.tasks.support import SupportTask

PHRASES: dict[str, list[str]] = {
    "gift_wrap": [
        "can you gift wrap my present",
        "do you offer gift wrapping",
        "please wrap it as a gift",
        "gift wrap for a birthday parcel",
        "is gift wrapping free",
        "wrap the mug as a gift please",
    ],
    "wholesale": [
        "do you sell wholesale to shops",
        "trade prices for my store",
        "wholesale account for bulk buying",
        "bulk discount for a retailer",
        "I run a shop and want trade pricing",
        "can I buy wholesale quantities",
    ],
    "track_order": [
        "where is my order",
        "track my order please",
        "has my order shipped",
        "order status please",
        "when does my order arrive",
        "track order 1003",
    ],
}


class PluginClassifier(testing.FakeClassifier):
    """A classifier a third-party plugin registers: any TextClassifier works."""

    name: ClassVar[str] = "plugin-intent-classifier"


class Models:
    @hookimpl
    def register_models(self, register: Any) -> None:
        register(testing.FakeClassifier)
        register(testing.FakeEmbedder)
        register(PluginClassifier)


@pytest.fixture(scope="module")
def models() -> Iterator[None]:
    with testing.registered_plugin(Models(), name="intent-models"):
        yield


def shop_store(phrases: dict[str, list[str]]) -> EcomStore:
    store = testing.fixture_store()
    rows = [
        (text, intent, "c1" if intent == "track_order" else None)
        for intent, texts in phrases.items()
        for text in texts
    ]
    start = dt.datetime(2011, 1, 1, tzinfo=dt.UTC)
    tickets = pl.DataFrame(
        {
            "ticket_id": [f"s{i}" for i in range(len(rows))],
            "customer_id": [c for _, _, c in rows],
            "created_at": [start + dt.timedelta(days=i) for i in range(len(rows))],
            "body": [t for t, _, _ in rows],
            "intent": [i for _, i, _ in rows],
        }
    )
    full = tickets.with_columns(
        [
            pl.lit(None, dtype=dtype).alias(name)
            for name, dtype in store.tickets.schema.items()
            if name not in tickets.columns
        ]
    ).select(list(store.tickets.columns))
    return store.replace(tickets=full.cast(dict(store.tickets.schema)))


def task(classifier: str = "fake-classifier", **options: Any) -> SupportTask:
    made: SupportTask = ecomlm_sdk.task(
        "support",
        classifier=classifier,
        embedder="fake-embedder",
        builtin_intents=False,
        quiet=True,
        **options,
    )
    return made


@pytest.mark.parametrize("classifier", ["fake-classifier", "plugin-intent-classifier"])
def test_shop_intents_only(models: None, classifier: str) -> None:
    support = task(classifier).fit(shop_store(PHRASES))
    assert support.classifier is not None
    assert sorted(support.classifier.labels) == ["gift_wrap", "track_order", "wholesale"]
    wrap = support.answer("could you gift wrap it")
    assert wrap.intent == "gift_wrap"
    # No FAQ entry for the shop's own intent: handed off, never another intent's answer.
    assert wrap.handoff and wrap.reason in {"no_answer", "out_of_scope", "low_confidence"}
    track = support.answer("track my order 1003", customer_id="c1")
    assert (track.intent, track.order_id) == ("track_order", "#1003")


def test_no_labelled_tickets_is_a_clear_error(models: None) -> None:
    store = testing.fixture_store()
    bare = store.replace(tickets=store.tickets.with_columns(intent=pl.lit(None, pl.String)))
    with pytest.raises(TaskError, match=r"no 'intent'.*at least 5 tickets per intent"):
        task().fit(bare)


def test_too_few_per_intent_names_them_and_the_number(models: None) -> None:
    few = {**PHRASES, "gift_wrap": PHRASES["gift_wrap"][:2]}
    with pytest.raises(TaskError, match=r"at least 5 labelled tickets.*'gift_wrap' \(2\)"):
        task().fit(shop_store(few))
    assert task(min_tickets_per_intent=2).fit(shop_store(few)).classifier is not None


def test_one_intent_is_not_a_taxonomy(models: None) -> None:
    with pytest.raises(TaskError, match="at least 2 intents"):
        task().fit(shop_store({"gift_wrap": PHRASES["gift_wrap"]}))


def test_builtin_intents_add_the_shops(models: None) -> None:
    support: SupportTask = ecomlm_sdk.task(
        "support",
        classifier="fake-classifier",
        embedder="fake-embedder",
        examples_per_intent=5,
        quiet=True,
    ).fit(shop_store(PHRASES))
    assert support.classifier is not None
    labels = set(support.classifier.labels)
    assert {"gift_wrap", "wholesale", "get_refund", "cancel_order"} <= labels
    assert len(labels) == 29  # Bitext's 27 and the shop's two new ones


def test_evaluate_on_the_shops_tickets(models: None) -> None:
    report = task(min_tickets_per_intent=4).evaluate(shop_store(PHRASES))
    assert 0.0 <= report.metrics["intent_accuracy"] <= 1.0
