"""Classifier throughput: ``bert-classifier`` (fp32 and int8) vs ``transformers.pipeline``.

4,000 clothing reviews of 8 to 120 words (``../shared/data/``) are classified by:

* ``pipeline``: ``transformers.pipeline("text-classification")`` with default settings, on the
  same MiniLM weights (as ``BertForSequenceClassification``);
* ``sorted-loop``: the obvious fast loop: sort by length, batches of 32, ``torch.no_grad``;
* ``ecomlm fp32`` and ``ecomlm int8``: ``bert-classifier`` (head trained on 1,000 other
  reviews in head mode), float32 and int8 dynamic quantization.

The 4,000 texts are cut into 5 chunks; every method runs on every chunk in turn (interleaved,
so machine load hits all alike) and the median texts/s over chunks is reported, with the
GFLOP/s achieved against the fp32 matmul peak measured in the same run, and the int8 / fp32
prediction agreement and accuracy on ``Recommended IND``.

Usage::

    .venv/bin/python benchmarks/bench_classifier.py [--texts 4000] [--chunks 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import polars as pl
import torch
from _modeldata import encoder_flops, matmul_peak_gflops, reviews

warnings.filterwarnings("ignore")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=4000)
    parser.add_argument("--chunks", type=int, default=5)
    args = parser.parse_args()

    from transformers import AutoModel, AutoTokenizer, BertForSequenceClassification, pipeline

    from ecomlm_bert.classifier import BertClassifier
    from ecomlm_sdk.models.hf import bundled_minilm_path, quiet_transformers

    quiet_transformers()
    frame = reviews().filter(pl.col("words").is_between(8, 120))
    frame = frame.sample(n=args.texts + 1000, shuffle=True, seed=0)
    train, test = frame.head(1000), frame.tail(args.texts)
    texts, truth = test["text"].to_list(), test["recommended"].to_list()

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    peak = matmul_peak_gflops()
    print(f"fp32 matmul peak (measured now): {peak:.0f} GFLOP/s")

    started = time.perf_counter()
    clf = BertClassifier(device="cpu", quiet=True).fit(
        train["text"].to_list(), train["recommended"].to_list(), mode="head"
    )
    print(f"head-mode fit on 1,000 reviews: {time.perf_counter() - started:.0f}s")
    int8 = BertClassifier(device="cpu", quantize=True, quiet=True)
    int8._encoder, int8._head = clf.encoder, clf._head
    int8.labels, int8.temperature = clf.labels, clf.temperature

    path = str(bundled_minilm_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    seq_model = BertForSequenceClassification.from_pretrained(path, num_labels=2).eval()
    pipe = pipeline("text-classification", model=seq_model, tokenizer=tokenizer, device=-1)
    bare = AutoModel.from_pretrained(path, attn_implementation="sdpa").eval()

    def sorted_loop(chunk: list[str]) -> None:
        order = sorted(range(len(chunk)), key=lambda i: len(chunk[i]))
        with torch.no_grad():
            for start in range(0, len(order), 32):
                batch = [chunk[i] for i in order[start : start + 32]]
                enc = tokenizer(
                    batch, padding=True, truncation=True, max_length=256, return_tensors="pt"
                )
                bare(**enc)

    methods = {
        "pipeline (default)": lambda chunk: pipe(chunk),
        "sorted batch-32 loop": sorted_loop,
        "ecomlm fp32": lambda chunk: clf.predict_proba(chunk),
        "ecomlm int8": lambda chunk: int8.predict_proba(chunk),
    }
    for run in methods.values():  # warm-up (and builds the int8 copy)
        run(texts[:16])
    size = -(-len(texts) // args.chunks)
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
    outputs: dict[str, list[np.ndarray]] = {"ecomlm fp32": [], "ecomlm int8": []}
    rates: dict[str, list[float]] = {name: [] for name in methods}
    gflops: dict[str, list[float]] = {name: [] for name in methods}
    for index, chunk in enumerate(chunks, 1):
        tokens = [
            len(ids) for ids in tokenizer(chunk, truncation=True, max_length=256)["input_ids"]
        ]
        flops = encoder_flops(tokens)
        for name, run in methods.items():
            started = time.perf_counter()
            result = run(chunk)
            elapsed = time.perf_counter() - started
            if name in outputs:
                outputs[name].append(np.asarray(result))
            rates[name].append(len(chunk) / elapsed)
            gflops[name].append(flops / elapsed / 1e9)
        print(
            f"chunk {index}/{len(chunks)}: "
            + ", ".join(f"{n} {r[-1]:.1f}/s" for n, r in rates.items()),
            flush=True,
        )

    base = statistics.median(rates["pipeline (default)"])
    print(f"\n{'method':<22} {'texts/s':>8} {'x pipeline':>11} {'GFLOP/s':>8} {'% of peak':>10}")
    for name in methods:
        rate, gf = statistics.median(rates[name]), statistics.median(gflops[name])
        print(f"{name:<22} {rate:>8.1f} {rate / base:>10.2f}x {gf:>8.1f} {100 * gf / peak:>9.0f}%")

    fp32_pred = np.concatenate(outputs["ecomlm fp32"]).argmax(axis=1)
    int8_pred = np.concatenate(outputs["ecomlm int8"]).argmax(axis=1)
    labels = np.asarray([clf.labels.index(t) for t in truth])
    print(
        f"\nint8 vs fp32 prediction agreement: {100 * (fp32_pred == int8_pred).mean():.2f}% of {len(texts)}"
    )
    print(
        f"accuracy on Recommended IND (head trained on 1,000): fp32 {100 * (fp32_pred == labels).mean():.2f}%, "
        f"int8 {100 * (int8_pred == labels).mean():.2f}%"
    )


if __name__ == "__main__":
    main()
