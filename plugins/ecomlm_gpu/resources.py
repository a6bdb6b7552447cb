"""CPU threads and batch sizes: the resource decisions that go with a device choice."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Final

from ecomlm_sdk.errors import DeviceError
from ecomlm_sdk.models.batching import is_out_of_memory

__all__ = ["configure_cpu_threads", "find_max_batch", "sensible_cpu_threads"]

THREADS_ENV: Final = "ECOMLM_THREADS"
#: Older spelling of :data:`THREADS_ENV`, still honoured.
LEGACY_THREADS_ENV: Final = "ECOMLM_NUM_THREADS"
OMP_ENV: Final = "OMP_NUM_THREADS"
_CGROUP_CPU_MAX: Final = Path("/sys/fs/cgroup/cpu.max")
_LOADAVG: Final = Path("/proc/loadavg")

_configured: tuple[int, str] | None = None


def _cgroup_quota() -> int | None:
    """CPUs allowed by a cgroup v2 quota (containers), or None when unlimited or unknown."""
    try:
        quota, period = _CGROUP_CPU_MAX.read_text().split()[:2]
        if quota == "max":
            return None
        return max(1, int(quota) // int(period))
    except (OSError, ValueError, ZeroDivisionError):
        return None


def _load_average() -> float | None:
    """The 1-minute load average of the whole machine (``/proc/loadavg``), or None."""
    try:
        return float(_LOADAVG.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _positive_env(name: str) -> int | None:
    """The positive integer in environment variable ``name``, None when unset or empty.

    Raises:
        DeviceError: It is set to something other than a positive integer.
    """
    env = os.environ.get(name, "").strip()
    if not env:
        return None
    if not env.isdigit() or int(env) < 1:
        raise DeviceError(
            f"{name}={env!r} is not a positive integer; set it to e.g. 4, or unset it."
        )
    return int(env)


def sensible_cpu_threads() -> tuple[int, str]:
    """How many intra-op threads torch should use on CPU, and why.

    In order of precedence:

    1. ``ECOMLM_THREADS`` (or its older spelling ``ECOMLM_NUM_THREADS``), taken as given;
    2. ``OMP_NUM_THREADS``, taken as given (what a job scheduler or the user asked for);
    3. otherwise the cores actually free: the CPUs this process may run on (affinity), capped by
       a cgroup v2 CPU quota (``/sys/fs/cgroup/cpu.max``), minus this share of the machine's
       1-minute load average (``/proc/loadavg``) beyond one (this process), and at least 1. Threads beyond the free cores
       fight each other and make matrix products slower, not faster.

    Raises:
        DeviceError: One of the variables is set but not a positive integer.
    """
    for name in (THREADS_ENV, LEGACY_THREADS_ENV, OMP_ENV):
        value = _positive_env(name)
        if value is not None:
            return value, f"{name}={value}"
    affinity = getattr(os, "sched_getaffinity", None)
    visible = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)
    usable, why = visible, f"{visible} usable CPUs"
    quota = _cgroup_quota()
    if quota is not None and quota < visible:
        usable, why = quota, f"container CPU quota of {quota} (of {visible} visible CPUs)"
    load = _load_average()
    if load is not None:
        # One unit of load is taken to be this process itself (it is running now). The load
        # average counts the whole machine; a process limited to part of it gets its share.
        busy = max(0.0, load - 1.0)
        share = busy * usable / max(os.cpu_count() or usable, usable)
        free = max(1, min(usable, int(usable - share + 0.5)))
        if free < usable:
            return free, f"{why}, {free} free at load {load:.2f}"
    return usable, why


def configure_cpu_threads(*, force: bool = False) -> tuple[int, str]:
    """Set torch's intra-op thread count once per process (again with ``force``).

    Returns:
        ``(threads, reason)``.
    """
    global _configured
    if _configured is not None and not force:
        return _configured
    import torch

    threads, reason = sensible_cpu_threads()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    _configured = (threads, reason)
    return _configured


def find_max_batch(run: Callable[[int], object], *, start: int = 8, limit: int = 1024) -> int:
    """The largest batch size in ``[1, limit]`` for which ``run(size)`` does not run out of memory.

    Doubles from ``start`` until ``run`` runs out of memory or ``limit`` is reached, then
    bisects between the last size that fitted and the first that did not. Out-of-memory errors
    are caught (and the accelerator cache emptied); any other error propagates.

    Args:
        run: Runs one representative batch of the given size (e.g. the longest inputs).
        start: First size tried.
        limit: Largest size worth trying.

    Raises:
        DeviceError: Even a batch of one runs out of memory.
    """

    def fits(size: int) -> bool:
        try:
            run(size)
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            _empty_cache()
            return False
        return True

    size = max(1, min(start, limit))
    while not fits(size):
        if size == 1:
            raise DeviceError(
                "Out of memory with a batch of one; use a smaller model, shorter inputs, "
                "or device='cpu'."
            )
        size //= 2
    good, bad = size, None
    while bad is None and good < limit:
        trial = min(good * 2, limit)
        if fits(trial):
            good = trial
        else:
            bad = trial
    while bad is not None and bad - good > 1:
        middle = (good + bad) // 2
        good, bad = (middle, bad) if fits(middle) else (good, middle)
    return good


def _empty_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
