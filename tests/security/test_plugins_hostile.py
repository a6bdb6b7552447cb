"""Hostile and careless plugins: name clashes, sys.exit and prints at import, failing runtime hooks.

A plugin runs in-process, so nothing here sandboxes it; what these tests pin down is that one
bad plugin can neither take a built-in's name, nor end the process while loading, nor corrupt
``--json`` output, nor fail anonymously at run time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest
from click.testing import CliRunner

import ecomlm_sdk
from ecomlm_sdk import (
    DataSource,
    DeviceChoice,
    DeviceError,
    EcomStore,
    PluginError,
    RoiMetric,
    TaskError,
    UnknownComponentError,
    hookimpl,
    testing,
)
from ecomlm_sdk.cli import main
from ecomlm_sdk.plugins import PluginWarning, get_registry, reset_plugins
from ecomlm_sdk.registry import normalize_name

BUILTINS = {"ecomlm_sdk", "shopify", "gpt2", "bert", "gpu"}


@pytest.fixture
def distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_plugins: None
) -> Callable[..., Path]:
    """``distribution(module, code, entry_point=module)``: a real installed distribution.

    Writes ``<module>.py`` and a ``<module>-1.0.dist-info`` declaring one ``ecomlm_sdk`` entry
    point, puts the folder on ``sys.path`` and resets the plugins so it is discovered.
    """

    def make(module: str, code: str, entry_point: str | None = None) -> Path:
        root = tmp_path / f"site-{module}"
        root.mkdir()
        (root / f"{module}.py").write_text(textwrap.dedent(code))
        dist = module.replace("_", "-")
        info = root / f"{dist}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(
            f"[ecomlm_sdk]\n{entry_point or module} = {module}\n"
        )
        monkeypatch.syspath_prepend(str(root))
        sys.modules.pop(module, None)
        reset_plugins()
        return root

    return make


def _source(source_name: str, *, aliases: tuple[str, ...] = ()) -> object:
    """A plugin object registering one data source under ``source_name``."""

    class Impostor(DataSource):
        name: ClassVar[str] = source_name

        def _load(self) -> EcomStore:
            return testing.fixture_store()

    class Plugin:
        @hookimpl
        def register_data_sources(self, register: Callable[..., None]) -> None:
            register(Impostor, aliases=aliases)

    return Plugin()


class Margin(RoiMetric):
    name: ClassVar[str] = "margin-hostile"
    formula: ClassVar[str] = "revenue * margin"
    inputs: ClassVar[tuple[str, ...]] = ("revenue", "margin")

    def _compute(self, **values: float) -> float:
        return values["revenue"] * values["margin"]


# ------------------------------------------------------------------------ item 5: name clashes
def test_names_are_compared_stripped_and_casefolded() -> None:
    assert normalize_name(" Shopify_CSV ") == normalize_name("shopify_csv") == "shopify_csv"
    assert normalize_name("STRASSE") == normalize_name("straße")  # casefold, not lower
    assert normalize_name("ｓｈｏｐｉｆｙ_csv") == "shopify_csv"  # full-width letters (NFKC)


@pytest.mark.parametrize(
    ("name", "aliases"),
    [
        ("shopify_csv", ()),
        (" Shopify_CSV ", ()),
        ("my-csv", ("SHOPIFY_CSV",)),  # an alias that differs only by case
    ],
)
def test_third_party_cannot_take_a_builtin_name(
    fresh_plugins: None, name: str, aliases: tuple[str, ...]
) -> None:
    with testing.registered_plugin(_source(name, aliases=aliases), name="impostor"):
        with pytest.warns(PluginWarning, match="belongs to built-in plugin 'shopify'"):
            registry = get_registry()
        # The built-in keeps the name; the impostor's component is skipped whole.
        assert registry.get("data_source", "shopify_csv").plugin == "shopify"
        assert registry.get("data_source", " SHOPIFY_csv").plugin == "shopify"
        assert not [r for r in registry.registrations("data_source") if r.plugin == "impostor"]
        # Nothing else is disabled: every kind of lookup and the CLI still work.
        assert ecomlm_sdk.roi_metric("roi").compute(revenue=3.0, investment=2.0) == 0.5
        assert ecomlm_sdk.task("purchase-prediction").name == "purchase-prediction"
        store = ecomlm_sdk.sample_store()
        assert store.customers.height > 0
        report = {p.name: p for p in ecomlm_sdk.plugins()}
        assert report["impostor"].status == "loaded"
        assert report["impostor"].components == []
        (conflict,) = report["impostor"].conflicts
        assert "'shopify_csv' belongs to built-in plugin 'shopify'" in conflict
        assert "'impostor'" in conflict and "disable" not in conflict.lower()
        assert report["shopify"].conflicts == [conflict]
        assert "data_source:shopify_csv" in report["shopify"].components
        result = CliRunner().invoke(main, ["plugins", "--json"])
        assert result.exit_code == 0, result.output
        rows = {row["name"]: row for row in json.loads(result.stdout)}
        assert rows["impostor"]["conflicts"] == [conflict]
        table = CliRunner().invoke(main, ["plugins"])
        assert table.exit_code == 0 and f"clash: {conflict}" in table.stdout


def test_builtin_clash_keeps_the_rest_of_the_plugin(fresh_plugins: None) -> None:
    class Plugin:
        @hookimpl
        def register_roi_metrics(self, register: Callable[..., None]) -> None:
            register(Margin, name=" ROI ")  # a built-in metric's name
            register(Margin)

    with testing.registered_plugin(Plugin(), name="half-bad"):
        with pytest.warns(PluginWarning, match="'roi' belongs to built-in plugin 'ecomlm_sdk'"):
            report = {p.name: p for p in ecomlm_sdk.plugins()}
        assert report["half-bad"].components == ["roi_metric:margin-hostile"]
        assert ecomlm_sdk.roi_metric("roi").compute(revenue=3.0, investment=2.0) == 0.5
        assert ecomlm_sdk.roi_metric("Margin-Hostile").compute(revenue=10.0, margin=0.5) == 5.0


def test_builtin_clash_is_fatal_in_strict_mode(
    fresh_plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECOMLM_STRICT_PLUGINS", "1")
    with (
        testing.registered_plugin(_source("Shopify_CSV"), name="impostor"),
        pytest.raises(PluginError, match=r"'shopify_csv' belongs to built-in plugin 'shopify'"),
    ):
        ecomlm_sdk.plugins()


def test_two_third_parties_on_one_name_neither_wins(fresh_plugins: None) -> None:
    with (
        testing.registered_plugin(_source("lookalike"), name="alpha"),
        testing.registered_plugin(_source(" LookAlike", aliases=("beta-only",)), name="beta"),
    ):
        with pytest.warns(PluginWarning, match=r"claimed by plugins 'alpha' and 'beta'"):
            report = {p.name: p for p in ecomlm_sdk.plugins()}
        assert report["alpha"].components == report["beta"].components == []
        message = "data source name 'lookalike' is claimed by plugins 'alpha' and 'beta'"
        assert message in report["alpha"].conflicts[0]
        assert report["alpha"].conflicts == report["beta"].conflicts
        for asked in ("lookalike", "LOOKALIKE "):
            with pytest.raises(PluginError, match=r"plugins 'alpha' and 'beta'.*DISABLE"):
                ecomlm_sdk.load_store(asked)
        # Beta's component is not reachable through its alias either: its own name is contested.
        with pytest.raises(UnknownComponentError):
            ecomlm_sdk.load_store("beta-only")


def test_two_third_parties_on_one_alias_keep_their_own_names(fresh_plugins: None) -> None:
    with (
        testing.registered_plugin(_source("alpha-csv", aliases=("csv",)), name="alpha"),
        testing.registered_plugin(_source("beta-csv", aliases=(" CSV",)), name="beta"),
    ):
        with pytest.warns(PluginWarning, match=r"'csv' is claimed by plugins 'alpha' and 'beta'"):
            registry = get_registry()
        assert registry.get("data_source", "alpha-csv").plugin == "alpha"
        assert registry.get("data_source", "beta-csv").plugin == "beta"
        with pytest.raises(PluginError, match=r"'alpha' and 'beta'"):
            registry.get("data_source", "csv")


def test_two_third_parties_on_one_name_is_fatal_in_strict_mode(
    fresh_plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECOMLM_STRICT_PLUGINS", "1")
    with (
        testing.registered_plugin(_source("lookalike"), name="alpha"),
        testing.registered_plugin(_source("LOOKALIKE"), name="beta"),
        pytest.raises(PluginError, match=r"'alpha' and 'beta'.*ECOMLM_STRICT_PLUGINS"),
    ):
        get_registry()


def test_one_plugin_registering_a_name_twice_is_skipped(fresh_plugins: None) -> None:
    class Plugin:
        @hookimpl
        def register_roi_metrics(self, register: Callable[..., None]) -> None:
            register(Margin)
            register(Margin, name="MARGIN-HOSTILE ")

    with testing.registered_plugin(Plugin(), name="twice"):
        with pytest.warns(PluginWarning, match="registered ROI metric name 'margin-hostile' twice"):
            report = {p.name: p for p in ecomlm_sdk.plugins()}
        assert report["twice"].status == "skipped"


def test_entry_point_named_like_a_builtin_plugin_is_skipped(
    distribution: Callable[..., Path],
) -> None:
    distribution(
        "evil_shopify",
        """
        from ecomlm_sdk import hookimpl

        @hookimpl
        def select_device(preference):
            raise RuntimeError("should never be loaded")
        """,
        entry_point="Shopify",
    )
    with pytest.warns(PluginWarning, match="entry-point name 'Shopify' is taken"):
        report = {p.name: p for p in ecomlm_sdk.plugins()}
    assert report["shopify"].status == "loaded" and report["shopify"].builtin
    evil = report["Shopify@evil-shopify"]
    assert (evil.status, evil.builtin, evil.distribution) == ("skipped", False, "evil-shopify")
    assert "evil_shopify" not in sys.modules  # never imported
    assert ecomlm_sdk.resolve_device("cpu").device == "cpu"


# ------------------------------------------------------------------------ item 6: import-time abuse
def test_sys_exit_at_import_is_skipped(distribution: Callable[..., Path]) -> None:
    distribution("exiting_plugin", "import sys\nsys.exit(3)\n")
    with pytest.warns(PluginWarning, match=r"exiting_plugin.*SystemExit"):
        report = {p.name: p for p in ecomlm_sdk.plugins()}
    assert report["exiting_plugin"].status == "skipped"
    assert report["exiting_plugin"].reason == "SystemExit: it called sys.exit(3)"
    assert all(report[n].status == "loaded" for n in BUILTINS)
    assert ecomlm_sdk.roi_metric("roi").compute(revenue=2.0, investment=1.0) == 1.0


def test_sys_exit_at_import_is_fatal_in_strict_mode(
    distribution: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    distribution("exiting_plugin", "raise SystemExit('bye')\n")
    monkeypatch.setenv("ECOMLM_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match=r"'exiting_plugin'.*SystemExit.*'bye'") as info:
        ecomlm_sdk.plugins()
    assert isinstance(info.value.__cause__, SystemExit)


def test_other_base_exceptions_at_import_are_skipped(distribution: Callable[..., Path]) -> None:
    distribution("odd_plugin", "class Odd(BaseException):\n    pass\n\nraise Odd('strange')\n")
    with pytest.warns(PluginWarning, match="Odd: strange"):
        report = {p.name: p for p in ecomlm_sdk.plugins()}
    assert report["odd_plugin"].status == "skipped"


def test_keyboard_interrupt_at_import_still_interrupts(distribution: Callable[..., Path]) -> None:
    distribution("impatient_plugin", "raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        ecomlm_sdk.plugins()


def test_sys_exit_while_registering_is_skipped(distribution: Callable[..., Path]) -> None:
    distribution(
        "exit_on_register",
        """
        import sys
        from ecomlm_sdk import hookimpl

        @hookimpl
        def register_models(register):
            sys.exit("no models today")
        """,
    )
    with pytest.warns(PluginWarning, match="register_models raised SystemExit"):
        report = {p.name: p for p in ecomlm_sdk.plugins()}
    assert report["exit_on_register"].status == "skipped"
    assert report["gpt2"].status == "loaded"


CHATTY = """
from ecomlm_sdk import hookimpl

print("hello from the chatty plugin at import")

@hookimpl
def register_roi_metrics(register):
    print("hello from register_roi_metrics")
"""


def test_print_at_import_keeps_plugins_json_valid_in_process(
    distribution: Callable[..., Path],
) -> None:
    distribution("chatty_plugin", CHATTY)
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["chatty_plugin"]["status"] == "loaded"
    assert "hello" not in result.stdout


def test_print_at_import_keeps_plugins_json_valid_in_a_subprocess(
    distribution: Callable[..., Path],
) -> None:
    root = distribution("chatty_plugin", CHATTY)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *sys.path])}
    env.pop("ECOMLM_STRICT_PLUGINS", None)
    out = subprocess.run(
        [sys.executable, "-c", "from ecomlm_sdk.cli import main; main()", "plugins", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    rows = {row["name"]: row for row in json.loads(out.stdout)}
    assert rows["chatty_plugin"]["status"] == "loaded"
    assert "hello from the chatty plugin at import" in out.stderr  # logged, not lost
    assert "hello from register_roi_metrics" in out.stderr


def test_print_in_a_runtime_hook_keeps_device_json_valid(fresh_plugins: None) -> None:
    class Chatty:
        @hookimpl(tryfirst=True)
        def select_device(self, preference: str | None) -> None:
            print("choosing a device...")

    with testing.registered_plugin(Chatty(), name="chatty"):
        result = CliRunner().invoke(main, ["device", "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["device"] == "cpu"
    assert "choosing a device..." in result.stderr


# ------------------------------------------------------------------------ item 7: runtime hooks
class Boom(Exception):
    pass


class FailingDevice:
    def __init__(self, fail: bool = True) -> None:
        self.fail = fail

    @hookimpl(tryfirst=True)
    def select_device(self, preference: str | None) -> DeviceChoice | None:
        if self.fail:
            raise Boom("no device for you")
        return None


def test_failing_select_device_names_the_plugin(fresh_plugins: None) -> None:
    with (
        testing.registered_plugin(FailingDevice(), name="bad-device"),
        pytest.raises(PluginError) as info,
    ):
        ecomlm_sdk.resolve_device()
    assert str(info.value).startswith(
        "plugin 'bad-device' failed in select_device: Boom: no device for you."
    )
    assert "ECOMLM_DISABLE_PLUGINS=bad-device" in str(info.value)
    assert isinstance(info.value.__cause__, Boom)


def test_same_class_twice_names_the_instance_that_failed(fresh_plugins: None) -> None:
    with (
        testing.registered_plugin(FailingDevice(fail=False), name="good-twin"),
        testing.registered_plugin(FailingDevice(fail=True), name="bad-twin"),
        pytest.raises(PluginError, match=r"^plugin 'bad-twin' failed in select_device"),
    ):
        ecomlm_sdk.resolve_device()


def test_failing_select_device_fails_the_cli_with_one_line(fresh_plugins: None) -> None:
    with testing.registered_plugin(FailingDevice(), name="bad-device"):
        result = CliRunner().invoke(main, ["device", "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: plugin 'bad-device' failed in select_device: Boom")


def test_sys_exit_in_a_runtime_hook_is_a_plugin_error(fresh_plugins: None) -> None:
    class Exiting:
        @hookimpl(tryfirst=True)
        def select_device(self, preference: str | None) -> None:
            sys.exit(2)

    with (
        testing.registered_plugin(Exiting(), name="exiting"),
        pytest.raises(PluginError, match=r"plugin 'exiting' failed in select_device: SystemExit"),
    ):
        ecomlm_sdk.resolve_device()


def test_sdk_errors_from_a_plugin_pass_through_with_a_note(fresh_plugins: None) -> None:
    class Picky:
        @hookimpl(tryfirst=True)
        def select_device(self, preference: str | None) -> None:
            raise DeviceError("only cpu here; pass device='cpu'")

    with (
        testing.registered_plugin(Picky(), name="picky"),
        pytest.raises(DeviceError, match="only cpu here") as info,
    ):
        ecomlm_sdk.resolve_device("cuda")
    assert info.value.__notes__ == ["raised by plugin 'picky' in select_device"]


class StageTask(ecomlm_sdk.Task):
    name: ClassVar[str] = "stage-task"
    fail_fit: ClassVar[bool] = False

    def _fit(self, store: EcomStore) -> None:
        if self.fail_fit:
            raise TaskError("the task itself is unhappy")

    def _predict(self, store: EcomStore) -> pl.DataFrame:
        return pl.DataFrame({"n": [store.orders.height]})

    def _evaluate(
        self, store: EcomStore, cutoff: Any, **kwargs: Any
    ) -> ecomlm_sdk.EvaluationReport:
        return ecomlm_sdk.EvaluationReport(task=self.name, metrics={})

    def _save(self, folder: Path) -> None:
        pass

    def _load(self, folder: Path) -> None:
        pass


def test_failing_run_task_stage_wrapper_names_the_plugin(fresh_plugins: None) -> None:
    class AfterYield:
        @hookimpl(wrapper=True)
        def run_task_stage(self, stage: str) -> Generator[None, Any, Any]:
            result = yield
            raise Boom(f"cannot post-process {stage}")
            return result  # pragma: no cover

    with (
        testing.registered_plugin(AfterYield(), name="post-processor"),
        pytest.raises(
            PluginError, match=r"^plugin 'post-processor' failed in run_task_stage: Boom"
        ),
    ):
        StageTask().fit(testing.fixture_store())


def test_failing_run_task_stage_impl_names_the_plugin(fresh_plugins: None) -> None:
    class Replacer:
        @hookimpl(tryfirst=True)
        def run_task_stage(self, stage: str, run: Callable[[], Any]) -> Any:
            raise Boom("replacement failed")

    class Observer:
        @hookimpl(wrapper=True)
        def run_task_stage(self) -> Generator[None, Any, Any]:
            return (yield)

    with (
        testing.registered_plugin(Observer(), name="observer"),
        testing.registered_plugin(Replacer(), name="replacer"),
        pytest.raises(PluginError, match=r"^plugin 'replacer' failed in run_task_stage") as info,
    ):
        StageTask().fit(testing.fixture_store())
    assert str(info.value.__cause__) == "replacement failed"


def test_the_tasks_own_error_is_not_blamed_on_a_plugin(fresh_plugins: None) -> None:
    class Observer:
        @hookimpl(wrapper=True)
        def run_task_stage(self) -> Generator[None, Any, Any]:
            return (yield)

    class Failing(StageTask):
        fail_fit: ClassVar[bool] = True

    with (
        testing.registered_plugin(Observer(), name="observer"),
        pytest.raises(TaskError, match=r"^the task itself is unhappy$"),
    ):
        Failing().fit(testing.fixture_store())
