"""Model bases: ``TextGenerator``, ``TextClassifier`` and ``Embedder``.

Each has one public method wrapping one private one: the public method validates input, turns a
single string into a list and back, and checks the output; subclasses implement the private
method with lists in and lists (or arrays) out.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Self

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from typing_extensions import TypeVar

from ecomlm_sdk.engines import EngineArg, choose_engine
from ecomlm_sdk.errors import EcomlmError, ModelError, NotFittedError
from ecomlm_sdk.models.device import DeviceChoice, resolve_device
from ecomlm_sdk.options import Configurable
from ecomlm_sdk.registry import register_kind

__all__ = [
    "ClassificationReport",
    "Embedder",
    "GenerationOptions",
    "Model",
    "ModelOptions",
    "ModelOptionsT",
    "Prediction",
    "TextClassifier",
    "TextGenerator",
    "as_texts",
]

TextInput = str | Sequence[str] | pl.Series


def as_texts(texts: TextInput, *, what: str = "texts") -> list[str]:
    """Normalize a string, a sequence of strings or a polars Series into a list of strings."""
    if isinstance(texts, str):
        return [texts]
    items = texts.to_list() if isinstance(texts, pl.Series) else list(texts)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise ModelError(
                f"{what}[{i}] is {type(item).__name__} ({item!r}), not a string; "
                "fill or drop missing values first."
            )
    return items


class ModelOptions(BaseModel):
    """Options shared by every model. Subclass and keep ``extra="forbid"``."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    device: str | None = Field(
        default=None,
        description="'auto' (None), 'cpu', 'cuda', 'cuda:N' or 'mps'. ECOMLM_DEVICE overrides auto.",
    )
    quiet: bool = Field(default=False, description="Hide progress bars.")


#: The options model of a :class:`Model` subclass.
ModelOptionsT = TypeVar("ModelOptionsT", bound=ModelOptions, default=ModelOptions)


class Model(Configurable[ModelOptionsT], ABC):
    """Common base: validated options and a device resolved through the ``select_device`` hook.

    Generic in its options (``TextClassifier[MyOptions]`` types ``self.options``). The public
    entry points (``generate``, ``predict_proba``, ``embed``) own the inference context: the
    private method runs under ``torch.inference_mode()`` when torch is loaded (torch is never
    imported for a model that does not use it), and :meth:`place` moves tensors to
    :attr:`device`, so a subclass does neither itself.
    """

    name: ClassVar[str]
    Options: ClassVar[type[ModelOptions]] = ModelOptions
    component_label: ClassVar[str] = "model"
    options_error: ClassVar[type[EcomlmError]] = ModelError

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.device_choice: DeviceChoice = resolve_device(self.options.device)

    @property
    def device(self) -> str:
        """The torch device string this model runs on."""
        return self.device_choice.device

    def place(self, value: Any) -> Any:
        """``value`` (a tensor, a module, or a dict of them) moved to :attr:`device`."""
        if isinstance(value, dict):
            return {key: self.place(item) for key, item in value.items()}
        to = getattr(value, "to", None)
        return to(self.device) if callable(to) else value

    @contextmanager
    def inference(self) -> Iterator[None]:
        """The context the public entry points run the private methods in.

        ``torch.inference_mode()`` when torch has been imported (a torch model imports it),
        else nothing: a model without torch never pays for importing it.
        """
        torch = sys.modules.get("torch")
        if torch is None:
            yield
            return
        with torch.inference_mode():
            yield

    def save(self, path: str | Path) -> Path:
        """Save to a folder (``save_pretrained`` layout, safetensors)."""
        raise ModelError(f"Model {self.display_name!r} does not support save()")

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Self:
        """Load from a folder written by :meth:`save`."""
        raise ModelError(f"Model {cls.name!r} does not support load()")


class GenerationOptions(BaseModel):
    """Decoding settings for :meth:`TextGenerator.generate` (names as in transformers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_new_tokens: int = Field(default=50, ge=1, description="Tokens to generate per sequence.")
    temperature: float = Field(default=1.0, gt=0, description="Softmax temperature (sampling).")
    top_p: float = Field(default=1.0, gt=0, le=1, description="Nucleus sampling mass.")
    top_k: int = Field(default=50, ge=0, description="Keep the k most likely tokens (0: all).")
    do_sample: bool = Field(default=False, description="Sample instead of greedy decoding.")
    num_return_sequences: int = Field(default=1, ge=1, description="Sequences per prompt.")
    repetition_penalty: float = Field(default=1.0, gt=0, description="Penalty on repeats.")
    seed: int | None = Field(default=None, description="Seed for reproducible sampling.")
    stop: list[str] | None = Field(default=None, description="Cut each output at these strings.")


class TextGenerator(Model[ModelOptionsT]):
    """Generates text from prompts."""

    def generate(self, prompts: TextInput, **options: Any) -> list[str] | list[list[str]]:
        """Generate a continuation for each prompt.

        Args:
            prompts: One prompt or a list of prompts.
            **options: Fields of :class:`GenerationOptions`.

        Returns:
            One string per prompt, or one list of strings per prompt when
            ``num_return_sequences > 1``.
        """
        texts = as_texts(prompts, what="prompts")
        try:
            config = GenerationOptions(**options)
        except ValidationError as exc:
            raise ModelError(f"Invalid generation options: {exc}") from exc
        if not texts:
            return []
        with self.inference():
            outputs = self._generate(texts, config)
        if len(outputs) != len(texts) or any(
            len(o) != config.num_return_sequences for o in outputs
        ):
            raise ModelError(
                f"Model {self.display_name!r} returned outputs that do not match the prompts"
            )
        if config.stop:
            outputs = [[_cut(o, config.stop) for o in group] for group in outputs]
        if config.num_return_sequences == 1:
            return [group[0] for group in outputs]
        return outputs

    @abstractmethod
    def _generate(self, prompts: list[str], config: GenerationOptions) -> list[list[str]]:
        """Return ``config.num_return_sequences`` continuations for each prompt."""


def _cut(text: str, stops: list[str]) -> str:
    positions = [p for p in (text.find(s) for s in stops if s) if p >= 0]
    return text[: min(positions)] if positions else text


class Prediction(BaseModel):
    """One classification: the predicted label and every label's probability."""

    model_config = ConfigDict(frozen=True)

    label: str
    probabilities: dict[str, float]

    @property
    def confidence(self) -> float:
        """Probability of the predicted label."""
        return self.probabilities[self.label]


class ClassificationReport(BaseModel):
    """Accuracy, macro-F1 and the confusion matrix (rows: true label, columns: predicted)."""

    model_config = ConfigDict(frozen=True)

    accuracy: float
    macro_f1: float
    labels: list[str]
    confusion: list[list[int]]
    n: int


class TextClassifier(Model[ModelOptionsT]):
    """Assigns one of a fixed set of labels to each text.

    A classifier declares what callers should know about it, so tasks keep no tables keyed
    by model name: :attr:`fast_fit_options` (the ``fit()`` arguments for a quick fit, used by a
    task when its user gives none) and :attr:`calibrated` (whether ``predict_proba`` returns
    calibrated probabilities). A classifier with ``fit()`` arguments declares them as
    :attr:`FitOptions`: ``fit()`` then validates them and hands ``_fit`` the valid ones.
    """

    labels: list[str]
    #: The ``fit()`` keyword arguments (a pydantic model, ``extra="forbid"``); ``None``: ``fit``
    #: passes its keyword arguments to ``_fit`` unchecked (a subclass validates them itself).
    FitOptions: ClassVar[type[BaseModel] | None] = None
    #: ``fit()`` arguments for a quick fit (e.g. ``{"mode": "head"}``); ``{}``: the defaults.
    fast_fit_options: ClassVar[Mapping[str, Any]] = MappingProxyType({})

    @property
    def calibrated(self) -> bool:
        """Whether :meth:`predict_proba` gives calibrated probabilities (e.g. temperature-scaled
        on held-out data by the last fit). ``False`` unless the subclass says otherwise."""
        return False

    def fit(self, texts: TextInput, labels: Sequence[str] | pl.Series, **kwargs: Any) -> Self:
        """Train on ``texts`` with their ``labels``; returns ``self``."""
        xs = as_texts(texts)
        ys = [str(y) for y in (labels.to_list() if isinstance(labels, pl.Series) else labels)]
        if len(xs) != len(ys):
            raise ModelError(f"fit() got {len(xs)} texts but {len(ys)} labels; they must match")
        if len(set(ys)) < 2:
            raise ModelError(f"fit() needs at least two distinct labels, got {sorted(set(ys))}")
        self._fit(xs, ys, **self._fit_arguments(kwargs))
        return self

    def predict_proba(self, texts: TextInput, *, engine: EngineArg = None) -> np.ndarray:
        """Probabilities, shape ``(n, len(self.labels))``, columns in ``self.labels`` order.

        Args:
            texts: One text, a list of texts or a polars string Series.
            engine: Where to run: ``None`` (``ECOMLM_ENGINE``, else in-process), ``"local"``,
                ``"ray"`` (an actor pool, one model load per actor; see the scale guide),
                ``"auto"`` or an :class:`~ecomlm_sdk.engines.Engine`.
        """
        if not getattr(self, "labels", None):
            raise NotFittedError(
                f"Model {self.display_name!r} has no labels yet: call fit() or load() first"
            )
        xs = as_texts(texts)
        if not xs:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        chosen = choose_engine(engine, kind="texts", rows=len(xs))
        if chosen is not None:
            from ecomlm_sdk.models.batch import classifier_spec, run_text_job

            probs = run_text_job(chosen, xs, classifier_spec(self), "probabilities")
        else:
            with self.inference():
                probs = np.asarray(self._predict_proba(xs))
        if probs.shape != (len(xs), len(self.labels)):
            raise ModelError(
                f"Model {self.display_name!r} returned probabilities of shape {probs.shape}"
            )
        return probs

    def predict(self, texts: TextInput, *, engine: EngineArg = None) -> list[Prediction]:
        """Predict a label (with per-label probabilities) for each text (``engine``: as in
        :meth:`predict_proba`)."""
        probs = self.predict_proba(texts, engine=engine)
        return [
            Prediction(
                label=self.labels[int(row.argmax())],
                probabilities={lab: float(p) for lab, p in zip(self.labels, row, strict=True)},
            )
            for row in probs
        ]

    def evaluate(self, texts: TextInput, labels: Sequence[str] | pl.Series) -> ClassificationReport:
        """Accuracy, macro-F1 and confusion matrix on labelled texts."""
        ys = [str(y) for y in (labels.to_list() if isinstance(labels, pl.Series) else labels)]
        predicted = [p.label for p in self.predict(texts)]
        return classification_report(ys, predicted, self.labels)

    def _fit_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.FitOptions is None:
            return kwargs
        try:
            checked = self.FitOptions(**kwargs)
        except ValidationError as exc:
            raise ModelError(
                f"Invalid fit() arguments for model {self.display_name!r}: {exc}. "
                f"Accepted: {sorted(self.FitOptions.model_fields)}"
            ) from exc
        return checked.model_dump()

    @abstractmethod
    def _fit(self, texts: list[str], labels: list[str], **kwargs: Any) -> None:
        """Train; must set ``self.labels``. ``kwargs`` are valid :attr:`FitOptions` fields."""

    @abstractmethod
    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities for non-empty ``texts``, columns in ``self.labels`` order."""


def classification_report(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> ClassificationReport:
    """Accuracy, macro-F1 (over labels present in truth or predictions) and confusion matrix."""
    all_labels = list(dict.fromkeys([*labels, *truth, *predicted]))
    index = {lab: i for i, lab in enumerate(all_labels)}
    confusion = np.zeros((len(all_labels), len(all_labels)), dtype=np.int64)
    for t, p in zip(truth, predicted, strict=True):
        confusion[index[t], index[p]] += 1
    n = int(confusion.sum())
    tp = np.diag(confusion).astype(float)
    support = confusion.sum(axis=1)
    predicted_count = confusion.sum(axis=0)
    present = (support + predicted_count) > 0
    precision = np.divide(tp, predicted_count, out=np.zeros_like(tp), where=predicted_count > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return ClassificationReport(
        accuracy=float(tp.sum() / n) if n else 0.0,
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        labels=all_labels,
        confusion=confusion.tolist(),
        n=n,
    )


class Embedder(Model[ModelOptionsT]):
    """Maps texts to fixed-size float32 vectors."""

    def embed(self, texts: TextInput, *, engine: EngineArg = None) -> np.ndarray:
        """Embed each text: float32 array of shape ``(n, dimension)``.

        ``engine``: as in :meth:`TextClassifier.predict_proba` (``"ray"``: an actor pool).
        """
        xs = as_texts(texts)
        if not xs:
            return np.zeros((0, self.dimension), dtype=np.float32)
        chosen = choose_engine(engine, kind="texts", rows=len(xs))
        if chosen is not None:
            from ecomlm_sdk.models.batch import embedder_spec, run_text_job

            vectors = run_text_job(chosen, xs, embedder_spec(self), "embedding")
        else:
            with self.inference():
                vectors = np.asarray(self._embed(xs), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(xs):
            raise ModelError(
                f"Model {self.display_name!r} returned embeddings of shape {vectors.shape}"
            )
        return vectors

    @property
    @abstractmethod
    def dimension(self) -> int:
        """Length of each embedding vector."""

    @abstractmethod
    def _embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings for non-empty ``texts``."""


for _base in (TextGenerator, TextClassifier, Embedder):
    register_kind("model", _base)
