"""Progress bars for work a person waits for: quiet off a terminal, or when asked.

``ECOMLM_PROGRESS=0`` silences every bar; ``ECOMLM_PROGRESS=1`` forces them on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from tqdm.auto import tqdm

__all__ = ["progress", "progress_enabled"]

T = TypeVar("T")


def progress_enabled(quiet: bool | None = None) -> bool:
    """Whether to draw progress bars: not when ``quiet``, else per env var, else if stderr is a TTY."""
    if quiet:
        return False
    env = os.environ.get("ECOMLM_PROGRESS", "").strip().lower()
    if env in {"0", "false", "no", "off"}:
        return False
    if env in {"1", "true", "yes", "on"}:
        return True
    return sys.stderr.isatty()


def progress(
    iterable: Iterable[T],
    *,
    desc: str,
    total: int | None = None,
    unit: str = "it",
    quiet: bool | None = None,
    **kwargs: Any,
) -> Iterator[T]:
    """Wrap ``iterable`` in a progress bar when :func:`progress_enabled`."""
    if not progress_enabled(quiet):
        yield from iterable
        return
    yield from tqdm(iterable, desc=desc, total=total, unit=unit, leave=False, **kwargs)
