"""SQL load benchmark: the ``sql`` data source vs ``pandas.read_sql`` on the same queries, and
vs loading the same store from Shopify CSV exports.

The sample store (541,909 order lines; or, with ``--lines N``, bench_ingest's generated
N-line orders export) is written once into a DuckDB file, a SQLite file and
Shopify exports (cached in a temporary folder for the run), and, with ``--postgres URI``, into
that PostgreSQL database. Each method runs in its own subprocess, so whole-process peak RSS is
measured separately (the growth of peak RSS over the RSS after imports); methods are interleaved over ``--repeat`` rounds and medians are printed
with ratios against ``pandas.read_sql`` on the same DuckDB file and against CSV:

* ``sql duckdb`` / ``sql sqlite`` / ``sql postgresql``: ``load_store("sql", uri=...)``;
* ``pandas duckdb``: ``pandas.read_sql`` of the query the ``sql`` source runs for each table,
  on the same DuckDB file, then ``EcomStore(...)`` from the pandas frames;
* ``csv``: ``load_store("shopify_csv", path=exports)``.

Usage::

    .venv/bin/python benchmarks/bench_sql.py [--repeat 3] [--postgres postgresql://...]
        [--lines 1000000]   # bench_ingest's generated orders export instead of the sample store
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path


def prepare(folder: Path, postgres: str | None, lines: int | None) -> dict[str, str]:
    import ecomlm_sdk
    from ecomlm_sql import write_store

    if lines:  # bench_ingest's generated 79-column orders export (cached)
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_ingest import generate

        store = ecomlm_sdk.load_store("shopify_csv", path=str(generate(lines)))
    else:
        store = ecomlm_sdk.sample_store()
    targets = {
        "duckdb": f"duckdb:///{folder / 'shop.duckdb'}",
        "sqlite": f"sqlite:///{folder / 'shop.sqlite'}",
    }
    if postgres:
        targets["postgresql"] = postgres
    for uri in targets.values():
        write_store(store, uri)
    store.to_shopify_csv(folder / "exports")
    targets["csv"] = str(folder / "exports")
    return targets


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> float:
    """Reset the peak RSS to the current RSS (Linux: clear_refs 5); return the current RSS."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _status_mib("VmRSS")


def _peak_mib() -> float:
    return _status_mib("VmHWM")


def child(method: str, target: str) -> None:
    warnings.filterwarnings("ignore")
    import duckdb
    import pandas  # noqa: F401

    import ecomlm_sdk
    import ecomlm_shopify  # noqa: F401
    import ecomlm_sql  # noqa: F401
    from ecomlm_sdk.plugins import get_registry

    get_registry()  # plugins load once per process: not part of a load
    baseline = _reset_peak()
    started = time.perf_counter()
    if method == "csv":
        store = ecomlm_sdk.load_store("shopify_csv", path=target)
    elif method == "sql":
        store = ecomlm_sdk.load_store("sql", uri=target)
    else:
        import duckdb
        import pandas as pd

        from ecomlm_sdk.data.schema import SCHEMA
        from ecomlm_sql.connection import parse_uri
        from ecomlm_sql.source import SqlOptions, _Reader

        db = parse_uri(target)
        with db.connect(read_only=True) as con:
            reader = _Reader(db, con, SqlOptions(uri=target))
            queries = {name: reader.query(name) for name in SCHEMA}
        raw = duckdb.connect(str(db.path), read_only=True)
        frames = {
            name: pd.read_sql(built[1], raw) for name, built in queries.items() if built is not None
        }
        raw.close()
        store = ecomlm_sdk.EcomStore(**frames)
    seconds = time.perf_counter() - started
    peak = _peak_mib() - baseline
    lines = store.order_lines.height
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "lines": lines}))


def measure(method: str, target: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", method, target],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "ECOMLM_PROGRESS": "0"},
    )
    if out.returncode:
        raise SystemExit(f"{method} {target} failed:\n{out.stderr[-3000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default=None, help="A PostgreSQL database URI to include.")
    parser.add_argument(
        "--lines", type=int, default=None, help="Use bench_ingest's generated export of N lines."
    )
    parser.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        targets = prepare(Path(tmp), args.postgres, args.lines)
        methods = [("sql", b) for b in targets if b != "csv"]
        methods += [("pandas", "duckdb"), ("csv", "csv")]
        runs: dict[str, list[dict[str, float]]] = {f"{m} {b}": [] for m, b in methods}
        for _ in range(args.repeat):
            for method, backend in methods:
                runs[f"{method} {backend}"].append(measure(method, targets[backend]))
    med = {
        k: {f: statistics.median(r[f] for r in v) for f in ("seconds", "peak_mib")}
        for k, v in runs.items()
    }
    lines = {int(r["lines"]) for v in runs.values() for r in v}
    print(f"order lines loaded: {sorted(lines)}; {args.repeat} runs each, medians")
    for name, m in med.items():
        print(f"{name:<18} {m['seconds']:7.2f} s   peak RSS {m['peak_mib']:7.0f} MiB")
    ours, theirs = med["sql duckdb"], med["pandas duckdb"]
    print(
        f"duckdb: time ratio sql/pandas.read_sql {ours['seconds'] / theirs['seconds']:.2f}, "
        f"memory ratio {ours['peak_mib'] / theirs['peak_mib']:.2f}"
    )
    csv = med["csv csv"]
    for name in [k for k in med if k.startswith("sql ")]:
        print(
            f"{name}: time ratio vs csv {med[name]['seconds'] / csv['seconds']:.2f}, "
            f"memory ratio {med[name]['peak_mib'] / csv['peak_mib']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
