"""The layered core (issue 14, items 1-4): import weight, the import contract, kinds declared by
their bases, one ``resolve``, the core plugin loaded through its entry point, and writing as a
declared data-source capability."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import ClassVar

import pytest

import ecomlm_sdk
from ecomlm_sdk import (
    DataSource,
    DataSourceError,
    EcomStore,
    Embedder,
    RoiMetric,
    Task,
    TaskError,
    TextClassifier,
    TextGenerator,
    hookimpl,
)
from ecomlm_sdk.errors import ComponentTypeError
from ecomlm_sdk.hookspecs import Register
from ecomlm_sdk.plugins import get_registry, resolve, resolve_class
from ecomlm_sdk.registry import bases
from ecomlm_sdk.testing import FakeEmbedder, FakeGenerator

ROOT = Path(__file__).resolve().parents[2]


def test_import_ecomlm_sdk_loads_no_heavy_module() -> None:
    code = (
        "import sys, ecomlm_sdk; "
        "print(sorted(m for m in ('scipy', 'torch', 'matplotlib', 'sklearn', 'lightgbm', "
        "'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_import_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    if not lint_imports.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    out = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ecomlm_sdk layers KEPT" in out.stdout


def test_each_base_declares_its_kind() -> None:
    assert bases("data_source") == (DataSource,)
    assert bases("model") == (TextGenerator, TextClassifier, Embedder)
    assert bases("task") == (Task,)
    assert bases("roi_metric") == (RoiMetric,)


class _Quiet(FakeEmbedder):
    name: ClassVar[str] = "quiet-embedder"


class _Chatty(FakeGenerator):
    name: ClassVar[str] = "chatty-generator"


class _Models:
    @hookimpl
    def register_models(self, register: Register) -> None:
        register(_Quiet)
        register(_Chatty)


def test_resolve_checks_the_base_and_passes_options(
    inline_plugin: Callable[..., AbstractContextManager[str]],
) -> None:
    with inline_plugin(_Models(), name="layer-models"):
        embedder = resolve("model", "Quiet-Embedder", Embedder)
        assert type(embedder) is _Quiet
        assert resolve_class("model", "chatty-generator", TextGenerator) is _Chatty
        with pytest.raises(ComponentTypeError) as info:
            resolve("model", "chatty-generator", Embedder)
    message = str(info.value)
    assert "'chatty-generator' (plugin 'layer-models') is a _Chatty, not an Embedder" in message
    assert "'quiet-embedder'" in message  # the embedders that would fit
    assert isinstance(info.value, TaskError) and isinstance(info.value, TypeError)


def test_a_task_resolves_its_model_through_resolve(
    inline_plugin: Callable[..., AbstractContextManager[str]],
) -> None:
    from ecomlm_sdk.tasks.embeddings import embed_texts

    with (
        inline_plugin(_Models(), name="layer-models"),
        pytest.raises(ComponentTypeError, match="not an Embedder"),
    ):
        embed_texts("chatty-generator", ["a mug"])


def test_core_plugin_loads_through_its_entry_point(fresh_plugins: None) -> None:
    report = {p.name: p for p in ecomlm_sdk.plugins()}
    core = report["ecomlm_sdk"]
    assert (core.status, core.builtin, core.distribution) == ("loaded", True, "ecomlm-sdk")
    assert core.hooks == ["register_engines", "register_roi_metrics", "register_tasks"]
    assert "task:purchase-prediction" in core.components
    assert "engine:local" in core.components
    assert "roi_metric:roi" in core.components
    stages = report["ecomlm_sdk.stages"]
    assert stages.hooks == ["run_task_stage"] and stages.components == []


def test_load_list_keeps_the_core_plugin(
    fresh_plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECOMLM_LOAD_PLUGINS", "shopify")
    report = {p.name: p for p in ecomlm_sdk.plugins()}
    assert report["ecomlm_sdk"].status == "loaded"
    assert report["gpt2"].status == "skipped"
    assert "purchase-prediction" in get_registry().names("task")


def test_disabling_the_core_plugin_keeps_the_stage_runner(
    fresh_plugins: None, monkeypatch: pytest.MonkeyPatch, store: EcomStore
) -> None:
    monkeypatch.setenv("ECOMLM_DISABLE_PLUGINS", "ecomlm_sdk")
    report = {p.name: p for p in ecomlm_sdk.plugins()}
    assert report["ecomlm_sdk"].reason == "disabled by ECOMLM_DISABLE_PLUGINS"
    assert get_registry().names("task") == []
    # Task stages still run (and are timed) without the core plugin's components.
    from ecomlm_sdk.tasks.prediction import PurchasePredictionTask

    task = PurchasePredictionTask(learner="logistic").fit(store)
    assert task.fitted and task.timings["fit"] > 0


class _ReadOnly(DataSource):
    name: ClassVar[str] = "read-only"

    def _load(self) -> EcomStore:
        return EcomStore()


class _Sources:
    @hookimpl
    def register_data_sources(self, register: Register) -> None:
        register(_ReadOnly)


def test_writing_is_a_declared_capability(
    inline_plugin: Callable[..., AbstractContextManager[str]], store: EcomStore, tmp_path: Path
) -> None:
    with inline_plugin(_Sources(), name="layer-sources"):
        writers = [r.name for r in get_registry().find("data_source", capability="write")]
        # every built-in source that can write (shopify_csv, and sql when installed); never
        # the read-only one
        assert "shopify_csv" in writers
        assert "read-only" not in writers
        with pytest.raises(
            DataSourceError, match=r"'read-only' cannot write a store.*'shopify_csv'"
        ):
            store.write("read-only", tmp_path)
        with pytest.raises(DataSourceError, match="does not set can_write"):
            _ReadOnly.write(store, tmp_path)
    written = store.write("shopify", tmp_path)  # by alias, through the registry
    assert sorted(p.name for p in written) == sorted(p.name for p in tmp_path.iterdir())
    again = ecomlm_sdk.load_store("shopify_csv", path=str(tmp_path))
    assert again.orders.height == store.orders.height
