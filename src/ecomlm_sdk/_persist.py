"""Saved folders: atomic writes, checksum manifests, version checks and safe readers.

Every ``save()`` of a task or a model goes through :func:`atomic_folder`, and every ``load()``
reads through the checks here, so the rules hold in one place:

* a save writes into a hidden sibling folder and renames it into place, so a crash or a full
  disk never leaves a half-written folder, and a re-save over a good folder keeps the old one
  until the new one is complete;
* the metadata file records the sha256 of every other file (the *manifest*); a load refuses a
  folder whose files were changed, removed or added since the save;
* the metadata records the SDK version that wrote it: another major version is refused, a newer
  minor version is loaded with a warning;
* safetensors files are checked (header, sizes) before any library reads them, and JSON is read
  with errors naming the file, line and column.

The manifest detects accidental corruption and edits by anyone who did not also rewrite the
manifest; it is not a signature. Safety against code execution comes from the formats
(safetensors and JSON only) and from never taking ``trust_remote_code`` or a weight location from
saved metadata (:func:`check_no_code_or_redirect`).

This module sits in the lowest layer: it imports only :mod:`ecomlm_sdk.errors` and
:mod:`ecomlm_sdk._version`.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import shutil
import struct
import uuid
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from ecomlm_sdk._version import __version__
from ecomlm_sdk.errors import EcomlmError

__all__ = [
    "CODE_KEYS",
    "WEIGHT_SOURCES",
    "SavedFolderWarning",
    "atomic_folder",
    "check_no_code_or_redirect",
    "check_positive_finite",
    "check_safetensors",
    "check_version",
    "file_manifest",
    "read_json",
    "scrub_sources",
    "verify_manifest",
    "write_json",
]

#: Option names that say where weights come from; a saved folder brings its own weights.
WEIGHT_SOURCES: Final = frozenset({"backbone", "name_or_path"})
#: Option names that would let code from a model repository run.
CODE_KEYS: Final = frozenset({"trust_remote_code"})
#: Metadata key holding ``{relative path: sha256}`` of every other file in the folder.
MANIFEST_KEY: Final = "manifest"
_CHUNK: Final = 1 << 20
_warned_legacy: set[str] = set()


class SavedFolderWarning(UserWarning):
    """A saved folder loads, but something about it deserves attention (old or newer writer)."""


# ------------------------------------------------------------------------------ atomic saves
@contextmanager
def atomic_folder(target: str | Path, *, marker: str, error: type[EcomlmError]) -> Iterator[Path]:
    """Write a folder atomically: yield a hidden temporary sibling, then rename it to ``target``.

    On success an existing ``target`` is renamed aside, the new folder renamed in and the old
    one deleted. On any failure the temporary folder is removed and ``target`` is left as it was.

    Args:
        target: The folder to create or replace.
        marker: The metadata file a folder written by the SDK holds; an existing non-empty
            ``target`` without it is never replaced (it is not ours to delete).
        error: Error class raised for file-system failures (``TaskError`` or ``ModelError``).

    Raises:
        error: ``target`` is a file or a foreign non-empty folder, or the disk is full or
            unwritable.
    """
    folder = Path(target)
    if folder.is_symlink() or folder.is_file():
        raise error(f"Cannot save to {folder}: it is a file or a link; pass a folder path")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / marker).is_file():
        raise error(
            f"Cannot save to {folder}: it is a non-empty folder that holds no {marker}, so it was "
            "not written by ecomlm-sdk and will not be replaced; pass a new or empty folder"
        )
    token = uuid.uuid4().hex[:12]
    temp = folder.parent / f".{folder.name}.saving-{token}"
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        temp.mkdir()
        yield temp
        _swap_in(temp, folder, folder.parent / f".{folder.name}.old-{token}")
    except OSError as exc:
        shutil.rmtree(temp, ignore_errors=True)
        raise error(_os_message(folder, exc)) from exc
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def _swap_in(temp: Path, folder: Path, aside: Path) -> None:
    if not folder.exists():
        os.replace(temp, folder)
        return
    os.replace(folder, aside)
    try:
        os.replace(temp, folder)
    except BaseException:
        os.replace(aside, folder)  # put the old folder back before reporting the failure
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _os_message(folder: Path, exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"Cannot save to {folder}: no space left on the device{where}; nothing was written "
            "(any earlier save there is intact). Free some space or save elsewhere."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"Cannot save to {folder}: permission denied{where}; nothing was written. Pick a "
            "folder you can write to."
        )
    return f"Cannot save to {folder}: {exc.strerror or exc}{where}; nothing was written."


# ------------------------------------------------------------------------------ manifest
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path, exclude: str, error: type[EcomlmError]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_symlink():
            raise error(
                f"{path}: saved folders may not hold links (a folder loads only what it holds); "
                "replace the link with the file or save again"
            )
        if path.is_file() and relative != exclude:
            found[relative] = path
    return found


def file_manifest(folder: Path, *, exclude: str, error: type[EcomlmError]) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder`` except ``exclude``."""
    return {name: _sha256(path) for name, path in _files(folder, exclude, error).items()}


def verify_manifest(
    folder: Path, recorded: Any, *, metadata: Path, error: type[EcomlmError]
) -> None:
    """Check every file under ``folder`` against the manifest recorded in ``metadata``.

    A folder saved before manifests existed (``recorded`` is ``None``) loads with a warning.

    Raises:
        error: A file was changed, removed or added, or the manifest itself is malformed.
    """
    if recorded is None:
        if str(metadata) in _warned_legacy:
            return  # one warning per folder: a model's parts are loaded lazily, one by one
        _warned_legacy.add(str(metadata))
        warnings.warn(
            f"{metadata} has no checksum manifest (saved by ecomlm-sdk 0.1): corrupted or "
            "edited files cannot be detected; save the folder again to add one",
            SavedFolderWarning,
            stacklevel=3,
        )
        return
    if not isinstance(recorded, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in recorded.items()
    ):
        raise error(
            f"{metadata} key {MANIFEST_KEY!r} must map file names to sha256 hex digests; "
            "save the folder again"
        )
    present = _files(folder, metadata.name if metadata.parent == folder else "", error)
    for name in sorted(recorded):
        if name not in present:
            raise error(
                f"{folder / name} is missing, but {metadata} lists it; the folder is "
                "incomplete: copy it again or save it again"
            )
    for name in sorted(present):
        if name not in recorded:
            raise error(
                f"{folder / name} is not listed in the manifest of {metadata}: a file was added "
                "after the save. Remove it, or save the folder again"
            )
        if _sha256(present[name]) != recorded[name]:
            raise error(
                f"{folder / name} does not match the sha256 recorded in {metadata}: the file "
                "was changed or corrupted after the save. Copy the folder again or save it again"
            )


# ------------------------------------------------------------------------------ metadata
def _version_tuple(text: str) -> tuple[int, int] | None:
    parts = text.split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return None


def check_version(recorded: Any, *, metadata: Path, error: type[EcomlmError]) -> None:
    """Refuse a folder written by another major SDK version; warn on a newer minor version."""
    key = "ecomlm_sdk_version"
    parsed = _version_tuple(recorded) if isinstance(recorded, str) else None
    if parsed is None:
        raise error(
            f"{metadata} key {key!r} is {recorded!r}, not a version such as {__version__!r}; "
            "the file is damaged or was not written by ecomlm-sdk. Save the folder again"
        )
    ours = _version_tuple(__version__)
    assert ours is not None
    if parsed[0] != ours[0]:
        raise error(
            f"{metadata} was written by ecomlm-sdk {recorded}, whose saved format this "
            f"ecomlm-sdk {__version__} (major version {ours[0]}) cannot read; install "
            f"ecomlm-sdk {parsed[0]}.x to load it, or save it again with this version"
        )
    if parsed[1] > ours[1]:
        warnings.warn(
            f"{metadata} was written by a newer ecomlm-sdk ({recorded}) than this one "
            f"({__version__}); it may use settings this version ignores. Upgrade ecomlm-sdk",
            SavedFolderWarning,
            stacklevel=3,
        )


def read_json(path: Path, *, error: type[EcomlmError], what: str = "saved file") -> Any:
    """Parse the JSON file ``path``; every failure raises ``error`` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(f"{path} is missing: the {what} is incomplete; save it again") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path} cannot be read as UTF-8 text ({exc}); save the {what} again") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(
            f"{path} line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg}); save the "
            f"{what} again"
        ) from exc


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON (UTF-8, trailing newline)."""
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def check_positive_finite(value: Any, *, key: str, path: Path, error: type[EcomlmError]) -> float:
    """``value`` as a float; raises ``error`` naming ``path`` and ``key`` unless finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise error(f"{path} key {key!r} is {value!r}, not a number; save the model again")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise error(
            f"{path} key {key!r} is {value!r}; it must be a finite number above 0. Save the "
            "model again"
        )
    return number


# ------------------------------------------------------------------------------ safetensors
def check_safetensors(path: Path, *, error: type[EcomlmError]) -> dict[str, Any]:
    """Check that ``path`` is a complete safetensors file; return its header (with metadata).

    Reads only the header: it must be JSON whose tensors' byte ranges exactly fill the rest of
    the file, which catches truncated files and files in other formats (pickles, text).
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            prefix = handle.read(8)
            length = struct.unpack("<Q", prefix)[0] if len(prefix) == 8 else -1
            if length < 2 or 8 + length > size or length > 100_000_000:
                raise error(_not_safetensors(path, "no valid header"))
            header: Any = json.loads(handle.read(length))
    except FileNotFoundError as exc:
        raise error(f"{path} is missing: the saved folder is incomplete; save it again") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(_not_safetensors(path, f"unreadable header: {exc}")) from exc
    if not isinstance(header, dict):
        raise error(_not_safetensors(path, "the header is not a JSON object"))
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2):
            raise error(_not_safetensors(path, f"tensor {name!r} has no data_offsets"))
        end = max(end, int(offsets[1]))
    if 8 + length + end != size:
        raise error(
            _not_safetensors(
                path, f"the header describes {8 + length + end} bytes but the file has {size}"
            )
        )
    return header


def _not_safetensors(path: Path, why: str) -> str:
    return (
        f"{path} is not a complete safetensors file ({why}): it is truncated or in another "
        "format. Only safetensors weights are loaded; copy the folder again or save it again"
    )


# ------------------------------------------------------------------------------ options
def _walk(value: Any, where: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield where, str(key), item
            yield from _walk(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{where}[{i}]")


def check_no_code_or_redirect(
    options: Any, *, metadata: Path, error: type[EcomlmError], where: str = "options"
) -> None:
    """Refuse saved options that would run code or read weights from outside the folder.

    Any nested ``trust_remote_code`` other than false, and any nested ``backbone`` or
    ``name_or_path`` other than null, is refused: a saved folder loads only what it holds, and
    only the caller's own argument (``load(path, trust_remote_code=True)``) can allow remote code.

    Raises:
        error: Naming the file and the key.
    """
    for parent, key, value in _walk(options, where):
        if key in CODE_KEYS and value is not False:
            raise error(
                f"{metadata} key '{parent}.{key}' is {value!r}: saved metadata may not enable "
                "remote code. Remove the key; if you trust the code in this folder, pass "
                "trust_remote_code=True to load() yourself"
            )
        if key in WEIGHT_SOURCES and value is not None:
            raise error(
                f"{metadata} key '{parent}.{key}' is {value!r}: a saved folder loads only the "
                "weights it holds and may not point at other weights. Remove the key, or save "
                "the task again with this version of ecomlm-sdk"
            )


def scrub_sources(options: Any) -> Any:
    """A copy of ``options`` without weight locations and ``trust_remote_code`` (for saving)."""
    if isinstance(options, Mapping):
        return {
            key: scrub_sources(value)
            for key, value in options.items()
            if not (key in CODE_KEYS or (key in WEIGHT_SOURCES and value is not None))
        }
    if isinstance(options, list):
        return [scrub_sources(item) for item in options]
    return options
