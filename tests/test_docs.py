"""The docs stay true: every hook is documented and tested; every python block in docs runs."""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest

from ecomlm_sdk import hookspecs

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)


def _hooks() -> list[str]:
    return sorted(
        name
        for name, fn in vars(hookspecs).items()
        if inspect.isfunction(fn) and hasattr(fn, "ecomlm_sdk_spec")
    )


def test_every_hook_is_found() -> None:
    assert "register_models" in _hooks() and "select_device" in _hooks()


@pytest.mark.parametrize("hook", _hooks())
def test_hook_has_doc_section_and_test(hook: str) -> None:
    fn = getattr(hookspecs, hook)
    signature = f"{hook}({', '.join(inspect.signature(fn).parameters)})"
    page = (DOCS / "plugins" / "hooks.md").read_text()
    assert f"## `{signature}`" in page, f"docs/plugins/hooks.md needs a section '## `{signature}`'"
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    assert f"def test_hook_{hook}(" in tests, f"add a test named test_hook_{hook}"


def _pages_with_code() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if FENCE.search(p.read_text()))


@pytest.mark.parametrize("page", _pages_with_code(), ids=lambda p: str(p.relative_to(DOCS)))
def test_docs_python_blocks_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run every ```python block of the page, in order, in one namespace (```py blocks are shown only)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for i, block in enumerate(FENCE.findall(page.read_text())):
        try:
            exec(compile(block, f"{page.relative_to(ROOT)}[block {i}]", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(
                f"{page.relative_to(ROOT)} block {i} failed: {exc!r}\n{block}"
            ) from exc
    assert os.getcwd() == str(tmp_path)


def test_readme_python_block_runs() -> None:
    blocks = FENCE.findall((ROOT / "README.md").read_text())
    assert blocks, "the README shows a taste of the Python API"
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)


def test_api_reference_renders_every_built_in_task_with_its_options() -> None:
    from ecomlm_sdk._builtins import BUILTIN_TASKS

    page = (DOCS / "api" / "tasks.md").read_text()
    for task in BUILTIN_TASKS:
        for cls in (task, task.Options, task.EvaluateOptions):
            if cls is None or cls.__module__ == "ecomlm_sdk.tasks.base":
                continue
            assert f"::: {cls.__module__}.{cls.__qualname__}\n" in page, cls
