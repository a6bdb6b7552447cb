"""Built-in plugin ``ecomlm_gpt2``: the ``gpt2`` text generator.

Works with any Hugging Face causal LM (hub id or local folder), and can train a small GPT-2 and
its tokenizer from scratch, so it is useful with no hub at all. Weights load on first use.
"""

from __future__ import annotations

from ecomlm_sdk.hookspecs import Register, hookimpl

__all__ = ["register_models"]

ecomlm_sdk_api = ">=1,<2"


@hookimpl
def register_models(register: Register) -> None:
    """Register ``gpt2``."""
    from ecomlm_gpt2.generator import Gpt2Generator

    register(Gpt2Generator)
