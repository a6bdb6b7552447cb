"""A BERT-style encoder with mean pooling, shared by ``bert-classifier`` and ``minilm-embedder``.

Inference is tuned for throughput: texts are tokenized once, grouped into batches of similar
token length (little padding; on CPU at most :data:`CPU_BATCH_TOKENS` padded tokens per batch),
run under ``torch.inference_mode`` with SDPA attention, and split in half instead of crashing
when a batch runs out of accelerator memory. On CPU an opt-in int8 copy (torch's or ONNX
Runtime's dynamic quantization; ``bert-classifier`` gates it, see
:mod:`ecomlm_bert.quantization`) trades a little accuracy for speed, and an ONNX Runtime backend
(``backend="onnx"``, or ``"auto"``: ONNX only where installed and measured faster) runs the same
float32 computation with fused kernels.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import torch

from ecomlm_sdk.errors import ModelError
from ecomlm_sdk.models.batching import length_sorted_batches, pad_batch, run_with_backoff
from ecomlm_sdk.models.device import DeviceChoice
from ecomlm_sdk.models.hf import bundled_minilm_path, load_pretrained, load_tokenizer
from ecomlm_sdk.progress import progress

if TYPE_CHECKING:
    from ecomlm_bert.onnx_backend import OnnxEncoder

Backend = Literal["torch", "onnx", "auto"]
#: What runs the int8 copy: torch's dynamic quantization or ONNX Runtime's.
Int8Engine = Literal["torch", "onnx"]
#: Texts and tokens of the probe that ``backend="auto"`` times on both backends.
PROBE_TEXTS, PROBE_TOKENS = 8, 64
#: Padded tokens per batch on CPU when the caller sets no limit (``batch_tokens=None``).
#: Measured on MiniLM, 1 thread, 1,200 reviews in 3 chunks, medians (probes at load 2.3 to 6):
#: batches of at most 1,024 tokens ran 100.7 texts/s in ONNX Runtime fp32 against 88.5 with 32
#: texts per batch, 211.7 in ONNX int8 against 202.9 with 16, and 47.6 in torch fp32 against
#: 42.6 with 32: small batches keep the activations in cache.
CPU_BATCH_TOKENS: Final = 1024

__all__ = ["Encoder", "mean_pool", "quantize_int8", "token_budget_batches"]


def token_budget_batches(
    lengths: Sequence[int], batch_size: int, max_tokens: int | None
) -> list[list[int]]:
    """Indices grouped longest first into batches of at most ``batch_size`` texts and
    ``max_tokens`` padded tokens (texts x the batch's longest; a longer text goes alone).

    With ``max_tokens=None`` this is :func:`ecomlm_sdk.models.batching.length_sorted_batches`.
    """
    if max_tokens is None:
        return length_sorted_batches(lengths, batch_size)
    if batch_size < 1 or max_tokens < 1:
        raise ModelError(
            f"batch_size and batch_tokens must be at least 1, got {batch_size} and {max_tokens}"
        )
    batches: list[list[int]] = []
    current: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        longest = lengths[current[0]] if current else lengths[index]
        if current and (len(current) == batch_size or (len(current) + 1) * longest > max_tokens):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors of each row, ignoring padding (sentence-transformers pooling)."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    total = (hidden * weights).sum(dim=1)
    counts = weights.sum(dim=1).clamp(min=1e-9)
    return total / counts


def quantize_int8(module: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``module`` whose ``nn.Linear`` layers use int8 dynamic quantization (CPU only).

    Weights are quantized per output channel: on MiniLM this keeps sentence vectors at a cosine
    of about 0.975 to the float32 ones, against about 0.93-0.96 per tensor.
    """
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        # torch deprecates the eager API in favour of torchao, which is not a dependency here.
        warnings.simplefilter("ignore")
        quantized: torch.nn.Module = quantize_dynamic(  # type: ignore[no-untyped-call]
            copy.deepcopy(module).float().cpu(),
            {torch.nn.Linear: per_channel_dynamic_qconfig},
            dtype=torch.qint8,
        )
    return quantized


class Encoder:
    """A transformers encoder + fast tokenizer producing mean-pooled sentence vectors.

    Args:
        model: A transformers encoder (``AutoModel``) returning ``last_hidden_state``.
        tokenizer: Its fast tokenizer.
        device_choice: Where to run and in which dtype.
        max_length: Tokens kept per text (longer texts are truncated).
        backend: ``"torch"``, ``"onnx"`` (ONNX Runtime, CPU only) or ``"auto"`` (ONNX only when
            installed, on CPU, and faster on a small probe timed on the first texts encoded).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        device_choice: DeviceChoice,
        max_length: int,
        backend: Backend = "torch",
    ) -> None:
        self.model = model.to(device_choice.device)
        self.tokenizer = tokenizer
        self.device_choice = device_choice
        self.max_length = max_length
        if backend == "onnx" and device_choice.device != "cpu":
            raise ModelError(
                f"backend='onnx' runs on CPU only, but this model is on "
                f"{device_choice.device!r}; pass device='cpu' or backend='torch'."
            )
        self.backend: Backend = backend
        #: Which backend float32 inference uses and why (set on the first encode).
        self.backend_reason: str | None = None
        self._resolved: Literal["torch", "onnx"] | None = None
        self._quantized: torch.nn.Module | None = None
        self._onnx: OnnxEncoder | None = None
        self._onnx_int8: OnnxEncoder | None = None

    @classmethod
    def load(
        cls,
        name_or_path: str | Path | None,
        *,
        device_choice: DeviceChoice,
        max_length: int,
        plugin: str,
        trust_remote_code: bool = False,
        backend: Backend = "torch",
    ) -> Encoder:
        """Load an encoder from a hub id or folder; ``None`` means the bundled MiniLM."""
        from transformers import AutoModel

        source = str(name_or_path) if name_or_path is not None else str(bundled_minilm_path())
        tokenizer = load_tokenizer(source, plugin=plugin, trust_remote_code=trust_remote_code)
        model = load_pretrained(
            AutoModel, source, plugin=plugin, trust_remote_code=trust_remote_code
        )
        if not hasattr(model.config, "hidden_size"):
            raise ModelError(
                f"Plugin {plugin!r}: {source!r} is a {type(model).__name__} without hidden_size; "
                "use a BERT-style encoder (e.g. the bundled MiniLM: leave backbone unset)."
            )
        return cls(model, tokenizer, device_choice, max_length, backend)

    @property
    def dimension(self) -> int:
        """Size of the pooled vectors."""
        return int(self.model.config.hidden_size)

    @property
    def pad_id(self) -> int:
        """Token id used for padding."""
        pad = self.tokenizer.pad_token_id
        return int(pad) if pad is not None else 0

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text (with special tokens), truncated to ``max_length``."""
        encoded = self.tokenizer(
            list(texts),
            truncation=True,
            max_length=self.max_length,
            add_special_tokens=True,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        ids: list[list[int]] = encoded["input_ids"]
        return ids

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Mean-pooled vectors for one padded batch already on the device (keeps gradients)."""
        out = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return mean_pool(out.last_hidden_state, attention_mask)

    def _autocast(self) -> AbstractContextManager[Any]:
        choice = self.device_choice
        if choice.device == "cpu" or choice.dtype == "float32":
            return nullcontext()
        return torch.autocast(device_type=choice.device.split(":")[0], dtype=choice.torch_dtype)

    def quantized_model(self) -> torch.nn.Module:
        """The int8-quantized CPU copy of the encoder (built once, reused)."""
        if self.device_choice.device != "cpu":
            raise ModelError(
                f"int8 quantization runs on CPU only, but this model is on "
                f"{self.device_choice.device!r}; pass quantize=False or device='cpu'."
            )
        if self._quantized is None:
            self._quantized = quantize_int8(self.model)
        return self._quantized

    def forget_quantized(self) -> None:
        """Drop the quantized and ONNX copies (call after the weights change, e.g. training)."""
        self._quantized = None
        self._onnx = None
        self._onnx_int8 = None

    def onnx_encoder(self) -> OnnxEncoder:
        """The ONNX Runtime copy of the float32 encoder (exported once, reused)."""
        from ecomlm_bert.onnx_backend import OnnxEncoder

        if self._onnx is None:
            self.model.eval()
            self._onnx = OnnxEncoder(self.model, threads=torch.get_num_threads())
        return self._onnx

    def onnx_int8_encoder(self) -> OnnxEncoder:
        """The ONNX Runtime int8 copy of the encoder (exported and quantized once, reused)."""
        from ecomlm_bert.onnx_backend import OnnxEncoder

        if self.device_choice.device != "cpu":
            raise ModelError(
                f"int8 quantization runs on CPU only, but this model is on "
                f"{self.device_choice.device!r}; pass quantize=False or device='cpu'."
            )
        if self._onnx_int8 is None:
            self.model.eval()
            self._onnx_int8 = OnnxEncoder(self.model, threads=torch.get_num_threads(), int8=True)
        return self._onnx_int8

    def resolve_backend(self, ids: Sequence[Sequence[int]]) -> Literal["torch", "onnx"]:
        """The backend float32 inference uses; ``"auto"`` times both on a probe from ``ids``."""
        if self._resolved is not None:
            return self._resolved
        from ecomlm_bert.onnx_backend import onnx_available, time_median

        if self.backend == "torch":
            self._resolved, self.backend_reason = "torch", "torch (backend='torch')"
        elif self.backend == "onnx":
            self.onnx_encoder()
            self._resolved, self.backend_reason = "onnx", "onnx (backend='onnx')"
        elif self.device_choice.device != "cpu":
            self._resolved = "torch"
            self.backend_reason = (
                f"torch (auto: ONNX Runtime runs on CPU here, not {self.device_choice.device})"
            )
        elif not onnx_available():
            self._resolved = "torch"
            self.backend_reason = (
                "torch (auto: onnxruntime not installed; pip install 'ecomlm-sdk[onnx]')"
            )
        else:
            probe = [list(x[:PROBE_TOKENS]) for x in ids[:PROBE_TEXTS]] or [[self.pad_id]]
            input_ids, mask = pad_batch(probe, self.pad_id)
            onnx = self.onnx_encoder()
            self.model.eval()
            with torch.inference_mode():
                torch_s = time_median(lambda: self.model(input_ids=input_ids, attention_mask=mask))
            onnx_s = time_median(lambda: onnx(input_ids, mask))
            self._resolved = "onnx" if onnx_s < torch_s else "torch"
            if self._resolved == "torch":
                self._onnx = None
            self.backend_reason = (
                f"{self._resolved} (auto: onnx {1000 * onnx_s:.1f} ms vs torch "
                f"{1000 * torch_s:.1f} ms on a {len(probe)}x{input_ids.shape[1]} probe)"
            )
        return self._resolved

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        batch_tokens: int | None = None,
        quantized: bool = False,
        int8_engine: Int8Engine = "torch",
        quiet: bool = False,
        desc: str = "encoding",
        head: torch.nn.Module | None = None,
    ) -> torch.Tensor:
        """Pooled vectors (or ``head`` outputs) for ``texts``, float32 on CPU, in input order.

        Args:
            texts: Texts to encode.
            batch_size: Texts per batch (halved automatically on out-of-memory).
            batch_tokens: Most padded tokens per batch; None: :data:`CPU_BATCH_TOKENS` on CPU,
                no limit on an accelerator.
            quantized: Use the int8 CPU copy of the encoder.
            int8_engine: Which int8 copy: torch's or ONNX Runtime's (``quantized`` only).
            quiet: Hide the progress bar.
            desc: Progress bar label.
            head: Optional module applied to the pooled vectors on the device (a classifier).
        """
        ids = self.tokenize(texts)
        if batch_tokens is None and self.device_choice.device == "cpu":
            batch_tokens = CPU_BATCH_TOKENS
        batches = token_budget_batches([len(x) for x in ids], batch_size, batch_tokens)
        onnx = None
        if not quantized and ids and self.resolve_backend(ids) == "onnx":
            onnx = self.onnx_encoder()
        elif quantized and int8_engine == "onnx":
            onnx = self.onnx_int8_encoder()
        model = self.quantized_model() if quantized and onnx is None else self.model
        device = "cpu" if quantized else self.device_choice.device
        if head is not None:
            head = head.to(device)
        model.eval()
        results: list[torch.Tensor | None] = [None] * len(ids)

        def run(batch: list[int]) -> None:
            input_ids, mask = pad_batch([ids[i] for i in batch], self.pad_id)
            if onnx is not None:
                vectors = onnx(input_ids, mask)
            else:
                input_ids, mask = input_ids.to(device), mask.to(device)
                out = model(input_ids=input_ids, attention_mask=mask)
                vectors = mean_pool(out.last_hidden_state, mask)
            if head is not None:
                vectors = head(vectors)
            vectors = vectors.float().cpu()
            for row, index in enumerate(batch):
                results[index] = vectors[row]

        with torch.inference_mode(), self._autocast():
            for batch in progress(batches, desc=desc, unit="batch", quiet=quiet):
                run_with_backoff(run, batch)
        if not results:
            width = head(torch.zeros(1, self.dimension)).shape[-1] if head else self.dimension
            return torch.zeros((0, width))
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:
            raise ModelError(f"internal error: texts {missing[:5]} were not encoded")
        return torch.stack([r for r in results if r is not None])

    def save(self, folder: Path) -> None:
        """Write the encoder and tokenizer in ``save_pretrained`` layout (safetensors)."""
        self.model.save_pretrained(folder, safe_serialization=True)
        self.tokenizer.save_pretrained(folder)
