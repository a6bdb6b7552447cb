"""Fine-tuning ``bert-classifier`` (MiniLM) on real data: time and held-out accuracy.

* Bitext support intents: 4,514 utterances, 27 intents, stratified held-out 20%; full
  fine-tuning for 3 epochs, and the fast head-only mode; int8 accuracy of the full model.
* Clothing reviews: ``Recommended IND`` from the review text, stratified held-out 20% (all of
  it is scored); the model trains on ``--review-train`` reviews of the other 80% (CPU budget),
  full fine-tuning for ``--review-epochs`` epochs and head-only mode; majority baseline shown.

Usage::

    .venv/bin/python benchmarks/bench_finetune.py [--review-train 6000] [--review-epochs 1] [--review-modes head,full]
        [--skip-reviews] [--skip-bitext]
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch
from _modeldata import bitext, reviews, split

warnings.filterwarnings("ignore")


def report(name: str, clf: object, texts: list[str], labels: list[str], seconds: float) -> None:
    result = clf.evaluate(texts, labels)  # type: ignore[attr-defined]
    print(
        f"{name:<44} {seconds:>7.0f}s   accuracy {100 * result.accuracy:6.2f}%   macro-F1 {result.macro_f1:.3f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--review-train", type=int, default=6000)
    parser.add_argument("--review-epochs", type=int, default=1)
    parser.add_argument("--skip-reviews", action="store_true")
    parser.add_argument("--skip-bitext", action="store_true")
    parser.add_argument(
        "--review-modes", default="head,full", help="comma-separated: head, full (CPU budget)"
    )
    args = parser.parse_args()

    from ecomlm_bert.classifier import BertClassifier

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if not args.skip_bitext:
        train, test = split(bitext(), "intent")
        x, y = train["text"].to_list(), train["intent"].to_list()
        tx, ty = test["text"].to_list(), test["intent"].to_list()
        print(f"\nBitext: {len(x)} train, {len(tx)} held out, {train['intent'].n_unique()} intents")
        for mode, extra in (("head", {}), ("full", {"epochs": 3})):
            started = time.perf_counter()
            clf = BertClassifier(device="cpu", quiet=True).fit(x, y, mode=mode, **extra)
            seconds = time.perf_counter() - started
            report(
                f"MiniLM {mode} ({clf.fit_report.epochs_run} epochs, T={clf.temperature:.2f})",
                clf,
                tx,
                ty,
                seconds,
            )
        int8 = BertClassifier(device="cpu", quantize=True, quiet=True)
        int8._encoder, int8._head, int8.labels, int8.temperature = (
            clf.encoder,
            clf._head,
            clf.labels,
            clf.temperature,
        )
        report("  same full model, int8 inference", int8, tx, ty, 0.0)

    if not args.skip_reviews:
        train, test = split(reviews(), "recommended")
        majority = test["recommended"].value_counts().sort("count")["count"][-1] / test.height
        sample = train.sample(n=min(args.review_train, train.height), shuffle=True, seed=0)
        x, y = sample["text"].to_list(), sample["recommended"].to_list()
        tx, ty = test["text"].to_list(), test["recommended"].to_list()
        print(
            f"\nReviews: {len(x)} of {train.height} train reviews used, {len(tx)} held out; "
            f"majority baseline {100 * majority:.2f}%"
        )
        runs = (("head", {}), ("full", {"epochs": args.review_epochs}))
        for mode, extra in [r for r in runs if r[0] in args.review_modes.split(",")]:
            started = time.perf_counter()
            clf = BertClassifier(device="cpu", quiet=True, max_length=128).fit(
                x, y, mode=mode, class_weights=None, **extra
            )
            seconds = time.perf_counter() - started
            report(
                f"MiniLM {mode} ({clf.fit_report.epochs_run} epochs, max_length 128)",
                clf,
                tx,
                ty,
                seconds,
            )


if __name__ == "__main__":
    main()
