"""Training for ``gpt2``: fine-tuning on a corpus, or a new small model and tokenizer from scratch.

Texts are tokenized, each ended by the end-of-text token, packed into blocks of ``block_size``
tokens (no padding wasted except in the last block) and split by text into train and evaluation
sets. Each epoch reports the evaluation loss and perplexity; training stops early when the
evaluation loss stops improving and the best weights are restored.
"""

from __future__ import annotations

import copy
import math
import random
import time
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from ecomlm_sdk.errors import ModelError
from ecomlm_sdk.models.hf import quiet_transformers
from ecomlm_sdk.progress import progress

__all__ = ["GenEpochStats", "Gpt2FitOptions", "Gpt2FitReport", "new_model", "train_language_model"]

EOT = "<|endoftext|>"


class Gpt2FitOptions(BaseModel):
    """Keyword arguments of ``Gpt2Generator.fit``. The ``n_*``/``vocab_size`` fields apply to
    ``from_scratch=True`` only; the defaults train in well under a minute on a few thousand
    short texts on a 2-core CPU."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: int = Field(default=3, ge=1, description="Passes over the corpus.")
    learning_rate: float | None = Field(
        default=None, gt=0, description="Peak learning rate (fine-tuning 5e-5, from scratch 2e-3)."
    )
    batch_size: int = Field(default=16, ge=1, description="Blocks per step.")
    block_size: int = Field(default=64, ge=8, description="Tokens per training block.")
    validation_split: float = Field(default=0.1, ge=0, lt=1, description="Share of texts held out.")
    patience: int = Field(
        default=2, ge=1, description="Epochs without improvement before stopping."
    )
    weight_decay: float = Field(default=0.01, ge=0, description="AdamW weight decay.")
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1, description="Share of steps warming up.")
    seed: int = Field(default=0, description="Seed for split, initialization and shuffling.")
    vocab_size: int = Field(default=2000, ge=260, description="BPE vocabulary (from scratch).")
    n_layer: int = Field(default=2, ge=1, description="Transformer layers (from scratch).")
    n_embd: int = Field(default=128, ge=8, description="Hidden size (from scratch).")
    n_head: int = Field(default=4, ge=1, description="Attention heads (from scratch).")
    n_positions: int = Field(default=128, ge=16, description="Context length (from scratch).")


class GenEpochStats(BaseModel):
    """Losses after one epoch."""

    model_config = ConfigDict(frozen=True)

    epoch: int
    train_loss: float
    eval_loss: float | None
    perplexity: float | None


class Gpt2FitReport(BaseModel):
    """What a ``fit`` did: history, best epoch, final evaluation loss and perplexity."""

    model_config = ConfigDict(frozen=True)

    from_scratch: bool
    train_blocks: int
    eval_blocks: int
    epochs_run: int
    best_epoch: int
    eval_loss: float | None
    perplexity: float | None
    history: list[GenEpochStats]
    seconds: float


def new_model(texts: list[str], options: Gpt2FitOptions) -> tuple[Any, Any]:
    """A fresh byte-level BPE tokenizer trained on ``texts`` and an untrained small GPT-2."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    quiet_transformers()

    if options.n_embd % options.n_head:
        raise ModelError(
            f"n_embd={options.n_embd} must be a multiple of n_head={options.n_head}; "
            "change one of them."
        )
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        texts,
        vocab_size=options.vocab_size,
        min_frequency=2,
        special_tokens=[EOT],
        show_progress=False,
    )
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=bpe._tokenizer,
        bos_token=EOT,
        eos_token=EOT,
        unk_token=EOT,
        pad_token=EOT,
        model_max_length=options.n_positions,
    )
    eot = int(tokenizer.convert_tokens_to_ids(EOT))  # type: ignore[arg-type]
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=options.n_positions,
        n_embd=options.n_embd,
        n_layer=options.n_layer,
        n_head=options.n_head,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        # Fused tanh-GELU, and no attention dropout so SDPA can take its fast causal kernel.
        activation_function="gelu_pytorch_tanh",
        attn_pdrop=0.0,
    )
    config._attn_implementation = "sdpa"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(options.seed)
        model = GPT2LMHeadModel(config)
    return model, tokenizer


def _blocks(token_lists: list[list[int]], size: int) -> list[list[int]]:
    stream = [t for tokens in token_lists for t in tokens]
    return [
        stream[i : i + size] for i in range(0, len(stream), size) if len(stream[i : i + size]) > 1
    ]


def _batch(blocks: list[list[int]], pad_id: int, device: str) -> dict[str, torch.Tensor]:
    width = max(len(b) for b in blocks)
    ids = torch.full((len(blocks), width), pad_id, dtype=torch.long)
    labels = torch.full((len(blocks), width), -100, dtype=torch.long)
    mask = torch.zeros((len(blocks), width), dtype=torch.long)
    for row, block in enumerate(blocks):
        ids[row, : len(block)] = torch.tensor(block)
        labels[row, : len(block)] = torch.tensor(block)
        mask[row, : len(block)] = 1
    batch = {"input_ids": ids.to(device), "labels": labels.to(device)}
    if not bool(mask.all()):
        # Only a ragged last block needs a mask; without one SDPA runs its fast causal path.
        batch["attention_mask"] = mask.to(device)
    return batch


def _eval_loss(model: Any, blocks: list[list[int]], pad_id: int, device: str, size: int) -> float:
    model.eval()
    total, tokens = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(blocks), size):
            part = blocks[start : start + size]
            batch = _batch(part, pad_id, device)
            n = int((batch["labels"][:, 1:] != -100).sum())
            total += float(model(**batch).loss) * n
            tokens += n
    return total / max(tokens, 1)


def train_language_model(
    model: Any,
    tokenizer: Any,
    texts: list[str],
    options: Gpt2FitOptions,
    *,
    device: str,
    from_scratch: bool,
    quiet: bool = False,
) -> Gpt2FitReport:
    """Train ``model`` in place on ``texts`` (causal LM loss); restore the best epoch's weights."""
    started = time.perf_counter()
    context = int(getattr(model.config, "n_positions", 1024) or 1024)
    if options.block_size > context:
        raise ModelError(
            f"block_size={options.block_size} exceeds the model's context of {context} tokens; "
            f"pass block_size<={context}."
        )
    eos = tokenizer.eos_token_id
    rng = random.Random(options.seed)
    order = list(range(len(texts)))
    rng.shuffle(order)
    n_eval = round(len(texts) * options.validation_split) if len(texts) >= 10 else 0
    encoded = tokenizer([texts[i] for i in order], add_special_tokens=False)["input_ids"]
    encoded = [[*list(ids), eos] for ids in encoded]
    eval_blocks = _blocks(encoded[:n_eval], options.block_size)
    train_blocks = _blocks(encoded[n_eval:], options.block_size)
    if not train_blocks:
        raise ModelError("fit() got no usable text: pass a non-empty corpus of strings")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    model.to(device)
    lr = options.learning_rate or (2e-3 if from_scratch else 5e-5)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=options.weight_decay)
    steps = options.epochs * math.ceil(len(train_blocks) / options.batch_size)
    warmup = max(1, int(steps * options.warmup_ratio))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: (
            (s + 1) / warmup if s < warmup else max(0.0, (steps - s) / max(1, steps - warmup))
        ),
    )
    history: list[GenEpochStats] = []
    best_loss, best_epoch, bad, best_state = math.inf, 0, 0, None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(options.seed)
        for epoch in range(1, options.epochs + 1):
            model.train()
            rng.shuffle(train_blocks)
            total, tokens = 0.0, 0
            starts = range(0, len(train_blocks), options.batch_size)
            for start in progress(
                starts, desc=f"epoch {epoch}/{options.epochs}", unit="batch", quiet=quiet
            ):
                batch = _batch(train_blocks[start : start + options.batch_size], pad_id, device)
                loss = model(**batch).loss
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                n = int((batch["labels"][:, 1:] != -100).sum())
                total, tokens = total + loss.item() * n, tokens + n
            eval_loss = (
                _eval_loss(model, eval_blocks, pad_id, device, options.batch_size)
                if eval_blocks
                else None
            )
            history.append(
                GenEpochStats(
                    epoch=epoch,
                    train_loss=total / max(tokens, 1),
                    eval_loss=eval_loss,
                    perplexity=math.exp(min(eval_loss, 50.0)) if eval_loss is not None else None,
                )
            )
            if eval_loss is None:
                best_epoch = epoch
                continue
            if eval_loss < best_loss - 1e-4:
                best_loss, best_epoch, bad = eval_loss, epoch, 0
                if epoch < options.epochs:
                    best_state = copy.deepcopy(
                        {k: v.detach().cpu() for k, v in model.state_dict().items()}
                    )
            else:
                bad += 1
                if bad >= options.patience:
                    break
    if best_state is not None and best_epoch != len(history):
        model.load_state_dict(best_state)
    model.eval()
    final = history[best_epoch - 1] if best_epoch else history[-1]
    return Gpt2FitReport(
        from_scratch=from_scratch,
        train_blocks=len(train_blocks),
        eval_blocks=len(eval_blocks),
        epochs_run=len(history),
        best_epoch=best_epoch,
        eval_loss=final.eval_loss,
        perplexity=final.perplexity,
        history=history,
        seconds=time.perf_counter() - started,
    )
