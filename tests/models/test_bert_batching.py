"""Token-budget batching of the BERT encoder (``batch_tokens``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ecomlm_bert.classifier import BertClassifier
from ecomlm_bert.embedder import MiniLmEmbedder
from ecomlm_bert.encoder import CPU_BATCH_TOKENS, token_budget_batches
from ecomlm_sdk import ModelError

TEXTS = [
    "a",
    "where is my parcel",
    "refund my money please, the mug arrived broken " * 3,
    "track my order",
    "blue lamp",
    "when will my order arrive, I ordered it two weeks ago",
]


def test_batches_respect_both_limits_longest_first() -> None:
    lengths = [5, 40, 12, 3, 40, 7, 100, 9]
    batches = token_budget_batches(lengths, 3, 90)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert batches[0] == [6]  # longer than the budget alone: goes alone
    for batch in batches:
        assert len(batch) <= 3
        if len(batch) > 1:
            assert len(batch) * max(lengths[i] for i in batch) <= 90
    firsts = [lengths[b[0]] for b in batches]
    assert firsts == sorted(firsts, reverse=True)
    assert [len(b) for b in token_budget_batches(lengths, 3, None)] == [3, 3, 2]
    with pytest.raises(ModelError, match="batch_tokens"):
        token_budget_batches(lengths, 3, 0)


def test_token_budget_does_not_change_results(tiny_bert_dir: str) -> None:
    assert CPU_BATCH_TOKENS == 1024
    clf = BertClassifier(backbone=tiny_bert_dir, device="cpu", quiet=True)
    clf.fit(TEXTS * 4, ["x", "y"] * 12, mode="head", epochs=3)
    tight = BertClassifier(backbone=tiny_bert_dir, device="cpu", quiet=True, batch_tokens=16)
    tight._encoder, tight._head = clf.encoder, clf._head
    tight.labels, tight.temperature = clf.labels, clf.temperature
    torch.testing.assert_close(tight.logits(TEXTS), clf.logits(TEXTS), atol=1e-5, rtol=0)
    emb = MiniLmEmbedder(name_or_path=tiny_bert_dir, device="cpu")
    small = MiniLmEmbedder(name_or_path=tiny_bert_dir, device="cpu", batch_tokens=8)
    np.testing.assert_allclose(small.embed(TEXTS), emb.embed(TEXTS), atol=1e-5)
    with pytest.raises(ModelError, match="batch_tokens"):
        BertClassifier(backbone=tiny_bert_dir, batch_tokens=0)
