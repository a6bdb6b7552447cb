"""examples/plugin-template is a ready plugin distribution: it installs, and its own contract
tests pass against the installed copy (entry point included)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[2] / "examples" / "plugin-template"


def test_plugin_template_installs_and_passes_its_contract_tests(
    tmp_path: Path, pip_install_to: Callable[[Path, Path], Path]
) -> None:
    # Build from a copy, so no build/ or egg-info folders land in the source tree.
    source = tmp_path / "plugin-template"
    shutil.copytree(TEMPLATE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    site = tmp_path / "site"
    pip_install_to(source, site)
    assert (site / "ecomlm_template" / "py.typed").is_file()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOMLM_")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(site), *sys.path]),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ECOMLM_PROGRESS="0",
        ECOMLM_STRICT_PLUGINS="1",  # a broken entry point fails loudly here
    )
    shutil.rmtree(source / "src")  # the tests must import the installed plugin
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout, run.stdout
