"""Fake models on the real bases: small, deterministic, offline, and saved without pickle.

Each passes its contract (``check_text_generator``, ``check_text_classifier``,
``check_embedder``), so a plugin's tests can use them in place of real weights.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar, Final, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ecomlm_sdk._version import __version__
from ecomlm_sdk.errors import ModelError
from ecomlm_sdk.models.base import (
    Embedder,
    GenerationOptions,
    Model,
    ModelOptions,
    TextClassifier,
    TextGenerator,
)

__all__ = ["FakeClassifier", "FakeEmbedder", "FakeGenerator"]

#: The one file a fake's ``save()`` writes: model name, SDK version, options and state as JSON.
MODEL_FILE: Final = "ecomlm_model.json"

_WORD = re.compile(r"[a-z0-9]+")
_TAG = re.compile(r" #\d+$")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _save(model: Model, path: str | Path, state: dict[str, Any]) -> Path:
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        "model": model.name,
        "ecomlm_sdk_version": __version__,
        # the device is the loader's choice, not the saver's
        "options": model.options.model_dump(mode="json", exclude={"device"}),
        "state": state,
    }
    (folder / MODEL_FILE).write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return folder


def _read(cls: type[Model], path: str | Path) -> dict[str, Any]:
    file = Path(path) / MODEL_FILE
    if not file.is_file():
        raise ModelError(
            f"{str(file)!r} not found: {str(path)!r} was not written by {cls.name!r}.save()"
        )
    try:
        payload = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"{file} cannot be read ({exc}); save the model again") from exc
    if not isinstance(payload, dict) or payload.get("model") != cls.name:
        raise ModelError(f"{file} does not hold a saved {cls.name!r}; save the model again")
    return payload


def _restore(cls: type[Model], path: str | Path, options: dict[str, Any]) -> tuple[Any, Any]:
    payload = _read(cls, path)
    return cls(**{**payload.get("options", {}), **options}), payload.get("state", {})


class FakeGenerator(TextGenerator):
    """Deterministic generator: repeats the prompt's last words, numbered per return sequence.

    Each output holds ``max_new_tokens`` words (its "tokens", counted by :meth:`count_tokens`)
    followed by ``#i``, the sequence number.
    """

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

    def count_tokens(self, text: str) -> int:
        """Tokens in one output: its words, without the ``#i`` sequence tag."""
        return len(_TAG.sub("", text).split())

    def save(self, path: str | Path) -> Path:
        """Write ``ecomlm_model.json`` (options only: the fake has no weights)."""
        return _save(self, path, {})

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Self:
        """Load a folder written by :meth:`save`."""
        model, _ = _restore(cls, path, options)
        loaded: Self = model
        return loaded


class FakeClassifierFitOptions(BaseModel):
    """What :meth:`FakeClassifier.fit` accepts besides texts and labels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    smoothing: float = Field(default=1.0, gt=0, description="Additive (Laplace) smoothing.")


class FakeClassifier(TextClassifier):
    """Naive-Bayes-style word-count classifier: small, deterministic, and genuinely learns.

    ``fit`` accepts the fields of :class:`FakeClassifierFitOptions` and raises
    :class:`~ecomlm_sdk.errors.ModelError` for any other keyword, as every classifier should.
    """

    name: ClassVar[str] = "fake-classifier"
    FitOptions: ClassVar[type[BaseModel] | None] = FakeClassifierFitOptions
    smoothing: float = 1.0

    def _fit(self, texts: list[str], labels: list[str], **kwargs: Any) -> None:
        options = FakeClassifierFitOptions(**kwargs)  # checked by fit()
        self.smoothing = options.smoothing
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
            total = sum(counts.values()) + self.smoothing * vocab
            for i, text in enumerate(texts):
                scores[i, j] = self._log_prior[label] + sum(
                    math.log((counts[w] + self.smoothing) / total) for w in _words(text)
                )
        scores -= scores.max(axis=1, keepdims=True)
        probs: np.ndarray = np.exp(scores)
        normalized: np.ndarray = probs / probs.sum(axis=1, keepdims=True)
        return normalized

    def save(self, path: str | Path) -> Path:
        """Write labels, word counts and priors to ``ecomlm_model.json`` (JSON, no pickle)."""
        state = {
            "labels": self.labels,
            "smoothing": self.smoothing,
            "counts": {label: dict(counts) for label, counts in self._counts.items()},
            "log_prior": self._log_prior,
        }
        return _save(self, path, state)

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Self:
        """Load a folder written by :meth:`save`."""
        model, state = _restore(cls, path, options)
        model.labels = list(state["labels"])
        model.smoothing = float(state["smoothing"])
        model._counts = {k: Counter[str](v) for k, v in state["counts"].items()}
        model._vocab = {w for c in model._counts.values() for w in c}
        model._log_prior = {k: float(v) for k, v in state["log_prior"].items()}
        loaded: Self = model
        return loaded


class FakeEmbedder(Embedder):
    """Hashed bag-of-words embeddings, L2-normalized unless ``normalize=False``."""

    name: ClassVar[str] = "fake-embedder"

    class Options(ModelOptions):
        dimension: int = Field(default=64, ge=1, description="Length of each vector.")
        normalize: bool = Field(default=True, description="L2-normalize each vector.")

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
        options: Any = self.options
        if not options.normalize:
            return out
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    def save(self, path: str | Path) -> Path:
        """Write ``ecomlm_model.json`` (options only: hashing needs no weights)."""
        return _save(self, path, {})

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Self:
        """Load a folder written by :meth:`save`."""
        model, _ = _restore(cls, path, options)
        loaded: Self = model
        return loaded
