"""Every script in examples/ runs, offline, and prints what it promises."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# script -> text its output must contain
EXPECTED = {
    "purchase_prediction.py": ["ROC-AUC", "baseline recency", "expected_revenue"],
    "recommendation.py": ["product_id", "NDCG@10", "popularity"],
    "support.py": ["track_order", "1 December 2010", "handoff=True"],
    "marketing_copy.py": ["["],
    "measure_campaign.py": ["email incremental ROI", "95% interval", "contact"],
}


def test_every_example_is_covered() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_runs(script: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Run as `python examples/<script>` would, but in this process, so the examples share the
    # sample store, the loaded MiniLM weights and the title-embedding cache (CI time).
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    out = capsys.readouterr().out
    for needle in EXPECTED[script]:
        assert needle in out, f"{script} output lacks {needle!r}:\n{out[-2000:]}"


def test_an_example_runs_as_a_script() -> None:
    """One example end to end in a fresh interpreter, exactly as a user runs it."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "measure_campaign.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "email incremental ROI" in done.stdout
