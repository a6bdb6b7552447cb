"""``task()`` and ``load_model()`` give type checkers the built-in classes (issue 14, item 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[2]

USER_CODE = """
import ecomlm_sdk

support = ecomlm_sdk.task("support")
reveal_type(support)
reveal_type(support.options.cost_per_ticket)
support.answer(42)
reveal_type(ecomlm_sdk.load_model("bert-classifier").options)
reveal_type(ecomlm_sdk.task("someone-elses-task"))
"""


def test_overloads_type_built_in_names(tmp_path: Path) -> None:
    script = tmp_path / "user_code.py"
    script.write_text(USER_CODE, encoding="utf-8")
    config = ROOT / "pyproject.toml"
    out, err, _ = mypy_api.run(["--config-file", str(config), "--no-error-summary", str(script)])
    lines = [line.split(": ", 1)[1] for line in out.splitlines() if "user_code.py" in line]
    assert lines == [
        'note: Revealed type is "ecomlm_sdk.tasks.support.task.SupportTask"',
        'note: Revealed type is "float"',
        'error: Argument 1 to "answer" of "SupportTask" has incompatible type "int"; '
        'expected "str"  [arg-type]',
        'note: Revealed type is "ecomlm_bert.classifier.BertClassifierOptions"',
        'note: Revealed type is "Any"',
    ], out + err
