"""Shared helpers of the model benchmarks: the real datasets and a matmul peak measurement.

The data lives in ``../shared/data/`` (next to the repository); benchmarks exit cleanly with a
message when it is absent.
"""

from __future__ import annotations

import io
import sys
import time
import zipfile
from pathlib import Path

import polars as pl

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BITEXT = (
    DATA
    / "bitext_customer_support"
    / "Bitext_Sample_Customer_Support_Training_Dataset_2023-08-18.csv"
)
REVIEWS = DATA / "womens_clothing_reviews" / "womens_clothing_reviews.csv.zip"


def require(path: Path) -> None:
    """Exit with status 0 and a message when a dataset is missing."""
    if not path.exists():
        print(f"skipped: {path} not found (the shared datasets are not on this machine)")
        sys.exit(0)


def bitext() -> pl.DataFrame:
    """The 4,514 Bitext utterances: columns ``text``, ``intent``."""
    require(BITEXT)
    frame = pl.read_csv(BITEXT, infer_schema=False)
    return frame.select(pl.col("instruction").alias("text"), "intent")


def reviews() -> pl.DataFrame:
    """Clothing reviews with text: columns ``text``, ``recommended`` ("0"/"1"), ``words``."""
    require(REVIEWS)
    with zipfile.ZipFile(REVIEWS) as archive:
        name = next(n for n in archive.namelist() if not n.startswith("__MACOSX"))
        raw = archive.read(name)
    frame = pl.read_csv(io.BytesIO(raw), infer_schema=False)
    return (
        frame.select(
            pl.col("Review Text").alias("text"), pl.col("Recommended IND").alias("recommended")
        )
        .drop_nulls("text")
        .with_columns(words=pl.col("text").str.split(" ").list.len())
    )


def split(
    frame: pl.DataFrame, label: str, test: float = 0.2, seed: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Stratified train/held-out split."""
    shuffled = frame.with_row_index("_i").sample(fraction=1.0, shuffle=True, seed=seed)
    ranked = shuffled.with_columns(_r=pl.int_range(pl.len()).over(label), _n=pl.len().over(label))
    held = ranked.filter(pl.col("_r") < (pl.col("_n") * test).round())
    train = ranked.filter(pl.col("_r") >= (pl.col("_n") * test).round())
    drop = ["_i", "_r", "_n"]
    return train.sort("_i").drop(drop), held.sort("_i").drop(drop)


def matmul_peak_gflops(seconds: float = 1.0) -> float:
    """Best fp32 matmul throughput of this machine right now (GFLOP/s), over a few shapes."""
    import torch

    best = 0.0
    for m, k, n in ((2048, 2048, 2048), (4096, 384, 1536), (4096, 1536, 384)):
        a, b = torch.randn(m, k), torch.randn(k, n)
        torch.mm(a, b)
        for _ in range(3):
            reps, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds / 3:
                torch.mm(a, b)
                reps += 1
            elapsed = time.perf_counter() - started
            best = max(best, 2 * m * k * n * reps / elapsed / 1e9)
    return best


def encoder_flops(
    token_counts: list[int], layers: int = 6, hidden: int = 384, ffn: int = 1536
) -> float:
    """Forward FLOPs of a BERT encoder over sequences of the given token counts (matmuls only)."""
    total = 0.0
    for tokens in token_counts:
        per_layer = (
            tokens * (2 * 4 * hidden * hidden + 2 * 2 * hidden * ffn)
            + 2 * 2 * tokens * tokens * hidden
        )
        total += layers * per_layer
    return total
