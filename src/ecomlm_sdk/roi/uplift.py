"""Uplift models: each customer's incremental response to a treatment, learned from an experiment.

Both learners take randomized data (features, the arm each customer was assigned, a 0/1
response) and any classifier with ``fit(X, y)`` and ``predict_proba(X)``: by default
``lightgbm.LGBMClassifier`` with small, regularized trees. Several treatment arms are handled at
once: each treatment arm is modelled against the control arm, giving one uplift column per arm.

* :class:`TwoModelUplift` (T-learner): one classifier per arm; uplift is
  ``P(y=1 | x, arm=k) - P(y=1 | x, control)``.
* :class:`ClassTransformationUplift` (Jaskowski & Jaroszewicz 2012): one classifier per
  treatment arm on the transformed label ``z = y*t + (1-y)*(1-t)``; uplift is
  ``2 * P(z=1 | x) - 1``. That identity needs treated and control to weigh the same; unlike
  scikit-uplift, which only warns on unbalanced groups, we weight rows by
  ``0.5 / share_of_their_group`` so it holds for any split (the classifier must accept
  ``sample_weight``).
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import numpy as np
import polars as pl

from ecomlm_sdk.errors import NotFittedError, RoiError
from ecomlm_sdk.roi.frames import to_polars

__all__ = [
    "ClassTransformationUplift",
    "TwoModelUplift",
    "UpliftModel",
    "default_classifier",
    "feature_matrix",
]


def default_classifier(seed: int = 0) -> Any:
    """A small, regularized ``lightgbm.LGBMClassifier`` (the default learner)."""
    from lightgbm import LGBMClassifier

    return LGBMClassifier(
        n_estimators=150,
        learning_rate=0.05,
        num_leaves=15,
        min_child_samples=100,
        subsample=0.8,
        subsample_freq=1,
        reg_lambda=1.0,
        random_state=seed,
        n_jobs=1,
        verbose=-1,
    )


def feature_matrix(features: Any) -> np.ndarray:
    """Features as a 2-D float array: from numpy, or a polars/pandas frame of numeric columns."""
    if isinstance(features, np.ndarray):
        matrix = features
    else:
        frame = to_polars(features, "features")
        bad = [c for c, t in frame.schema.items() if not (t.is_numeric() or t == pl.Boolean())]
        if bad:
            raise RoiError(f"feature columns {bad} are not numeric; encode or drop them")
        matrix = frame.cast(pl.Float64()).to_numpy()
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2:
        raise RoiError(f"features must be 2-D (customers x features), got shape {matrix.shape}")
    return matrix


def _clone(estimator: Any) -> Any:
    if hasattr(estimator, "get_params"):
        from sklearn.base import clone

        return clone(estimator)
    return copy.deepcopy(estimator)


def _positive_proba(model: Any, x: np.ndarray) -> np.ndarray:
    proba = np.asarray(model.predict_proba(x))
    classes = list(getattr(model, "classes_", [0, 1]))
    column: np.ndarray = proba[:, classes.index(1)] if 1 in classes else proba[:, -1]
    return column


class UpliftModel(ABC):
    """Base of the uplift learners.

    Args:
        classifier: Any object with ``fit`` and ``predict_proba``; cloned per sub-model.
            Default: :func:`default_classifier`.
        control: The arm label of the control group.
    """

    name: ClassVar[str]

    def __init__(self, classifier: Any = None, *, control: str = "control") -> None:
        self.classifier = classifier if classifier is not None else default_classifier()
        self.control = control
        self.treatments: list[str] = []
        self._models: dict[str, Any] = {}

    def fit(self, features: Any, arm: Any, converted: Any) -> Self:
        """Learn from a randomized experiment.

        Args:
            features: Customers x features (numpy, polars or pandas).
            arm: Each customer's arm label.
            converted: Each customer's 0/1 response.

        Raises:
            RoiError: Lengths differ, the response is not 0/1, the control arm is absent, or an
                arm lacks a class.
        """
        x = feature_matrix(features)
        arms = np.asarray(arm).astype(str)
        y = np.asarray(converted, dtype=float)
        if not len(x) == len(arms) == len(y):
            raise RoiError(
                f"features ({len(x)}), arm ({len(arms)}) and converted ({len(y)}) differ in length"
            )
        if not np.isin(y, (0.0, 1.0)).all():
            raise RoiError("converted must hold only 0 and 1 (missing responses are not allowed)")
        labels = sorted(set(arms.tolist()))
        if self.control not in labels:
            raise RoiError(f"control arm {self.control!r} not found among arms {labels}")
        self.treatments = [a for a in labels if a != self.control]
        if not self.treatments:
            raise RoiError("only the control arm is present; uplift needs a treatment arm")
        for label in labels:
            ys = y[arms == label]
            if len(np.unique(ys)) < 2:
                raise RoiError(f"arm {label!r} has a single response value; cannot learn uplift")
        self._fit(x, arms, y.astype(np.int64))
        return self

    def predict(self, features: Any) -> np.ndarray:
        """Per-customer uplift: shape ``(n,)`` for one treatment arm, ``(n, arms)`` for several
        (columns in the order of :attr:`treatments`)."""
        if not self.treatments:
            raise NotFittedError(f"{type(self).__name__}.predict called before fit")
        x = feature_matrix(features)
        out = np.column_stack([self._uplift(x, arm) for arm in self.treatments])
        return out[:, 0] if out.shape[1] == 1 else out

    def predict_frame(self, features: Any) -> pl.DataFrame:
        """Per-customer uplift as a frame with one ``uplift_<arm>`` column per treatment arm."""
        values = self.predict(features).reshape(-1, len(self.treatments))
        return pl.DataFrame(
            {f"uplift_{arm}": values[:, i] for i, arm in enumerate(self.treatments)}
        )

    @abstractmethod
    def _fit(self, x: np.ndarray, arms: np.ndarray, y: np.ndarray) -> None:
        """Fit the sub-models from validated arrays."""

    @abstractmethod
    def _uplift(self, x: np.ndarray, arm: str) -> np.ndarray:
        """Uplift of treatment ``arm`` for each row of ``x``."""


class TwoModelUplift(UpliftModel):
    """T-learner: one response model per arm; uplift is the difference of their probabilities."""

    name: ClassVar[str] = "two_model"

    def _fit(self, x: np.ndarray, arms: np.ndarray, y: np.ndarray) -> None:
        for label in [self.control, *self.treatments]:
            mask = arms == label
            self._models[label] = _clone(self.classifier).fit(x[mask], y[mask])

    def _uplift(self, x: np.ndarray, arm: str) -> np.ndarray:
        treated = _positive_proba(self._models[arm], x)
        control = _positive_proba(self._models[self.control], x)
        difference: np.ndarray = treated - control
        return difference

    def predict_response(self, features: Any, arm: str) -> np.ndarray:
        """``P(y=1 | x, arm)``: the response probability under ``arm`` (control included)."""
        if arm not in self._models:
            raise NotFittedError(f"no fitted model for arm {arm!r}; fitted: {list(self._models)}")
        return _positive_proba(self._models[arm], feature_matrix(features))


class ClassTransformationUplift(UpliftModel):
    """Class transformation with balancing weights: one classifier per treatment arm."""

    name: ClassVar[str] = "class_transformation"

    def _fit(self, x: np.ndarray, arms: np.ndarray, y: np.ndarray) -> None:
        for arm in self.treatments:
            mask = (arms == arm) | (arms == self.control)
            t = (arms[mask] == arm).astype(np.int64)
            z = y[mask] * t + (1 - y[mask]) * (1 - t)
            share = t.mean()
            weight = np.where(t == 1, 0.5 / share, 0.5 / (1 - share))
            try:
                self._models[arm] = _clone(self.classifier).fit(x[mask], z, sample_weight=weight)
            except TypeError as exc:
                raise RoiError(
                    f"classifier {type(self.classifier).__name__} does not accept sample_weight, "
                    "which class transformation needs; use TwoModelUplift or another classifier"
                ) from exc

    def _uplift(self, x: np.ndarray, arm: str) -> np.ndarray:
        return 2 * _positive_proba(self._models[arm], x) - 1
