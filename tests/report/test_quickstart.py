"""`ecomlm quickstart` end to end on the sample store: figures, report, and a real browser."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from ecomlm_sdk.cli import main

SECTIONS = [
    "The store",
    "Who will buy in the next 90 days",
    "What to show each customer",
    "Automated customer support",
    "Marketing copy",
    "Campaign method, shown on a synthetic experiment (not your shop's data)",
    "Timings",
]


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], Path]:
    output = tmp_path_factory.mktemp("quickstart") / "report.html"
    result = CliRunner().invoke(main, ["quickstart", "--output", str(output), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output[result.output.index("{") :])
    return payload, output


def test_quickstart_headline_figures(quickstart: tuple[dict[str, object], Path]) -> None:
    payload, output = quickstart
    assert Path(str(payload["report"])) == output.resolve()
    headline = payload["headline"]
    assert isinstance(headline, dict)
    # Real models on real data: better than the simple baselines the guides compare against.
    assert headline["purchase ROC-AUC"] > 0.70  # recency alone scores 0.684
    assert headline["recommendation NDCG@10"] > 0.20  # popularity scores about 0.10
    # The synthetic email arm truly earns, and says it is synthetic.
    assert headline["synthetic experiment (not the shop's): email incremental ROI"] > 0
    assert all("synthetic" in key for key in headline if "ROI" in key)
    assert any(key.startswith("purchase ROC-AUC, strongest baseline") for key in headline)
    assert any(key.startswith("recommendation NDCG@10, strongest baseline") for key in headline)
    assert "the bundled sample shop" in Path(str(payload["report"])).read_text()
    assert set(payload["timings"]) >= {"Purchase prediction", "Customer support", "Marketing copy"}


def test_quickstart_report_renders_in_chromium(
    quickstart: tuple[dict[str, object], Path], render_in_browser: Callable[[Path], object]
) -> None:
    _, output = quickstart
    check = render_in_browser(output)
    assert check.images >= 3  # type: ignore[attr-defined]  # calibration, ROI per arm, profit curve
    assert check.broken_images == []  # type: ignore[attr-defined]
    assert check.console_errors == []  # type: ignore[attr-defined]
    assert check.external_requests == []  # type: ignore[attr-defined]
    text: str = check.text  # type: ignore[attr-defined]
    for title in SECTIONS:
        assert title in text
    assert "[CARD]" in text and "4111" not in text  # PII redacted before display
    assert "customer-17850@example.com" not in text
    assert check.overflow == []  # type: ignore[attr-defined]  # every table fits its card at 1400 px
    assert text.count("What to do next") >= 6 and "£" in text
    shot: bytes = check.screenshot  # type: ignore[attr-defined]
    assert shot.startswith(b"\x89PNG") and len(shot) > 50_000
