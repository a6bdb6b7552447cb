"""The int8 gate of ``bert-classifier``: re-check of close calls, minimum sample, engines."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

import ecomlm_sdk
from ecomlm_bert.classifier import BertClassifier
from ecomlm_bert.quantization import (
    MIN_SAMPLE,
    QuantizationReport,
    QuantizationWarning,
    measure_agreement,
    recheck_close_calls,
)
from ecomlm_sdk import ModelError

TRACK = ["where is my parcel", "track my order", "has my package shipped", "when will it arrive"]
REFUND = ["refund my money", "I want my money back", "return this for a refund", "money back"]
TEXTS, LABELS = TRACK * 3 + REFUND * 3, ["track"] * 12 + ["refund"] * 12
FIT = {"mode": "head", "epochs": 30, "learning_rate": 0.05}


def synthetic(n: int, noise: float, *, classes: int = 3, seed: int = 0) -> dict[bool, torch.Tensor]:
    """float32 logits and an "int8" copy moved by uniform noise of the given size."""
    generator = torch.Generator().manual_seed(seed)
    fp32 = torch.randn((n, classes), generator=generator) * 2
    moved = fp32 + (torch.rand((n, classes), generator=generator) - 0.5) * 2 * noise
    return {False: fp32, True: moved}


def by_text(logits: dict[bool, torch.Tensor]) -> Callable[[list[str], bool], torch.Tensor]:
    def run(batch: list[str], quantized: bool) -> torch.Tensor:
        return logits[quantized][[int(t) for t in batch]]

    return run


def test_recheck_of_close_calls_restores_the_decisions() -> None:
    logits = synthetic(1000, 0.4)
    texts = [str(i) for i in range(1000)]
    with pytest.warns(QuantizationWarning, match="below the 99.00% required"):
        plain = measure_agreement(by_text(logits), texts, min_agreement=0.99, recheck=False)
    assert plain.int8_agreement == plain.agreement and plain.agreement < 0.99
    assert plain.used == "float32" and plain.recheck_margin is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # passing the gate warns about nothing
        report = measure_agreement(by_text(logits), texts, min_agreement=0.99)
    assert report.int8_agreement == pytest.approx(plain.agreement)
    assert report.agreement >= 0.99 and report.used == "int8" and report.n == 1000
    assert report.recheck_margin is not None and 0 < report.recheck_share < 0.5
    # Largest move of a logit difference is 2 * 0.4 = 0.8; the 99.5% quantile sits below it.
    assert 0.5 < report.recheck_margin <= 0.8
    final = recheck_close_calls(
        logits[True], report.recheck_margin, lambda rows: logits[False][rows]
    )
    agreement = float((final.argmax(1) == logits[False].argmax(1)).double().mean())
    assert agreement >= 0.99
    top = logits[True].topk(2, dim=1).values
    close = (top[:, 0] - top[:, 1]) <= report.recheck_margin
    torch.testing.assert_close(final[close], logits[False][close])
    torch.testing.assert_close(final[~close], logits[True][~close])


def test_an_int8_copy_that_needs_too_many_rechecks_stays_in_float32() -> None:
    logits = synthetic(400, 6.0)
    texts = [str(i) for i in range(400)]
    with pytest.warns(QuantizationWarning, match="slower than float32"):
        report = measure_agreement(by_text(logits), texts, min_agreement=0.99)
    assert report.used == "float32" and report.recheck_share > 0.5


def test_fewer_calibration_texts_than_the_minimum_refuse_int8(tiny_bert_dir: str) -> None:
    assert MIN_SAMPLE == 300
    with pytest.warns(QuantizationWarning, match="only 24 calibration texts, at least 300"):
        clf = BertClassifier(
            backbone=tiny_bert_dir, device="cpu", quantize=True, quantize_engine="torch"
        ).fit(TEXTS, LABELS, **FIT)
    report = clf.quantization_report
    assert report is not None and report.n == 24 and report.min_sample == 300
    assert report.used == "float32" and not clf.uses_int8 and "at least 300" in report.reason
    fp32 = BertClassifier(backbone=tiny_bert_dir, device="cpu")
    fp32._head, fp32.labels, fp32.temperature = clf._head, clf.labels, clf.temperature
    np.testing.assert_allclose(clf.predict_proba(TRACK), fp32.predict_proba(TRACK), atol=1e-6)
    # Enough of the caller's own texts (repeats count) let the measurement decide.
    again = clf.calibrate_quantization(TEXTS * 13)
    assert again.n == 312 and again.used == "int8" and clf.uses_int8


def test_onnx_int8_agreement_is_measured_recorded_and_saved(
    tiny_bert_dir: str, tmp_path: Path
) -> None:
    pytest.importorskip("onnxruntime")
    clf = BertClassifier(
        backbone=tiny_bert_dir, device="cpu", quantize=True, quantize_min_sample=24
    ).fit(TEXTS, LABELS, **FIT)
    report = clf.quantization_report
    assert clf.int8_engine == "onnx"
    assert report is not None and report.engine == "onnx" and "ONNX Runtime" in report.method
    assert report.n == 24 and report.int8_agreement is not None
    assert report.agreement == 1.0 and report.used == "int8" and clf.uses_int8
    assert report.recheck_margin is not None and report.recheck_margin >= 0
    fp32 = BertClassifier(backbone=tiny_bert_dir, device="cpu")
    fp32._head, fp32.labels, fp32.temperature = clf._head, clf.labels, clf.temperature
    assert [p.label for p in clf.predict(TEXTS)] == [p.label for p in fp32.predict(TEXTS)]
    # int8 moves the logits a little, not a lot.
    torch.testing.assert_close(clf.logits(TEXTS), fp32.logits(TEXTS), atol=0.5, rtol=0)
    folder = clf.save(tmp_path / "q")
    loaded = BertClassifier.load(folder, device="cpu", quantize=True, quantize_min_sample=24)
    assert loaded.quantization_report == report
    torch.testing.assert_close(loaded.logits(TEXTS), clf.logits(TEXTS), atol=1e-5, rtol=0)
    # Judged again by today's minimum sample; a measurement of another engine is dropped.
    with pytest.warns(QuantizationWarning, match="at least 300"):
        strict = BertClassifier.load(folder, device="cpu", quantize=True)
    assert strict.quantization_report is not None and not strict.uses_int8
    other = BertClassifier.load(folder, device="cpu", quantize=True, quantize_engine="torch")
    assert other.quantization_report is None


def test_reports_saved_before_the_minimum_sample_still_load() -> None:
    old = {"method": "int8 dynamic, per output channel", "agreement": 0.995, "n": 512,
           "min_agreement": 0.99, "used": "int8"}  # fmt: skip
    report = QuantizationReport.model_validate(old)
    assert report.engine == "torch" and report.recheck_margin is None and report.min_sample == 0
    assert report.with_threshold(0.99, 300).used == "int8"
    with pytest.warns(QuantizationWarning, match="at least 600"):
        assert report.with_threshold(0.99, 600).used == "float32"


def test_quantize_engine_onnx_without_onnxruntime_names_the_fix(
    tiny_bert_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecomlm_bert import classifier

    monkeypatch.setattr(classifier, "onnx_available", lambda: False)
    with pytest.raises(ModelError, match=r"quantize_engine='onnx'.*ecomlm-sdk\[onnx\]"):
        BertClassifier(backbone=tiny_bert_dir, quantize=True, quantize_engine="onnx")
    auto = BertClassifier(backbone=tiny_bert_dir, device="cpu", quantize=True)
    assert auto.int8_engine == "torch"
    with pytest.raises(ModelError, match="quantize_min_sample"):
        ecomlm_sdk.load_model("bert-classifier", quantize_min_sample=0)
    with pytest.raises(ModelError, match="quantize_sample=100 is below quantize_min_sample=300"):
        ecomlm_sdk.load_model("bert-classifier", quantize=True, quantize_sample=100)
