"""The int8 gate: a quantized classifier is used only when it keeps fp32's decisions.

int8 dynamic quantization (per output channel) makes MiniLM about twice as fast on a CPU, but on
hard, close labels it flips some predictions (96-98% agreement on clothing reviews). Two things
keep the decisions:

* **Re-checking close calls.** int8 moves every logit a little; a decision can only flip where
  the int8 margin (top logit minus the runner-up) is smaller than that move. The move is
  measured on the calibration sample (per text, the largest change of any logit difference:
  ``max(int8 - fp32) - min(int8 - fp32)``), and its ``(1 + min_agreement) / 2`` quantile becomes
  the re-check margin: texts whose int8 margin is at or below it are run again in float32.
  The agreement of that path is estimated out of fold (the margin fitted on one half of the
  sample is judged on the other half, and the other way round), so it is not flattered by
  fitting and judging on the same texts.
* **The gate.** int8 is used only when that agreement reaches ``min_agreement`` (99% by default)
  on a sample of at least ``min_sample`` texts (300: with zero disagreements in ``n`` texts, the
  95% upper bound on the true disagreement rate is about ``3 / n``, the "rule of three", so only
  from 300 texts can a measurement tell 99% from 98%), and when at most half the texts need the
  float32 re-check (beyond that, int8 plus the re-check is slower than float32 alone).
  Otherwise the model stays in float32 and says so with a :class:`QuantizationWarning`.

The calibration sample is the model's own texts: the training texts after a fit, else the first
texts it classifies, or any texts passed to ``calibrate_quantization``.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Sequence
from typing import Final, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

from ecomlm_bert.encoder import Int8Engine

__all__ = [
    "MIN_SAMPLE",
    "QuantizationReport",
    "QuantizationWarning",
    "calibration_sample",
    "decide",
    "measure_agreement",
    "recheck_close_calls",
]

#: Calibration texts needed before int8 may be used (see the module docstring).
MIN_SAMPLE: Final = 300
#: Above this share of re-checked texts int8 + re-check is slower than float32 alone.
MAX_RECHECK_SHARE: Final = 0.5
_METHODS: Final = {
    "torch": "int8 dynamic, per output channel (torch)",
    "onnx": "int8 dynamic, per output channel (ONNX Runtime)",
}


class QuantizationWarning(UserWarning):
    """The int8 copy cannot be trusted to keep float32's decisions: the model stays in float32."""


class QuantizationReport(BaseModel):
    """How the int8 path compared with float32, and which one the model uses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: str = Field(default=_METHODS["torch"], description="How the copy was quantized.")
    engine: Int8Engine = Field(default="torch", description="What runs the int8 copy.")
    agreement: float = Field(
        ge=0.0,
        le=1.0,
        description="Share of predictions identical to float32's, on the path used (int8 with "
        "the re-check when recheck_margin is set; estimated out of fold).",
    )
    int8_agreement: float | None = Field(
        default=None, ge=0.0, le=1.0, description="The same for int8 alone, without re-check."
    )
    n: int = Field(ge=0, description="Texts in the calibration sample.")
    min_agreement: float = Field(ge=0.0, le=1.0, description="Agreement needed to use int8.")
    min_sample: int = Field(default=0, ge=0, description="Calibration texts needed for int8.")
    recheck_margin: float | None = Field(
        default=None,
        ge=0.0,
        description="int8 predictions with a logit margin at or below this are re-run in float32.",
    )
    recheck_share: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Share of calibration texts re-run in float32."
    )
    used: Literal["int8", "float32"] = Field(description="What inference runs in.")
    reason: str = Field(default="", description="Why, in words.")

    def with_threshold(self, min_agreement: float, min_sample: int = 0) -> QuantizationReport:
        """The same measurement judged against other thresholds (warns on a fallback)."""
        return decide(self, min_agreement=min_agreement, min_sample=min_sample)


def calibration_sample(texts: Sequence[str], size: int, *, seed: int = 0) -> list[str]:
    """Up to ``size`` of ``texts`` (a fixed-seed random sample when there are more)."""
    items = list(texts)
    if len(items) <= size:
        return items
    return random.Random(seed).sample(items, size)


def decide(
    measured: QuantizationReport, *, min_agreement: float, min_sample: int
) -> QuantizationReport:
    """``measured`` with ``used`` and ``reason`` set by the thresholds; warns on float32."""
    pct = f"{100 * measured.agreement:.2f}%"
    if measured.n < min_sample:
        used, reason = (
            "float32",
            (
                f"only {measured.n} calibration texts, at least {min_sample} needed to trust a "
                f"{100 * min_agreement:.2f}% agreement (measured {pct}); call "
                f"calibrate_quantization() with at least {min_sample} of your own texts, or pass "
                "a lower quantize_min_sample"
            ),
        )
    elif measured.agreement < min_agreement:
        used, reason = (
            "float32",
            (
                f"int8 predictions agree with float32 on {pct} of {measured.n} calibration texts, "
                f"below the {100 * min_agreement:.2f}% required; pass quantize=False to skip the "
                "check, or a lower quantize_min_agreement to accept it"
            ),
        )
    elif measured.recheck_share > MAX_RECHECK_SHARE:
        used, reason = (
            "float32",
            (
                f"int8 would re-run {100 * measured.recheck_share:.0f}% of the texts in float32 "
                f"to agree on {pct}, slower than float32 alone; pass quantize=False"
            ),
        )
    else:
        used, reason = "int8", f"int8 agrees with float32 on {pct} of {measured.n} texts"
        if measured.recheck_margin is not None:
            reason += (
                f" (re-running in float32 the {100 * measured.recheck_share:.1f}% whose margin "
                f"is at most {measured.recheck_margin:.3g})"
            )
    report = measured.model_copy(
        update={
            "used": used,
            "reason": reason,
            "min_agreement": min_agreement,
            "min_sample": min_sample,
        }
    )
    if used == "float32":
        warnings.warn(f"{reason}: using float32.", QuantizationWarning, stacklevel=3)
    return report


def _margins(logits: torch.Tensor) -> torch.Tensor:
    """Top logit minus the runner-up, per row (infinite with a single class)."""
    if logits.shape[1] < 2:
        return torch.full((logits.shape[0],), float("inf"))
    top = logits.topk(2, dim=1).values
    return top[:, 0] - top[:, 1]


def recheck_close_calls(
    int8: torch.Tensor, margin: float, fp32: Callable[[list[int]], torch.Tensor]
) -> torch.Tensor:
    """``int8`` logits with the rows whose margin is at most ``margin`` replaced by ``fp32(rows)``."""
    close = [int(i) for i in torch.nonzero(_margins(int8) <= margin).flatten()]
    if not close:
        return int8
    result = int8.clone()
    result[close] = fp32(close).to(result.dtype)
    return result


def measure_agreement(
    logits: Callable[[list[str], bool], torch.Tensor],
    texts: Sequence[str],
    *,
    min_agreement: float,
    min_sample: int = MIN_SAMPLE,
    recheck: bool = True,
    engine: Int8Engine = "torch",
    seed: int = 0,
) -> QuantizationReport:
    """Compare ``logits(texts, True)`` (int8) with ``logits(texts, False)`` (float32).

    Args:
        logits: Returns the logits of the texts, int8 (without any re-check) or not.
        texts: The calibration sample.
        min_agreement: Agreement needed to use int8.
        min_sample: Calibration texts needed to use int8.
        recheck: Fit a re-check margin (see the module docstring); else judge int8 alone.
        engine: What ran the int8 copy (recorded).
        seed: Seed of the two folds of the out-of-fold estimate.
    """
    sample = list(texts)
    n = len(sample)
    if not sample:
        empty = QuantizationReport(
            method=_METHODS[engine],
            engine=engine,
            agreement=0.0,
            n=0,
            min_agreement=min_agreement,
            used="float32",
        )
        return decide(empty, min_agreement=min_agreement, min_sample=max(min_sample, 1))
    reference, quantized = logits(sample, False).float(), logits(sample, True).float()
    expected, predicted = reference.argmax(dim=1), quantized.argmax(dim=1)
    plain = float((expected == predicted).double().mean())
    margin: float | None = None
    agreement, share = plain, 0.0
    if recheck and n >= 2:
        delta = quantized - reference
        moved = delta.amax(dim=1) - delta.amin(dim=1)
        margins = _margins(quantized)
        level = (1.0 + min_agreement) / 2
        order = random.Random(seed).sample(range(n), n)
        folds = [torch.tensor(order[0::2]), torch.tensor(order[1::2])]
        close = torch.zeros(n, dtype=torch.bool)
        for fit, judged in ((folds[0], folds[1]), (folds[1], folds[0])):
            fitted = float(torch.quantile(moved[fit], level))
            close[judged] = margins[judged] <= fitted
        final = torch.where(close, expected, predicted)
        agreement = float((final == expected).double().mean())
        share = float(close.double().mean())
        margin = float(torch.quantile(moved, level))
    measured = QuantizationReport(
        method=_METHODS[engine],
        engine=engine,
        n=n,
        used="float32",
        agreement=agreement,
        int8_agreement=plain,
        min_agreement=min_agreement,
        recheck_margin=margin,
        recheck_share=share,
    )
    return decide(measured, min_agreement=min_agreement, min_sample=min_sample)
