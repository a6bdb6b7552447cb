"""Tabular learners behind purchase prediction: LightGBM, logistic regression, or any
registered text classifier fed the features written out as text.

Each saves to plain files (LightGBM's own text model format, JSON coefficients, or the
classifier's ``save()`` folder): no pickle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from ecomlm_sdk._persist import read_json, write_json
from ecomlm_sdk.errors import ComponentTypeError, ModelError, TaskError
from ecomlm_sdk.models.base import TextClassifier
from ecomlm_sdk.plugins import resolve, resolve_class

__all__ = ["Learner", "LightGBMLearner", "LogisticLearner", "TextClassifierLearner", "make_learner"]


class Learner(ABC):
    """Binary classifier over a float feature matrix (NaN allowed)."""

    @abstractmethod
    def fit(self, features: np.ndarray, labels: np.ndarray, names: list[str]) -> None:
        """Train on ``features`` (rows x ``names``) and 0/1 ``labels``."""

    @abstractmethod
    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Probability of label 1 for each row."""

    @abstractmethod
    def save(self, folder: Path) -> None:
        """Write the fitted learner into ``folder``."""

    @abstractmethod
    def load(self, folder: Path) -> None:
        """Read a learner written by :meth:`save`."""


class LightGBMLearner(Learner):
    """Gradient-boosted trees (LightGBM), saved in LightGBM's text model format."""

    FILE = "lightgbm.txt"

    def __init__(self, params: dict[str, Any], rounds: int, objective: str = "binary") -> None:
        self.params = {"objective": objective, "verbose": -1, **params}
        self.rounds = rounds
        self.booster: Any = None

    def fit(self, features: np.ndarray, labels: np.ndarray, names: list[str]) -> None:
        import lightgbm as lgb

        params = dict(self.params)
        # A leaf size tuned for thousands of customers would forbid any split in a small
        # shop: cap it at a twentieth of the rows.
        if "min_data_in_leaf" in params:
            params["min_data_in_leaf"] = min(params["min_data_in_leaf"], max(5, len(labels) // 20))
        data = lgb.Dataset(features, labels, feature_name=names, free_raw_data=True)
        self.booster = lgb.train(params, data, num_boost_round=self.rounds)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster.predict(features), dtype=np.float64)

    def save(self, folder: Path) -> None:
        self.booster.save_model(str(folder / self.FILE))

    def load(self, folder: Path) -> None:
        import lightgbm as lgb

        path = folder / self.FILE
        if not path.is_file():
            raise TaskError(f"{path} is missing: the saved task is incomplete; save it again")
        try:
            self.booster = lgb.Booster(model_file=str(path))
        except lgb.basic.LightGBMError as exc:
            raise TaskError(
                f"{path} is not a valid LightGBM text model ({exc}); save the task again"
            ) from exc

    def importance(self) -> dict[str, float]:
        """Total gain of each feature, for explaining the model."""
        gains = self.booster.feature_importance(importance_type="gain")
        return {n: float(g) for n, g in zip(self.booster.feature_name(), gains, strict=True)}


def _signed_log(features: np.ndarray) -> np.ndarray:
    clean = np.nan_to_num(features, nan=-1.0, posinf=0.0, neginf=0.0)
    out: np.ndarray = np.sign(clean) * np.log1p(np.abs(clean))
    return out


class LogisticLearner(Learner):
    """Logistic regression on signed-log, standardized features; saved as JSON."""

    FILE = "logistic.json"

    def __init__(self, c: float = 1.0) -> None:
        self.c = c
        self.mean = self.scale = self.coef = np.zeros(0)
        self.intercept = 0.0

    def fit(self, features: np.ndarray, labels: np.ndarray, names: list[str]) -> None:
        from sklearn.linear_model import LogisticRegression

        x = _signed_log(features)
        self.mean = x.mean(axis=0)
        self.scale = np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
        model = LogisticRegression(C=self.c, max_iter=2000)
        model.fit((x - self.mean) / self.scale, labels)
        self.coef = model.coef_.ravel()
        self.intercept = float(model.intercept_[0])

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        z = ((_signed_log(features) - self.mean) / self.scale) @ self.coef + self.intercept
        out: np.ndarray = 1.0 / (1.0 + np.exp(-z))
        return out

    def save(self, folder: Path) -> None:
        state = {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }
        write_json(folder / self.FILE, state)

    def load(self, folder: Path) -> None:
        path = folder / self.FILE
        state = read_json(path, error=TaskError, what="saved task")
        try:
            mean, scale = np.array(state["mean"], float), np.array(state["scale"], float)
            coef, intercept = np.array(state["coef"], float), float(state["intercept"])
        except (KeyError, TypeError, ValueError) as exc:
            raise TaskError(f"{path} is malformed ({exc!r}); save the task again") from exc
        if not (mean.ndim == 1 and mean.shape == scale.shape == coef.shape):
            raise TaskError(
                f"{path}: 'mean', 'scale' and 'coef' must be lists of one length, got "
                f"{mean.shape}, {scale.shape}, {coef.shape}; save the task again"
            )
        if not (np.isfinite(coef).all() and np.isfinite(intercept) and (scale > 0).all()):
            raise TaskError(f"{path}: coefficients must be finite and scales above 0")
        self.mean, self.scale, self.coef, self.intercept = mean, scale, coef, intercept


class TextClassifierLearner(Learner):
    """Any registered ``TextClassifier`` plugin, fed each customer's features as a sentence.

    The sentence reads like ``"recency_days 12; n_orders 5; ..."`` (values rounded), so a
    language-model classifier such as ``bert-classifier`` can stand in for the tree model.
    """

    FOLDER = "classifier"
    POSITIVE, NEGATIVE = "buy", "no_buy"

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        self.names: list[str] = []
        self.model: Any = None

    def _texts(self, features: np.ndarray) -> list[str]:
        return [
            "; ".join(
                f"{n} {'unknown' if np.isnan(v) else f'{v:.3g}'}"
                for n, v in zip(self.names, row, strict=True)
            )
            for row in features
        ]

    def fit(self, features: np.ndarray, labels: np.ndarray, names: list[str]) -> None:
        self.names = list(names)
        try:
            model = resolve("model", self.model_name, TextClassifier)
        except ComponentTypeError as exc:
            exc.add_note("learner= also takes 'lightgbm' or 'logistic'")
            raise
        words = [self.POSITIVE if y else self.NEGATIVE for y in labels]
        self.model = model.fit(self._texts(features), words)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        probs = self.model.predict_proba(self._texts(features))
        column = list(self.model.labels).index(self.POSITIVE)
        return np.asarray(probs[:, column], dtype=np.float64)

    def save(self, folder: Path) -> None:
        try:
            self.model.save(folder / self.FOLDER)
        except ModelError as exc:
            raise TaskError(
                f"Learner {self.model_name!r} cannot be saved ({exc}); use learner='lightgbm' "
                "to save the task, or a classifier plugin that implements save()"
            ) from exc
        write_json(folder / "classifier.json", {"model": self.model_name, "names": self.names})

    def load(self, folder: Path) -> None:
        path = folder / "classifier.json"
        meta = read_json(path, error=TaskError, what="saved task")
        names = meta.get("names") if isinstance(meta, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise TaskError(f"{path} key 'names' must be a list of feature names; save again")
        if meta.get("model") != self.model_name:
            raise TaskError(
                f"{path} key 'model' is {meta.get('model')!r} but the task's learner is "
                f"{self.model_name!r}; save the task again"
            )
        model = resolve_class("model", self.model_name, TextClassifier).load(folder / self.FOLDER)
        if self.POSITIVE not in list(getattr(model, "labels", [])):
            raise TaskError(
                f"{folder / self.FOLDER} holds a classifier without the label {self.POSITIVE!r}"
                "; save the task again"
            )
        self.names, self.model = names, model


def make_learner(name: str, seed: int, threads: int | None) -> Learner:
    """The learner called ``name``: 'lightgbm', 'logistic' or a registered text classifier."""
    if name == "lightgbm":
        params: dict[str, Any] = {
            "learning_rate": 0.02,
            "num_leaves": 5,
            "min_data_in_leaf": 300,
            "feature_fraction": 0.7,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 5.0,
            "seed": seed,
            "deterministic": True,
        }
        if threads:
            params["num_threads"] = threads
        return LightGBMLearner(params, rounds=300)
    if name == "logistic":
        return LogisticLearner()
    return TextClassifierLearner(name)
