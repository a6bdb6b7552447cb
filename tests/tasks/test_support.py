"""The ``support`` task on fake models (fast): intents, store answers, privacy, hand-off."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Self

import pytest

import ecomlm_sdk
from ecomlm_sdk import EcomStore, TaskError, testing
from ecomlm_sdk.hookspecs import hookimpl
from ecomlm_sdk.models.base import GenerationOptions, TextClassifier, TextGenerator
from ecomlm_sdk.tasks.support import SupportReply, SupportTask
from ecomlm_sdk.tasks.support.orders import REFUSAL, SIGN_IN
from ecomlm_sdk.tasks.support.reply import HANDOFF_TEXT


class NoSaveClassifier(testing.FakeClassifier):
    """The fake classifier without save() (the base's, which raises ModelError)."""

    name: ClassVar[str] = "no-save-classifier"

    def save(self, path: str | Path) -> Path:
        return TextClassifier.save(self, path)


class SavingClassifier(testing.FakeClassifier):
    """The fake classifier, plus save/load (JSON word counts) for the round-trip test."""

    name: ClassVar[str] = "saving-classifier"

    def save(self, path: str | Path) -> Path:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        state = {
            "labels": self.labels,
            "counts": {k: dict(v) for k, v in self._counts.items()},
            "log_prior": self._log_prior,
        }
        (folder / "fake.json").write_text(json.dumps(state))
        return folder

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Self:
        state = json.loads((Path(path) / "fake.json").read_text())
        model = cls(**options)
        model.labels = state["labels"]
        model._counts = {k: Counter(v) for k, v in state["counts"].items()}
        model._vocab = {w for c in model._counts.values() for w in c}
        model._log_prior = state["log_prior"]
        return model


class RecordingGenerator(TextGenerator):
    """Records every prompt; answers with the answer line of the prompt, politely."""

    name: ClassVar[str] = "recording-generator"
    prompts: ClassVar[list[str]] = []

    def _generate(self, prompts: list[str], config: GenerationOptions) -> list[list[str]]:
        type(self).prompts.extend(prompts)
        outs = []
        for prompt in prompts:
            answer = next(line for line in prompt.splitlines() if line.startswith("Answer: "))
            outs.append([f"Thank you! {answer.removeprefix('Answer: ')}"])
        return outs


class InventingGenerator(TextGenerator):
    """Adds a fact (a number) that the answer does not hold: must be rejected."""

    name: ClassVar[str] = "inventing-generator"

    def _generate(self, prompts: list[str], config: GenerationOptions) -> list[list[str]]:
        return [["Your refund of 500 pounds arrives tomorrow by drone delivery"] for _ in prompts]


class FakeModels:
    @hookimpl
    def register_models(self, register: Any) -> None:
        for model in (
            testing.FakeClassifier,
            testing.FakeEmbedder,
            SavingClassifier,
            NoSaveClassifier,
            RecordingGenerator,
            InventingGenerator,
        ):
            register(model)


FAKES = {"classifier": "fake-classifier", "embedder": "fake-embedder"}


@pytest.fixture(scope="module")
def fakes() -> Iterator[None]:
    with testing.registered_plugin(FakeModels(), name="support-fakes"):
        yield


@pytest.fixture(scope="module")
def support(fakes: None) -> SupportTask:
    task: SupportTask = ecomlm_sdk.task("support", examples_per_intent=None, **FAKES)
    return task.fit(testing.fixture_store())


def test_support_is_a_builtin_task() -> None:
    assert ecomlm_sdk.task("support").__class__ is SupportTask
    with pytest.raises(TaskError, match="min_confidence"):
        ecomlm_sdk.task("support", min_confidence=2.0)
    with pytest.raises(TaskError, match="Accepted options"):
        ecomlm_sdk.task("support", not_an_option=1)


def test_owner_gets_order_status_from_the_store(support: SupportTask) -> None:
    reply = support.answer("track order #1003", customer_id="c1")
    assert isinstance(reply, SupportReply)
    assert (reply.intent, reply.source, reply.order_id, reply.handoff) == (
        "track_order",
        "order",
        "#1003",
        False,
    )
    assert (
        reply.text == "Order #1003, placed on 15 March 2011 (3 items, 11.50), has been dispatched."
    )


def test_other_customer_and_unknown_order_get_the_same_refusal(support: SupportTask) -> None:
    wrong = support.answer("track order #1003", customer_id="c2")
    missing = support.answer("track order #9999", customer_id="c2")
    assert wrong.text == missing.text == REFUSAL
    assert wrong.order_id is None and wrong.action is None
    assert "1003" not in wrong.text and "March" not in wrong.text
    anonymous = support.answer("track order #1003")
    assert anonymous.text == SIGN_IN and anonymous.order_id is None


def test_cancel_flow_depends_on_fulfilment(support: SupportTask) -> None:
    open_order = support.answer("I want to cancel order 1007", customer_id="c4")
    assert open_order.intent == "cancel_order" and open_order.action == "cancel_order"
    assert "has not been dispatched yet" in open_order.text
    shipped = support.answer("I want to cancel order 1001", customer_id="c1")
    assert shipped.action is None and "can no longer be cancelled" in shipped.text
    refused = support.answer("I want to cancel order 1007", customer_id="c1")
    assert refused.action is None and refused.text == REFUSAL


def test_my_order_without_number_means_latest(support: SupportTask) -> None:
    reply = support.answer("track my order", customer_id="c1")
    assert reply.order_id == "#1006" and "was cancelled" in reply.text


def test_faq_answer_and_requested_handoff(support: SupportTask) -> None:
    refund = support.answer("how do I get a refund?")
    assert (refund.intent, refund.source, refund.handoff) == ("get_refund", "faq", False)
    assert refund.faq_id is not None and refund.faq_id.startswith("get_refund")
    assert refund.similarity is not None and refund.similarity >= 0.15
    human = support.answer("I want to talk to a human agent")
    assert (human.intent, human.handoff, human.reason) == ("contact_human_agent", True, "requested")
    assert human.text == HANDOFF_TEXT


def test_thresholds_are_configurable(fakes: None) -> None:
    strict = ecomlm_sdk.task("support", min_confidence=0.999, **FAKES).fit(testing.fixture_store())
    reply = strict.answer("how do I get a refund?")
    assert reply.handoff and reply.reason == "low_confidence"
    close = ecomlm_sdk.task("support", min_confidence=0.0, min_margin=1.0, **FAKES)
    reply = close.fit(testing.fixture_store()).answer("how do I get a refund?")
    assert reply.handoff and reply.reason == "ambiguous"
    picky = ecomlm_sdk.task("support", min_similarity=0.99, **FAKES).fit(testing.fixture_store())
    reply = picky.answer("how do I get a refund?")
    assert (reply.handoff, reply.reason, reply.source) == (True, "no_answer", "handoff")
    assert reply.similarity is not None and reply.similarity < 0.99 and reply.faq_id
    # Gibberish has no confident intent at the default thresholds.
    assert strict.answer("zzkx qwv plo").handoff


def test_no_personal_data_in_logs(support: SupportTask, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="ecomlm_sdk"):
        support.answer("refund me, I'm ann@example.com, card 4111 1111 1111 1111", customer_id="c1")
    assert caplog.records, "the support task should log its decision"
    text = " ".join(r.getMessage() for r in caplog.records)
    assert "ann@example.com" not in text and "4111" not in text


def test_generator_sees_redacted_prompt_and_rewording_is_grounded(fakes: None) -> None:
    RecordingGenerator.prompts.clear()
    task = ecomlm_sdk.task("support", generator="recording-generator", **FAKES)
    reply = task.fit(testing.fixture_store()).answer("how do I get a refund? ann@example.com")
    assert reply.reworded and reply.text.startswith("Thank you! ")
    assert RecordingGenerator.prompts and "[EMAIL]" in RecordingGenerator.prompts[0]
    assert "ann@example.com" not in RecordingGenerator.prompts[0]
    inventing = ecomlm_sdk.task("support", generator="inventing-generator", **FAKES)
    kept = inventing.fit(testing.fixture_store()).answer("how do I get a refund?")
    assert not kept.reworded and "500" not in kept.text and kept.source == "faq"


def test_predict_answers_every_ticket(support: SupportTask, store: EcomStore) -> None:
    frame = support.predict(store)
    assert frame.columns == [
        "ticket_id",
        "intent",
        "confidence",
        "handoff",
        "reason",
        "source",
        "order_id",
        "action",
        "text",
    ]
    assert frame.get_column("ticket_id").to_list() == ["t1", "t2", "t3"]
    t3 = frame.row(2, named=True)  # c4 cancels their own unfulfilled order #1007
    assert (t3["intent"], t3["order_id"], t3["action"]) == ("cancel_order", "#1007", "cancel_order")


def test_save_load_round_trip(fakes: None, store: EcomStore, tmp_path: Path) -> None:
    task = ecomlm_sdk.task("support", classifier="saving-classifier", embedder="fake-embedder")
    predictions = testing.check_task(task, store, tmp_path)
    assert predictions.height == store.tickets.height
    loaded = SupportTask.load(tmp_path / "task")
    assert loaded.answer("track order #1003", customer_id="c1", store=store).order_id == "#1003"
    # Without a store, an order question goes to a person rather than guessing.
    assert loaded.answer("track order #1003", customer_id="c1").reason == "no_store"


def test_save_needs_a_classifier_that_can_save(fakes: None, tmp_path: Path) -> None:
    task = ecomlm_sdk.task("support", classifier="no-save-classifier", embedder="fake-embedder")
    task.fit(testing.fixture_store())
    with pytest.raises(TaskError, match="cannot be saved"):
        task.save(tmp_path / "x")


def test_evaluate_reports_consistent_rates(fakes: None, store: EcomStore) -> None:
    task = ecomlm_sdk.task("support", **FAKES)
    report = task.evaluate(store, cost_per_ticket=10.0)
    m = report.metrics
    assert m["test_examples"] == 902  # 20% of each of the 27 Bitext intents
    assert m["handoff_rate"] + m["automated_resolution_rate"] + m["wrong_answer_rate"] == (
        pytest.approx(1.0)
    )
    assert m["money_saved"] == pytest.approx(m["automated_resolution_rate"] * 902 * 10.0)
    assert 0.5 < m["intent_accuracy"] <= 1.0
    assert report.baselines["majority"]["intent_accuracy"] < 0.05
    assert report.baselines["tfidf_svm"]["intent_accuracy"] > 0.8
    assert report.details["cost_per_ticket"] == 10.0
    assert not task.fitted  # evaluate trains its own copy
    with pytest.raises(TaskError, match="unknown argument"):
        task.evaluate(store, costs=1.0)


def test_evaluate_with_cutoff_scores_future_tickets(fakes: None, store: EcomStore) -> None:
    report = ecomlm_sdk.task("support", **FAKES).evaluate(store, cutoff="2011-03-01")
    # t1 (March) and t3 (July) are after the cutoff; t2 (February) trains.
    assert report.metrics["test_examples"] == 902 + 2
    assert report.cutoff == "2011-03-01"


def test_answer_many_checks_lengths(support: SupportTask) -> None:
    with pytest.raises(TaskError, match="2 messages but 1"):
        support.answer_many(["a", "b"], ["c1"])
    assert support.answer_many([]) == []


def test_real_model_plugins_by_name(tiny_bert_dir: str, store: EcomStore, tmp_path: Path) -> None:
    """bert-classifier and minilm-embedder (tiny random backbone) plugged in by name."""
    task = ecomlm_sdk.task(
        "support",
        examples_per_intent=5,
        classifier_options={"backbone": tiny_bert_dir, "device": "cpu", "quiet": True},
        classifier_fit_options={"mode": "head", "epochs": 5},
        embedder_options={"name_or_path": tiny_bert_dir, "device": "cpu", "quiet": True},
    ).fit(store)
    # + the store's labelled tickets and the FAQ questions
    assert task.fit_summary["train_examples"] == 27 * 5 + 3 + 35
    assert 0.0 <= task.fit_summary["validation_accuracy"] <= 1.0  # from bert-classifier's report
    reply = task.answer("where is my order #1003?", customer_id="c2")
    assert task.classifier is not None and reply.intent in task.classifier.labels
    assert sum(reply.alternatives.values()) <= 1.0 + 1e-6
    assert "March" not in reply.text  # c2 does not own #1003, whatever the intent
    loaded = SupportTask.load(task.save(tmp_path / "support"))
    again = loaded.answer("where is my order #1003?", customer_id="c2", store=store)
    assert (again.intent, again.text) == (reply.intent, reply.text)
