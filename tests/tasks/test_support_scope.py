"""Calibration on paraphrase families and the out-of-scope decision (issue 12, items 1 and 3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import ecomlm_sdk
from ecomlm_sdk import testing
from ecomlm_sdk.hookspecs import hookimpl
from ecomlm_sdk.tasks.support import SupportTask
from ecomlm_sdk.tasks.support.language import guess_language
from ecomlm_sdk.tasks.support.scope import (
    expected_calibration_error,
    fit_temperature,
    grouped_split,
    neighbour_similarity,
    paraphrase_families,
    scale,
)


def test_paraphrase_families_and_grouped_split() -> None:
    base = np.eye(4, dtype=np.float32)
    # Rows 0-2 are one family (near-identical), 3-5 another, 6-7 a third; label a vs b.
    vectors = np.stack(
        [
            base[0],
            base[0] + 0.01,
            base[0] + 0.02,
            base[1],
            base[1] + 0.01,
            base[1],
            base[2],
            base[2],
        ]
    )
    labels = ["a"] * 6 + ["b"] * 2
    families = paraphrase_families(vectors, labels, similarity=0.9)
    assert len({families[0], families[1], families[2]}) == 1
    assert len({families[3], families[4], families[5]}) == 1
    assert families[0] != families[3] and families[6] == families[7]
    train, held = grouped_split(families, labels, fraction=0.5, seed=0)
    assert sorted(train + held) == list(range(8)) and not set(train) & set(held)
    held_families = {int(families[i]) for i in held}
    assert all(int(families[i]) not in held_families for i in train)  # families stay whole
    assert all(i < 6 for i in held)  # "b" has one family: it stays in training


def test_temperature_softens_overconfidence_and_ece() -> None:
    rng = np.random.default_rng(0)
    n, k = 400, 4
    targets = rng.integers(0, k, n)
    guess = np.where(rng.random(n) < 0.6, targets, rng.integers(0, k, n))  # about 70% right
    probs = np.full((n, k), 0.001)
    probs[np.arange(n), guess] = 1 - 0.003  # claims 0.997 every time
    temperature = fit_temperature(probs, targets.tolist())
    assert temperature > 1.5
    correct = (guess == targets).tolist()
    before = expected_calibration_error(probs.max(axis=1), correct)
    after = expected_calibration_error(scale(probs, temperature).max(axis=1), correct)
    assert before > 0.2 and after < 0.05
    assert expected_calibration_error([0.8, 0.8], [True, False]) == pytest.approx(0.3)
    assert fit_temperature(probs[:1], [0]) == 1.0
    assert np.allclose(scale(probs, 1.0), probs / probs.sum(axis=1, keepdims=True))


def test_neighbour_similarity() -> None:
    memory = np.eye(3, dtype=np.float32)
    near = neighbour_similarity(np.array([[1.0, 0, 0], [0, 0, 0]]), memory, neighbours=1)
    assert near.tolist() == pytest.approx([1.0, 0.0])
    two = neighbour_similarity(np.array([[1.0, 1.0, 0]]), memory, neighbours=2)
    assert two[0] == pytest.approx(np.sqrt(0.5))


class Fakes:
    @hookimpl
    def register_models(self, register: Any) -> None:
        register(testing.FakeClassifier)
        register(testing.FakeEmbedder)


@pytest.fixture(scope="module")
def support() -> Iterator[SupportTask]:
    with testing.registered_plugin(Fakes(), name="support-scope-fakes"):
        task: SupportTask = ecomlm_sdk.task(
            "support", classifier="fake-classifier", embedder="fake-embedder", quiet=True
        )
        yield task.fit(testing.fixture_store())


def test_fit_calibrates_on_held_out_families(support: SupportTask) -> None:
    cal = support.calibration
    assert 0.05 <= cal["temperature"] <= 20
    assert support.fit_summary["held_out_examples"] >= 20
    assert support.fit_summary["classifier_examples"] + support.fit_summary[
        "held_out_examples"
    ] == pytest.approx(support.fit_summary["train_examples"])
    assert 0 <= cal["held_out_ece"] <= 1 and 0 <= cal["held_out_accuracy"] <= 1
    assert -1 <= cal["scope_threshold"] <= 1 and cal["families"] > 27


def test_unlike_anything_is_out_of_scope(support: SupportTask) -> None:
    for message in ("SW1A 1AA", "ok"):
        reply = support.answer(message)
        assert (reply.handoff, reply.reason, reply.source) == (True, "out_of_scope", "handoff")
        assert reply.neighbour_similarity is not None
        assert reply.neighbour_similarity < support.calibration["scope_threshold"]
    refund = support.answer("how do I get a refund?")
    assert refund.reason != "out_of_scope" and refund.intent == "get_refund"


def test_scope_options(support: SupportTask) -> None:
    store = testing.fixture_store()  # the fakes stay registered while the fixture lives
    off = ecomlm_sdk.task(
        "support",
        classifier="fake-classifier",
        embedder="fake-embedder",
        calibration_split=0.0,
        quiet=True,
    ).fit(store)
    assert off.calibration["temperature"] == 1.0 and "scope_threshold" not in off.calibration
    assert off.answer("SW1A 1AA").reason != "out_of_scope"
    fixed = ecomlm_sdk.task(
        "support",
        classifier="fake-classifier",
        embedder="fake-embedder",
        min_neighbour_similarity=1.0,
        quiet=True,
    ).fit(store)
    assert fixed.answer("how do I get a refund?").reason == "out_of_scope"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Where is my order?", "en"),
        ("ok", "en"),
        ("SW1A 1AA", "en"),
        ("¿Dónde está mi pedido?", "es"),
        ("Ich möchte meine Bestellung stornieren", "de"),
        ("je veux un refund s'il vous plaît", "fr"),
        ("Где мой заказ?", "ru"),
        ("我的订单在哪里？", "zh"),
        ("注文をキャンセルしたい", "zh"),  # kanji first: a CJK script, not English either way
    ],
)
def test_guess_language(text: str, language: str) -> None:
    guessed = guess_language(text)
    assert guessed == language or (language != "en" and guessed != "en")


def test_other_languages_are_handed_off_unless_configured(support: SupportTask) -> None:
    reply = support.answer("¿Dónde está mi pedido?")
    assert (reply.handoff, reply.reason, reply.intent) == (True, "language", "unclassified")
    assert support.answer("Where is my order?").reason != "language"
    multilingual = ecomlm_sdk.task(
        "support",
        classifier="fake-classifier",
        embedder="fake-embedder",
        languages=None,
        min_neighbour_similarity=-1.0,
        quiet=True,
    ).fit(testing.fixture_store())
    assert multilingual.answer("¿Dónde está mi pedido?").reason != "language"
