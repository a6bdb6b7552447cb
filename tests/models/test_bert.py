"""The ``bert-classifier`` and ``minilm-embedder`` plugins."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import torch

import ecomlm_sdk
from ecomlm_bert.calibration import expected_calibration_error, fit_temperature
from ecomlm_bert.classifier import BertClassifier
from ecomlm_bert.embedder import MiniLmEmbedder
from ecomlm_bert.training import stratified_split
from ecomlm_sdk import DeviceError, ModelError, NotFittedError, testing

TRACK = [
    "where is my parcel",
    "track my order",
    "has my package shipped",
    "when will my order arrive",
]
REFUND = [
    "refund my money",
    "I want my money back",
    "return this for a refund",
    "money back please",
]


@pytest.fixture(scope="module")
def minilm() -> MiniLmEmbedder:
    model = ecomlm_sdk.load_model("minilm-embedder", device="cpu")
    assert isinstance(model, MiniLmEmbedder)
    return model


# ------------------------------------------------------------------------------------ embedder
def test_minilm_embedder_is_offline_normalized_and_passes_the_contract(
    minilm: MiniLmEmbedder,
) -> None:
    testing.check_embedder(minilm)
    vectors = minilm.embed(["where is my parcel", "track my order", "red ceramic mug"])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_bucketed_batching_does_not_change_vectors(minilm: MiniLmEmbedder) -> None:
    texts = ["a", "a much longer sentence about a red ceramic heart mug for tea", "blue lamp"]
    together = minilm.embed(texts)
    alone = np.concatenate([minilm.embed([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_embed_column_streams_in_chunks(minilm: MiniLmEmbedder) -> None:
    column = pl.Series("body", ["red mug", "blue lamp", "where is my order", "refund"])
    np.testing.assert_allclose(
        minilm.embed_column(column, chunk_size=3), minilm.embed(column), atol=1e-5
    )


def test_embedder_on_a_tiny_model_saves_and_loads(tiny_bert_dir: str, tmp_path: Path) -> None:
    emb = ecomlm_sdk.load_model("minilm-embedder", name_or_path=tiny_bert_dir, device="cpu")
    vectors = emb.embed(["red heart mug", "blue lamp"])
    assert vectors.shape == (2, 32)
    again = MiniLmEmbedder.load(emb.save(tmp_path / "emb"), device="cpu")
    np.testing.assert_allclose(again.embed(["red heart mug", "blue lamp"]), vectors, atol=1e-6)


def test_quantized_embeddings_stay_close(minilm: MiniLmEmbedder) -> None:
    texts = ["where is my parcel", "red ceramic mug with a heart"]
    q = ecomlm_sdk.load_model("minilm-embedder", device="cpu", quantize=True)
    cosine = np.sum(q.embed(texts) * minilm.embed(texts), axis=1)
    assert np.all(cosine > 0.95)


# ------------------------------------------------------------------------------------ classifier
def test_bert_classifier_default_backbone_in_head_mode_passes_the_contract() -> None:
    clf = ecomlm_sdk.load_model("bert-classifier", device="cpu")
    assert isinstance(clf, BertClassifier)
    texts = ["where is my parcel", "track my order", "refund my money", "I want my money back"] * 4
    labels = ["track", "track", "refund", "refund"] * 4
    clf.fit(texts, labels, mode="head")
    assert clf.labels == ["refund", "track"]
    assert clf.predict(["where is my order", "money back please"])[0].label == "track"

    class HeadMode(BertClassifier):
        """The contract refits with default arguments: keep it in the fast head mode here
        (full fine-tuning is covered on the tiny backbone below)."""

        def fit(self, texts: Any, labels: Any, **kwargs: Any) -> HeadMode:
            return super().fit(texts, labels, **{"mode": "head", **kwargs})

    testing.check_text_classifier(HeadMode(device="cpu"))


def test_full_fine_tuning_of_a_tiny_backbone_learns(tiny_bert_dir: str) -> None:
    clf = ecomlm_sdk.load_model("bert-classifier", backbone=tiny_bert_dir, device="cpu")
    texts, labels = TRACK * 6 + REFUND * 6, ["track"] * 24 + ["refund"] * 24
    clf.fit(
        texts,
        labels,
        epochs=16,
        learning_rate=3e-3,
        batch_size=8,
        validation_split=0.25,
        patience=16,
    )
    report = clf.fit_report
    assert report is not None and report.mode == "full" and report.n_val == 12
    assert report.history[-1].train_loss < report.history[0].train_loss
    # 8 texts, 2 classes: chance is 0.5. Float reductions differ with the thread count a run gets,
    # so one borderline text may flip; learning must still be clear.
    assert clf.evaluate(TRACK + REFUND, ["track"] * 4 + ["refund"] * 4).accuracy >= 0.875


def test_save_and_load_round_trip_predicts_the_same(tiny_bert_dir: str, tmp_path: Path) -> None:
    clf = ecomlm_sdk.load_model("bert-classifier", backbone=tiny_bert_dir, device="cpu")
    clf.fit(TRACK * 3 + REFUND * 3, ["track"] * 12 + ["refund"] * 12, mode="head", epochs=20)
    folder = clf.save(tmp_path / "clf")
    assert {"model.safetensors", "classifier_head.safetensors", "ecomlm_model.json"} <= {
        p.name for p in folder.iterdir()
    }
    again = BertClassifier.load(folder, device="cpu")
    assert again.labels == clf.labels and again.temperature == clf.temperature
    np.testing.assert_allclose(again.predict_proba(TRACK), clf.predict_proba(TRACK), atol=1e-6)
    with pytest.raises(ModelError, match="minilm-embedder"):
        ecomlm_sdk.load_model("minilm-embedder").load(folder)


def test_evaluate_reports_accuracy_f1_and_confusion(tiny_bert_dir: str) -> None:
    clf = ecomlm_sdk.load_model("bert-classifier", backbone=tiny_bert_dir, device="cpu")
    clf.fit(
        TRACK * 3 + REFUND * 3,
        ["track"] * 12 + ["refund"] * 12,
        mode="head",
        epochs=30,
        learning_rate=0.05,
    )
    report = clf.evaluate(TRACK + REFUND, ["track"] * 4 + ["refund"] * 4)
    assert report.n == 8 and report.labels == ["refund", "track"]
    assert sum(map(sum, report.confusion)) == 8
    assert report.accuracy == sum(report.confusion[i][i] for i in range(2)) / 8


def test_predict_column_returns_a_frame_in_order(tiny_bert_dir: str) -> None:
    clf = ecomlm_sdk.load_model("bert-classifier", backbone=tiny_bert_dir, device="cpu")
    clf.fit(
        TRACK * 3 + REFUND * 3,
        ["track"] * 12 + ["refund"] * 12,
        mode="head",
        epochs=30,
        learning_rate=0.05,
    )
    column = pl.Series("body", TRACK + REFUND)
    frame = clf.predict_column(column, chunk_size=3)
    assert frame.columns == ["label", "confidence"] and frame.height == 8
    assert frame["label"].to_list() == [p.label for p in clf.predict(column)]


def test_class_weights_balanced_shift_predictions_toward_the_rare_class(tiny_bert_dir: str) -> None:
    texts, labels = TRACK * 8 + REFUND[:1], ["track"] * 32 + ["refund"]
    kwargs = {"mode": "head", "epochs": 40, "learning_rate": 0.02, "validation_split": 0.0}
    plain = ecomlm_sdk.load_model("bert-classifier", backbone=tiny_bert_dir, device="cpu").fit(
        texts, labels, **kwargs
    )
    weighted = ecomlm_sdk.load_model("bert-classifier", backbone=tiny_bert_dir, device="cpu").fit(
        texts, labels, class_weights="balanced", **kwargs
    )
    rare = REFUND[:1]
    assert (
        weighted.predict(rare)[0].probabilities["refund"]
        > plain.predict(rare)[0].probabilities["refund"]
    )
    with pytest.raises(ModelError, match="class_weights names labels"):
        weighted.fit(texts, labels, class_weights={"nope": 2.0}, **kwargs)


def test_unfitted_and_bad_arguments_raise_clear_errors(tiny_bert_dir: str) -> None:
    clf = ecomlm_sdk.load_model("bert-classifier", backbone=tiny_bert_dir, device="cpu")
    with pytest.raises(NotFittedError):
        clf.predict(["x"])
    with pytest.raises(ModelError, match="Accepted"):
        clf.fit(TRACK + REFUND, ["t"] * 4 + ["r"] * 4, epoch=3)
    with pytest.raises(ModelError, match="backbone"):
        ecomlm_sdk.load_model("bert-classifier", backbon="x")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_cuda_request_without_cuda_is_a_device_error_with_the_fix() -> None:
    with pytest.raises(DeviceError, match="device='cpu'"):
        ecomlm_sdk.load_model("bert-classifier", device="cuda")


def test_quantize_needs_cpu_and_int8_predictions_agree(tiny_bert_dir: str) -> None:
    clf = ecomlm_sdk.load_model("bert-classifier", backbone=tiny_bert_dir, device="cpu")
    clf.fit(
        TRACK * 3 + REFUND * 3,
        ["track"] * 12 + ["refund"] * 12,
        mode="head",
        epochs=30,
        learning_rate=0.05,
    )
    quantized = BertClassifier(
        backbone=tiny_bert_dir, device="cpu", quantize=True, quantize_min_sample=1
    )
    quantized._head, quantized.labels, quantized.temperature = (
        clf._head,
        clf.labels,
        clf.temperature,
    )
    both = TRACK + REFUND
    assert [p.label for p in quantized.predict(both)] == [p.label for p in clf.predict(both)]
    assert quantized.uses_int8


# ------------------------------------------------------------------------------------ pieces
def test_temperature_scaling_softens_overconfident_logits() -> None:
    generator = torch.Generator().manual_seed(0)
    targets = torch.randint(0, 3, (400,), generator=generator)
    logits = torch.randn(400, 3, generator=generator)
    logits[torch.arange(400), targets] += 1.0  # right 60-70% of the time ...
    overconfident = logits * 8  # ... but says ~100%
    t = fit_temperature(overconfident, targets)
    assert 4 < t < 16
    before = expected_calibration_error(torch.softmax(overconfident, 1), targets)
    after = expected_calibration_error(torch.softmax(overconfident / t, 1), targets)
    assert after < before / 2


def test_stratified_split_keeps_every_class_in_training() -> None:
    labels = [0] * 10 + [1] * 5 + [2]
    train, val = stratified_split(labels, 0.2, seed=0)
    assert sorted(train + val) == list(range(16))
    assert {labels[i] for i in train} == {0, 1, 2}
    assert [labels[i] for i in val].count(0) == 2 and [labels[i] for i in val].count(1) == 1


def test_each_fit_starts_from_the_original_backbone(tiny_bert_dir: str) -> None:
    clf = ecomlm_sdk.load_model("bert-classifier", backbone=tiny_bert_dir, device="cpu")
    labels = ["track"] * 8 + ["refund"] * 8
    clf.fit(TRACK * 2 + REFUND * 2, labels, epochs=1, learning_rate=1e-2, batch_size=8)
    pristine = MiniLmEmbedder(name_or_path=tiny_bert_dir, device="cpu").encoder
    assert not torch.allclose(clf.encoder.encode(TRACK), pristine.encode(TRACK), atol=1e-4)
    clf.fit(TRACK * 2 + REFUND * 2, labels, mode="head", epochs=1)
    torch.testing.assert_close(clf.encoder.encode(TRACK), pristine.encode(TRACK))


def test_bucketed_logits_equal_unbatched_and_tokenize_once(
    tiny_bert_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clf = ecomlm_sdk.load_model(
        "bert-classifier", backbone=tiny_bert_dir, device="cpu", batch_size=3
    )
    clf.fit(TRACK * 3 + REFUND * 3, ["track"] * 12 + ["refund"] * 12, mode="head", epochs=5)
    texts = [*TRACK, "a", *REFUND, "where is my parcel I ordered it two weeks ago " * 3]
    alone = torch.cat([clf.logits([t]) for t in texts])
    calls: list[int] = []
    tokenize = clf.encoder.tokenize

    def counted(batch: Any) -> list[list[int]]:
        calls.append(len(batch))
        return tokenize(batch)

    monkeypatch.setattr(clf.encoder, "tokenize", counted)
    together = clf.logits(texts)  # 4 length-bucketed batches, each padded to its own longest
    assert calls == [len(texts)]
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=0)


def test_int8_is_used_only_when_it_agrees_with_fp32(
    tiny_bert_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecomlm_bert import encoder as encoder_module
    from ecomlm_bert.quantization import QuantizationWarning

    texts, labels = TRACK * 3 + REFUND * 3, ["track"] * 12 + ["refund"] * 12
    kwargs = {"mode": "head", "epochs": 30, "learning_rate": 0.05}
    # The scrambled copy below replaces torch's int8; the tiny sample is accepted on purpose
    # (the 300-text minimum and the re-check are tested in test_bert_quantization.py).
    gate = {"quantize_engine": "torch", "quantize_min_sample": 1, "quantize_recheck": False}
    clf = ecomlm_sdk.load_model(
        "bert-classifier", backbone=tiny_bert_dir, device="cpu", quantize=True, **gate
    ).fit(texts, labels, **kwargs)
    report = clf.quantization_report
    # Measured on the training texts after the fit: the real int8 copy agrees here.
    assert report is not None and report.n == len(texts) and report.agreement == 1.0
    assert report.used == "int8" and clf.uses_int8
    folder = clf.save(tmp_path / "q")
    again = BertClassifier.load(folder, device="cpu", quantize=True, **gate)
    assert again.quantization_report == report

    # An int8 copy that flips decisions: a float32 copy with its weights scrambled.
    def scrambled(module: torch.nn.Module) -> torch.nn.Module:
        bad = copy.deepcopy(module)
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for parameter in bad.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator))
        return bad

    monkeypatch.setattr(encoder_module, "quantize_int8", scrambled)
    with pytest.warns(QuantizationWarning, match="below the 99.00% required"):
        bad = ecomlm_sdk.load_model(
            "bert-classifier", backbone=tiny_bert_dir, device="cpu", quantize=True, **gate
        ).fit(texts, labels, **kwargs)
    report = bad.quantization_report
    assert report is not None and report.used == "float32" and report.agreement < 0.99
    assert not bad.uses_int8
    fp32 = BertClassifier(backbone=tiny_bert_dir, device="cpu")
    fp32._head, fp32.labels, fp32.temperature = bad._head, bad.labels, bad.temperature
    # Falling back means float32 results, exactly.
    np.testing.assert_allclose(bad.predict_proba(TRACK), fp32.predict_proba(TRACK), atol=1e-6)
    # The recorded measurement is judged again by the threshold given at load.
    with pytest.warns(QuantizationWarning):
        reloaded = BertClassifier.load(
            bad.save(tmp_path / "bad"), device="cpu", quantize=True, **gate
        )
    assert reloaded.quantization_report == report and not reloaded.uses_int8
    accepting = BertClassifier.load(
        tmp_path / "bad", device="cpu", quantize=True, quantize_min_agreement=0.0, **gate
    )
    assert accepting.quantization_report is not None and accepting.uses_int8
    assert accepting.quantization_report.agreement == report.agreement
    # With no bar at all the (bad) int8 copy is accepted.
    lax = BertClassifier(
        backbone=tiny_bert_dir, device="cpu", quantize=True, quantize_min_agreement=0.0, **gate
    )
    lax._head, lax.labels, lax.temperature = bad._head, bad.labels, bad.temperature
    lax.predict(TRACK)  # calibrates on the first texts it classifies
    assert lax.quantization_report is not None and lax.quantization_report.n == len(TRACK)
    assert lax.uses_int8


def test_onnx_backend_logits_equal_torch(tiny_bert_dir: str) -> None:
    pytest.importorskip("onnxruntime")
    clf = ecomlm_sdk.load_model("bert-classifier", backbone=tiny_bert_dir, device="cpu")
    clf.fit(TRACK * 3 + REFUND * 3, ["track"] * 12 + ["refund"] * 12, mode="head", epochs=5)
    onnx = BertClassifier(backbone=tiny_bert_dir, device="cpu", backend="onnx", batch_size=3)
    onnx._head, onnx.labels, onnx.temperature = clf._head, clf.labels, clf.temperature
    texts = [*TRACK, "a", *REFUND, "where is my parcel I ordered it two weeks ago " * 3]
    torch.testing.assert_close(onnx.logits(texts), clf.logits(texts), atol=1e-4, rtol=0)
    assert onnx.encoder.backend_reason == "onnx (backend='onnx')"
    assert clf.encoder.backend_reason == "torch (backend='torch')"
    # auto times both on a small probe and keeps whichever was faster; results agree either way.
    auto = BertClassifier(backbone=tiny_bert_dir, device="cpu", backend="auto")
    auto._head, auto.labels, auto.temperature = clf._head, clf.labels, clf.temperature
    torch.testing.assert_close(auto.logits(texts), clf.logits(texts), atol=1e-4, rtol=0)
    reason = auto.encoder.backend_reason
    assert reason is not None and reason.split()[0] in {"onnx", "torch"} and "probe" in reason


def test_auto_backend_without_onnxruntime_is_torch(
    tiny_bert_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecomlm_bert import onnx_backend

    monkeypatch.setattr(onnx_backend, "onnx_available", lambda: False)
    auto = BertClassifier(backbone=tiny_bert_dir, device="cpu", backend="auto")
    auto.fit(TRACK + REFUND, ["track"] * 4 + ["refund"] * 4, mode="head", epochs=2)
    auto.predict(TRACK)
    assert auto.encoder.backend_reason is not None
    assert "onnxruntime not installed" in auto.encoder.backend_reason
    onnx = BertClassifier(backbone=tiny_bert_dir, device="cpu", backend="onnx")
    onnx._head, onnx.labels = auto._head, auto.labels
    with pytest.raises(ModelError, match=r"ecomlm-sdk\[onnx\]"):
        onnx.predict(TRACK)


def test_onnx_embeddings_equal_torch(tiny_bert_dir: str) -> None:
    pytest.importorskip("onnxruntime")
    texts = ["red heart mug", "blue lamp", "where is my parcel I ordered two weeks ago"]
    torch_emb = MiniLmEmbedder(name_or_path=tiny_bert_dir, device="cpu")
    onnx_emb = MiniLmEmbedder(name_or_path=tiny_bert_dir, device="cpu", backend="onnx")
    np.testing.assert_allclose(onnx_emb.embed(texts), torch_emb.embed(texts), atol=1e-4)
    assert onnx_emb.encoder.backend_reason == "onnx (backend='onnx')"
