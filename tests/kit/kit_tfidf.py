"""A scikit-learn TF-IDF + logistic regression classifier for ``support``, written as a third
party would (saved as JSON and safetensors, no pickle): the model the kit's classifier
contract is tested on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from safetensors.numpy import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from ecomlm_sdk import ModelError, TextClassifier


class FitOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    c: float = Field(default=10.0, gt=0, description="Inverse regularization strength.")


class TfidfClassifier(TextClassifier):
    name: ClassVar[str] = "tfidf-classifier"

    def _fit(self, texts: list[str], labels: list[str], **kwargs: Any) -> None:
        try:
            options = FitOptions(**kwargs)
        except ValidationError as exc:
            raise ModelError(f"Invalid fit options: {exc}") from exc
        self.vectorizer = TfidfVectorizer().fit(texts)
        self.estimator = LogisticRegression(C=options.c, max_iter=1000)
        self.estimator.fit(self.vectorizer.transform(texts), labels)
        self.labels = [str(c) for c in self.estimator.classes_]

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        probs: np.ndarray = self.estimator.predict_proba(self.vectorizer.transform(texts))
        return probs

    def save(self, path: str | Path) -> Path:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        save_file(
            {
                "idf": np.ascontiguousarray(self.vectorizer.idf_),
                "coef": np.ascontiguousarray(self.estimator.coef_),
                "intercept": np.ascontiguousarray(self.estimator.intercept_),
            },
            str(folder / "model.safetensors"),
        )
        meta = {
            "model": self.name,
            "labels": self.labels,
            "vocabulary": {k: int(v) for k, v in self.vectorizer.vocabulary_.items()},
        }
        (folder / "ecomlm_model.json").write_text(json.dumps(meta))
        return folder

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Self:
        folder = Path(path)
        meta = json.loads((folder / "ecomlm_model.json").read_text())
        weights = load_file(str(folder / "model.safetensors"))
        model = cls(**options)
        model.vectorizer = TfidfVectorizer(vocabulary=meta["vocabulary"])
        model.vectorizer.idf_ = weights["idf"]
        model.estimator = LogisticRegression()
        model.estimator.classes_ = np.array(meta["labels"])
        model.estimator.coef_ = weights["coef"]
        model.estimator.intercept_ = weights["intercept"]
        model.labels = list(meta["labels"])
        return model
