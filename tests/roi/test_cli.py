"""``ecomlm roi experiment``: table and JSON output, errors as one line with exit code 1."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from ecomlm_sdk import analyze_experiment
from ecomlm_sdk.cli import main
from ecomlm_sdk.roi import synthetic_experiment


@pytest.fixture(scope="module")
def csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("roi") / "experiment.csv"
    frame = synthetic_experiment(2000, uplift={"email": 0.04, "sms": 0.02}, seed=21).frame
    frame.select("customer_id", "arm", "converted", "revenue").write_csv(path)
    return path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["roi", "experiment", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_output_matches_the_api(csv: Path) -> None:
    code, out, _ = _run(
        str(csv), "--arm", "arm", "--control", "control", "--outcome", "revenue",
        "--converted", "converted", "--cost-per-contact", "email=0.2,sms=0.1",
        "--margin", "0.4", "--json",
    )  # fmt: skip
    assert code == 0
    payload = json.loads(out)
    api = analyze_experiment(
        pl.read_csv(csv),
        arm="arm",
        control="control",
        outcome="revenue",
        converted="converted",
        cost_per_contact={"email": 0.2, "sms": 0.1},
        margin=0.4,
    )
    assert payload == json.loads(json.dumps(api.model_dump()))
    assert [a["arm"] for a in payload["arms"]] == ["control", "email", "sms"]
    assert payload["arms"][1]["cost_per_contact"] == 0.2


def test_table_output_and_plot(csv: Path, tmp_path: Path) -> None:
    plot = tmp_path / "roi.png"
    code, out, _ = _run(
        str(csv), "--arm", "arm", "--control", "control", "--outcome", "revenue",
        "--cost-per-contact", "0.2", "--plot", str(plot),
    )  # fmt: skip
    assert code == 0
    assert "email: " in out and "incremental ROI" in out and "sample ratio check" in out
    assert plot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--control", "holdout"], "control arm 'holdout' not found"),
        (["--control", "control", "--margin", "0"], "margin=0.0 is outside (0, 1]"),
        (["--control", "control", "--cost-per-contact", "-1"], "costs must be finite and >= 0"),
        (["--control", "control", "--cost-per-contact", "cheap"], "is not a number"),
    ],
)
def test_errors_are_one_line_with_exit_code_1(csv: Path, extra: list[str], message: str) -> None:
    code, _, err = _run(str(csv), "--arm", "arm", "--outcome", "revenue", *extra)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_bad_csv_cell_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("arm,revenue\ncontrol,0\ncontrol,5\nmail,abc\nmail,3\n")
    code, _, err = _run(str(path), "--arm", "arm", "--control", "control", "--outcome", "revenue")
    assert code == 1 and "'abc' at row 3 (CSV line 4)" in err
    code, _, err = _run(
        str(tmp_path / "none.csv"), "--arm", "a", "--control", "c", "--outcome", "o"
    )
    assert code == 1 and "no such file" in err


def test_missing_outcomes_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("arm,revenue\ncontrol,0\ncontrol,5\ncontrol,\nmail,4\nmail,3\n")
    code, out, _ = _run(str(path), "--arm", "arm", "--control", "control", "--outcome", "revenue")
    assert code == 0 and "1 missing outcome" in out and "note: 1 rows" in out
    code, _, err = _run(
        str(path), "--arm", "arm", "--control", "control", "--outcome", "revenue", "--strict"
    )
    assert code == 1 and "strict mode rejects them" in err
