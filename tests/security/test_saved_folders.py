"""Saved tasks and models: never run code, never load silently wrong (issue 10, items 1-4).

A tampered folder is built the way an attacker or a careless copy would leave it; every case
must end in a ``TaskError``/``ModelError`` naming the file (or a safe load), never in code run
from the folder. ``rewrite_manifests`` plays the attacker who also rewrote the checksum
manifests, to reach the checks behind them.
"""

from __future__ import annotations

import errno
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import ecomlm_sdk
from ecomlm_bert.classifier import HEAD_FILE, BertClassifier
from ecomlm_bert.embedder import MiniLmEmbedder
from ecomlm_gpt2.generator import Gpt2Generator
from ecomlm_sdk import EcomStore, ModelError, TaskError, testing
from ecomlm_sdk._persist import SavedFolderWarning, file_manifest
from ecomlm_sdk.cli import main
from ecomlm_sdk.tasks.base import METADATA_FILE as TASK_META
from ecomlm_sdk.tasks.recommendation import RecommendationTask
from ecomlm_sdk.tasks.support import SupportTask

MODEL_META = "ecomlm_model.json"
QUESTION = "where is my order #1003?"


# ----------------------------------------------------------------------------------- helpers
def edit_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    payload = json.loads(path.read_text())
    change(payload)
    path.write_text(json.dumps(payload))


def rewrite_manifests(root: Path) -> None:
    """Recompute every manifest under ``root``, innermost first (an attacker who rewrote them)."""
    metas = sorted([*root.rglob(MODEL_META), *root.rglob(TASK_META)], key=lambda p: -len(p.parts))
    for meta in metas:
        edit_json(
            meta,
            lambda m, meta=meta: m.update(
                manifest=file_manifest(meta.parent, exclude=meta.name, error=TaskError)
            ),
        )


def drop_manifests(root: Path) -> None:
    """Make ``root`` look like a folder saved by ecomlm-sdk 0.1 (no manifests)."""
    for meta in [*root.rglob(MODEL_META), *root.rglob(TASK_META)]:
        edit_json(meta, lambda m: m.pop("manifest"))


def siblings(folder: Path) -> list[str]:
    """Hidden leftovers of a save next to ``folder``."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith("."))


def evil_copy(
    source: str, destination: Path, marker: Path, *, in_file: str = "config.json"
) -> Path:
    """A copy of model folder ``source`` whose ``in_file`` maps AutoModel etc. to a module in the
    folder that writes ``marker`` when imported."""
    shutil.copytree(source, destination)
    (destination / "evil.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('code ran')\n"
        "from transformers import AutoModel as EvilModel, AutoTokenizer as EvilTokenizer\n"
    )
    edit_json(
        destination / in_file,
        lambda c: c.update(
            auto_map={
                "AutoModel": "evil.EvilModel",
                "AutoModelForCausalLM": "evil.EvilModel",
                "AutoTokenizer": ["evil.EvilTokenizer", "evil.EvilTokenizer"],
            }
        ),
    )
    return destination


# ----------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def saved_support(tiny_bert_dir: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A support task on the tiny BERT (classifier and embedder), saved once per module."""
    task = ecomlm_sdk.task(
        "support",
        examples_per_intent=3,
        classifier_options={"backbone": tiny_bert_dir, "device": "cpu", "quiet": True},
        classifier_fit_options={"mode": "head", "epochs": 3},
        embedder_options={"name_or_path": tiny_bert_dir, "device": "cpu", "quiet": True},
        quiet=True,
    ).fit(testing.fixture_store())
    return task.save(tmp_path_factory.mktemp("saved") / "support")


@pytest.fixture
def support_dir(saved_support: Path, tmp_path: Path) -> Path:
    """A private copy of the saved support task, free to tamper with."""
    return Path(shutil.copytree(saved_support, tmp_path / "support"))


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "code-ran.txt"


# ============================================================ 1. no code, no outside weights
def test_saved_task_holds_its_models_and_no_weight_locations(
    saved_support: Path, tiny_bert_dir: str
) -> None:
    meta = json.loads((saved_support / TASK_META).read_text())
    text = json.dumps(meta["options"])
    assert tiny_bert_dir not in text and "trust_remote_code" not in text
    assert (saved_support / "classifier" / MODEL_META).is_file()
    assert (saved_support / "embedder" / MODEL_META).is_file()
    loaded = SupportTask.load(saved_support)
    assert loaded.answer(QUESTION, customer_id="c2").intent in loaded.classifier.labels  # type: ignore[union-attr]


@pytest.mark.parametrize("key", ["classifier_options", "embedder_options", "generator_options"])
def test_saved_trust_remote_code_is_refused(support_dir: Path, key: str) -> None:
    edit_json(support_dir / TASK_META, lambda m: m["options"][key].update(trust_remote_code=True))
    with pytest.raises(
        TaskError, match=rf"ecomlm_task.json key 'options\.{key}\.trust_remote_code'"
    ):
        SupportTask.load(support_dir)


@pytest.mark.parametrize(
    ("key", "option"),
    [
        ("classifier_options", "backbone"),
        ("embedder_options", "name_or_path"),
        ("generator_options", "name_or_path"),
    ],
)
def test_saved_weight_location_pointing_elsewhere_is_refused(
    support_dir: Path, tiny_bert_dir: str, tmp_path: Path, marker: Path, key: str, option: str
) -> None:
    evil = evil_copy(tiny_bert_dir, tmp_path / "evil", marker)
    edit_json(
        support_dir / TASK_META,
        lambda m: m["options"].update({key: {option: str(evil)}, "generator": "gpt2"}),
    )
    with pytest.raises(TaskError, match=rf"key 'options\.{key}\.{option}' is .*evil"):
        SupportTask.load(support_dir)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("task", "options"),
    [
        ("generate-copy", {"generator_options": {"trust_remote_code": True}}),
        ("generate-copy", {"generator_options": {"name_or_path": "evil-org/evil"}}),
        ("purchase-prediction", {"text_embedder_options": {"trust_remote_code": True}}),
        ("recommendation", {"embedder_options": {"nested": [{"name_or_path": "/x"}]}}),
    ],
)
def test_every_task_refuses_code_or_redirects_in_its_metadata(
    tmp_path: Path, task: str, options: dict[str, Any]
) -> None:
    folder = tmp_path / "task"
    folder.mkdir()
    meta = {"task": task, "options": options, "ecomlm_sdk_version": "0.1.0", "manifest": {}}
    (folder / TASK_META).write_text(json.dumps(meta))
    cls = type(ecomlm_sdk.task(task))
    with pytest.raises(
        TaskError, match=r"ecomlm_task.json key 'options\..*(trust_remote_code|name_or_path)'"
    ):
        cls.load(folder)


@pytest.mark.parametrize("in_file", ["config.json", "tokenizer_config.json"])
def test_model_folder_with_auto_map_never_runs_its_code(
    support_dir: Path, marker: Path, in_file: str
) -> None:
    """An attacker edits the saved classifier's config and rewrites every manifest."""
    classifier = support_dir / "classifier"
    evil = evil_copy(str(classifier), support_dir / "classifier.evil", marker, in_file=in_file)
    shutil.rmtree(classifier)
    evil.rename(classifier)
    rewrite_manifests(support_dir)
    with pytest.raises(ModelError, match=rf"{in_file} key 'auto_map'.*trust_remote_code=True"):
        SupportTask.load(support_dir)
    with pytest.raises(ModelError, match="auto_map"):
        BertClassifier.load(classifier, device="cpu")
    assert not marker.exists()


def test_hub_style_folders_with_auto_map_are_refused_by_every_model(
    tiny_bert_dir: str, tiny_gpt2_dir: str, tmp_path: Path, marker: Path
) -> None:
    bert = evil_copy(tiny_bert_dir, tmp_path / "bert", marker)
    gpt2 = evil_copy(tiny_gpt2_dir, tmp_path / "gpt2", marker)
    rewrite_manifests(gpt2)
    with pytest.raises(ModelError, match=r"config\.json key 'auto_map'"):
        ecomlm_sdk.load_model("minilm-embedder", name_or_path=str(bert), device="cpu").embed("x")
    with pytest.raises(ModelError, match=r"config\.json key 'auto_map'"):
        ecomlm_sdk.load_model("bert-classifier", backbone=str(bert), device="cpu").fit(
            ["where is my parcel", "refund please"], ["track", "refund"]
        )
    with pytest.raises(ModelError, match=r"config\.json key 'auto_map'"):
        Gpt2Generator.load(gpt2, device="cpu")
    assert not marker.exists()


def test_cli_support_ask_refuses_a_tampered_model_folder(
    support_dir: Path,
    tiny_bert_dir: str,
    tmp_path: Path,
    marker: Path,
    monkeypatch: pytest.MonkeyPatch,
    store: EcomStore,
) -> None:
    monkeypatch.setattr("ecomlm_sdk.cli.tasks._store", lambda path: store)
    evil = evil_copy(tiny_bert_dir, tmp_path / "evil", marker)
    edit_json(
        support_dir / TASK_META,
        lambda m: m["options"]["embedder_options"].update(
            name_or_path=str(evil), trust_remote_code=True
        ),
    )
    result = CliRunner().invoke(main, ["support", "ask", QUESTION, "--model", str(support_dir)])
    assert result.exit_code == 1, result.output
    assert "ecomlm_task.json key 'options.embedder_options." in result.output
    assert not marker.exists()


def test_only_the_callers_argument_reaches_the_models(
    support_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []
    original = BertClassifier.load.__func__  # type: ignore[attr-defined]

    def spy(cls: type[BertClassifier], path: Any, **options: Any) -> BertClassifier:
        seen.append(options)
        return original(cls, path, **{k: v for k, v in options.items() if k != "trust_remote_code"})

    monkeypatch.setattr(BertClassifier, "load", classmethod(spy))
    SupportTask.load(support_dir)
    SupportTask.load(support_dir, trust_remote_code=True)
    assert [o.get("trust_remote_code") for o in seen] == [None, True]


# ============================================================ 2. atomic saves
def test_crash_mid_resave_keeps_the_old_folder(
    saved_support: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = Path(shutil.copytree(saved_support, tmp_path / "support"))
    before = (target / TASK_META).read_text()
    task = SupportTask.load(target)
    original = SupportTask._save

    def crash(self: SupportTask, folder: Path) -> None:
        original(self, folder)  # every file written...
        (folder / "half.bin").write_bytes(b"\0" * 10)
        raise KeyboardInterrupt  # ...then the process is killed before the metadata

    monkeypatch.setattr(SupportTask, "_save", crash)
    with pytest.raises(KeyboardInterrupt):
        task.save(target)
    assert (target / TASK_META).read_text() == before
    assert not (target / "half.bin").exists()
    assert siblings(target) == []
    reply = SupportTask.load(target).answer(QUESTION, customer_id="c2")
    assert reply == task.answer(QUESTION, customer_id="c2")


def test_full_disk_leaves_no_half_folder(
    saved_support: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = SupportTask.load(saved_support)

    def full(self: SupportTask, folder: Path) -> None:
        (folder / "knowledge_base.json").write_text("{")
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "x"))

    monkeypatch.setattr(SupportTask, "_save", full)
    target = tmp_path / "new"
    with pytest.raises(TaskError, match=r"Cannot save to .*new: no space left on the device"):
        task.save(target)
    assert not target.exists() and siblings(target) == []


def test_model_save_on_full_disk_keeps_the_old_model(
    saved_support: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = Path(shutil.copytree(saved_support / "classifier", tmp_path / "clf"))
    model = BertClassifier.load(target, device="cpu")

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("ecomlm_bert.classifier.save_file", full)
    with pytest.raises(ModelError, match="no space left on the device"):
        model.save(target)
    assert siblings(target) == []
    assert BertClassifier.load(target, device="cpu").labels == model.labels


def test_resave_replaces_and_foreign_folders_are_never_replaced(
    saved_support: Path, tmp_path: Path
) -> None:
    task = SupportTask.load(saved_support)
    target = task.save(tmp_path / "again")
    (target / "classifier" / "stale.txt").write_text("left from before")
    task.save(target)  # over an earlier save: replaced whole, manifest fresh
    assert not (target / "classifier" / "stale.txt").exists()
    SupportTask.load(target)
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(TaskError, match="not written by ecomlm-sdk and will not be replaced"):
        task.save(foreign)
    assert (foreign / "notes.txt").read_text() == "mine" and siblings(foreign) == []


# ============================================================ 3. loading validates what it reads
def test_broken_task_json_names_the_file_and_position(support_dir: Path) -> None:
    (support_dir / TASK_META).write_text('{"task": "support",')
    with pytest.raises(TaskError, match=r"ecomlm_task.json line 1 column \d+: not valid JSON"):
        SupportTask.load(support_dir)


def test_broken_state_json_behind_a_rewritten_manifest(support_dir: Path) -> None:
    (support_dir / "support_state.json").write_text("[1, 2")
    rewrite_manifests(support_dir)
    with pytest.raises(TaskError, match=r"support_state.json line 1 column \d+: not valid JSON"):
        SupportTask.load(support_dir)


@pytest.mark.parametrize("damage", ["truncate", "pickle"])
def test_truncated_or_foreign_weights_are_refused(support_dir: Path, damage: str) -> None:
    weights = support_dir / "classifier" / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"\x80\x04\x95 pickle")
    rewrite_manifests(support_dir)
    with pytest.raises(ModelError, match=r"model.safetensors is not a complete safetensors file"):
        SupportTask.load(support_dir)


def test_truncated_head_is_refused_by_the_model(support_dir: Path) -> None:
    head = support_dir / "classifier" / HEAD_FILE
    head.write_bytes(head.read_bytes()[:-7])
    drop_manifests(support_dir)  # a 0.1-style folder: only the format check stands
    with pytest.warns(SavedFolderWarning), pytest.raises(ModelError, match=HEAD_FILE):
        BertClassifier.load(support_dir / "classifier", device="cpu")


def test_swapped_or_missing_labels_are_refused(support_dir: Path) -> None:
    meta = support_dir / "classifier" / MODEL_META
    labels = json.loads(meta.read_text())["labels"]
    edit_json(meta, lambda m: m.update(labels=[labels[1], labels[0], *labels[2:]]))
    rewrite_manifests(support_dir)
    with pytest.raises(ModelError, match=r"was trained with .* predictions would get the wrong"):
        SupportTask.load(support_dir)
    edit_json(meta, lambda m: m.update(labels=labels[:-1]))
    rewrite_manifests(support_dir)
    with pytest.raises(ModelError, match=rf"has {len(labels)} outputs but ecomlm_model.json lists"):
        SupportTask.load(support_dir)


@pytest.mark.parametrize("temperature", [-1.0, 0.0, math.nan, math.inf, "1"])
def test_bad_temperature_is_refused(support_dir: Path, temperature: Any) -> None:
    edit_json(support_dir / "classifier" / MODEL_META, lambda m: m.update(temperature=temperature))
    rewrite_manifests(support_dir)
    with pytest.raises(ModelError, match=r"ecomlm_model.json key 'temperature'"):
        BertClassifier.load(support_dir / "classifier", device="cpu")


def test_sdk_versions_major_refused_newer_minor_warns(support_dir: Path) -> None:
    edit_json(support_dir / TASK_META, lambda m: m.update(ecomlm_sdk_version="1.0.0"))
    with pytest.raises(TaskError, match=r"written by ecomlm-sdk 1.0.0.*cannot read"):
        SupportTask.load(support_dir)
    edit_json(support_dir / TASK_META, lambda m: m.update(ecomlm_sdk_version="0.9.0"))
    with pytest.warns(SavedFolderWarning, match="newer ecomlm-sdk"):
        SupportTask.load(support_dir)
    edit_json(support_dir / "classifier" / MODEL_META, lambda m: m.update(ecomlm_sdk_version="2.1"))
    rewrite_manifests(support_dir)
    with pytest.raises(ModelError, match=r"written by ecomlm-sdk 2\.1"):
        BertClassifier.load(support_dir / "classifier", device="cpu")


def test_cli_exit_code_is_1_with_the_file_named(
    support_dir: Path, monkeypatch: pytest.MonkeyPatch, store: EcomStore
) -> None:
    monkeypatch.setattr("ecomlm_sdk.cli.tasks._store", lambda path: store)
    (support_dir / "classifier" / MODEL_META).write_text("{not json")
    fresh = file_manifest(support_dir, exclude=TASK_META, error=TaskError)
    edit_json(support_dir / TASK_META, lambda m: m.update(manifest=fresh))
    result = CliRunner().invoke(main, ["support", "ask", QUESTION, "--model", str(support_dir)])
    assert result.exit_code == 1, result.output  # an EcomlmError, not an unexpected crash (3)
    assert "classifier/ecomlm_model.json line 1 column 2: not valid JSON" in result.output


def test_recommendation_state_that_does_not_fit_is_refused(
    store: EcomStore, tmp_path: Path
) -> None:
    folder = (
        RecommendationTask(k=2, strategy="popularity", embedder=None)
        .fit(store)
        .save(tmp_path / "rec")
    )
    good = (folder / "recommender.json").read_text()
    edit_json(folder / "recommender.json", lambda m: m.update(products=m["products"][:-1]))
    rewrite_manifests(folder)
    with pytest.raises(TaskError, match=r"recommender\.json lists 3 products but 4 titles"):
        RecommendationTask.load(folder)
    (folder / "recommender.json").write_text(good)
    tensors = folder / "recommender.safetensors"
    tensors.write_bytes(tensors.read_bytes()[:-3])
    rewrite_manifests(folder)
    with pytest.raises(TaskError, match=r"recommender\.safetensors is not a complete safetensors"):
        RecommendationTask.load(folder)


# ============================================================ 4. checksum manifest
def test_manifest_lists_every_file_with_its_sha256(saved_support: Path) -> None:
    manifest = json.loads((saved_support / TASK_META).read_text())["manifest"]
    files = sorted(
        p.relative_to(saved_support).as_posix()
        for p in saved_support.rglob("*")
        if p.is_file() and p.name != TASK_META
    )
    assert sorted(manifest) == files
    assert "classifier/model.safetensors" in manifest and "embedder/ecomlm_model.json" in manifest
    assert all(len(digest) == 64 for digest in manifest.values())
    inner = json.loads((saved_support / "classifier" / MODEL_META).read_text())["manifest"]
    assert HEAD_FILE in inner and MODEL_META not in inner


def test_changed_missing_or_extra_file_is_refused(support_dir: Path) -> None:
    kb = support_dir / "knowledge_base.json"
    kb.write_text(kb.read_text().replace("refund", "r3fund", 1))
    with pytest.raises(TaskError, match=r"knowledge_base.json does not match the sha256"):
        SupportTask.load(support_dir)
    kb.unlink()
    with pytest.raises(TaskError, match=r"knowledge_base.json is missing"):
        SupportTask.load(support_dir)
    shutil.copy(support_dir / "support_state.json", kb)
    rewrite_manifests(support_dir)
    (support_dir / "embedder" / "extra.py").write_text("print('hi')")
    with pytest.raises(TaskError, match=r"embedder/extra.py is not listed in the manifest"):
        SupportTask.load(support_dir)


def test_model_folder_manifest_is_checked_on_its_own(support_dir: Path) -> None:
    embedder = support_dir / "embedder"
    vocab = embedder / "tokenizer.json"
    vocab.write_text(vocab.read_text() + " ")
    with pytest.raises(ModelError, match=r"tokenizer.json does not match the sha256"):
        MiniLmEmbedder.load(embedder, device="cpu")


def test_folder_saved_without_manifest_loads_with_a_warning(
    support_dir: Path, saved_support: Path
) -> None:
    drop_manifests(support_dir)
    with pytest.warns(SavedFolderWarning, match="no checksum manifest"):
        loaded = SupportTask.load(support_dir)
    expected = SupportTask.load(saved_support).answer(QUESTION, customer_id="c2")
    assert loaded.answer(QUESTION, customer_id="c2") == expected


def test_prediction_learners_refuse_malformed_files(tmp_path: Path) -> None:
    from ecomlm_sdk.tasks.prediction.learners import LightGBMLearner, LogisticLearner

    (tmp_path / LogisticLearner.FILE).write_text(
        json.dumps({"mean": [0.0, 1.0], "scale": [1.0], "coef": [1.0, 2.0], "intercept": 0.0})
    )
    with pytest.raises(TaskError, match=r"logistic.json: 'mean', 'scale' and 'coef' must be"):
        LogisticLearner().load(tmp_path)
    (tmp_path / LogisticLearner.FILE).write_text('{"mean": [')
    with pytest.raises(TaskError, match=r"logistic.json line 1 column \d+: not valid JSON"):
        LogisticLearner().load(tmp_path)
    (tmp_path / LightGBMLearner.FILE).write_text("not a model")
    with pytest.raises(TaskError, match=r"lightgbm.txt is not a valid LightGBM text model"):
        LightGBMLearner({}, rounds=1).load(tmp_path)


def test_config_file_names_outside_the_folder_are_refused(
    tiny_bert_dir: str, tmp_path: Path
) -> None:
    folder = Path(shutil.copytree(tiny_bert_dir, tmp_path / "bert"))
    elsewhere = tmp_path / "elsewhere.json"
    shutil.copy(folder / "tokenizer.json", elsewhere)
    edit_json(
        folder / "tokenizer_config.json",
        lambda c: c.update(fast_tokenizer_files={"4.0.0": str(elsewhere)}),
    )
    with pytest.raises(ModelError, match=r"tokenizer_config\.json key 'fast_tokenizer_files'"):
        ecomlm_sdk.load_model("minilm-embedder", name_or_path=str(folder), device="cpu").embed("x")


def test_a_saved_folder_used_as_a_backbone_is_checked_too(
    saved_support: Path, tiny_gpt2_dir: str, tmp_path: Path
) -> None:
    embedder = Path(shutil.copytree(saved_support / "embedder", tmp_path / "emb"))
    (embedder / "vocab.txt").write_text("[PAD]\n")
    with pytest.raises(ModelError, match=r"emb/vocab\.txt is not listed in the manifest"):
        ecomlm_sdk.load_model("bert-classifier", backbone=str(embedder), device="cpu").fit(
            ["where is my parcel", "refund please"], ["track", "refund"]
        )
    gpt2 = Path(shutil.copytree(tiny_gpt2_dir, tmp_path / "gpt2"))
    (gpt2 / "generation_config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"generation_config\.json does not match the sha256"):
        ecomlm_sdk.load_model("gpt2", name_or_path=str(gpt2), device="cpu").generate("hi")
