"""Helpers to install throwaway plugin distributions on ``sys.path`` for one test."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from ecomlm_sdk.plugins import reset_plugins


@pytest.fixture
def fake_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_plugins: None
) -> Callable[[str, str], Path]:
    """Create a distribution with one ``ecomlm_sdk`` entry point: ``fake_distribution(name, code)``.

    It writes ``<name>.py`` holding ``code`` and a ``<name>-1.0.dist-info`` declaring the entry
    point, puts the folder on ``sys.path`` and resets the plugin manager so it is discovered.
    """

    def make(name: str, code: str) -> Path:
        root = tmp_path / f"site-{name}"
        root.mkdir()
        (root / f"{name}.py").write_text(textwrap.dedent(code))
        info = root / f"{name.replace('_', '-')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: 1.0\n"
        )
        (info / "entry_points.txt").write_text(f"[ecomlm_sdk]\n{name} = {name}\n")
        monkeypatch.syspath_prepend(str(root))
        reset_plugins()
        return root

    return make
