"""Charts for reports, rendered to PNG bytes. matplotlib is imported on first use only."""

from __future__ import annotations

import io
from typing import Any

import polars as pl

__all__ = ["calibration_chart", "png"]


def png(fig: Any) -> bytes:
    """``fig`` (a matplotlib figure) as PNG bytes; the figure is closed."""
    import matplotlib.pyplot as plt  # lazy: matplotlib costs ~0.3 s to import

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def calibration_chart(calibration: pl.DataFrame) -> bytes:
    """Reliability diagram: observed buying rate against mean predicted probability, per bin.

    Args:
        calibration: One row per bin with ``bin_low``, ``bin_high``, ``observed_rate``,
            ``mean_predicted`` and ``customers`` (purchase prediction's ``details``).
    """
    import matplotlib  # lazy, as in png()

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    centres = ((calibration["bin_low"] + calibration["bin_high"]) / 2).to_list()
    ax.bar(
        centres,
        calibration["observed_rate"].to_list(),
        width=0.08,
        color="#3b6fd8",
        label="observed rate",
    )
    ax.plot(
        calibration["mean_predicted"].to_list(),
        calibration["observed_rate"].to_list(),
        "o",
        color="#e0702b",
        label="bin mean p_buy",
    )
    ax.plot([0, 1], [0, 1], "--", color="#888", label="perfect calibration")
    for x, y, n in zip(
        centres,
        calibration["observed_rate"].to_list(),
        calibration["customers"].to_list(),
        strict=True,
    ):
        ax.annotate(
            f"{n}", (x, y), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7
        )
    ax.set_xlabel("predicted probability of buying in the horizon")
    ax.set_ylabel("share who bought")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Calibration on the held-out window (customers per bin on the bars)")
    return png(fig)
