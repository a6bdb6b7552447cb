"""The bundled Bitext intent data, and the splits the support task trains and evaluates on."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from ecomlm_sdk.errors import DataSourceError, InvalidValueError

__all__ = [
    "BITEXT_FILE",
    "bitext_intents",
    "cap_per_intent",
    "knowledge_base_path",
    "stratified_split",
]

BITEXT_FILE: Final = "bitext_intents.csv"
FAQ_FILE: Final = "faq.json"
_PACKAGE: Final = "ecomlm_sdk.datasets.support"


def _bundled(name: str) -> Path:
    path = Path(str(resources.files(_PACKAGE).joinpath(name)))
    if not path.is_file():
        raise DataSourceError(
            f"Bundled support file {name!r} is missing from {path.parent}; reinstall ecomlm-sdk "
            "(pip install --force-reinstall ecomlm-sdk)."
        )
    return path


def knowledge_base_path() -> Path:
    """Path of the bundled FAQ knowledge base (``datasets/support/faq.json``)."""
    return _bundled(FAQ_FILE)


def bitext_intents() -> pl.DataFrame:
    """The bundled Bitext customer-support utterances (CDLA-Sharing-1.0, see its README).

    Returns:
        4,514 rows with columns ``text`` (the customer's message), ``intent`` (27 intents) and
        ``category`` (11 categories).
    """
    path = _bundled(BITEXT_FILE)
    frame = pl.read_csv(path, infer_schema=False)
    expected = {"instruction", "intent", "category"}
    if not expected <= set(frame.columns):
        raise DataSourceError(
            f"{path}: expected columns {sorted(expected)}, found {frame.columns}; the bundled "
            "file is damaged, reinstall ecomlm-sdk."
        )
    return frame.select(pl.col("instruction").alias("text"), "intent", "category")


def stratified_split(
    frame: pl.DataFrame, *, test_size: float = 0.2, seed: int = 0, label: str = "intent"
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split ``frame`` into ``(train, test)`` keeping each label's share in both parts.

    Each label contributes ``round(n * test_size)`` rows (at least one when it has two or
    more) to the test part, drawn at random with ``seed``.

    Args:
        frame: Rows to split; must have the ``label`` column.
        test_size: Share of each label's rows that goes to the test part, in (0, 1).
        seed: Random seed; the same seed gives the same split.
        label: Column to stratify on.
    """
    if not 0 < test_size < 1:
        raise InvalidValueError(
            f"test_size must be strictly between 0 and 1 (a share of each label's rows), "
            f"got {test_size!r}"
        )
    rng = np.random.default_rng(seed)
    indexed = frame.with_row_index("_row")
    test_rows: list[int] = []
    for (_,), group in indexed.group_by([label], maintain_order=True):
        rows = group.get_column("_row").to_numpy()
        n_test = round(len(rows) * test_size)
        if len(rows) >= 2:
            n_test = min(max(n_test, 1), len(rows) - 1)
        test_rows.extend(int(r) for r in rng.permutation(rows)[:n_test])
    is_test = pl.col("_row").is_in(test_rows)
    train = indexed.filter(~is_test).drop("_row")
    test = indexed.filter(is_test).drop("_row")
    return train, test


def cap_per_intent(
    frame: pl.DataFrame, per_intent: int | None, *, seed: int = 0, label: str = "intent"
) -> pl.DataFrame:
    """Keep at most ``per_intent`` random rows of each label (all rows when ``None``)."""
    if per_intent is None:
        return frame
    rng = np.random.default_rng(seed)
    indexed = frame.with_row_index("_row")
    keep: list[int] = []
    for (_,), group in indexed.group_by([label], maintain_order=True):
        rows = group.get_column("_row").to_numpy()
        keep.extend(int(r) for r in rng.permutation(rows)[:per_intent])
    return indexed.filter(pl.col("_row").is_in(sorted(keep))).drop("_row")
