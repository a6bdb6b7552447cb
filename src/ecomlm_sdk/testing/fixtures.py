"""A kit for plugin authors: temporary registration, contract checks, fakes and a fixture store.

Example (pytest)::

    from ecomlm_sdk import testing

    def test_my_source(tmp_path):
        with testing.registered_plugin(my_plugin_module):
            testing.check_data_source(MySource, path=str(tmp_path))
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from ecomlm_sdk.data.schema import SCHEMA, TABLES
from ecomlm_sdk.data.source import DataSource
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import EcomlmError, ModelError
from ecomlm_sdk.models.base import (
    Embedder,
    GenerationOptions,
    ModelOptions,
    TextClassifier,
    TextGenerator,
)
from ecomlm_sdk.plugins import register_plugin, reset_plugins, unregister_plugin
from ecomlm_sdk.roi.base import RoiMetric
from ecomlm_sdk.tasks.base import Task

__all__ = [
    "FakeClassifier",
    "FakeEmbedder",
    "FakeGenerator",
    "check_data_source",
    "check_embedder",
    "check_roi_metric",
    "check_task",
    "check_text_classifier",
    "check_text_generator",
    "fixture_store",
    "fresh_plugins",
    "registered_plugin",
]


# --------------------------------------------------------------------------------- registration
@contextmanager
def registered_plugin(plugin: object, name: str | None = None) -> Iterator[str]:
    """Register ``plugin`` for the length of a ``with`` block; always unregister it after."""
    plugin_name = register_plugin(plugin, name=name)
    try:
        yield plugin_name
    finally:
        unregister_plugin(plugin_name)


@contextmanager
def fresh_plugins() -> Iterator[None]:
    """Reload every plugin (re-reading ``ECOMLM_*`` env vars) on entry and again on exit."""
    reset_plugins()
    try:
        yield
    finally:
        reset_plugins()


# --------------------------------------------------------------------------------- fakes
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class FakeGenerator(TextGenerator):
    """Deterministic generator: repeats the prompt's last words, numbered per return sequence."""

    name: ClassVar[str] = "fake-generator"

    def _generate(self, prompts: list[str], config: GenerationOptions) -> list[list[str]]:
        outputs = []
        for prompt in prompts:
            tail = " ".join(prompt.split()[-3:])
            words = (tail + " ") * config.max_new_tokens
            outputs.append(
                [
                    f"{' '.join(words.split()[: config.max_new_tokens])} #{i}"
                    for i in range(config.num_return_sequences)
                ]
            )
        return outputs


class FakeClassifier(TextClassifier):
    """Naive-Bayes-style word-count classifier: small, deterministic, and genuinely learns."""

    name: ClassVar[str] = "fake-classifier"

    def _fit(self, texts: list[str], labels: list[str], **kwargs: Any) -> None:
        self.labels = sorted(set(labels))
        self._counts = {label: Counter[str]() for label in self.labels}
        priors = Counter(labels)
        for text, label in zip(texts, labels, strict=True):
            self._counts[label].update(_words(text))
        self._vocab = {w for c in self._counts.values() for w in c}
        self._log_prior = {k: math.log(v / len(labels)) for k, v in priors.items()}

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        scores = np.zeros((len(texts), len(self.labels)))
        vocab = len(self._vocab) + 1
        for j, label in enumerate(self.labels):
            counts = self._counts[label]
            total = sum(counts.values()) + vocab
            for i, text in enumerate(texts):
                scores[i, j] = self._log_prior[label] + sum(
                    math.log((counts[w] + 1) / total) for w in _words(text)
                )
        scores -= scores.max(axis=1, keepdims=True)
        probs: np.ndarray = np.exp(scores)
        normalized: np.ndarray = probs / probs.sum(axis=1, keepdims=True)
        return normalized


class FakeEmbedder(Embedder):
    """Hashed bag-of-words embeddings, L2-normalized: texts sharing words are close."""

    name: ClassVar[str] = "fake-embedder"

    class Options(ModelOptions):
        dimension: int = 64

    @property
    def dimension(self) -> int:
        options: Any = self.options
        return int(options.dimension)

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in _words(text):
                bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension
                out[i, bucket] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


# --------------------------------------------------------------------------------- fixture store
def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def fixture_store() -> EcomStore:
    """A small, hand-written store touching every table: 4 customers, 5 products, 8 orders
    (one cancelled, one guest), 11 order lines, 3 tickets, 1 campaign with 4 exposures.
    """
    customers = pl.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "email": ["ann@example.com", "bob@example.com", "cy@example.com", "di@example.com"],
            "first_name": ["Ann", "Bob", "Cy", "Di"],
            "country": ["GB", "FR", "GB", "DE"],
            "accepts_marketing": [True, False, True, True],
            "created_at": [
                _ts("2011-01-05"),
                _ts("2011-02-01"),
                _ts("2011-03-10"),
                _ts("2011-06-01"),
            ],
        }
    )
    products = pl.DataFrame(
        {
            "product_id": ["mug", "mug", "lamp", "tote", "card"],
            "variant_id": ["mug-red", "mug-blue", "lamp", "tote", "card"],
            "title": ["Heart mug", "Heart mug", "Star lamp", "Canvas tote", "Birthday card"],
            "description": [
                "Red ceramic mug with a heart",
                "Blue ceramic mug with a heart",
                "Metal star lamp for the bedroom",
                "Cotton shopping bag",
                "Card with a birthday cake",
            ],
            "price": [6.5, 6.5, 24.0, 9.0, 2.5],
        }
    )
    orders = pl.DataFrame(
        {
            "order_id": ["#1001", "#1002", "#1003", "#1004", "#1005", "#1006", "#1007", "#1008"],
            "customer_id": ["c1", "c2", "c1", None, "c3", "c1", "c4", "c2"],
            "created_at": [
                _ts(d)
                for d in (
                    "2011-01-10",
                    "2011-02-03",
                    "2011-03-15",
                    "2011-04-01",
                    "2011-05-20",
                    "2011-07-01",
                    "2011-07-15",
                    "2011-08-01",
                )
            ],
            "total": [13.0, 24.0, 11.5, 9.0, 30.5, 6.5, 48.0, 9.0],
            "is_cancelled": [False, False, False, False, False, True, False, False],
            "fulfillment_status": ["fulfilled"] * 6 + ["unfulfilled", "fulfilled"],
        }
    )
    order_lines = pl.DataFrame(
        {
            "order_id": [
                "#1001",
                "#1001",
                "#1002",
                "#1003",
                "#1003",
                "#1004",
                "#1005",
                "#1005",
                "#1006",
                "#1007",
                "#1008",
            ],
            "line_number": [1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 1],
            "product_id": [
                "mug",
                "mug",
                "lamp",
                "mug",
                "card",
                "tote",
                "lamp",
                "mug",
                "mug",
                "lamp",
                "tote",
            ],
            "variant_id": [
                "mug-red",
                "mug-blue",
                "lamp",
                "mug-red",
                "card",
                "tote",
                "lamp",
                "mug-red",
                "mug-red",
                "lamp",
                "tote",
            ],
            "quantity": [1, 1, 1, 1, 2, 1, 1, 1, 1, 2, 1],
            "unit_price": [6.5, 6.5, 24.0, 6.5, 2.5, 9.0, 24.0, 6.5, 6.5, 24.0, 9.0],
        }
    )
    tickets = pl.DataFrame(
        {
            "ticket_id": ["t1", "t2", "t3"],
            "customer_id": ["c1", "c2", "c4"],
            "created_at": [_ts("2011-03-20"), _ts("2011-02-10"), _ts("2011-07-20")],
            "body": ["Where is my order #1003?", "I want a refund", "Cancel order #1007 please"],
            "intent": ["track_order", "get_refund", "cancel_order"],
            "order_id": ["#1003", "#1002", "#1007"],
        }
    )
    campaigns = pl.DataFrame(
        {
            "campaign_id": ["spring"],
            "name": ["Spring sale"],
            "start_at": [_ts("2011-04-15")],
            "fixed_cost": [10.0],
        }
    )
    exposures = pl.DataFrame(
        {
            "campaign_id": ["spring"] * 4,
            "customer_id": ["c1", "c2", "c3", "c4"],
            "arm": ["treatment", "control", "treatment", "control"],
            "exposed_at": [_ts("2011-04-20")] * 4,
            "cost": [0.5, 0.0, 0.5, 0.0],
        }
    )
    return EcomStore(
        customers, products, orders, order_lines, tickets, campaigns, exposures, source="fixture"
    )


# --------------------------------------------------------------------------------- contracts
def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def check_data_source(cls: type[DataSource], **options: Any) -> EcomStore:
    """Contract for a data source: named, strict options, loads a valid store, accounts for rows."""
    _expect(
        isinstance(getattr(cls, "name", None), str),
        f"{cls.__name__} needs a `name` class attribute",
    )
    try:
        cls(__not_an_option__=1, **options)
    except EcomlmError:
        pass
    else:
        raise AssertionError(f"{cls.__name__} accepted an unknown option; use extra='forbid'")
    store = cls(**options).load()
    _expect(isinstance(store, EcomStore), f"{cls.__name__}.load() must return an EcomStore")
    for table in TABLES:
        frame = getattr(store, table)
        for column in SCHEMA[table].columns:
            _expect(column in frame.columns, f"{table} lacks canonical column {column!r}")
    for entry in store.load_report:
        _expect(
            entry.rows_read == entry.rows_loaded + entry.rows_rejected,
            f"{entry.file}: rows read != loaded + rejected",
        )
    return store


def check_text_generator(model: TextGenerator) -> None:
    """Contract for a generator: list in, list out; n sequences; empty in, empty out."""
    out = model.generate(["Hello", "Subject line:"], max_new_tokens=5)
    _expect(isinstance(out, list) and len(out) == 2, "generate() must return one output per prompt")
    _expect(all(isinstance(o, str) for o in out), "generate() must return strings")
    many = model.generate(
        ["Hello"], max_new_tokens=3, num_return_sequences=2, do_sample=True, seed=0
    )
    _expect(len(many) == 1 and len(many[0]) == 2, "num_return_sequences=2 must give 2 per prompt")
    _expect(model.generate([], max_new_tokens=3) == [], "no prompts must give no outputs")


def check_text_classifier(model: TextClassifier) -> None:
    """Contract for a classifier: learns a separable toy problem; probabilities sum to one."""
    texts = ["where is my parcel", "track my order", "refund my money", "I want my money back"] * 4
    labels = ["track", "track", "refund", "refund"] * 4
    model.fit(texts, labels)
    _expect(sorted(model.labels) == ["refund", "track"], f"labels after fit: {model.labels}")
    predictions = model.predict(["where is my order", "money back please"])
    _expect([p.label for p in predictions] == ["track", "refund"], f"got {predictions}")
    for p in predictions:
        _expect(abs(sum(p.probabilities.values()) - 1) < 1e-4, "probabilities must sum to 1")
    try:
        model.fit(["a", "b"], ["x"])
    except ModelError:
        pass
    else:
        raise AssertionError("fit() with mismatched lengths must raise ModelError")


def check_embedder(model: Embedder) -> None:
    """Contract for an embedder: float32 (n, d); similar texts closer than unrelated ones."""
    vectors = model.embed(["red heart mug", "red heart mug gift", "shipping invoice refund"])
    _expect(
        vectors.dtype == np.float32 and vectors.shape == (3, model.dimension),
        f"shape {vectors.shape}",
    )
    _expect(
        float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]),
        "similar texts must be closer than unrelated ones",
    )
    _expect(model.embed([]).shape == (0, model.dimension), "no texts must give a (0, d) array")


def check_task(task: Task, store: EcomStore, tmp_path: Path) -> pl.DataFrame:
    """Contract for a task: fit/predict/save/load round trip gives the same predictions."""
    predictions = task.fit(store).predict(store)
    _expect(isinstance(predictions, pl.DataFrame), "predict() must return a polars DataFrame")
    folder = task.save(tmp_path / "task")
    again = type(task).load(folder).predict(store)
    # Floats are compared with a tolerance: a reloaded model may sum in another order (one
    # run in four differed by 4e-16 with exact equality).
    try:
        assert_frame_equal(predictions, again, rel_tol=1e-9, abs_tol=1e-12)
    except AssertionError as exc:
        raise AssertionError(f"a saved and loaded task must predict the same: {exc}") from exc
    _expect("fit" in task.timings, "fit must run through the run_task_stage hook")
    return predictions


def check_roi_metric(metric: RoiMetric, **values: float) -> float:
    """Contract for an ROI metric: has a formula; computes a float; rejects bad input."""
    _expect(bool(getattr(metric, "formula", "")), f"{type(metric).__name__} needs a `formula`")
    result = metric.compute(**values)
    _expect(isinstance(result, float), "compute() must return a float")
    try:
        metric.compute(**{**values, "__unknown__": 1.0})
    except EcomlmError:
        pass
    else:
        raise AssertionError("compute() must reject unknown inputs")
    return result
