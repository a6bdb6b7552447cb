"""``GpuDeviceManager``: CUDA, then MPS, then CPU; bf16 where the GPU supports it; CPU threads."""

from __future__ import annotations

import os
from typing import ClassVar

from ecomlm_gpu.resources import configure_cpu_threads
from ecomlm_sdk import DeviceChoice, DeviceError, DeviceManager

__all__ = ["GpuDeviceManager"]


class GpuDeviceManager(DeviceManager):
    """Chooses the best available device, honouring ``ECOMLM_DEVICE`` and an explicit device."""

    name: ClassVar[str] = "ecomlm_gpu"

    def _select(self, preference: str | None) -> DeviceChoice:
        import torch

        source = "requested"
        if preference is None:
            env = os.environ.get("ECOMLM_DEVICE", "").strip().lower()
            if env and env != "auto":
                preference, source = env, "ECOMLM_DEVICE"
        if preference is None:
            if torch.cuda.is_available():
                return self._cuda("cuda", "CUDA is available")
            if _mps_available():
                return DeviceChoice(
                    device="mps",
                    dtype="float32",
                    reason="Apple MPS is available",
                    chosen_by=self.name,
                )
            return self._cpu("no CUDA or MPS device found")
        if preference == "cpu":
            return self._cpu(f"cpu {source}")
        if preference.startswith("cuda"):
            if not torch.cuda.is_available():
                raise DeviceError(
                    f"CUDA requested ({source}: {preference!r}) but not available; pass "
                    "device='cpu' (or unset ECOMLM_DEVICE) or install a CUDA build of torch"
                )
            index = preference.partition(":")[2]
            if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
                raise DeviceError(
                    f"{preference!r} does not exist: this machine has "
                    f"{torch.cuda.device_count()} CUDA device(s); use cuda:0 .. "
                    f"cuda:{torch.cuda.device_count() - 1}"
                )
            return self._cuda(preference, f"{preference} {source}")
        if preference == "mps":
            if not _mps_available():
                raise DeviceError(
                    f"MPS requested ({source}) but not available; pass device='cpu' or run on "
                    "Apple silicon with an MPS build of torch"
                )
            return DeviceChoice(
                device="mps", dtype="float32", reason=f"mps {source}", chosen_by=self.name
            )
        raise DeviceError(
            f"Unknown device {preference!r} ({source}); use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
        )

    def _cpu(self, reason: str) -> DeviceChoice:
        threads, why = configure_cpu_threads()
        return DeviceChoice(
            device="cpu",
            dtype="float32",
            reason=f"{reason}; float32 (CPUs lack fast bf16 matmuls); {threads} torch "
            f"thread(s) from {why}",
            chosen_by=self.name,
        )

    def _cuda(self, device: str, reason: str) -> DeviceChoice:
        import torch

        bf16 = torch.cuda.is_bf16_supported()
        return DeviceChoice(
            device=device,
            dtype="bfloat16" if bf16 else "float16",
            reason=f"{reason}; {'bf16' if bf16 else 'fp16'} supported by "
            f"{torch.cuda.get_device_name(torch.device(device))}",
            chosen_by=self.name,
        )


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
