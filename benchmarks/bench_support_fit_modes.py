"""Support's intent classifier: fast fit modes against full fine-tuning, on new phrasing (issue 12).

Protocol: every bundled Bitext utterance is embedded (``minilm-embedder``) and clustered into
paraphrase families (``family_similarity`` 0.6); 20% of each intent's families are held out
(``grouped_split``, seed 0), as in ``bench_support_realistic.py``. Each mode trains
``bert-classifier`` on the same training rows (60 per intent, as ``fit`` does, or all with
``--all``) and is scored on the held-out families: top-1 accuracy, and the fit time (the median
of ``--repeats`` fits for the quick modes; full fine-tuning is fitted once unless ``--repeats``
is given to it too with ``--repeat-full``).

Modes:

* ``head``: the task's default (``mode="head"``: a linear head on frozen MiniLM embeddings);
* ``head-balanced``: the same with ``class_weights="balanced"``;
* ``full``: ``mode="full"``, fine-tuning the encoder and the head (3 epochs).

Usage::

    .venv/bin/python benchmarks/bench_support_fit_modes.py [--modes head,full] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

import ecomlm_sdk
from ecomlm_sdk.privacy import redact
from ecomlm_sdk.tasks.support.data import bitext_intents, cap_per_intent
from ecomlm_sdk.tasks.support.scope import grouped_split, normalized, paraphrase_families

MODES: dict[str, dict[str, Any]] = {
    "head": {"mode": "head"},
    "head-balanced": {"mode": "head", "class_weights": "balanced"},
    "full": {"mode": "full"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="head,head-balanced,full")
    parser.add_argument("--repeats", type=int, default=3, help="fits per quick mode (median)")
    parser.add_argument("--repeat-full", action="store_true", help="repeat full fits too")
    parser.add_argument("--all", action="store_true", help="all training rows, not 60/intent")
    parser.add_argument("--device", default=None, help="device for the classifier (cpu, cuda)")
    args = parser.parse_args()

    bitext = bitext_intents()
    embedder = ecomlm_sdk.load_model("minilm-embedder", quiet=True)
    texts = [redact(t) for t in bitext.get_column("text").to_list()]
    intents = bitext.get_column("intent").to_list()
    families = paraphrase_families(normalized(embedder.embed(texts)), intents, similarity=0.6)
    train_rows, test_rows = grouped_split(families, intents, fraction=0.2, seed=0)
    train = cap_per_intent(bitext[train_rows], None if args.all else 60, seed=0)
    test = bitext[test_rows]
    x = [redact(t) for t in train.get_column("text").to_list()]
    y = train.get_column("intent").to_list()
    x_test = [redact(t) for t in test.get_column("text").to_list()]
    y_test = np.array(test.get_column("intent").to_list())
    print(f"train {len(x)} rows, test {len(x_test)} rows (held-out paraphrase families)")
    print(f"{'mode':<16}{'accuracy':>10}{'fit s (median)':>16}{'fits':>6}")
    options = {"quiet": True} | ({"device": args.device} if args.device else {})
    for mode in args.modes.split(","):
        fit_options = MODES[mode]
        runs = args.repeats if (mode != "full" or args.repeat_full) else 1
        seconds: list[float] = []
        accuracy = 0.0
        for _ in range(runs):
            classifier = ecomlm_sdk.load_model("bert-classifier", **options)
            started = time.perf_counter()
            classifier.fit(x, y, **fit_options)
            seconds.append(time.perf_counter() - started)
            predicted = np.array([p.label for p in classifier.predict(x_test)])
            accuracy = float(np.mean(predicted == y_test))  # deterministic per seed
        print(f"{mode:<16}{accuracy:>10.3f}{statistics.median(seconds):>16.1f}{runs:>6}")


if __name__ == "__main__":
    main()
