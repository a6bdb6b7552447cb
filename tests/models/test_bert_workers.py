"""``bert-classifier`` batch jobs on single-thread worker processes (``workers=``)."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ecomlm_sdk
from ecomlm_bert.classifier import BertClassifier
from ecomlm_sdk import InvalidValueError, ModelError, NotFittedError

TRACK = ["where is my parcel", "track my order", "has my package shipped", "when will it arrive"]
REFUND = ["refund my money", "I want my money back", "return this for a refund", "money back"]


def test_worker_processes_give_the_single_process_results_in_order(tiny_bert_dir: str) -> None:
    clf = BertClassifier(backbone=tiny_bert_dir, device="cpu", quiet=True, batch_size=4)
    clf.fit(TRACK * 3 + REFUND * 3, ["track"] * 12 + ["refund"] * 12, mode="head", epochs=20)
    texts = [f"{t} {'again ' * (i % 5)}".strip() for i, t in enumerate((TRACK + REFUND) * 4)]
    column = pl.Series("body", texts)
    alone = clf.predict_column(column)
    # workers=2 as an option (predict_column(..., workers=2) takes the same path).
    spread_model = BertClassifier(backbone=tiny_bert_dir, device="cpu", quiet=True, workers=2)
    spread_model._encoder, spread_model._head = clf.encoder, clf._head
    spread_model.labels, spread_model.temperature = clf.labels, clf.temperature
    spread = spread_model.predict_column(column)
    assert spread.height == len(texts)
    assert spread["label"].to_list() == alone["label"].to_list()
    # Each worker pads its own slices: the same numbers up to float rounding.
    assert_frame_equal(spread, alone, abs_tol=1e-5, rel_tol=0)
    # workers=1 overrides the option and stays in this process.
    here = spread_model.predict_column(column, workers=1)
    assert_frame_equal(here, alone, abs_tol=1e-6, rel_tol=0)


def test_bad_worker_counts_raise_errors_naming_the_option(tiny_bert_dir: str) -> None:
    clf = BertClassifier(backbone=tiny_bert_dir, device="cpu", quiet=True)
    with pytest.raises(NotFittedError):
        clf.predict_column(TRACK, workers=2)
    clf.fit(TRACK + REFUND, ["track"] * 4 + ["refund"] * 4, mode="head", epochs=2)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidValueError, match="workers="):
            clf.predict_column(TRACK, workers=bad)  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="workers"):
        ecomlm_sdk.load_model("bert-classifier", workers=0)
