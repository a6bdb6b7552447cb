"""Built-in plugin ``ecomlm_gpu``: picks CUDA, then Apple MPS, then CPU, and the dtype to use.

It implements ``select_device`` with ``trylast=True`` so any other plugin can take over. It also
sets torch's CPU thread count from the cores actually free (``ECOMLM_THREADS``,
``OMP_NUM_THREADS``, affinity, container quota, load) and offers :func:`find_max_batch`, which
finds the largest batch that fits in accelerator memory.
"""

from __future__ import annotations

from ecomlm_gpu.manager import GpuDeviceManager
from ecomlm_gpu.resources import configure_cpu_threads, find_max_batch, sensible_cpu_threads
from ecomlm_sdk import DeviceChoice, hookimpl

__all__ = [
    "GpuDeviceManager",
    "configure_cpu_threads",
    "find_max_batch",
    "select_device",
    "sensible_cpu_threads",
]

ecomlm_sdk_api = ">=1,<2"

_MANAGER = GpuDeviceManager()


@hookimpl(trylast=True)
def select_device(preference: str | None) -> DeviceChoice:
    """Delegate to :class:`GpuDeviceManager`."""
    return _MANAGER.select(preference)
