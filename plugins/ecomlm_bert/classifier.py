"""``bert-classifier``: a text classifier over any Hugging Face encoder (default: bundled MiniLM)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Literal, Self

import numpy as np
import polars as pl
import torch
from pydantic import BaseModel, Field
from safetensors import safe_open
from safetensors.torch import save_file

from ecomlm_bert.encoder import Backend, Encoder, Int8Engine
from ecomlm_bert.onnx_backend import onnx_available
from ecomlm_bert.quantization import (
    MIN_SAMPLE,
    QuantizationReport,
    calibration_sample,
    measure_agreement,
    recheck_close_calls,
)
from ecomlm_bert.training import FitOptions, FitReport, train_classifier
from ecomlm_sdk.errors import InvalidValueError, ModelError, NotFittedError
from ecomlm_sdk.models.base import ModelOptions, TextClassifier, as_texts
from ecomlm_sdk.models.batching import chunked
from ecomlm_sdk.models.hf import (
    check_local_folder,
    check_positive_finite,
    read_metadata,
    require,
    saving,
    write_metadata,
)
from ecomlm_sdk.progress import progress

__all__ = ["BertClassifier", "BertClassifierOptions"]

HEAD_FILE = "classifier_head.safetensors"


class BertClassifierOptions(ModelOptions):
    """Options of ``bert-classifier``."""

    backbone: str | None = Field(
        default=None,
        description="Encoder hub id or local folder; None: the bundled all-MiniLM-L6-v2 (offline).",
    )
    max_length: int = Field(default=256, ge=8, le=8192, description="Tokens kept per text.")
    batch_size: int = Field(default=32, ge=1, description="Texts per forward pass at inference.")
    batch_tokens: int | None = Field(
        default=None,
        ge=1,
        description="Most padded tokens (texts x longest) per forward pass; None: 1024 on CPU "
        "(measured faster: small batches stay in cache), no limit on an accelerator.",
    )
    quantize: bool = Field(
        default=False,
        description="int8 dynamic quantization for inference (CPU only), used only when it "
        "agrees with float32 on quantize_min_agreement of a calibration sample.",
    )
    backend: Backend = Field(
        default="torch",
        description="Inference backend: 'torch', 'onnx' (ONNX Runtime, CPU, the onnx extra) or "
        "'auto' (onnx only when installed and faster on a small probe).",
    )
    quantize_min_agreement: float = Field(
        default=0.99,
        ge=0.0,
        le=1.0,
        description="Share of calibration predictions int8 must get identical to float32.",
    )
    quantize_sample: int = Field(
        default=512, ge=1, description="Calibration texts compared in float32 and int8."
    )
    quantize_min_sample: int = Field(
        default=MIN_SAMPLE,
        ge=1,
        description="Fewest calibration texts that may let int8 in (fewer: float32, warned).",
    )
    quantize_recheck: bool = Field(
        default=True,
        description="Re-run in float32 the int8 predictions closer to a tie than the int8 "
        "error measured on the calibration sample.",
    )
    quantize_engine: Literal["auto", "onnx", "torch"] = Field(
        default="auto",
        description="What runs int8: 'onnx' (ONNX Runtime, the onnx extra), 'torch', or 'auto' "
        "(onnx when installed).",
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Processes predict_column uses: above 1, that many single-thread worker "
        "processes (CPU only); see ecomlm_bert.workers.",
    )
    trust_remote_code: bool = Field(
        default=False, description="Allow code from the model repository to run."
    )


class BertClassifier(TextClassifier[BertClassifierOptions]):
    """Mean-pooled encoder + linear head, calibrated by temperature scaling.

    Example:
        ```py
        clf = ecomlm_sdk.load_model("bert-classifier")
        clf.fit(texts, labels)                      # full fine-tuning; mode="head" is faster
        clf.predict(["where is my parcel"])[0].label
        ```
    """

    name: ClassVar[str] = "bert-classifier"
    Options: ClassVar[type[ModelOptions]] = BertClassifierOptions
    FitOptions: ClassVar[type[BaseModel] | None] = FitOptions
    #: A quick fit trains only the linear head on frozen embeddings (seconds on a CPU).
    fast_fit_options: ClassVar[Mapping[str, Any]] = MappingProxyType({"mode": "head"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if self.options.quantize and self.device != "cpu":
            raise ModelError(
                f"quantize=True needs the CPU, but the model runs on {self.device!r}; pass "
                "device='cpu' or quantize=False."
            )
        if self.options.quantize_engine == "onnx" and not onnx_available():
            raise ModelError(
                "quantize_engine='onnx' needs ONNX Runtime: pip install 'ecomlm-sdk[onnx]' "
                "(or pass quantize_engine='torch' or 'auto')."
            )
        if (
            self.options.quantize
            and self.options.quantize_sample < self.options.quantize_min_sample
        ):
            raise ModelError(
                f"quantize_sample={self.options.quantize_sample} is below "
                f"quantize_min_sample={self.options.quantize_min_sample}: int8 could never be "
                "used; raise quantize_sample or lower quantize_min_sample."
            )
        if self.options.workers > 1 and self.device != "cpu":
            raise ModelError(
                f"workers={self.options.workers} runs single-thread CPU processes, but the model "
                f"runs on {self.device!r}; pass device='cpu' or workers=1."
            )
        self._encoder: Encoder | None = None
        self._head: torch.nn.Linear | None = None
        self.labels: list[str] = []
        self.temperature: float = 1.0
        self.fit_report: FitReport | None = None
        #: int8 against float32 on the calibration sample (None until measured).
        self.quantization_report: QuantizationReport | None = None
        self._encoder_trained = False

    @property
    def int8_engine(self) -> Int8Engine:
        """What runs the int8 copy (``quantize_engine``, with ``"auto"`` resolved)."""
        engine = self.options.quantize_engine
        if engine == "auto":
            return "onnx" if onnx_available() else "torch"
        return engine

    @property
    def encoder(self) -> Encoder:
        """The encoder backbone, loaded on first use."""
        if self._encoder is None:
            self._encoder = Encoder.load(
                self.options.backbone,
                device_choice=self.device_choice,
                max_length=self.options.max_length,
                plugin="ecomlm_bert",
                trust_remote_code=self.options.trust_remote_code,
                backend=self.options.backend,
            )
        return self._encoder

    def fit(self, texts: Any, labels: Any, **kwargs: Any) -> Self:
        """Train on ``texts`` and ``labels``.

        Args:
            texts: Texts (list or polars Series).
            labels: One label per text.
            **kwargs: Fields of :class:`~ecomlm_bert.training.FitOptions`: ``mode`` ("full" or
                "head"), ``epochs``, ``learning_rate``, ``batch_size``, ``validation_split``,
                ``class_weights``, ``patience``, ``calibrate``, ``seed``, ...

        Returns:
            ``self``; ``self.fit_report`` holds the history and the calibration temperature.
        """
        return super().fit(texts, labels, **kwargs)

    @property
    def calibrated(self) -> bool:
        """True once a fit (or the loaded folder) set a temperature other than 1."""
        return self.temperature != 1.0

    def _fit(self, texts: list[str], labels: list[str], **kwargs: Any) -> None:
        options = FitOptions(**kwargs)  # checked by TextClassifier.fit()
        if self._encoder_trained:
            # Every fit starts from the backbone this model was created with, not from the
            # weights a previous full fine-tuning left behind.
            self._encoder = None
        names, head, report = train_classifier(
            self.encoder, texts, labels, options, quiet=self.options.quiet
        )
        self.labels, self._head, self.fit_report = names, head, report
        self._encoder_trained = options.mode == "full"
        self.temperature = report.temperature
        self.quantization_report = None
        if self.options.quantize:
            self.calibrate_quantization(texts)

    def calibrate_quantization(self, texts: list[str]) -> QuantizationReport:
        """Measure int8 against float32 on a sample of ``texts`` and decide which to use.

        Runs after every fit (on the training texts) when ``quantize=True``, and on the first
        texts classified by a model loaded without a recorded measurement; call it yourself
        with at least ``quantize_min_sample`` of your own texts to measure again. The result is
        in :attr:`quantization_report` (and saved with the model); see
        :mod:`ecomlm_bert.quantization` for the method.
        """
        if self._head is None:
            raise NotFittedError(f"Model {self.name!r} is not trained: call fit() or load() first")
        sample = calibration_sample(texts, self.options.quantize_sample)
        self.quantization_report = measure_agreement(
            lambda batch, quantized: self._raw_logits(batch, quantized=quantized),
            sample,
            min_agreement=self.options.quantize_min_agreement,
            min_sample=self.options.quantize_min_sample,
            recheck=self.options.quantize_recheck,
            engine=self.int8_engine,
        )
        return self.quantization_report

    @property
    def uses_int8(self) -> bool:
        """Whether inference runs on the int8 copy (``quantize=True`` and the gate passed)."""
        report = self.quantization_report
        return self.options.quantize and report is not None and report.used == "int8"

    def logits(self, texts: list[str]) -> torch.Tensor:
        """Uncalibrated logits, shape ``(n, len(labels))`` (int8 only where the gate passed)."""
        if self.options.quantize and self.quantization_report is None and texts:
            self.calibrate_quantization(texts)
        return self._logits(texts, quantized=self.uses_int8)

    def _logits(self, texts: list[str], *, quantized: bool) -> torch.Tensor:
        logits = self._raw_logits(texts, quantized=quantized)
        report = self.quantization_report
        if quantized and report is not None and report.recheck_margin is not None:
            logits = recheck_close_calls(
                logits,
                report.recheck_margin,
                lambda rows: self._raw_logits([texts[i] for i in rows], quantized=False),
            )
        return logits

    def _raw_logits(self, texts: list[str], *, quantized: bool) -> torch.Tensor:
        """Logits of the int8 copy (no re-check) or of float32."""
        if self._head is None:
            raise NotFittedError(f"Model {self.name!r} is not trained: call fit() or load() first")
        head = self.place(self._head)
        return self.encoder.encode(
            texts,
            batch_size=self.options.batch_size,
            batch_tokens=self.options.batch_tokens,
            quantized=quantized,
            int8_engine=self.int8_engine,
            quiet=True,
            desc="classifying",
            head=head,
        )

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        probs = torch.softmax(self.logits(texts) / self.temperature, dim=1)
        result: np.ndarray = probs.numpy()
        return result

    def predict_column(
        self,
        column: pl.Series | list[str],
        *,
        chunk_size: int = 4096,
        workers: int | None = None,
    ) -> pl.DataFrame:
        """Classify a whole column, streaming it in chunks with a progress bar.

        Args:
            column: A polars string Series (or list of strings) without nulls.
            chunk_size: Texts tokenized and sorted per chunk (bounds memory on huge columns).
            workers: Single-thread worker processes to spread the column over (default: the
                ``workers`` option, 1 = this process); see :mod:`ecomlm_bert.workers`.

        Returns:
            A frame with ``label`` (str) and ``confidence`` (f64), one row per input, in order.
        """
        texts = as_texts(column, what=getattr(column, "name", None) or "column")
        count = self.options.workers if workers is None else workers
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidValueError(
                f"workers={count!r} is not a positive integer; pass e.g. workers=2, or 1 to "
                "classify in this process."
            )
        if count > 1 and self.device != "cpu":
            raise ModelError(
                f"workers={count} runs single-thread CPU processes, but the model runs on "
                f"{self.device!r}; pass device='cpu' or workers=1."
            )
        if count > 1 and self._head is None:
            raise NotFittedError(f"Model {self.name!r} is not trained: call fit() or load() first")
        if count > 1 and self.options.quantize and self.quantization_report is None and texts:
            # Measure here, as the single-process path would, so every worker loads one decision.
            self.calibrate_quantization(texts)
        if count > 1:
            from ecomlm_bert.workers import predict_proba_in_workers

            parts: Iterable[np.ndarray] = predict_proba_in_workers(self, texts, workers=count)
            total = None
        else:
            parts = (self.predict_proba(list(chunk)) for chunk in chunked(texts, chunk_size))
            total = -(-len(texts) // chunk_size)
        labels: list[str] = []
        confidence: list[float] = []
        for probs in progress(
            parts, desc="classifying", total=total, unit="chunk", quiet=self.options.quiet
        ):
            labels.extend(self.labels[i] for i in probs.argmax(axis=1))
            confidence.extend(float(p) for p in probs.max(axis=1))
        return pl.DataFrame(
            {"label": labels, "confidence": confidence},
            schema={"label": pl.String, "confidence": pl.Float64},
        )

    def worker_options(self) -> dict[str, Any]:
        """Options a worker process loads this model's saved folder with (CPU, one process)."""
        keep = self.options.model_dump(exclude={"backbone", "device", "workers", "quiet"})
        return {**keep, "device": "cpu", "quiet": True, "workers": 1}

    def save(self, path: str | Path) -> Path:
        """Write encoder, tokenizer, head (safetensors) and ``ecomlm_model.json`` to ``path``.

        The save is atomic (see :func:`ecomlm_sdk.models.hf.saving`). The labels are written
        both to ``ecomlm_model.json`` and into the head file's own metadata, so a load can tell
        when the two disagree (labels edited, reordered, or a head from another model).
        """
        if self._head is None:
            raise NotFittedError(f"Model {self.name!r} is not trained: nothing to save")
        folder = Path(path)
        with saving(folder) as temp:
            self.encoder.save(temp)
            state = {k: v.detach().cpu().contiguous() for k, v in self._head.state_dict().items()}
            save_file(state, str(temp / HEAD_FILE), metadata={"labels": json.dumps(self.labels)})
            write_metadata(
                temp,
                self.name,
                labels=self.labels,
                temperature=self.temperature,
                max_length=self.options.max_length,
                **(
                    {"quantization": self.quantization_report.model_dump()}
                    if self.quantization_report is not None
                    else {}
                ),
            )
        return folder

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Self:
        """Load a classifier saved with :meth:`save` (options such as ``quantize`` may be given).

        Raises:
            ModelError: The folder was changed since the save, or its labels, temperature or
                head do not fit together; the message names the file.
        """
        meta = read_metadata(path, cls.name)
        if "backbone" in options:
            raise ModelError("load() takes the folder as `path`; do not pass backbone too")
        meta_file = Path(path) / "ecomlm_model.json"
        head_file = Path(path) / HEAD_FILE
        labels = require(meta, "labels", list, path)
        if (
            not labels
            or not all(isinstance(x, str) for x in labels)
            or len(set(labels)) != len(labels)
        ):
            raise ModelError(
                f"{meta_file} key 'labels' must be a list of distinct strings, got {labels!r}; "
                "save the model again."
            )
        temperature = check_positive_finite(
            meta.get("temperature"), key="temperature", path=meta_file, error=ModelError
        )
        max_length = require(meta, "max_length", int, path)
        try:
            model = cls(backbone=str(path), **{"max_length": max_length, **options})
        except ModelError as exc:
            raise ModelError(f"{meta_file}: {exc}") from exc
        head, trained_with = _read_head(head_file)
        if head.out_features != len(labels):
            raise ModelError(
                f"{str(head_file)!r} has {head.out_features} outputs but "
                f"ecomlm_model.json lists {len(labels)} labels; save the model again."
            )
        if trained_with is not None and trained_with != labels:
            raise ModelError(
                f"{meta_file} key 'labels' lists {labels} but {head_file} was trained with "
                f"{trained_with} (in that order): predictions would get the wrong labels. Save "
                "the model again."
            )
        # Refuse a folder that ships code now, not on the first prediction.
        check_local_folder(str(path), trust_remote_code=model.options.trust_remote_code)
        model._head, model.labels = head, list(labels)
        model.temperature = temperature
        recorded = meta.get("quantization")
        if recorded is not None and model.options.quantize:
            try:
                measured = QuantizationReport.model_validate(recorded)
            except ValueError as exc:
                raise ModelError(f"{meta_file} key 'quantization': {exc}") from exc
            # The agreement was measured on the texts of the fit; judge it by today's
            # thresholds. A measurement of another int8 engine says nothing about this one:
            # it is taken again on the first texts classified.
            if measured.engine == model.int8_engine:
                model.quantization_report = measured.with_threshold(
                    model.options.quantize_min_agreement, model.options.quantize_min_sample
                )
        return model


def _read_head(path: Path) -> tuple[torch.nn.Linear, list[str] | None]:
    """The linear head in ``path`` and the labels recorded in its metadata (None before 0.2)."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            state = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
            recorded = (handle.metadata() or {}).get("labels")
    except Exception as exc:  # SafetensorError is not exported under a stable name
        raise ModelError(
            f"{path} cannot be read as safetensors ({exc}); save the model again."
        ) from exc
    weight, bias = state.get("weight"), state.get("bias")
    if weight is None or bias is None or weight.ndim != 2 or bias.shape != (weight.shape[0],):
        raise ModelError(
            f"{path} must hold a 'weight' (outputs x inputs) and a matching 'bias'; found "
            f"{ {k: tuple(v.shape) for k, v in state.items()} }. Save the model again."
        )
    head = torch.nn.Linear(weight.shape[1], weight.shape[0])
    head.load_state_dict({"weight": weight, "bias": bias})
    labels: list[str] | None = None
    if recorded is not None:
        try:
            parsed = json.loads(recorded)
        except json.JSONDecodeError as exc:
            raise ModelError(f"{path}: the labels in its metadata are not JSON ({exc})") from exc
        labels = [str(x) for x in parsed] if isinstance(parsed, list) else None
    return head, labels
