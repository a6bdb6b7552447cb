"""Support answers state only the shop's own policies, and only the predicted intent's entries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ecomlm_sdk
from ecomlm_sdk import DataSourceError, testing
from ecomlm_sdk.hookspecs import hookimpl
from ecomlm_sdk.tasks.support import KnowledgeBase, OrderDesk, SupportTask
from ecomlm_sdk.tasks.support.data import knowledge_base_path
from ecomlm_sdk.tasks.support.policies import POLICY_NAMES, fill, missing_policies
from ecomlm_sdk.tasks.support.reply import HANDOFF_TEXT

# Scope is not what these tests are about: every message counts as in scope.
FAKES = {
    "classifier": "fake-classifier",
    "embedder": "fake-embedder",
    "quiet": True,
    "min_neighbour_similarity": -1.0,
}


class Fakes:
    @hookimpl
    def register_models(self, register: Any) -> None:
        register(testing.FakeClassifier)
        register(testing.FakeEmbedder)


@pytest.fixture(scope="module")
def fakes() -> Iterator[None]:
    with testing.registered_plugin(Fakes(), name="support-policy-fakes"):
        yield


def _task(**options: Any) -> SupportTask:
    task: SupportTask = ecomlm_sdk.task("support", **FAKES, **options)
    return task.fit(testing.fixture_store())


def test_no_bundled_answer_states_a_policy_or_reads_badly_by_default() -> None:
    kb = KnowledgeBase.from_json(knowledge_base_path())
    defaults = {"shop": "our shop", "contact": "our customer service team"}
    for entry in kb.entries:
        text = fill(entry.answer, defaults)
        if missing_policies(entry.answer, {}):
            continue  # never sent without the shop's values
        assert "your our" not in text and "{" not in text, entry.id
        assert not any(f"{n} day" in text for n in (1, 3, 5, 7, 14, 30)), entry.id
    used = {p for e in kb.entries for p in missing_policies(e.answer, {})}
    assert used <= set(POLICY_NAMES) and "return_days" in used


def test_policy_questions_hand_off_without_the_policy(fakes: None) -> None:
    reply = _task().answer("what is your refund policy?")
    assert reply.intent == "check_refund_policy"
    assert (reply.handoff, reply.reason, reply.text) == (True, "no_policy", HANDOFF_TEXT)
    pointed = _task(policy_page="shop.example/returns").answer("what is your refund policy?")
    assert not pointed.handoff and "shop.example/returns" in pointed.text
    assert "days" not in pointed.text


def test_policies_from_options_and_from_the_faq_file(fakes: None, tmp_path: Path) -> None:
    reply = _task(return_days=14).answer("what is your refund policy?")
    assert not reply.handoff and "14 days" in reply.text and "30" not in reply.text
    faq = tmp_path / "faq.json"
    faq.write_text(
        json.dumps(
            {
                "policies": {"return_days": 60},
                "entries": [
                    {
                        "id": "policy",
                        "intent": "check_refund_policy",
                        "question": "What is your refund policy?",
                        "answer": "Return it within {return_days} days at {shop}.",
                    }
                ],
            }
        )
    )
    from_file = _task(knowledge_base=str(faq), shop_name="Acme").answer("refund policy?")
    assert from_file.text == "Return it within 60 days at Acme."
    overridden = _task(knowledge_base=str(faq), return_days=7).answer("refund policy?")
    assert "7 days" in overridden.text
    faq.write_text(json.dumps({"policies": ["x"], "entries": []}))
    with pytest.raises(DataSourceError, match="'policies' must be an object"):
        KnowledgeBase.from_json(faq)


def test_intent_without_an_entry_is_handed_off(fakes: None, tmp_path: Path) -> None:
    faq = tmp_path / "faq.json"
    entry = {"id": "r", "intent": "get_refund", "question": "refund", "answer": "Refunds."}
    faq.write_text(json.dumps({"entries": [entry]}))
    reply = _task(knowledge_base=str(faq), min_confidence=0.0, min_margin=0.0).answer(
        "how do I create an account?"
    )
    assert reply.intent == "create_account"
    assert (reply.handoff, reply.reason, reply.faq_id) == (True, "no_answer", None)


def test_desk_states_the_return_window_only_when_given() -> None:
    store = testing.fixture_store()
    plain = OrderDesk(store).answer("cancel_order", ["1001"], "c1")
    assert plain is not None and "can no longer be cancelled" in plain.text
    assert "days" not in plain.text
    given = OrderDesk(store, return_days=21).answer("cancel_order", ["1001"], "c1")
    assert given is not None and "within 21 days of delivery" in given.text
