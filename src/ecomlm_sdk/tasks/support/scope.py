"""Calibration and the out-of-scope decision, fitted on a split grouped by paraphrase family.

Bitext utterances are near-paraphrases of a few seed sentences per intent ("cancel order
{number}", "cancel purchase {number}", ...). A random held-out split puts paraphrases of the
same seed on both sides, so the classifier looks right almost always and a temperature fitted
there makes every answer look certain (about 0.056 before this module: confidence 1.00 on
"Where is my order?" labelled ``place_order``). Here the training rows are clustered into
*paraphrase families* (greedy leader clustering of their embeddings: a row joins the first
family leader at cosine similarity ``>= family_similarity``), and whole families are held out.
On that held-out split:

* the **temperature** ``T`` of the classifier's log-probabilities is fitted (minimum negative
  log-likelihood), so confidence on new phrasing is honest;
* the **scope threshold** is chosen: a message's *neighbour similarity* is the mean cosine
  similarity of its embedding to its ``neighbours`` nearest training examples, and the
  threshold keeps ``1 - oos_quantile`` of the held-out (in-scope, unseen-family) messages.
  A message below it is like nothing the task was trained on: it is handed off as
  ``out_of_scope``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

__all__ = [
    "expected_calibration_error",
    "fit_temperature",
    "grouped_split",
    "neighbour_similarity",
    "normalized",
    "paraphrase_families",
    "scale",
]

#: Temperatures searched by :func:`fit_temperature` (log-spaced).
_TEMPERATURES: Final = np.exp(np.linspace(np.log(0.05), np.log(20.0), 241))


def normalized(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), as float32."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2:
        array = array.reshape(array.shape[0], -1)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    result: np.ndarray = array / np.where(norms == 0, 1.0, norms)
    return result


def paraphrase_families(
    vectors: np.ndarray, labels: Sequence[str], *, similarity: float = 0.8, seed: int = 0
) -> np.ndarray:
    """A family id per row: rows of one label closer than ``similarity`` share a family.

    Greedy leader clustering, per label, in a seeded random order: a row joins the first
    family whose leader's embedding has cosine similarity ``>= similarity`` with it, else it
    starts a family. Rows of different labels never share a family.

    Args:
        vectors: Embeddings, one row per example.
        labels: The example's label.
        similarity: Cosine similarity at which two rows are paraphrases.
        seed: Seed of the visiting order.
    """
    unit = normalized(vectors)
    families = np.full(len(labels), -1, dtype=np.int64)
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    next_id = 0
    for label in sorted(by_label):
        leaders: list[int] = []
        for i in rng.permutation(by_label[label]).tolist():
            if leaders:
                scores = unit[leaders] @ unit[i]
                best = int(np.argmax(scores))
                if scores[best] >= similarity:
                    families[i] = families[leaders[best]]
                    continue
            leaders.append(i)
            families[i] = next_id
            next_id += 1
    return families


def grouped_split(
    families: np.ndarray, labels: Sequence[str], *, fraction: float, seed: int = 0
) -> tuple[list[int], list[int]]:
    """Split row indices into ``(train, held_out)`` by whole families, per label.

    Each label holds out random whole families until about ``fraction`` of its rows are held
    out, always keeping at least one family (and at least half its rows) in training; a label
    with a single family stays wholly in training.
    """
    rng = np.random.default_rng(seed)
    by_label: dict[str, dict[int, list[int]]] = {}
    for i, (family, label) in enumerate(zip(families.tolist(), labels, strict=True)):
        by_label.setdefault(label, {}).setdefault(int(family), []).append(i)
    held: list[int] = []
    for label in sorted(by_label):
        groups = by_label[label]
        if len(groups) < 2:
            continue
        total = sum(len(rows) for rows in groups.values())
        target = fraction * total
        taken: list[int] = []
        for family in rng.permutation(sorted(groups)).tolist():
            rows = groups[int(family)]
            if len(taken) >= target or len(taken) + len(rows) > total / 2:
                continue
            taken.extend(rows)
        held.extend(taken)
    held_set = set(held)
    train = [i for i in range(len(labels)) if i not in held_set]
    return train, sorted(held)


def scale(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(p) / T)``: the probabilities, sharpened (T < 1) or softened (T > 1)."""
    logits = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, 1.0))
    z = logits / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    result: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return result


def fit_temperature(probabilities: np.ndarray, targets: Sequence[int]) -> float:
    """The temperature (0.05 to 20) minimizing the NLL of :func:`scale` on ``targets``.

    Returns 1.0 when there are fewer than two rows.
    """
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.shape[0] < 2:
        return 1.0
    rows = np.arange(probs.shape[0])
    y = np.asarray(targets, dtype=np.int64)
    losses = [-np.log(np.clip(scale(probs, t)[rows, y], 1e-12, 1.0)).mean() for t in _TEMPERATURES]
    return float(_TEMPERATURES[int(np.argmin(losses))])


def expected_calibration_error(
    confidence: Sequence[float], correct: Sequence[bool], *, bins: int = 10
) -> float:
    """Weighted mean gap between confidence and accuracy over ``bins`` equal-width bins."""
    conf = np.asarray(confidence, dtype=np.float64)
    right = np.asarray(correct, dtype=np.float64)
    if conf.size == 0:
        return 0.0
    index = np.clip(np.ceil(conf * bins).astype(np.int64) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += abs(float(conf[mask].mean() - right[mask].mean())) * float(mask.mean())
    return total


def neighbour_similarity(
    queries: np.ndarray, memory: np.ndarray, *, neighbours: int = 5, chunk: int = 1024
) -> np.ndarray:
    """Mean cosine similarity of each query to its ``neighbours`` nearest rows of ``memory``."""
    q = normalized(queries)
    m = normalized(memory)
    if q.shape[0] == 0 or m.shape[0] == 0:
        return np.zeros(q.shape[0], dtype=np.float32)
    k = max(1, min(neighbours, m.shape[0]))
    out = np.empty(q.shape[0], dtype=np.float32)
    for start in range(0, q.shape[0], chunk):
        scores = q[start : start + chunk] @ m.T
        top = np.partition(scores, scores.shape[1] - k, axis=1)[:, -k:]
        out[start : start + chunk] = top.mean(axis=1)
    return out
