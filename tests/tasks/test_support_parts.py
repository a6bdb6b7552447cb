"""Parts of the support task: bundled data, splits, order desk, knowledge base, grounding."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from ecomlm_sdk import DataSourceError, EcomStore, TaskError, testing
from ecomlm_sdk.tasks.support import (
    FaqEntry,
    KnowledgeBase,
    OrderDesk,
    bitext_intents,
    extract_order_refs,
    stratified_split,
)
from ecomlm_sdk.tasks.support.data import cap_per_intent, knowledge_base_path
from ecomlm_sdk.tasks.support.grounding import build_prompt, is_grounded
from ecomlm_sdk.tasks.support.orders import REFUSAL, SIGN_IN


def test_bundled_bitext_subset_and_licence() -> None:
    frame = bitext_intents()
    assert frame.shape == (4514, 3)
    assert frame.columns == ["text", "intent", "category"]
    assert frame.get_column("intent").n_unique() == 27
    assert frame.get_column("category").n_unique() == 11
    folder = knowledge_base_path().parent
    licence = (folder / "LICENSE_CDLA-Sharing-1.0.txt").read_text()
    assert licence.startswith("Community Data License Agreement")
    assert "CDLA-Sharing-1.0" in (folder / "README.md").read_text()


def test_stratified_split_is_disjoint_stratified_and_seeded() -> None:
    frame = bitext_intents()
    train, test = stratified_split(frame, test_size=0.2, seed=0)
    assert train.height + test.height == frame.height
    assert set(train.get_column("text")).isdisjoint(set(test.get_column("text")))
    sizes = frame.group_by("intent").len().sort("intent")
    test_sizes = test.group_by("intent").len().sort("intent")
    expected = [round(n * 0.2) for n in sizes.get_column("len")]
    assert test_sizes.get_column("len").to_list() == expected
    again = stratified_split(frame, test_size=0.2, seed=0)[1]
    assert again.equals(test)
    assert not stratified_split(frame, test_size=0.2, seed=1)[1].equals(test)
    with pytest.raises(ValueError, match="between 0 and 1"):
        stratified_split(frame, test_size=1.5)


def test_cap_per_intent() -> None:
    capped = cap_per_intent(bitext_intents(), 10)
    assert capped.group_by("intent").len().get_column("len").to_list() == [10] * 27
    assert cap_per_intent(bitext_intents(), None).height == 4514


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("Where is my order #536365?", ["536365"]),
        ("cancel order 536365", ["536365"]),
        ("cancel purchase no. 00004587345 now", ["00004587345"]),
        ("order no. 1001 and #1002", ["1002", "1001"]),
        ("my order from 2011 is late", []),
        ("track 1003 please", ["1003"]),
        ("I paid 24.50 for 3 mugs", []),
    ],
)
def test_extract_order_refs(text: str, refs: list[str]) -> None:
    assert extract_order_refs(text) == refs


@pytest.fixture
def desk(store: EcomStore) -> OrderDesk:
    return OrderDesk(store)


def test_desk_resolves_references(desk: OrderDesk) -> None:
    assert desk.resolve("1001") == "#1001"
    assert desk.resolve("#1001") == "#1001"
    assert desk.resolve("0001001") == "#1001"
    assert desk.resolve("4242") is None
    assert desk.latest_order("c2") == "#1008"
    assert desk.latest_order("nobody") is None


def test_desk_answers_owner_only(desk: OrderDesk) -> None:
    mine = desk.answer("track_order", ["1002"], "c2")
    assert mine is not None and mine.outcome == "answered" and mine.order_id == "#1002"
    assert (
        mine.text == "Order #1002, placed on 3 February 2011 (1 item, 24.00), has been dispatched."
    )
    for customer in ("c1", "c3", "stranger"):
        other = desk.answer("track_order", ["1002"], customer)
        assert other is not None and (other.text, other.outcome, other.order_id) == (
            REFUSAL,
            "refused",
            None,
        )
    guest_order = desk.answer("track_order", ["1004"], "c1")  # #1004 has no customer
    assert guest_order is not None and guest_order.outcome == "refused"
    nobody = desk.answer("track_order", ["1002"], None)
    assert nobody is not None and (nobody.text, nobody.outcome) == (SIGN_IN, "sign_in")


def test_desk_intents(desk: OrderDesk) -> None:
    assert desk.answer("review", ["1002"], "c2") is None  # not an order intent
    assert desk.answer("track_order", [], None) is None  # the FAQ explains how to ask
    change = desk.answer("change_order", ["1007"], "c4")
    assert change is not None and change.outcome == "handoff" and change.action == "change_order"
    too_late = desk.answer("change_order", ["1001"], "c1")
    assert too_late is not None and "can no longer be changed" in too_late.text
    refund = desk.answer("track_refund", ["1001"], "c1")
    assert refund is not None and refund.text.endswith("No refund has been issued on it yet.")
    invoice = desk.answer("get_invoice", ["1001"], "c1")
    assert invoice is not None and "Download invoice" in invoice.text
    cancelled = desk.answer("cancel_order", ["1006"], "c1")
    assert cancelled is not None and cancelled.action is None and "was cancelled" in cancelled.text
    fixture = testing.fixture_store()
    nothing = OrderDesk(
        fixture.replace(orders=fixture.orders.head(0), order_lines=fixture.order_lines.head(0))
    )
    empty = nothing.answer("track_order", [], "c1")
    assert empty is not None and empty.outcome == "no_orders"


def test_desk_uses_currency_and_refunds() -> None:
    base = testing.fixture_store()
    orders = base.orders.with_columns(
        pl.lit("GBP").alias("currency"),
        pl.when(pl.col("order_id") == "#1002").then(24.0).otherwise(0.0).alias("refunded_amount"),
    )
    desk = OrderDesk(base.replace(orders=orders))
    refund = desk.answer("get_refund", ["#1002"], "c2")
    assert refund is not None and refund.text.endswith("£24.00 has been refunded on it.")


def test_knowledge_base_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"entries": [\n  {"id": 1,}\n]}')
    with pytest.raises(DataSourceError, match="line 2, column"):
        KnowledgeBase.from_json(bad)
    incomplete = tmp_path / "incomplete.json"
    incomplete.write_text(json.dumps({"entries": [{"id": "a", "intent": "x", "question": "q"}]}))
    with pytest.raises(DataSourceError, match="entry 0"):
        KnowledgeBase.from_json(incomplete)
    with pytest.raises(DataSourceError, match="does not exist"):
        KnowledgeBase.from_json(tmp_path / "missing.json")
    entry = FaqEntry(id="a", intent="x", question="q", answer="a")
    with pytest.raises(TaskError, match="appears twice"):
        KnowledgeBase([entry, entry])


def test_bundled_knowledge_base_covers_every_intent() -> None:
    kb = KnowledgeBase.from_json(knowledge_base_path())
    assert kb.intents == set(bitext_intents().get_column("intent").unique())


def test_retrieval_prefers_the_intent_then_meaning(tmp_path: Path) -> None:
    kb = KnowledgeBase(
        [
            FaqEntry(id="r1", intent="refund", question="refund policy days", answer="30 days"),
            FaqEntry(id="r2", intent="refund", question="damaged item refund", answer="photo"),
            FaqEntry(id="d1", intent="delivery", question="delivery time", answer="3 days"),
        ]
    )
    embedder = testing.FakeEmbedder()
    with pytest.raises(TaskError, match="not indexed"):
        kb.retrieve(np.ones(64))
    kb.index(embedder)
    query = embedder.embed(["my item arrived damaged"])[0]
    assert getattr(kb.retrieve(query, intent="refund"), "entry", None) == kb.entries[1]
    nearest = kb.retrieve(embedder.embed(["delivery time"])[0], intent="refund")
    assert nearest is not None and nearest.entry.intent == "refund"
    # An intent without entries gets none, never another intent's entry (issue 12, item 5).
    assert kb.retrieve(embedder.embed(["delivery time"])[0], intent="unknown") is None
    hit = kb.retrieve(embedder.embed(["delivery time"])[0])
    assert hit is not None and hit.entry.id == "d1"  # no intent: every entry
    again = KnowledgeBase.from_json(kb.to_json(tmp_path / "kb.json"))
    assert again.entries == kb.entries


def test_grounding() -> None:
    answer = "Order #1003, placed on 15 March 2011, has been dispatched."
    assert is_grounded("Good news: order #1003 has been dispatched.", answer)
    assert not is_grounded("Order #1004 has been dispatched.", answer)  # wrong number
    assert not is_grounded("Your parcel was lost by the courier yesterday.", answer)
    assert not is_grounded("ok", answer)
    prompt = build_prompt("I'm ann@example.com", answer)
    assert "[EMAIL]" in prompt and "ann@example.com" not in prompt
    assert prompt.endswith("Reworded answer:")
