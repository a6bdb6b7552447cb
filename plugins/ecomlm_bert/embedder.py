"""``minilm-embedder``: L2-normalized mean-pooled sentence embeddings from MiniLM (or any encoder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import polars as pl
from pydantic import Field

from ecomlm_bert.encoder import Backend, Encoder
from ecomlm_sdk.errors import ModelError
from ecomlm_sdk.models.base import Embedder, ModelOptions, as_texts
from ecomlm_sdk.models.batching import chunked
from ecomlm_sdk.models.hf import (
    check_local_folder,
    read_metadata,
    require,
    saving,
    write_metadata,
)
from ecomlm_sdk.progress import progress

__all__ = ["MiniLmEmbedder"]


class MiniLmOptions(ModelOptions):
    """Options of ``minilm-embedder``."""

    name_or_path: str | None = Field(
        default=None,
        description="Encoder hub id or local folder; None: the bundled all-MiniLM-L6-v2 (offline).",
    )
    max_length: int = Field(default=256, ge=8, le=8192, description="Tokens kept per text.")
    batch_size: int = Field(default=64, ge=1, description="Texts per forward pass.")
    batch_tokens: int | None = Field(
        default=None,
        ge=1,
        description="Most padded tokens (texts x longest) per forward pass; None: 1024 on CPU "
        "(measured faster: small batches stay in cache), no limit on an accelerator.",
    )
    normalize: bool = Field(default=True, description="L2-normalize each vector.")
    quantize: bool = Field(default=False, description="int8 dynamic quantization (CPU only).")
    backend: Backend = Field(
        default="torch",
        description="Inference backend: 'torch', 'onnx' (ONNX Runtime, CPU, the onnx extra) or "
        "'auto' (onnx only when installed and faster on a small probe).",
    )
    trust_remote_code: bool = Field(
        default=False, description="Allow code from the model repository to run."
    )


class MiniLmEmbedder(Embedder[MiniLmOptions]):
    """Sentence embeddings by mean pooling, as sentence-transformers computes them.

    Example:
        ```py
        emb = ecomlm_sdk.load_model("minilm-embedder")
        vectors = emb.embed(["red heart mug", "blue ceramic mug"])  # float32 (2, 384)
        ```
    """

    name: ClassVar[str] = "minilm-embedder"
    Options: ClassVar[type[ModelOptions]] = MiniLmOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._encoder: Encoder | None = None

    @property
    def encoder(self) -> Encoder:
        """The underlying encoder, loaded on first use."""
        if self._encoder is None:
            self._encoder = Encoder.load(
                self.options.name_or_path,
                device_choice=self.device_choice,
                max_length=self.options.max_length,
                plugin="ecomlm_bert",
                trust_remote_code=self.options.trust_remote_code,
                backend=self.options.backend,
            )
        return self._encoder

    @property
    def dimension(self) -> int:
        """Length of each vector (384 for MiniLM)."""
        return self.encoder.dimension

    def _embed(self, texts: list[str]) -> np.ndarray:
        vectors = self.encoder.encode(
            texts,
            batch_size=self.options.batch_size,
            batch_tokens=self.options.batch_tokens,
            quantized=self.options.quantize,
            quiet=True,
            desc="embedding",
        )
        if self.options.normalize:
            vectors = vectors / vectors.norm(dim=1, keepdim=True).clamp(min=1e-12)
        result: np.ndarray = vectors.numpy().astype(np.float32, copy=False)
        return result

    def embed_column(self, column: pl.Series | list[str], *, chunk_size: int = 4096) -> np.ndarray:
        """Embed a whole column, streaming it in chunks with a progress bar.

        Args:
            column: A polars string Series (or list of strings) without nulls.
            chunk_size: Texts tokenized and sorted per chunk (bounds memory on huge columns).
        """
        texts = as_texts(column, what=getattr(column, "name", None) or "column")
        parts = [
            self.embed(list(chunk))
            for chunk in progress(
                chunked(texts, chunk_size),
                desc="embedding",
                total=-(-len(texts) // chunk_size),
                unit="chunk",
                quiet=self.options.quiet,
            )
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.dimension), np.float32)

    def save(self, path: str | Path) -> Path:
        """Write the encoder, tokenizer and ``ecomlm_model.json`` to ``path`` (atomically)."""
        folder = Path(path)
        with saving(folder) as temp:
            self.encoder.save(temp)
            write_metadata(
                temp,
                self.name,
                max_length=self.options.max_length,
                normalize=self.options.normalize,
            )
        return folder

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Self:
        """Load an embedder saved with :meth:`save`."""
        meta = read_metadata(path, cls.name)
        saved = {
            "max_length": require(meta, "max_length", int, path),
            "normalize": require(meta, "normalize", bool, path),
        }
        if "name_or_path" in options:
            raise ModelError("load() takes the folder as `path`; do not pass name_or_path too")
        try:
            model = cls(name_or_path=str(path), **{**saved, **options})
        except ModelError as exc:
            raise ModelError(f"{Path(path) / 'ecomlm_model.json'}: {exc}") from exc
        # Refuse a folder that ships code now, not on the first embedding.
        check_local_folder(str(path), trust_remote_code=model.options.trust_remote_code)
        return model
