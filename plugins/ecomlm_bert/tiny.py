"""Build a tiny BERT encoder with a WordPiece tokenizer trained in-process (tests, docs, demos).

The model is untrained (random weights) and a few hundred kilobytes: enough to exercise every
code path of ``bert-classifier`` and ``minilm-embedder`` offline in a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ecomlm_sdk.models.hf import quiet_transformers

__all__ = ["build_tiny_encoder"]

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tiny_encoder(
    folder: str | Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 400,
    hidden_size: int = 32,
    layers: int = 2,
    heads: int = 2,
    max_length: int = 128,
    seed: int = 0,
) -> Path:
    """Train a WordPiece tokenizer on ``texts``, create a small BERT, save both to ``folder``.

    Args:
        folder: Where to write (``save_pretrained`` layout, safetensors).
        texts: Corpus for the tokenizer vocabulary.
        vocab_size: Upper bound on the vocabulary.
        hidden_size: Hidden width (a multiple of ``heads``).
        layers: Transformer layers.
        heads: Attention heads.
        max_length: Maximum positions.
        seed: Seed of the random initialization.

    Returns:
        The folder, usable as ``backbone=`` of ``bert-classifier`` or ``name_or_path=`` of
        ``minilm-embedder``.
    """
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    quiet_transformers()
    wordpiece = BertWordPieceTokenizer(lowercase=True)
    wordpiece.train_from_iterator(
        list(texts),
        vocab_size=vocab_size,
        min_frequency=1,
        special_tokens=SPECIAL_TOKENS,
        show_progress=False,
    )
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=wordpiece._tokenizer,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=max_length,
    )
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden_size * 4,
        max_position_embeddings=max_length,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertModel(config, add_pooling_layer=False)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out
