"""The ``ecomlm_gpu`` device manager: choice, threads, batch finding, OOM back-off, CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import ecomlm_sdk
from ecomlm_gpu import resources
from ecomlm_gpu.resources import configure_cpu_threads, find_max_batch, sensible_cpu_threads
from ecomlm_sdk import DeviceChoice, DeviceError, ModelError, hookimpl, testing
from ecomlm_sdk.cli import main
from ecomlm_sdk.models.batching import length_sorted_batches, pad_batch, run_with_backoff


def _oom_above(limit: int, calls: list[int]) -> object:
    def run(size: int) -> int:
        calls.append(size)
        if size > limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return size

    return run


@pytest.mark.parametrize(
    ("limit", "start", "cap", "expected"),
    [(37, 8, 1024, 37), (5, 8, 1024, 5), (2000, 8, 256, 256), (1, 64, 1024, 1)],
)
def test_find_max_batch_backs_off_on_out_of_memory(
    limit: int, start: int, cap: int, expected: int
) -> None:
    calls: list[int] = []
    assert find_max_batch(_oom_above(limit, calls), start=start, limit=cap) == expected  # type: ignore[arg-type]
    assert max(calls) <= cap


def test_find_max_batch_gives_up_clearly_and_passes_other_errors_through() -> None:
    with pytest.raises(DeviceError, match="batch of one"):
        find_max_batch(_oom_above(0, []), start=4)  # type: ignore[arg-type]

    def broken(size: int) -> None:
        raise ValueError("not memory")

    with pytest.raises(ValueError, match="not memory"):
        find_max_batch(broken)


def test_run_with_backoff_splits_batches_that_do_not_fit() -> None:
    seen: list[list[int]] = []
    splits: list[int] = []

    def run(batch: list[int]) -> list[int]:
        if len(batch) > 3:
            raise RuntimeError("CUDA error: out of memory")
        seen.append(batch)
        return [i * 10 for i in batch]

    results = run_with_backoff(run, list(range(10)), on_split=splits.append)
    assert [x for part in results for x in part] == [i * 10 for i in range(10)]
    assert all(len(b) <= 3 for b in seen) and splits[0] == 5
    with pytest.raises(ModelError, match="batch of one"):
        run_with_backoff(lambda b: (_ for _ in ()).throw(MemoryError()), [1])


def test_length_sorted_batches_cover_every_index_longest_first() -> None:
    lengths = [5, 1, 9, 3, 7, 2]
    batches = length_sorted_batches(lengths, 4)
    assert batches == [[2, 4, 0, 3], [5, 1]]
    ids, mask = pad_batch([[1, 2, 3], [4]], pad_id=0, left=True)
    assert ids.tolist() == [[1, 2, 3], [0, 0, 4]] and mask.tolist() == [[1, 1, 1], [0, 0, 1]]


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., None]:
    """Fake the CPU facts: affinity, cgroup quota, load average; no thread variables set."""
    for name in ("ECOMLM_THREADS", "ECOMLM_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    quota, load = tmp_path / "cpu.max", tmp_path / "loadavg"
    monkeypatch.setattr(resources, "_CGROUP_CPU_MAX", quota)
    monkeypatch.setattr(resources, "_LOADAVG", load)

    def set_facts(
        *,
        cpus: int = 4,
        host_cpus: int | None = None,
        cpu_max: str | None = None,
        load1: float | None = None,
    ) -> None:
        monkeypatch.setattr(resources.os, "sched_getaffinity", lambda pid: set(range(cpus)))
        monkeypatch.setattr(resources.os, "cpu_count", lambda: host_cpus or cpus)
        quota.unlink(missing_ok=True)
        load.unlink(missing_ok=True)
        if cpu_max is not None:
            quota.write_text(cpu_max + "\n")
        if load1 is not None:
            load.write_text(f"{load1:.2f} 0.50 0.40 3/200 4242\n")

    return set_facts


def test_cpu_threads_honour_the_environment(
    machine: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    machine(cpus=4, load1=0.0)
    monkeypatch.setenv("ECOMLM_THREADS", "1")
    assert sensible_cpu_threads() == (1, "ECOMLM_THREADS=1")
    before = torch.get_num_threads()
    try:
        assert configure_cpu_threads(force=True)[0] == 1
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
        monkeypatch.setattr(resources, "_configured", None)
    monkeypatch.setenv("ECOMLM_THREADS", "many")
    with pytest.raises(DeviceError, match="positive integer"):
        sensible_cpu_threads()


def test_thread_variables_take_precedence_in_order(
    machine: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A quota of 1 CPU and a busy machine: explicit variables still win, in this order.
    machine(cpus=8, cpu_max="100000 100000", load1=7.0)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert sensible_cpu_threads() == (3, "OMP_NUM_THREADS=3")
    monkeypatch.setenv("ECOMLM_NUM_THREADS", "5")
    assert sensible_cpu_threads() == (5, "ECOMLM_NUM_THREADS=5")
    monkeypatch.setenv("ECOMLM_THREADS", "6")
    assert sensible_cpu_threads() == (6, "ECOMLM_THREADS=6")
    monkeypatch.setenv("ECOMLM_THREADS", "")  # empty means unset
    assert sensible_cpu_threads() == (5, "ECOMLM_NUM_THREADS=5")
    monkeypatch.setenv("OMP_NUM_THREADS", "0")
    monkeypatch.delenv("ECOMLM_NUM_THREADS")
    with pytest.raises(DeviceError, match="OMP_NUM_THREADS='0'"):
        sensible_cpu_threads()


def test_cpu_threads_respect_a_container_quota(machine: Callable[..., None]) -> None:
    machine(cpus=4, cpu_max="100000 100000")
    assert sensible_cpu_threads() == (1, "container CPU quota of 1 (of 4 visible CPUs)")
    machine(cpus=4, cpu_max="250000 100000")
    assert sensible_cpu_threads() == (2, "container CPU quota of 2 (of 4 visible CPUs)")
    machine(cpus=4, cpu_max="max 100000")
    assert sensible_cpu_threads() == (4, "4 usable CPUs")
    machine(cpus=4, cpu_max="garbage")
    assert sensible_cpu_threads() == (4, "4 usable CPUs")


def test_cpu_threads_leave_busy_cores_alone(machine: Callable[..., None]) -> None:
    # One unit of load is this process: an idle machine gives every usable CPU.
    machine(cpus=4, load1=1.0)
    assert sensible_cpu_threads() == (4, "4 usable CPUs")
    machine(cpus=4, load1=3.0)  # two other busy threads
    assert sensible_cpu_threads() == (2, "4 usable CPUs, 2 free at load 3.00")
    machine(cpus=2, load1=9.0)  # overloaded: still one thread
    assert sensible_cpu_threads() == (1, "2 usable CPUs, 1 free at load 9.00")
    # A container with a quota of 2 on a 16-CPU host sees the host's load: it takes its share.
    machine(cpus=16, cpu_max="200000 100000", load1=9.0)
    assert sensible_cpu_threads() == (
        1,
        "container CPU quota of 2 (of 16 visible CPUs), 1 free at load 9.00",
    )
    machine(cpus=16, cpu_max="200000 100000", load1=5.0)
    assert sensible_cpu_threads() == (2, "container CPU quota of 2 (of 16 visible CPUs)")


def test_environment_device_and_cpu_dtype(
    fresh_plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECOMLM_DEVICE", "cpu")
    choice = ecomlm_sdk.resolve_device()
    assert (choice.device, choice.dtype, choice.chosen_by) == ("cpu", "float32", "ecomlm_gpu")
    assert "ECOMLM_DEVICE" in choice.reason and "thread" in choice.reason
    if not torch.cuda.is_available():
        monkeypatch.setenv("ECOMLM_DEVICE", "cuda")
        with pytest.raises(DeviceError, match="unset ECOMLM_DEVICE"):
            ecomlm_sdk.load_model("minilm-embedder")


class _Policy:
    """A third-party device manager: pins every automatic choice to CPU."""

    @hookimpl
    def select_device(self, preference: str | None) -> DeviceChoice | None:
        if preference is None:
            return DeviceChoice(device="cpu", reason="company policy: CPU only", chosen_by="policy")
        return None


def test_third_party_select_device_takes_over_models_and_cli(
    fresh_plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ECOMLM_DEVICE", raising=False)
    with testing.registered_plugin(_Policy(), name="policy"):
        for name in ("bert-classifier", "minilm-embedder", "gpt2"):
            assert ecomlm_sdk.load_model(name).device_choice.chosen_by == "policy"
        result = CliRunner().invoke(main, ["device"])
        assert result.exit_code == 0, result.output
        assert (
            "company policy: CPU only" in result.output and "chosen by:   policy" in result.output
        )
        explicit = json.loads(
            CliRunner().invoke(main, ["device", "--device", "cpu", "--json"]).output
        )
        assert explicit["chosen_by"] == "ecomlm_gpu" and explicit["requested"] == "cpu"


def test_cli_device_reports_errors_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECOMLM_DEVICE", raising=False)
    result = CliRunner().invoke(main, ["device", "--device", "tpu"])
    assert result.exit_code == 1 and "use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'" in result.output


# ------------------------------------------------------------------------------------ CUDA only
@pytest.mark.gpu
def test_cuda_choice_uses_bf16_or_fp16_and_models_agree_with_cpu(tiny_bert_dir: str) -> None:
    choice = ecomlm_sdk.resolve_device("cuda")
    assert choice.dtype == ("bfloat16" if torch.cuda.is_bf16_supported() else "float16")
    texts = ["red heart mug", "where is my parcel", "refund please"]
    gpu = ecomlm_sdk.load_model("minilm-embedder", device="cuda").embed(texts)
    cpu = ecomlm_sdk.load_model("minilm-embedder", device="cpu").embed(texts)
    assert (gpu * cpu).sum(axis=1).min() > 0.99


@pytest.mark.gpu
def test_find_max_batch_on_a_real_gpu() -> None:
    free, _ = torch.cuda.mem_get_info()
    row_bytes = 64 * 2**20  # each "row" of the batch allocates 64 MiB

    def run(size: int) -> None:
        torch.empty((size, row_bytes // 4), dtype=torch.float32, device="cuda").fill_(1.0)

    found = find_max_batch(run, start=8, limit=10_000)
    assert 1 <= found <= free // row_bytes + 1
    run(found)


@pytest.mark.gpu
def test_gpt2_and_classifier_run_and_train_on_cuda(tiny_gpt2_dir: str, tiny_bert_dir: str) -> None:
    gen = ecomlm_sdk.load_model("gpt2", name_or_path=tiny_gpt2_dir, device="cuda")
    assert str(next(gen.model.parameters()).device).startswith("cuda")
    out = gen.generate(["red heart mug", "blue"], max_new_tokens=5, do_sample=True, seed=0)
    assert len(out) == 2 and all(isinstance(o, str) for o in out)
    assert "".join(gen.stream("red", max_new_tokens=4)) == gen.generate("red", max_new_tokens=4)[0]
    clf = ecomlm_sdk.load_model("bert-classifier", backbone=tiny_bert_dir, device="cuda")
    clf.fit(["track my order", "refund please"] * 8, ["track", "refund"] * 8, epochs=1)
    assert clf.predict(["track my order"])[0].label in {"track", "refund"}
