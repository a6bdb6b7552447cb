"""Helpers shared by the contracts: failing with a message, scratch folders, the no-pickle scan."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

__all__ = ["expect", "pickled_files", "scratch_folder"]

#: Suffixes of files that pickle (or torch.save, which pickles) writes.
PICKLE_SUFFIXES: Final = frozenset({".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt", ".bin"})


def expect(condition: bool, message: str) -> None:
    """Raise ``AssertionError(message)`` unless ``condition`` holds."""
    if not condition:
        raise AssertionError(message)


@contextmanager
def scratch_folder(tmp_path: str | Path | None, name: str) -> Iterator[Path]:
    """``tmp_path / name`` when a folder is given, else a temporary folder removed afterwards."""
    if tmp_path is not None:
        yield Path(tmp_path) / name
        return
    with tempfile.TemporaryDirectory(prefix="ecomlm-contract-") as temp:
        yield Path(temp) / name


def _starts_like_a_pickle(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(2)
    # Pickle protocols 2 to 5 start with PROTO (0x80) and the protocol number. A safetensors
    # file starts with its header length, which may begin with the same bytes: skip those.
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def pickled_files(folder: Path) -> list[str]:
    """Files under ``folder`` that are (or look like) pickles, relative to ``folder``."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".safetensors":
            continue
        if path.suffix in PICKLE_SUFFIXES or _starts_like_a_pickle(path):
            found.append(str(path.relative_to(folder)))
    return found
