"""The HTML report builder: self-contained, escaped, renders in a real browser."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import polars as pl

from ecomlm_sdk.report import HtmlReport


def _png() -> bytes:
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0, 1, 4])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _report() -> HtmlReport:
    report = HtmlReport("Shop <report>", subtitle="test")
    section = report.section("Figures & tables")
    section.metrics({"ROC-AUC": 0.7512, "customers": 3362})
    section.table(pl.DataFrame({"product": ["<b>mug</b>", "lamp"], "score": [0.5, 0.25]}))
    section.image(_png(), "A chart")
    return report


def test_report_is_self_contained_and_escaped(tmp_path: Path) -> None:
    path = _report().write(tmp_path / "r" / "report.html")
    text = path.read_text()
    assert "&lt;b&gt;mug&lt;/b&gt;" in text and "<b>mug</b>" not in text
    assert "Shop &lt;report&gt;" in text
    assert "data:image/png;base64," in text
    assert "http://" not in text and "https://" not in text and "<script" not in text
    assert "3,362" in text and "0.751" in text


def test_report_renders_in_chromium(
    tmp_path: Path, render_in_browser: Callable[[Path], object]
) -> None:
    check = render_in_browser(_report().write(tmp_path / "report.html"))
    assert check.title == "Shop <report>"  # type: ignore[attr-defined]
    assert check.images == 1 and check.broken_images == []  # type: ignore[attr-defined]
    assert check.console_errors == [] and check.external_requests == []  # type: ignore[attr-defined]


def _wide_report() -> HtmlReport:
    """A report made to overflow: 16 columns, long unbroken words, money, tiles with notes."""
    report = HtmlReport("Wide", currency="GBP")
    section = report.section("A wide table")
    section.metrics(
        {"incremental ROI": 4.35, "revenue": 12345.5},
        notes={"incremental ROI": "ROI 4.35: each £1.00 spent brought £4.35 of profit."},
        money=("revenue",),
    )
    wide = {f"incremental_outcome_per_customer_{i}": [123456.789, 0.5] for i in range(16)}
    wide["title"] = ["SET OF 3 CAKE TINS PANTRY DESIGN" * 4, "x" * 300]
    section.table(pl.DataFrame(wide), money=("incremental_outcome_per_customer_0",))
    section.next_steps(["Do this.", "Then that."])
    return report


def test_money_notes_and_next_steps_are_rendered(tmp_path: Path) -> None:
    text = _wide_report().write(tmp_path / "wide.html").read_text()
    assert "£12,345.50" in text and "£123,456.79" in text
    assert "<small>ROI 4.35: each £1.00 spent brought £4.35 of profit.</small>" in text
    assert "What to do next" in text and "<li>Then that.</li>" in text


def test_nothing_overflows_at_1400px(
    tmp_path: Path, render_in_browser: Callable[[Path], object]
) -> None:
    check = render_in_browser(_wide_report().write(tmp_path / "wide.html"))
    assert check.overflow == []  # type: ignore[attr-defined]
    shot: bytes = check.screenshot  # type: ignore[attr-defined]
    assert shot.startswith(b"\x89PNG") and len(shot) > 10_000  # the page drew something
