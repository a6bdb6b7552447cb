"""examples/hello-plugin is a real, separate distribution: install it and use it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import ecomlm_sdk
from ecomlm_sdk import testing
from ecomlm_sdk.plugins import reset_plugins

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello-plugin"


@pytest.fixture
def hello_installed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fresh_plugins: None,
    pip_install_to: Callable[[Path, Path], Path],
) -> Path:
    """pip-install the example into a private target folder and put it on sys.path."""
    target = tmp_path / "site"
    pip_install_to(HELLO, target)
    monkeypatch.syspath_prepend(str(target))
    reset_plugins()
    return target


def test_hello_plugin_is_listed_and_loads_a_store(hello_installed: Path) -> None:
    report = {p.name: p for p in ecomlm_sdk.plugins()}
    hello = report["hello"]
    assert (hello.status, hello.distribution, hello.builtin) == ("loaded", "ecomlm-hello", False)
    assert hello.components == ["data_source:hello"]
    store = ecomlm_sdk.load_store("hello", customers=5)
    assert store.customers["customer_id"].to_list() == [f"hello-{i}" for i in range(1, 6)]
    assert store.purchases()["revenue"].sum() == 15.0
    from ecomlm_hello import HelloSource  # importable from the installed distribution

    testing.check_data_source(HelloSource, customers=2)
    with pytest.raises(ecomlm_sdk.DataSourceError, match="customers"):
        ecomlm_sdk.load_store("hello", customers=0)
