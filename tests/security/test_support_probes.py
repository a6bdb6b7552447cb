"""Support messages as probes: order numbers, huge messages, personal data (issue 10, 8/9/12)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pytest

import ecomlm_sdk
from ecomlm_sdk import EcomStore, testing
from ecomlm_sdk.hookspecs import hookimpl
from ecomlm_sdk.tasks.support import OrderDesk, SupportTask, extract_order_refs
from ecomlm_sdk.tasks.support.orders import ASK_SEPARATELY, NOT_ON_ACCOUNT, REFUSAL
from ecomlm_sdk.tasks.support.reply import HANDOFF_TEXT, UNCLASSIFIED


class SpyClassifier(testing.FakeClassifier):
    """The fake classifier, recording every text it is asked to classify."""

    name: ClassVar[str] = "spy-classifier"
    seen: ClassVar[list[str]] = []

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        type(self).seen.extend(texts)
        return super()._predict_proba(texts)


class SpyModels:
    @hookimpl
    def register_models(self, register: Any) -> None:
        register(SpyClassifier)
        register(testing.FakeEmbedder)


@pytest.fixture(scope="module")
def support() -> Iterator[SupportTask]:
    with testing.registered_plugin(SpyModels(), name="probe-spies"):
        task: SupportTask = ecomlm_sdk.task(
            "support",
            classifier="spy-classifier",
            embedder="fake-embedder",
            examples_per_intent=None,
            max_message_chars=500,
            quiet=True,
        )
        yield task.fit(testing.fixture_store())


def _without(store: EcomStore, order_id: str) -> EcomStore:
    keep = pl.col("order_id") != order_id
    return store.replace(
        orders=store.orders.filter(keep), order_lines=store.order_lines.filter(keep)
    )


MESSAGES = [
    "Where are my orders #{n} and #1001?",
    "where is my order {n}",
    "track orders #1003, #{n} and #1001",
    "I want to cancel order #{n}",
]


@pytest.mark.parametrize("template", MESSAGES)
def test_unknown_and_foreign_numbers_get_byte_identical_replies(
    support: SupportTask, template: str
) -> None:
    # #1002 is customer c2's order. Asked by c1, the reply must be the same byte for byte
    # as in a store where #1002 does not exist at all.
    store = testing.fixture_store()
    message = template.format(n="1002")
    foreign = support.answer(message, customer_id="c1", store=store)
    unknown = support.answer(message, customer_id="c1", store=_without(store, "#1002"))
    assert foreign.model_dump_json() == unknown.model_dump_json()
    assert foreign.text.encode() == unknown.text.encode()
    # And the same as for a number that never existed, once the number is swapped.
    never = support.answer(template.format(n="9999"), customer_id="c1", store=store)
    assert never.text.replace("9999", "1002") == foreign.text
    assert "February" not in foreign.text and "24.00" not in foreign.text  # #1002's details


def test_several_orders_answer_the_owned_ones_and_list_the_rest(support: SupportTask) -> None:
    desk = OrderDesk(testing.fixture_store())
    refs = extract_order_refs("Where are my orders #9999 and #1001?")
    mixed = desk.answer("track_order", refs, "c1")
    alone = desk.answer("track_order", ["1001"], "c1")
    assert mixed is not None and alone is not None
    not_mine = NOT_ON_ACCOUNT.format(refs="order #9999")
    assert mixed.text == f"{alone.text} {not_mine}"
    assert (mixed.order_id, mixed.outcome) == ("#1001", "answered")
    both = desk.answer("track_order", ["1001", "1003"], "c1")
    assert both is not None and "#1001" in both.text and "#1003" in both.text
    # An action is taken on one order per message; the others are to be asked separately.
    cancel = desk.answer("cancel_order", ["1007", "1001"], "c4")
    assert cancel is not None and cancel.action == "cancel_order" and cancel.order_id == "#1007"
    theirs = desk.answer("cancel_order", ["1002", "1007"], "c4")
    assert theirs is not None and theirs.text.endswith(NOT_ON_ACCOUNT.format(refs="order #1002"))
    owned_twice = desk.answer("cancel_order", ["1001", "1003"], "c1")
    assert owned_twice is not None
    assert owned_twice.text.endswith(ASK_SEPARATELY.format(refs="order #1003"))
    nothing_owned = desk.answer("track_order", ["1002", "9999"], "c1")
    assert nothing_owned is not None and nothing_owned.text == REFUSAL


def test_long_messages_are_handed_off_unclassified(support: SupportTask) -> None:
    SpyClassifier.seen.clear()
    huge = "where is my order #1001? " * 40_000  # 1 MB
    replies = support.answer_many([huge, "track order #1001"], ["c1", "c1"])
    long_reply, short_reply = replies
    assert (long_reply.reason, long_reply.handoff, long_reply.text) == (
        "too_long",
        True,
        HANDOFF_TEXT,
    )
    assert long_reply.intent == UNCLASSIFIED and long_reply.order_id is None
    assert SpyClassifier.seen == ["track order #1001"]  # the classifier never saw the long one
    assert short_reply.order_id == "#1001"
    exact = "x" * 500
    assert support.answer(exact).reason != "too_long"
    assert support.answer(exact + "x").reason == "too_long"


def test_models_see_neither_patterns_nor_the_customers_own_details(support: SupportTask) -> None:
    base = testing.fixture_store()
    customers = base.customers.with_columns(
        pl.Series("last_name", ["Lee", None, None, None]),
        pl.Series("address1", ["12 Baker Street", None, None, None]),
    )
    store = base.replace(customers=customers)
    SpyClassifier.seen.clear()
    message = "I'm Ann Lee of 12 baker street, 4111.1111.1111.1111, 2125550123: where is #1001?"
    support.answer(message, customer_id="c1", store=store)
    assert SpyClassifier.seen == [
        "I'm [NAME] of [ADDRESS], [CARD], [PHONE]: where is #1001?"  # "Ann Lee": one name
    ]
    # Phone and card numbers are not looked up as orders.
    assert extract_order_refs(SpyClassifier.seen[0]) == ["1001"]
