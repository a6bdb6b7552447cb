"""Shared fixtures: fresh plugin state, temporary plugins, fakes and the fixture store.

No test downloads anything: HF_HUB_OFFLINE is forced on before transformers is imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("ECOMLM_PROGRESS", "0")

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

import ecomlm_sdk
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


def _pip_install_to(source: Path, target: Path) -> Path:
    """pip-install the distribution at ``source`` into folder ``target``, offline, no deps."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture(scope="session")
def pip_install_to() -> Callable[[Path, Path], Path]:
    """``pip_install_to(source, target)``: install a local distribution into a folder."""
    return _pip_install_to


def _sample_subset(customers: int) -> EcomStore:
    """The first ``customers`` sample-store customers, with their orders and products."""
    import polars as pl

    store = ecomlm_sdk.sample_store()
    ids = store.customers.get_column("customer_id").sort().head(customers).implode()
    orders = store.orders.filter(pl.col("customer_id").is_in(ids))
    lines = store.order_lines.join(orders.select("order_id"), on="order_id", how="semi")
    return store.replace(
        customers=store.customers.filter(pl.col("customer_id").is_in(ids)),
        products=store.products.filter(pl.col("variant_id").is_in(lines["variant_id"].implode())),
        orders=orders,
        order_lines=lines,
    )


@pytest.fixture(scope="session")
def sample_subset() -> Callable[[int], EcomStore]:
    """``sample_subset(n)``: a store of the first ``n`` sample-store customers, with their
    orders and products."""
    return _sample_subset


@pytest.fixture(scope="session")
def sample_exports(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """``sample_exports(n)``: a folder of Shopify exports of ``n`` real sample-store customers
    (their orders and products), written once per session and size."""
    made: dict[int, Path] = {}

    def make(customers: int) -> Path:
        if customers not in made:
            folder = tmp_path_factory.mktemp(f"exports-{customers}")
            _sample_subset(customers).to_shopify_csv(folder)
            made[customers] = folder
        return made[customers]

    return make


@pytest.fixture
def store() -> EcomStore:
    """The small hand-written store from :func:`ecomlm_sdk.testing.fixture_store`."""
    return testing.fixture_store()


# --------------------------------------------------------------------------------- tiny models
# Owned by the model plugins (issue 4). Built once per session, offline, in about a second.
TINY_CORPUS = [
    f"{adjective} {thing} {use}"
    for adjective in ("red", "blue", "large", "small", "handmade", "vintage")
    for thing in ("heart mug", "star lamp", "canvas tote", "birthday card", "scented candle")
    for use in ("for tea lovers", "on sale this spring", "ships in two days", "gift for mum")
] + [
    "where is my parcel",
    "track my order please",
    "I want a refund for my order",
    "cancel order and give my money back",
    "how do I change my shipping address",
]


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny GPT-2 + byte-level BPE tokenizer trained in-process on e-commerce phrases.

    Load it with ``load_model("gpt2", name_or_path=tiny_gpt2_dir)``.
    """
    from ecomlm_gpt2.generator import Gpt2Generator

    folder = tmp_path_factory.mktemp("tiny-gpt2")
    generator = Gpt2Generator(name_or_path=None, device="cpu", quiet=True)
    generator.fit(
        TINY_CORPUS,
        from_scratch=True,
        epochs=2,
        n_layer=1,
        n_embd=32,
        n_head=2,
        n_positions=64,
        block_size=32,
        vocab_size=300,
    )
    generator.save(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny random BERT encoder + WordPiece tokenizer trained in-process.

    Use it as ``load_model("bert-classifier", backbone=tiny_bert_dir)`` or
    ``load_model("minilm-embedder", name_or_path=tiny_bert_dir)``.
    """
    from ecomlm_bert.tiny import build_tiny_encoder

    return str(build_tiny_encoder(tmp_path_factory.mktemp("tiny-bert"), TINY_CORPUS))
