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
