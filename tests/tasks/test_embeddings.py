"""Tests of the in-process product-text embedding cache shared by the tasks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import pytest

from ecomlm_sdk import TaskError, testing
from ecomlm_sdk.hookspecs import Register, hookimpl
from ecomlm_sdk.tasks.embeddings import cache_size, clear_embedding_cache, embed_texts


class CountingEmbedder(testing.FakeEmbedder):
    """FakeEmbedder that records every text it is asked to embed."""

    name: ClassVar[str] = "counting-embedder"
    seen: ClassVar[list[str]] = []

    def _embed(self, texts: list[str]) -> np.ndarray:
        type(self).seen.extend(texts)
        return super()._embed(texts) * 3.0  # not normalized: the cache must normalize


class _Plugin:
    @hookimpl
    def register_models(self, register: Register) -> None:
        register(CountingEmbedder, name="counting-embedder")
        register(testing.FakeClassifier, name="not-an-embedder")


@pytest.fixture
def counting() -> Iterator[str]:
    clear_embedding_cache()
    CountingEmbedder.seen.clear()
    with testing.registered_plugin(_Plugin(), name="embed-cache-test"):
        yield "counting-embedder"
    clear_embedding_cache()


def test_each_text_is_embedded_once(counting: str) -> None:
    first = embed_texts(counting, ["red mug", "blue mug", "red mug"])
    assert CountingEmbedder.seen == ["red mug", "blue mug"]
    np.testing.assert_allclose(first[0], first[2])
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    again = embed_texts(counting, ["blue mug", "garden hose", "red mug"])
    assert CountingEmbedder.seen == ["red mug", "blue mug", "garden hose"]
    np.testing.assert_allclose(again[0], first[1])
    np.testing.assert_allclose(again[2], first[0])
    assert cache_size() == 3
    assert embed_texts(counting, []).shape == (0, 64)


def test_cache_is_keyed_by_the_registered_class(counting: str) -> None:
    embed_texts(counting, ["red mug"])
    clear_embedding_cache()
    assert cache_size() == 0
    embed_texts(counting, ["red mug"])
    assert CountingEmbedder.seen == ["red mug", "red mug"]


def test_not_an_embedder(counting: str) -> None:
    with pytest.raises(TaskError, match="not an Embedder"):
        embed_texts("not-an-embedder", ["x"])
