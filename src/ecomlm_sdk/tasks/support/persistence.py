"""How a fitted ``support`` task is laid out in its saved folder, and read back.

```text
classifier/            the intent classifier (its own save())
embedder/              only when an option names the embedder's weights
generator/             only when an option names the generator's weights
knowledge_base.json    the FAQ, with the shop's policies
neighbours.npy         embeddings of the training rows (the out-of-scope neighbours)
support_state.json     fit_summary and calibration
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ecomlm_sdk._persist import WEIGHT_SOURCES, read_json, write_json
from ecomlm_sdk.errors import ModelError, TaskError
from ecomlm_sdk.plugins import resolve_class

__all__ = [
    "CLASSIFIER_DIR",
    "EMBEDDER_DIR",
    "GENERATOR_DIR",
    "KB_FILE",
    "MEMORY_FILE",
    "STATE_FILE",
    "load_model",
    "names_weights",
    "read_memory",
    "read_state",
    "save_model",
    "write_state",
]

STATE_FILE = "support_state.json"
KB_FILE = "knowledge_base.json"
CLASSIFIER_DIR = "classifier"
EMBEDDER_DIR = "embedder"
GENERATOR_DIR = "generator"
MEMORY_FILE = "neighbours.npy"


def names_weights(options: dict[str, Any]) -> bool:
    """Whether model ``options`` say where weights come from (then the task saves the model)."""
    return any(options.get(key) is not None for key in WEIGHT_SOURCES)


def save_model(model: Any, role: str, name: str | None, folder: Path) -> None:
    """Save the ``role`` model (registered as ``name``) into ``folder``, or say why it cannot."""
    try:
        model.save(folder)
    except ModelError as exc:
        raise TaskError(
            f"Cannot save task 'support': {role} {name!r} cannot be "
            f"saved ({exc}); use a {role} plugin that implements save()/load()"
        ) from exc


def load_model(name: str, options: dict[str, Any], folder: Path, base: type[Any]) -> Any:
    """The ``name`` model loaded from ``folder`` with ``options``, checked to be a ``base``."""
    cls = resolve_class("model", name, base)
    model = cls.load(folder, **options)
    if not isinstance(model, base):
        raise TaskError(f"{name!r} loaded from {folder} is not a {base.__name__}")
    return model


def write_state(
    folder: Path,
    fit_summary: dict[str, float],
    calibration: dict[str, float],
    memory: np.ndarray | None,
) -> None:
    """Write the neighbour memory (when there is one) and ``support_state.json``."""
    if memory is not None:
        np.save(folder / MEMORY_FILE, np.asarray(memory, dtype=np.float32))
    write_json(folder / STATE_FILE, {"fit_summary": fit_summary, "calibration": calibration})


def read_state(folder: Path) -> tuple[dict[str, float], dict[str, float]]:
    """``fit_summary`` and ``calibration`` from ``support_state.json``, checked."""
    state = read_json(folder / STATE_FILE, error=TaskError, what="saved task")
    summary = state.get("fit_summary", {}) if isinstance(state, dict) else None
    if not isinstance(summary, dict):
        raise TaskError(f"{folder / STATE_FILE} must hold a 'fit_summary' object")
    fit_summary = {k: float(v) for k, v in summary.items()}
    calibration = state.get("calibration", {"temperature": 1.0})
    if not isinstance(calibration, dict) or not all(
        isinstance(v, int | float) for v in calibration.values()
    ):
        raise TaskError(f"{folder / STATE_FILE}: 'calibration' must map names to numbers")
    return fit_summary, {k: float(v) for k, v in calibration.items()}


def read_memory(folder: Path) -> np.ndarray | None:
    """The saved neighbour memory, or ``None`` when the task had none."""
    memory = folder / MEMORY_FILE
    return np.load(memory, allow_pickle=False) if memory.is_file() else None
