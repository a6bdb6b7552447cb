"""Plots of ROI results: uplift and Qini curves, the profit curve, per-arm increments.

Each function takes data and returns the image as bytes (PNG or SVG); give ``path`` to also
write the file (format from its suffix). Figures are drawn with matplotlib's object API on the
Agg canvas, never ``pyplot``, so plotting needs no display and leaves no global state; SVG
output carries no date, so the same data gives the same file.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Literal

import matplotlib as mpl
import numpy as np
import polars as pl
from matplotlib.figure import Figure

from ecomlm_sdk.errors import RoiError
from ecomlm_sdk.roi.experiment import ExperimentResult
from ecomlm_sdk.roi.planner import CampaignPlan
from ecomlm_sdk.roi.stats import Estimate
from ecomlm_sdk.roi.uplift_eval import (
    perfect_qini_curve,
    perfect_uplift_curve,
    qini_curve,
    uplift_curve,
)

__all__ = ["plot_arm_increments", "plot_profit_curve", "plot_qini_curve", "plot_uplift_curve"]

Format = Literal["png", "svg"]


def _render(fig: Figure, fmt: Format | None, path: str | Path | None) -> bytes:
    if path is not None and fmt is None:
        suffix = Path(path).suffix.lstrip(".").lower()
        fmt = "svg" if suffix == "svg" else "png" if suffix == "png" else None
        if fmt is None:
            raise RoiError(f"cannot tell the image format of {str(path)!r}: end it in .png or .svg")
    fmt = fmt or "png"
    if fmt not in ("png", "svg"):
        raise RoiError(f"format={fmt!r}; use 'png' or 'svg'")
    buffer = io.BytesIO()
    metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {}
    with mpl.rc_context({"svg.hashsalt": "ecomlm", "svg.fonttype": "none"}):
        fig.savefig(buffer, format=fmt, dpi=100, bbox_inches="tight", metadata=metadata)
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def _figure() -> tuple[Figure, Any]:
    fig = Figure(figsize=(6.4, 4.2))
    return fig, fig.add_subplot()


def _curve_plot(
    kind: str, y: Any, uplift: Any, treatment: Any, fmt: Format | None, path: str | Path | None
) -> bytes:
    actual = (uplift_curve if kind == "uplift" else qini_curve)(y, uplift, treatment)
    perfect = (perfect_uplift_curve if kind == "uplift" else perfect_qini_curve)(y, treatment)
    fig, ax = _figure()
    ax.plot(actual[0], actual[1], label="model", color="#1f77b4")
    ax.plot(perfect[0], perfect[1], label="perfect", color="#2ca02c", linestyle=":")
    ax.plot([0, actual[0][-1]], [0, actual[1][-1]], label="random", color="grey", linestyle="--")
    ax.set_xlabel("customers targeted (best score first)")
    ax.set_ylabel("incremental responders" if kind == "qini" else "cumulative uplift x customers")
    ax.set_title(f"{kind.capitalize()} curve")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return _render(fig, fmt, path)


def plot_uplift_curve(
    y: Any,
    uplift: Any,
    treatment: Any,
    *,
    format: Format | None = None,
    path: str | Path | None = None,
) -> bytes:
    """Uplift curve of the scores against the random and perfect curves (see ``uplift_eval``)."""
    return _curve_plot("uplift", y, uplift, treatment, format, path)


def plot_qini_curve(
    y: Any,
    uplift: Any,
    treatment: Any,
    *,
    format: Format | None = None,
    path: str | Path | None = None,
) -> bytes:
    """Qini curve of the scores against the random and perfect curves (see ``uplift_eval``)."""
    return _curve_plot("qini", y, uplift, treatment, format, path)


def plot_profit_curve(
    plan: CampaignPlan | pl.DataFrame,
    *,
    format: Format | None = None,
    path: str | Path | None = None,
) -> bytes:
    """Expected incremental profit by contacts made, with the measured band when validated.

    Args:
        plan: A :class:`CampaignPlan` or its ``profit_curve`` frame.
        format: ``"png"`` (default) or ``"svg"``.
        path: Also write the image there.
    """
    curve = plan.profit_curve if isinstance(plan, CampaignPlan) else plan
    fig, ax = _figure()
    x = curve.get_column("contacts").to_numpy()
    ax.plot(
        x, curve.get_column("expected_incremental_profit").to_numpy(), label="expected (scores)"
    )
    if "measured_profit" in curve.columns:
        measured = curve.drop_nulls("measured_profit")
        mx = measured.get_column("contacts").to_numpy()
        ax.plot(
            mx,
            measured.get_column("measured_profit").to_numpy(),
            marker="o",
            ms=3,
            label="measured (validation)",
        )
        ax.fill_between(
            mx,
            measured.get_column("measured_profit_low").to_numpy(),
            measured.get_column("measured_profit_high").to_numpy(),
            alpha=0.2,
            label="interval",
        )
    if isinstance(plan, CampaignPlan):
        ax.axvline(
            plan.contacts, color="grey", linestyle="--", label=f"plan: {plan.contacts} contacts"
        )
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel("customers contacted (best first)")
    ax.set_ylabel("incremental profit")
    ax.set_title("Profit curve")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return _render(fig, format, path)


def plot_arm_increments(
    result: ExperimentResult,
    metric: str = "incremental_roi",
    *,
    format: Format | None = None,
    path: str | Path | None = None,
) -> bytes:
    """Each treatment arm's estimate of ``metric`` with its interval (error bars).

    Args:
        result: An :func:`analyze_experiment` result.
        metric: An estimate field of :class:`ArmResult` (``incremental_roi``,
            ``incremental_profit``, ``incremental_outcome_per_customer``, ``relative_lift``...).
        format: ``"png"`` (default) or ``"svg"``.
        path: Also write the image there.
    """
    rows: list[tuple[str, Estimate]] = [
        (a.arm, est)
        for a in result.arms
        if not a.is_control and (est := getattr(a, metric, None)) is not None
    ]
    if any(not hasattr(a, metric) for a in result.arms):
        raise RoiError(f"ArmResult has no field {metric!r}")
    if not rows:
        raise RoiError(f"no arm has a {metric!r} estimate (is there a cost per contact?)")
    fig, ax = _figure()
    values = np.array([est.value for _, est in rows])
    errors = np.array(
        [[est.value - est.low for _, est in rows], [est.high - est.value for _, est in rows]]
    )
    ax.errorbar(range(len(rows)), values, yerr=errors, fmt="o", capsize=6, color="#1f77b4")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(rows)), [name for name, _ in rows])
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(
        f"{metric.replace('_', ' ')} vs {result.control!r} ({result.confidence:.0%} interval)"
    )
    ax.grid(alpha=0.3, axis="y")
    return _render(fig, format, path)
