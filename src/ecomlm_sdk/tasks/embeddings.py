"""Product-text embeddings shared by the tasks, cached in-process.

Recommendation (content scores) and purchase prediction (what-they-bought features) both embed
product titles with a registered ``Embedder``. Embedding a few thousand titles with MiniLM takes
tens of seconds on a small CPU, and a typical session embeds the same titles several times:
``evaluate()`` then ``fit()``, or both tasks on one store. :func:`embed_texts` therefore keeps

* one loaded model per registered embedder class (weights load once per process), and
* one L2-normalized vector per ``(embedder class, text)``,

so a text is embedded at most once per process. The key is the registered component class, not
just its name, so a plugin that re-registers a name with a different model never gets stale
vectors. :func:`clear_embedding_cache` empties both (tests, or to free memory).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from ecomlm_sdk.models.base import Embedder
from ecomlm_sdk.plugins import resolve_class

__all__ = ["cache_size", "clear_embedding_cache", "embed_texts"]

#: Texts per forward pass for embedders that take a ``batch_size`` option. Titles are short,
#: so big batches amortize per-call overhead on CPU; length-sorted batching keeps padding low.
CPU_BATCH_SIZE: Final = 256
#: Vectors kept before the cache is emptied (a bound on memory: 200k x 384 float32 = 300 MB).
MAX_CACHED: Final = 200_000

_lock = threading.Lock()
_models: dict[type[Any], Any] = {}
_vectors: dict[tuple[type[Any], str], np.ndarray] = {}


def embed_texts(embedder: str, texts: Sequence[str]) -> np.ndarray:
    """L2-normalized embeddings of ``texts`` from the registered embedder ``embedder``.

    Texts already embedded by the same embedder in this process come from the cache; the rest
    are embedded in one call (duplicates once).

    Args:
        embedder: Name of a registered ``Embedder`` model, e.g. ``"minilm-embedder"``.
        texts: Texts to embed (product titles).

    Returns:
        float32 array ``(len(texts), dimension)``; each row has norm 1 (or 0 for a zero vector).

    Raises:
        ComponentTypeError: ``embedder`` is registered but is not an ``Embedder`` (a
            ``TaskError``).
        UnknownComponentError: no model is registered as ``embedder``.
    """
    cls = resolve_class("model", embedder, Embedder)
    with _lock:
        missing = list(dict.fromkeys(t for t in texts if (cls, t) not in _vectors))
        if missing:
            model = _models.get(cls)
            if model is None:
                model = _models[cls] = _load(cls)
            fresh = _normalize(np.asarray(model.embed(missing), dtype=np.float32))
            if len(_vectors) + len(missing) > MAX_CACHED:
                _vectors.clear()
            _vectors.update({(cls, t): v for t, v in zip(missing, fresh, strict=True)})
            lookup = dict(zip(missing, fresh, strict=True))
            rows = [lookup[t] if t in lookup else _vectors[(cls, t)] for t in texts]
        else:
            rows = [_vectors[(cls, t)] for t in texts]
    if not rows:
        width = int(_models[cls].dimension) if cls in _models else 0
        return np.zeros((0, width), dtype=np.float32)
    return np.stack(rows).astype(np.float32, copy=False)


def clear_embedding_cache() -> None:
    """Forget every cached vector and loaded embedder."""
    with _lock:
        _vectors.clear()
        _models.clear()


def cache_size() -> int:
    """Number of cached ``(embedder, text)`` vectors."""
    return len(_vectors)


def _load(cls: type[Any]) -> Any:
    """The embedder with CPU-friendly batching when it has a ``batch_size`` option."""
    fields = getattr(getattr(cls, "Options", None), "model_fields", {})
    options: dict[str, Any] = {"quiet": True} if "quiet" in fields else {}
    if "batch_size" in fields:
        options["batch_size"] = CPU_BATCH_SIZE
    return cls(**options)


def _normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    out: np.ndarray = vectors / np.where(norms == 0, 1.0, norms)
    return out
