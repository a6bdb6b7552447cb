"""Ingest benchmark: the ``shopify_csv`` plugin vs a straightforward pandas implementation.

Generates (once, cached in ``benchmarks/results/``) a 79-column Shopify orders export with
``--lines`` line items (order-level fields only on each order's first row, as Shopify writes
them), then ingests it into ``orders`` + ``order_lines`` with each implementation, each run in
its own subprocess so whole-process peak RSS is measured separately. Prints medians and ratios.

Usage::

    .venv/bin/python benchmarks/bench_ingest.py [--lines 1000000] [--repeat 3]
    .venv/bin/python benchmarks/bench_ingest.py --sample-store [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def generate(lines: int) -> Path:
    """Write (or reuse) a deterministic orders export with ``lines`` line items."""
    import numpy as np
    import polars as pl

    from ecomlm_shopify.headers import ORDERS_HEADER

    path = RESULTS / f"orders_79col_{lines}.csv"
    if path.exists():
        return path
    RESULTS.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    per_order = rng.integers(1, 6, size=lines)
    order_of_line = np.repeat(np.arange(lines), per_order)[:lines]
    first = np.r_[True, order_of_line[1:] != order_of_line[:-1]]
    seconds = 1_700_000_000 + order_of_line * 97
    frame = pl.DataFrame(
        {
            "order": order_of_line,
            "first": first,
            "ts": pl.Series(seconds * 1_000_000).cast(pl.Datetime("us")),
            "qty": rng.integers(-1, 8, size=lines),
            "price": np.round(rng.uniform(0.5, 80, size=lines), 2),
            "sku": rng.integers(0, 20_000, size=lines),
        }
    )
    on_first = pl.col("first")
    values = {
        "Name": pl.format("#{}", pl.col("order") + 1000),
        "Email": pl.when(on_first).then(pl.format("c{}@example.com", pl.col("order") % 50_000)),
        "Financial Status": pl.when(on_first).then(pl.lit("paid")),
        "Fulfillment Status": pl.when(on_first).then(pl.lit("fulfilled")),
        "Currency": pl.when(on_first).then(pl.lit("USD")),
        "Subtotal": pl.when(on_first).then(pl.lit("100.00")),
        "Shipping": pl.when(on_first).then(pl.lit("5.00")),
        "Taxes": pl.when(on_first).then(pl.lit("8.25")),
        "Total": pl.when(on_first).then(pl.lit("113.25")),
        "Discount Amount": pl.when(on_first).then(pl.lit("0.00")),
        "Created at": pl.when(on_first).then(pl.col("ts").dt.strftime("%Y-%m-%d %H:%M:%S -0400")),
        "Lineitem quantity": pl.col("qty").cast(pl.String),
        "Lineitem name": pl.format("Product {} - Blue / L", pl.col("sku")),
        "Lineitem price": pl.col("price").cast(pl.String),
        "Lineitem sku": pl.format("SKU-{}", pl.col("sku")),
        "Lineitem requires shipping": pl.lit("true"),
        "Lineitem taxable": pl.lit("true"),
        "Lineitem fulfillment status": pl.lit("fulfilled"),
        "Billing Country": pl.when(on_first).then(pl.lit("US")),
        "Shipping Country": pl.when(on_first).then(pl.lit("US")),
        "Billing City": pl.when(on_first).then(pl.lit("Boston")),
        "Payment Method": pl.when(on_first).then(pl.lit("Shopify Payments")),
        "Refunded Amount": pl.when(on_first).then(pl.lit("0.00")),
        "Id": pl.when(on_first).then((pl.col("order") + 5_000_000_000).cast(pl.String)),
        "Source": pl.when(on_first).then(pl.lit("web")),
    }
    empty = pl.lit(None, dtype=pl.String)
    frame.select([values.get(h, empty).cast(pl.String).alias(h) for h in ORDERS_HEADER]).write_csv(
        path
    )
    return path


def run_plugin(path: Path) -> tuple[int, int]:
    import ecomlm_sdk

    store = ecomlm_sdk.load_store("shopify_csv", path=str(path))
    return store.orders.height, store.order_lines.height


def run_pandas(path: Path) -> tuple[int, int]:
    """The same normalization written the obvious way with pandas."""
    import pandas as pd

    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw = raw.apply(lambda col: col.str.strip()).replace("", None)
    first = ~raw["Name"].duplicated()
    money = ["Subtotal", "Shipping", "Taxes", "Discount Amount", "Total", "Refunded Amount"]
    head = raw[first]
    orders = pd.DataFrame(
        {
            "order_id": head["Name"],
            "email": head["Email"].str.lower(),
            "created_at": pd.to_datetime(
                head["Created at"], format="%Y-%m-%d %H:%M:%S %z", utc=True, errors="coerce"
            ),
            "currency": head["Currency"].str.upper(),
            **{
                m.lower().replace(" ", "_"): pd.to_numeric(
                    head[m].str.replace(",", ""), errors="coerce"
                )
                for m in money
            },
            "financial_status": head["Financial Status"].str.lower(),
            "fulfillment_status": head["Fulfillment Status"].str.lower(),
            "cancelled_at": pd.to_datetime(
                head["Cancelled at"], format="%Y-%m-%d %H:%M:%S %z", utc=True, errors="coerce"
            ),
            "country": head["Shipping Country"].fillna(head["Billing Country"]),
        }
    )
    orders["is_cancelled"] = orders["cancelled_at"].notna()
    lines = pd.DataFrame(
        {
            "order_id": raw["Name"],
            "line_number": raw.groupby("Name").cumcount() + 1,
            "sku": raw["Lineitem sku"],
            "title": raw["Lineitem name"],
            "quantity": pd.to_numeric(raw["Lineitem quantity"], errors="coerce").astype("Int64"),
            "unit_price": pd.to_numeric(raw["Lineitem price"], errors="coerce"),
            "discount": pd.to_numeric(raw["Lineitem discount"], errors="coerce"),
        }
    )
    return len(orders), len(lines)


def child(which: str, path: Path) -> None:
    started = time.perf_counter()
    # the import is timed too (it is part of what a user waits for), and also reported alone
    if which == "plugin":
        import ecomlm_sdk  # noqa: F401
    else:
        import pandas  # noqa: F401
    imported = time.perf_counter()
    counts = run_plugin(path) if which == "plugin" else run_pandas(path)
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "import_seconds": imported - started,
                "peak_mib": peak_kib / 1024,
                "counts": counts,
            }
        )
    )


def sample_child() -> None:
    """Time ``sample_store()`` in this fresh process (the plugin registry loaded first)."""
    import ecomlm_sdk
    from ecomlm_sdk.plugins import get_registry

    started = time.perf_counter()
    get_registry()
    loaded = time.perf_counter()
    store = ecomlm_sdk.sample_store()
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "registry_seconds": loaded - started,
                "seconds": done - loaded,
                "order_lines": store.order_lines.height,
            }
        )
    )


def bench_sample_store(repeat: int) -> None:
    """First ``sample_store()`` of a process: with an empty disk cache, then a filled one."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "ECOMLM_CACHE_DIR": cache}

        def one() -> dict[str, float]:
            done = subprocess.run(
                [sys.executable, __file__, "--child", "sample"],
                check=True,
                env=env,
                capture_output=True,
                text=True,
            )
            result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
            return result

        cold = one()  # parses the shipped exports and writes the cache
        warm = [one() for _ in range(repeat)]
    print(
        f"sample_store() first call, empty cache (parse + write): {cold['seconds']:.2f} s; "
        f"cache filled (warm disk): median {statistics.median(w['seconds'] for w in warm):.2f} s "
        f"over {repeat} processes; registry load before it: "
        f"{statistics.median(w['registry_seconds'] for w in warm):.2f} s"
    )


def measure(which: str, path: Path) -> dict[str, float]:
    # only the plugin under test is loaded, not every installed ecomlm plugin
    env = {**os.environ, "ECOMLM_LOAD_PLUGINS": "shopify"}
    done = subprocess.run(
        [sys.executable, __file__, "--child", which, "--file", str(path)],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--sample-store",
        action="store_true",
        help="time sample_store() (empty vs filled disk cache) instead of the ingest",
    )
    parser.add_argument("--child", choices=["plugin", "pandas", "sample"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "sample":
        sample_child()
        return 0
    if args.child:
        child(args.child, args.file)
        return 0
    if args.sample_store:
        bench_sample_store(args.repeat)
        return 0
    path = generate(args.lines)
    print(f"input: {path} ({path.stat().st_size / 1e6:.0f} MB, {args.lines:,} line items)")
    runs: dict[str, list[dict[str, float]]] = {"plugin": [], "pandas": []}
    for _ in range(args.repeat):
        for which in runs:  # interleaved, so both sides see the same machine load
            runs[which].append(measure(which, path))
    keys = ("seconds", "import_seconds", "peak_mib")
    med = {
        which: {k: statistics.median(r[k] for r in rs) for k in keys} for which, rs in runs.items()
    }
    counts = {which: rs[0]["counts"] for which, rs in runs.items()}
    assert counts["plugin"] == counts["pandas"], counts
    for which, m in med.items():
        print(
            f"{which:>7}: median {m['seconds']:.2f} s (of which import {m['import_seconds']:.2f} s), "
            f"peak RSS {m['peak_mib']:.0f} MiB; runs {[round(r['seconds'], 2) for r in runs[which]]}"
        )
    print(
        f"speed ratio (pandas time / plugin time): {med['pandas']['seconds'] / med['plugin']['seconds']:.1f}x"
    )
    ingest = {w: m["seconds"] - m["import_seconds"] for w, m in med.items()}
    print(f"  without the imports: {ingest['pandas'] / ingest['plugin']:.1f}x")
    print(
        f"memory ratio (plugin peak RSS / pandas peak RSS): {med['plugin']['peak_mib'] / med['pandas']['peak_mib']:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
