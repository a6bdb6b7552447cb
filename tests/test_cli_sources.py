"""The CLI reads any registered data source (issue 14, item 13): ``--source NAME --option k=v``
on every data command, ``ingest`` fails when it recognises no file, ``support ask --classifier``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import click
import pytest
from click.testing import CliRunner
from pydantic import Field

from ecomlm_sdk import EcomStore, testing
from ecomlm_sdk.cli import main
from ecomlm_sdk.data.source import DataSource, DataSourceOptions
from ecomlm_sdk.hookspecs import Register, hookimpl


class TinyOptions(DataSourceOptions):
    customers: int = Field(default=4, ge=1, description="Customers kept from the fixture.")


class TinySource(DataSource[TinyOptions]):
    """Not files at all: the kit's fixture store, cut to ``customers``."""

    name: ClassVar[str] = "tiny-source"

    def _load(self) -> EcomStore:
        store = testing.fixture_store()
        return store.replace(customers=store.customers.head(self.options.customers))


class _TinyPlugin:
    @hookimpl
    def register_data_sources(self, register: Register) -> None:
        register(TinySource)


@pytest.fixture
def tiny() -> Any:
    with testing.registered_plugin(_TinyPlugin(), name="tiny-cli-source"):
        yield


def _commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.update(_commands(command, f"{prefix}{name} "))
        else:
            found[f"{prefix}{name}"] = command
    return found


def test_every_data_command_takes_source_and_option() -> None:
    data_commands = {
        "ingest",
        "report",
        "predict",
        "recommend",
        "support ask",
        "fit",
        "copy",
        "plan",
    }
    commands = _commands(main)
    assert data_commands <= set(commands)
    for name in sorted(data_commands):
        params = {param.name: param for param in commands[name].params}
        assert {"path", "source", "source_pairs"} <= set(params), name
        expected = ["--source-option"] if name == "fit" else ["--option", "--source-option"]
        assert params["source_pairs"].opts == expected, name  # fit's --option: the task's


def test_ingest_through_a_named_source(tiny: None) -> None:
    result = CliRunner().invoke(
        main, ["ingest", "--source", "tiny-source", "--option", "customers=2", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tables"]["customers"] == 2
    bad = CliRunner().invoke(main, ["ingest", "--source", "tiny-source", "--option", "colour=red"])
    assert bad.exit_code == 1 and "Invalid options for data source 'tiny-source'" in bad.output


def test_ingest_fails_when_no_file_is_recognised(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["ingest", str(tmp_path)])
    assert result.exit_code == 1
    assert "No file in" in result.output and "notes.csv" in result.output
    nothing = CliRunner().invoke(main, ["ingest"])
    assert nothing.exit_code == 2 and "give PATH" in nothing.output


def test_support_ask_classifier(monkeypatch: pytest.MonkeyPatch, tiny: None) -> None:
    import ecomlm_sdk.cli.tasks as cli_tasks

    seen: dict[str, Any] = {}

    class _Reply:
        intent, confidence, handoff, text = "track_order", 0.9, False, "On its way."

    class _Task:
        def answer(self, message: str, **kwargs: Any) -> _Reply:
            return _Reply()

    def fitted_or_saved(name: str, model_dir: str | None, store: EcomStore, **options: Any) -> Any:
        seen.update(name=name, options=options, customers=store.customers.height)
        return _Task()

    monkeypatch.setattr(cli_tasks, "fitted_or_saved", fitted_or_saved)
    args = ["support", "ask", "where is my parcel", "--source", "tiny-source", "--option"]
    result = CliRunner().invoke(main, [*args, "customers=3", "--classifier", "my-classifier"])
    assert result.exit_code == 0, result.output
    assert seen == {"name": "support", "options": {"classifier": "my-classifier"}, "customers": 3}
    assert "intent: track_order" in result.output
