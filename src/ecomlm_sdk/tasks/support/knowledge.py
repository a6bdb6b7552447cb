"""The support knowledge base: FAQ entries per intent, retrieved by embedding similarity."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecomlm_sdk.errors import DataSourceError, TaskError
from ecomlm_sdk.models.base import Embedder

__all__ = ["FaqEntry", "KnowledgeBase", "Retrieved"]


class FaqEntry(BaseModel):
    """One answer of the knowledge base.

    Attributes:
        id: Unique identifier, e.g. ``"get_refund-1"``.
        intent: The intent it answers (a label of the intent classifier).
        question: A representative question; retrieval compares messages with it.
        answer: The reply. ``{shop}`` and ``{contact}`` are filled from the task options.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    intent: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)


class Retrieved(BaseModel):
    """The best FAQ entry for a message and its cosine similarity to it."""

    model_config = ConfigDict(frozen=True)

    entry: FaqEntry
    similarity: float


class KnowledgeBase:
    """FAQ entries, searchable by intent and by meaning.

    Retrieval embeds each entry's question and answer once (:meth:`index`) and returns the entry
    whose embedding is closest (cosine) to the message's among the entries of the predicted
    intent. An intent without entries gets no entry at all: answering "where is my order" with
    the returns policy because it happens to be the closest text is worse than a hand-off.

    Attributes:
        entries: The FAQ entries.
        policies: Policy values the file states (``{"return_days": 30, ...}``), filling the
            ``{return_days}`` style placeholders of answers; task options take precedence.
    """

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        *,
        source: str = "<memory>",
        policies: dict[str, str] | None = None,
    ) -> None:
        if not entries:
            raise TaskError(f"Knowledge base {source} has no entries; add at least one FAQ entry")
        seen: set[str] = set()
        for entry in entries:
            if entry.id in seen:
                raise TaskError(
                    f"Knowledge base {source}: entry id {entry.id!r} appears twice; "
                    "give each entry its own id"
                )
            seen.add(entry.id)
        self.entries: list[FaqEntry] = list(entries)
        self.source = source
        self.policies: dict[str, str] = dict(policies or {})
        self._vectors: np.ndarray | None = None

    @classmethod
    def from_json(cls, path: str | Path) -> KnowledgeBase:
        """Read a knowledge base file: ``{"entries": [{id, intent, question, answer}, ...]}``.

        The object may also hold ``"policies"``: ``{"return_days": 60, "delivery_days": "2-3
        working days", ...}``, the shop's policies that answers name as ``{return_days}``.
        """
        file = Path(path)
        try:
            raw: Any = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise DataSourceError(
                f"Knowledge base file {file} does not exist; pass an existing JSON file"
            ) from exc
        except json.JSONDecodeError as exc:
            raise DataSourceError(
                f"{file}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"
            ) from exc
        items = raw.get("entries") if isinstance(raw, dict) else raw
        if not isinstance(items, list):
            raise DataSourceError(
                f"{file}: expected an object with an 'entries' list (or a list of entries), "
                f"got {type(items).__name__}"
            )
        policies = raw.get("policies", {}) if isinstance(raw, dict) else {}
        if not isinstance(policies, dict) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in policies.values()
        ):
            raise DataSourceError(
                f"{file}: 'policies' must be an object of names to text or numbers, e.g. "
                '{"return_days": 30}'
            )
        entries = []
        for i, item in enumerate(items):
            try:
                entries.append(FaqEntry.model_validate(item))
            except ValidationError as exc:
                raise DataSourceError(
                    f"{file}: entry {i} ({item!r:.80}) is invalid: {exc.errors()[0]['msg']} at "
                    f"{exc.errors()[0]['loc']}; each entry needs id, intent, question, answer"
                ) from exc
        return cls(
            entries, source=str(file), policies={str(k): str(v) for k, v in policies.items()}
        )

    def to_json(self, path: str | Path) -> Path:
        """Write the entries to ``path`` in the format :meth:`from_json` reads."""
        file = Path(path)
        payload: dict[str, Any] = {"entries": [e.model_dump() for e in self.entries]}
        if self.policies:
            payload["policies"] = self.policies
        file.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
        return file

    @property
    def intents(self) -> set[str]:
        """Every intent that has at least one entry."""
        return {e.intent for e in self.entries}

    @property
    def indexed(self) -> bool:
        """Whether :meth:`index` has embedded the entries."""
        return self._vectors is not None

    def index(self, embedder: Embedder) -> None:
        """Embed every entry (question and answer) with ``embedder``, L2-normalized."""
        texts = [f"{e.question} {e.answer}" for e in self.entries]
        self._vectors = _normalize(embedder.embed(texts))

    def retrieve(
        self,
        query: np.ndarray,
        intent: str | None = None,
        *,
        usable: Callable[[FaqEntry], bool] | None = None,
    ) -> Retrieved | None:
        """The entry closest to the embedded message ``query``, or ``None`` when none qualifies.

        Args:
            query: The message's embedding, shape ``(dimension,)``.
            intent: Search only this intent's entries (``None``: every entry). An intent
                without entries gives ``None``, never another intent's entry.
            usable: Keep only entries for which this is true (e.g. whose policies are known).
        """
        if self._vectors is None:
            raise TaskError("Knowledge base is not indexed: call index(embedder) first")
        candidates = [
            i
            for i, e in enumerate(self.entries)
            if (intent is None or e.intent == intent) and (usable is None or usable(e))
        ]
        if not candidates:
            return None
        vector = _normalize(np.asarray(query, dtype=np.float32).reshape(1, -1))[0]
        if vector.shape[0] != self._vectors.shape[1]:
            raise TaskError(
                f"Query embedding has {vector.shape[0]} dimensions but the knowledge base was "
                f"indexed with {self._vectors.shape[1]}; use the same embedder for both"
            )
        scores = self._vectors[candidates] @ vector
        best = int(np.argmax(scores))
        return Retrieved(entry=self.entries[candidates[best]], similarity=float(scores[best]))


def _normalize(vectors: np.ndarray) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    normalized: np.ndarray = array / np.where(norms == 0, 1.0, norms)
    return normalized
