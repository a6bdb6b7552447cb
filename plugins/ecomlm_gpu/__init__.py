"""Built-in plugin ``ecomlm_gpu``: picks CUDA, then Apple MPS, then CPU, and the dtype to use.

It implements ``select_device`` with ``trylast=True`` so any other plugin can take over.
"""

from __future__ import annotations

from ecomlm_gpu.manager import GpuDeviceManager
from ecomlm_sdk import DeviceChoice, hookimpl

__all__ = ["GpuDeviceManager", "select_device"]

ecomlm_sdk_api = ">=1,<2"

_MANAGER = GpuDeviceManager()


@hookimpl(trylast=True)
def select_device(preference: str | None) -> DeviceChoice:
    """Delegate to :class:`GpuDeviceManager`."""
    return _MANAGER.select(preference)
