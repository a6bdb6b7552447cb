"""testing.registered_plugin works for an installed plugin: its entry point is blocked meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import ecomlm_sdk
from ecomlm_sdk import testing
from ecomlm_sdk.plugins import get_registry, register_plugin, reset_plugins

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello-plugin"


@pytest.fixture(scope="module")
def hello_site(
    tmp_path_factory: pytest.TempPathFactory, pip_install_to: Callable[[Path, Path], Path]
) -> Path:
    target = tmp_path_factory.mktemp("hello-site")
    pip_install_to(HELLO, target)
    return target


@pytest.fixture
def hello_installed(
    hello_site: Path, monkeypatch: pytest.MonkeyPatch, fresh_plugins: None
) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(hello_site))
    reset_plugins()
    yield
    reset_plugins()


def _report() -> dict[str, ecomlm_sdk.PluginInfo]:
    return {p.name: p for p in ecomlm_sdk.plugins()}


def test_an_installed_plugin_can_be_registered_for_a_test(hello_installed: None) -> None:
    import ecomlm_hello

    # what registered_plugin did before: register the already-loaded module a second time
    with pytest.raises(ecomlm_sdk.PluginError, match="already registered under a different name"):
        register_plugin(ecomlm_hello)
    assert _report()["hello"].status == "loaded"
    with testing.registered_plugin(ecomlm_hello) as name:
        # registered once, under its entry-point name: no "already registered" error, no clash
        assert name == "hello"
        assert get_registry().get("data_source", "hello").plugin == "hello"
        assert ecomlm_sdk.load_store("hello", customers=2).customers.height == 2
        testing.check_data_source(ecomlm_hello.HelloSource, customers=2)
    after = _report()["hello"]
    assert (after.status, after.distribution) == ("loaded", "ecomlm-hello")
    assert after.components == ["data_source:hello"]


def test_the_entry_point_is_blocked_under_another_name(hello_installed: None) -> None:
    import ecomlm_hello

    with testing.registered_plugin(ecomlm_hello, name="hello-under-test") as name:
        report = _report()
        assert name == "hello-under-test"
        assert report["hello"].status == "skipped"
        assert "registered_plugin" in (report["hello"].reason or "")
        assert report["hello-under-test"].components == ["data_source:hello"]
        assert get_registry().get("data_source", "hello").plugin == "hello-under-test"
    report = _report()
    assert "hello-under-test" not in report and report["hello"].status == "loaded"
    assert get_registry().get("data_source", "hello").plugin == "hello"


def test_a_failed_registration_restores_the_entry_point(hello_installed: None) -> None:
    import ecomlm_hello

    class Other:
        pass

    with (
        testing.registered_plugin(Other(), name="taken"),
        pytest.raises(ecomlm_sdk.PluginError),
        testing.registered_plugin(ecomlm_hello, name="taken"),
    ):
        pass
    assert _report()["hello"].status == "loaded"
