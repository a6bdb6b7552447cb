"""``template-classifier``: a nearest-centroid bag-of-words classifier, saved without pickle."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar, Final, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from safetensors.numpy import load_file, save_file

from ecomlm_sdk import ModelError, TextClassifier

__all__ = ["CentroidClassifier", "CentroidFitOptions"]

WEIGHTS: Final = "centroids.safetensors"
METADATA: Final = "ecomlm_model.json"
_WORD: Final = re.compile(r"[a-z0-9]+")


class CentroidFitOptions(BaseModel):
    """What :meth:`CentroidClassifier.fit` accepts besides texts and labels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sharpness: float = Field(default=10.0, gt=0, description="Softmax scale of the cosines.")


class CentroidClassifier(TextClassifier):
    """Each label's mean word vector; a text gets a softmax over its cosine to each."""

    name: ClassVar[str] = "template-classifier"

    def _fit(self, texts: list[str], labels: list[str], **kwargs: Any) -> None:
        try:
            options = CentroidFitOptions(**kwargs)
        except ValidationError as exc:
            raise ModelError(
                f"Invalid fit options for {self.name!r}: {exc}. "
                f"Accepted: {sorted(CentroidFitOptions.model_fields)}"
            ) from exc
        words = sorted({w for text in texts for w in _WORD.findall(text.lower())})
        self.vocabulary = {w: i for i, w in enumerate(words)}
        self.sharpness = options.sharpness
        self.labels = sorted(set(labels))  # the column order of every probability row
        vectors = self._vectors(texts)
        truth = np.array(labels)
        self.centroids = _unit(
            np.stack([vectors[truth == lab].mean(axis=0) for lab in self.labels])
        )

    def _vectors(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.vocabulary)), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                if word in self.vocabulary:
                    out[i, self.vocabulary[word]] += 1.0
        return _unit(out)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        scores = self.sharpness * (self._vectors(texts) @ self.centroids.T)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        probs: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return probs

    def save(self, path: str | Path) -> Path:
        """Write ``centroids.safetensors`` and ``ecomlm_model.json`` (labels, vocabulary)."""
        if not getattr(self, "labels", None):
            raise ModelError(f"Model {self.name!r} is not trained: nothing to save")
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        save_file({"centroids": np.ascontiguousarray(self.centroids)}, str(folder / WEIGHTS))
        meta = {
            "model": self.name,
            "labels": self.labels,
            "vocabulary": self.vocabulary,
            "sharpness": self.sharpness,
        }
        (folder / METADATA).write_text(json.dumps(meta, indent=2) + "\n")
        return folder

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Self:
        """Load a folder written by :meth:`save`."""
        folder = Path(path)
        try:
            meta = json.loads((folder / METADATA).read_text())
            centroids = load_file(str(folder / WEIGHTS))["centroids"]
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{folder} is not a saved {cls.name!r}: {exc}") from exc
        if meta.get("model") != cls.name:
            raise ModelError(f"{folder / METADATA} holds model {meta.get('model')!r}")
        model = cls(**options)
        model.labels = list(meta["labels"])
        model.vocabulary = dict(meta["vocabulary"])
        model.sharpness = float(meta["sharpness"])
        model.centroids = centroids
        return model


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: np.ndarray = matrix / np.where(norms == 0, 1.0, norms)
    return unit
