"""One local Ray cluster for the session (2 CPUs, no dashboard, a 256 MB object store).

It is started by the first test that asks for it and shut down at the end of the session;
teardown then checks that no Ray process of ours is left running.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from types import ModuleType

import psutil
import pytest

_RAY_PROCESSES = ("raylet", "gcs_server", "ray::", "default_worker", "dashboard")


def _ray_children() -> list[str]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            text = " ".join(child.cmdline()) or child.name()
        except psutil.Error:
            continue
        if any(mark in text for mark in _RAY_PROCESSES):
            found.append(f"{child.pid} {text[:80]}")
    return found


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[ModuleType]:
    ray = pytest.importorskip("ray", reason="engine tests need the [ray] extra")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=256 * 1024 * 1024,
        log_to_driver=False,
        logging_level=logging.WARNING,
    )
    try:
        yield ray
    finally:
        ray.shutdown()
        deadline = time.monotonic() + 30
        while _ray_children() and time.monotonic() < deadline:
            time.sleep(0.5)
        left = _ray_children()
        assert not left, f"Ray processes outlived the tests: {left}"
