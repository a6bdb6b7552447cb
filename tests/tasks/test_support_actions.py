"""Support actions: a cancellation is said to be requested only when a plugin carried it out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest

import ecomlm_sdk
from ecomlm_sdk import PluginError, testing
from ecomlm_sdk.hookspecs import hookimpl
from ecomlm_sdk.tasks.support import SupportTask
from ecomlm_sdk.tasks.support.orders import CANCEL_HANDED_OFF, CANCEL_REQUESTED, OrderDesk

CANCEL = "I want to cancel order 1007"  # c4's own order, not dispatched yet


class Models:
    @hookimpl
    def register_models(self, register: Any) -> None:
        register(testing.FakeClassifier)
        register(testing.FakeEmbedder)


class Shop:
    """A shop plugin that cancels orders (or says it could not)."""

    def __init__(self, result: Any) -> None:
        self.result = result
        self.calls: list[tuple[str, str, str]] = []

    @hookimpl
    def handle_support_action(self, action: str, order_id: str, customer_id: str) -> Any:
        self.calls.append((action, order_id, customer_id))
        return self.result


@pytest.fixture(scope="module")
def support() -> Iterator[SupportTask]:
    with testing.registered_plugin(Models(), name="action-models"):
        task: SupportTask = ecomlm_sdk.task(
            "support",
            classifier="fake-classifier",
            embedder="fake-embedder",
            examples_per_intent=None,
            quiet=True,
        )
        yield task.fit(testing.fixture_store())


def test_hook_handle_support_action(support: SupportTask) -> None:
    shop = Shop(True)
    with testing.registered_plugin(shop, name="shop"):
        reply = support.answer(CANCEL, customer_id="c4")
    assert shop.calls == [("cancel_order", "#1007", "c4")]
    assert (reply.intent, reply.action, reply.order_id) == ("cancel_order", "cancel_order", "#1007")
    assert reply.handoff is False and reply.reason is None
    assert reply.text.endswith(CANCEL_REQUESTED)


def test_no_plugin_hands_the_cancellation_off(support: SupportTask) -> None:
    reply = support.answer(CANCEL, customer_id="c4")
    assert (reply.handoff, reply.reason, reply.action) == (True, "action_needed", "cancel_order")
    assert reply.text.endswith(CANCEL_HANDED_OFF)
    assert "I've asked" not in reply.text


@pytest.mark.parametrize("result", [False, None])
def test_plugin_that_did_not_act_hands_off(support: SupportTask, result: Any) -> None:
    shop = Shop(result)
    with testing.registered_plugin(shop, name="shop"):
        reply = support.answer(CANCEL, customer_id="c4")
    assert len(shop.calls) == 1
    assert (reply.handoff, reply.reason) == (True, "action_needed")


def test_never_called_for_others_orders_batches_or_act_false(support: SupportTask) -> None:
    shop = Shop(True)
    with testing.registered_plugin(shop, name="shop"):
        others = support.answer(CANCEL, customer_id="c1")  # not c1's order
        shipped = support.answer("I want to cancel order 1001", customer_id="c1")
        quiet = support.answer(CANCEL, customer_id="c4", act=False)
        batch = support.predict(testing.fixture_store())
    assert shop.calls == []
    assert others.action is None and shipped.action is None
    assert (quiet.reason, quiet.action) == ("action_needed", "cancel_order")
    row = batch.filter(pl.col("order_id") == "#1007").row(0, named=True)
    assert (row["action"], row["handoff"], row["reason"]) == ("cancel_order", True, "action_needed")


def test_a_wrong_answer_from_the_plugin_is_a_plugin_error(support: SupportTask) -> None:
    with (
        testing.registered_plugin(Shop("yes"), name="shop"),
        pytest.raises(PluginError, match="return True"),
    ):
        support.answer(CANCEL, customer_id="c4")


def test_latest_order_skips_credit_notes() -> None:
    store = testing.fixture_store()
    latest = OrderDesk(store).latest_order("c1")
    assert latest is not None
    last = store.orders.filter(pl.col("order_id") == latest).row(0, named=True)
    credit = {
        **last,
        "order_id": "#C9999",
        "created_at": last["created_at"].replace(year=last["created_at"].year + 1),
        "total": -5.0,
    }
    orders = pl.concat([store.orders, pl.DataFrame([credit], schema=store.orders.schema)])
    assert OrderDesk(store.replace(orders=orders)).latest_order("c1") == latest
    only = orders.filter(pl.col("order_id") == "#C9999")
    bare = store.replace(orders=only, order_lines=store.order_lines.head(0))
    assert OrderDesk(bare).latest_order("c1") == "#C9999"
