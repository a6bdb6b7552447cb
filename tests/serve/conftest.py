"""Saved tasks for the server tests, fitted once on 120 sample customers with the kit's fakes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

import ecomlm_sdk
from ecomlm_sdk import testing
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.serve import ApiKey, ServeSettings, create_app, hash_api_key

SECRET = "test-shared-secret"
#: Raw keys by scope set; the settings hold only their hashes.
KEYS = {
    "all": ("key-all", ("support", "recommendations", "scores", "admin")),
    "widget": ("key-widget", ("support",)),
    "storefront": ("key-storefront", ("recommendations",)),
}


class _Fakes:
    @ecomlm_sdk.hookimpl
    def register_models(self, register: Any) -> None:
        for model in (testing.FakeClassifier, testing.FakeEmbedder):
            register(model)


@pytest.fixture(autouse=True)
def fake_models() -> Iterator[None]:
    """The fake classifier and embedder the saved support task names, for each test."""
    with testing.registered_plugin(_Fakes(), name="serve-fakes"):
        yield


@pytest.fixture(scope="session")
def small_store(sample_subset: Callable[[int], EcomStore]) -> EcomStore:
    return sample_subset(120)


@pytest.fixture(scope="session")
def model_dir(small_store: EcomStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """support (fakes), recommendation (k=3, no embedder) and purchase-prediction, saved."""
    folder = tmp_path_factory.mktemp("serve-models")
    with testing.registered_plugin(_Fakes(), name="serve-fakes"):
        ecomlm_sdk.task(
            "support",
            classifier="fake-classifier",
            embedder="fake-embedder",
            examples_per_intent=20,
            quiet=True,
        ).fit(small_store).save(folder / "support")
    ecomlm_sdk.task("recommendation", embedder=None, k=3).fit(small_store).save(
        folder / "recommendation"
    )
    ecomlm_sdk.task("purchase-prediction").fit(small_store).save(folder / "prediction")
    return folder


@pytest.fixture
def make_settings(model_dir: Path) -> Any:
    """``make_settings(**overrides)``: settings serving ``model_dir`` with the test keys."""
    return lambda **overrides: settings_for(overrides.pop("model_dir", model_dir), **overrides)


def settings_for(model_dir: Path, **overrides: Any) -> ServeSettings:
    keys = tuple(
        ApiKey(name=name, sha256=hash_api_key(raw), scopes=scopes)
        for name, (raw, scopes) in KEYS.items()
    )
    values: dict[str, Any] = {
        "model_dir": model_dir,
        "api_keys": keys,
        "customer_token_secret": SECRET,
        "cors_origins": ("https://shop.example",),
        **overrides,
    }
    return ServeSettings(**values)


def headers(name: str = "all") -> dict[str, str]:
    return {"X-API-Key": KEYS[name][0]}


@pytest.fixture
def auth() -> Any:
    """``auth(name)``: the header carrying that test key."""
    return headers


@pytest.fixture
def server(make_settings: Any) -> Iterator[str]:
    """The app on a free loopback port, in a thread; always stopped after the test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        create_app(make_settings()),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    try:
        for _ in range(600):  # bounded: about a minute at most
            if instance.started or not thread.is_alive():
                break
            time.sleep(0.1)
        assert instance.started, "the server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=30)
