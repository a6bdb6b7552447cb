"""Shared fixtures: fresh plugin state, temporary plugins, fakes and the fixture store.

No test downloads anything: HF_HUB_OFFLINE is forced on before transformers is imported.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("ECOMLM_PROGRESS", "0")

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from ecomlm_sdk import EcomStore, testing
from ecomlm_sdk.plugins import reset_plugins


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def fresh_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Reload the plugins before and after the test (env vars re-read)."""
    for var in ("ECOMLM_STRICT_PLUGINS", "ECOMLM_LOAD_PLUGINS", "ECOMLM_DISABLE_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    reset_plugins()
    yield
    reset_plugins()


@pytest.fixture
def inline_plugin() -> Callable[..., AbstractContextManager[str]]:
    """Register a plugin object for a ``with`` block: ``with inline_plugin(obj): ...``."""
    return testing.registered_plugin


@pytest.fixture
def store() -> EcomStore:
    """The small hand-written store from :func:`ecomlm_sdk.testing.fixture_store`."""
    return testing.fixture_store()
