"""ROI benchmark: ``analyze_experiment`` vs a plain pandas groupby of the same per-arm means.

Generates (once, cached in ``benchmarks/results/``) a synthetic 3-arm experiment with
``--customers`` rows (``ecomlm_sdk.roi.synthetic_experiment``, seed 0) as Parquet. Each
implementation runs in its own subprocess, which reads the file and then times only the
analysis; peak RSS is the whole process's (``VmHWM``), reported with the RSS after loading
so the analysis's own memory is visible (Linux only: reads /proc). The pandas baseline computes count, mean and variance
of revenue and the conversion rate per arm: the inputs of the intervals, none of the intervals
themselves. Also checks that both report the same means, and measures interval coverage on
``--coverage-reps`` seeded synthetic experiments whose true effects are known.

Usage::

    .venv/bin/python benchmarks/bench_roi.py [--customers 1000000] [--repeat 3] [--coverage-reps 400]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def generate(customers: int) -> Path:
    """Write (or reuse) the synthetic experiment as Parquet."""
    from ecomlm_sdk.roi import synthetic_experiment

    path = RESULTS / f"experiment_3arm_{customers}.parquet"
    if not path.exists():
        RESULTS.mkdir(parents=True, exist_ok=True)
        synth = synthetic_experiment(customers, uplift={"email": 0.02, "sms": 0.01}, seed=0)
        synth.frame.select("customer_id", "arm", "converted", "revenue").write_parquet(path)
    return path


def _status_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process in MB, from ``/proc/self/status``.

    ``ru_maxrss`` is not used: Linux carries it across ``execve``, so a child would report its
    parent's peak (the data generation) instead of its own.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def run_one(impl: str, path: Path) -> dict[str, object]:
    """Load ``path`` and time one analysis (runs inside the child process)."""
    if impl == "ecomlm":
        import polars as pl

        from ecomlm_sdk import analyze_experiment

        frame = pl.read_parquet(path)
        loaded = _rss_mb()
        started = time.perf_counter()
        result = analyze_experiment(
            frame,
            arm="arm",
            control="control",
            outcome="revenue",
            converted="converted",
            cost_per_contact=0.05,
            margin=0.4,
        )
        seconds = time.perf_counter() - started
        means = {a.arm: a.mean_outcome.value for a in result.arms}
    else:
        import pandas as pd

        frame_pd = pd.read_parquet(path)
        loaded = _rss_mb()
        started = time.perf_counter()
        table = frame_pd.groupby("arm").agg(
            n=("revenue", "count"),
            mean=("revenue", "mean"),
            var=("revenue", "var"),
            conversion=("converted", "mean"),
        )
        seconds = time.perf_counter() - started
        means = {str(k): float(v) for k, v in table["mean"].items()}
    peak = _status_mb("VmHWM")
    return {"seconds": seconds, "peak_mb": peak, "loaded_mb": loaded, "means": means}


def coverage(reps: int, customers: int = 2000) -> str:
    """Share of seeded synthetic experiments whose 95% intervals cover the true effects."""
    import warnings

    from ecomlm_sdk import analyze_experiment
    from ecomlm_sdk.roi import synthetic_experiment

    hits = {"welch revenue": 0, "wald conversion": 0, "bootstrap lift": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SRM check fires on ~0.1% of honest splits
        for seed in range(reps):
            synth = synthetic_experiment(customers, uplift={"t": 0.03}, seed=seed)
            arm = analyze_experiment(
                synth.frame,
                arm="arm",
                control="control",
                outcome="revenue",
                converted="converted",
                bootstrap_samples=500,
                seed=seed,
            ).arm("t")
            hits["welch revenue"] += arm.incremental_outcome_per_customer.covers(1.8)
            hits["wald conversion"] += arm.incremental_conversion.covers(0.03)
            hits["bootstrap lift"] += arm.relative_lift.covers(0.3)
    shares = ", ".join(f"{k} {v / reps:.3f}" for k, v in hits.items())
    return f"coverage of 95% intervals over {reps} experiments of {customers:,}: {shares}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--coverage-reps", type=int, default=400)
    parser.add_argument("--child", nargs=2, metavar=("IMPL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child[0], Path(args.child[1]))))
        return 0
    path = generate(args.customers)
    print(f"data: {path.name} ({args.customers:,} customers, 3 arms)")
    runs: dict[str, list[dict[str, object]]] = {"ecomlm": [], "pandas": []}
    for _ in range(args.repeat):
        for impl in runs:
            out = subprocess.run(
                [sys.executable, __file__, "--child", impl, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[impl].append(json.loads(out.stdout.strip().splitlines()[-1]))
    summary = {}
    for impl, rows in runs.items():
        summary[impl] = {
            key: statistics.median(float(r[key]) for r in rows)  # type: ignore[arg-type]
            for key in ("seconds", "peak_mb", "loaded_mb")
        }
        s = summary[impl]
        print(
            f"{impl:<8} analysis {s['seconds']:.3f}s (median of {args.repeat}), "
            f"RSS after load {s['loaded_mb']:.0f} MB, peak RSS {s['peak_mb']:.0f} MB"
        )
    ours, theirs = runs["ecomlm"][0]["means"], runs["pandas"][0]["means"]
    assert isinstance(ours, dict) and isinstance(theirs, dict)
    gap = max(abs(ours[k] - theirs[k]) for k in theirs)
    print(f"same means: max abs difference {gap:.2e}")
    print(
        f"ratio ecomlm/pandas: time {summary['ecomlm']['seconds'] / summary['pandas']['seconds']:.1f}x, "
        f"peak RSS {summary['ecomlm']['peak_mb'] / summary['pandas']['peak_mb']:.2f}x"
    )
    print(coverage(args.coverage_reps))
    return 0 if gap < 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
