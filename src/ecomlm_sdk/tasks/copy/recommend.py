"""Which products each email features: the ``recommendation`` task, or a simple fallback.

When a task named ``recommendation`` (or the name given) is registered, it is fitted on the
store and asked for each customer's top products. Otherwise, and for customers it knows nothing
about, each customer gets their own most-bought products, topped up with the shop's most popular
ones (most distinct buyers).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from ecomlm_sdk._persist import read_json, write_json
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import EcomlmError, TaskError, UnknownComponentError
from ecomlm_sdk.plugins import resolve_class
from ecomlm_sdk.tasks.base import Task

__all__ = ["Recommender"]

logger = logging.getLogger("ecomlm_sdk.tasks.copy")
_STATE_FILE = "recommender_state.json"
_TASK_DIR = "recommender"
_POPULAR_KEPT = 1000


def _titles(store: EcomStore) -> dict[str, str]:
    purchases = store.purchases()
    from_lines = (
        purchases.filter(pl.col("title").is_not_null())
        .group_by("product_id")
        .agg(pl.col("title").first())
    )
    from_products = (
        store.products.filter(pl.col("title").is_not_null())
        .group_by("product_id")
        .agg(pl.col("title").first())
    )
    titles = dict(from_lines.iter_rows())
    titles.update(dict(from_products.iter_rows()))  # catalogue titles win over line names
    return {str(k): str(v) for k, v in titles.items() if k is not None}


class Recommender:
    """Products to feature per customer (titles), with the source recorded.

    Attributes:
        source: ``"task:<name>"`` when a recommendation task is used, else ``"fallback"``.
    """

    def __init__(
        self,
        k: int,
        popular: list[str],
        titles: dict[str, str],
        task: Any = None,
        source: str = "fallback",
        *,
        exclude_owned: bool = False,
    ) -> None:
        self.k = k
        self.exclude_owned = exclude_owned
        self.popular = popular
        self.titles = titles
        self.task = task
        self.source = source

    @classmethod
    def fit(
        cls,
        store: EcomStore,
        *,
        name: str | None,
        options: dict[str, Any],
        k: int,
        exclude_owned: bool = False,
    ) -> Recommender:
        """Rank popular products in ``store`` and fit the recommendation task ``name`` if any."""
        popular = (
            store.purchases()
            .filter(pl.col("product_id").is_not_null())
            .group_by("product_id")
            .agg(pl.col("customer_id").n_unique().alias("buyers"))
            .sort(["buyers", "product_id"], descending=[True, False])
            .head(_POPULAR_KEPT)
            .get_column("product_id")
            .to_list()
        )
        titles = _titles(store)
        task, source = None, "fallback"
        if name is not None:
            try:
                task_cls = resolve_class("task", name, Task)
            except UnknownComponentError:
                logger.info("generate-copy: no %r task registered; using the fallback", name)
            else:
                task = task_cls(**{"k": k, **options}).fit(store)
                source = f"task:{name}"
        return cls(k, popular, titles, task, source, exclude_owned=exclude_owned)

    def popular_titles(self, n: int) -> list[str]:
        """Titles of the ``n`` most popular products (those with a title)."""
        return [self.titles[p] for p in self.popular if p in self.titles][:n]

    def recommend(self, customer_ids: Sequence[str], store: EcomStore) -> dict[str, list[str]]:
        """Up to ``k`` product titles per customer."""
        ranked: dict[str, list[str]] = {}
        if self.task is not None:
            extra = {"exclude_owned": True} if self.exclude_owned else {}
            frame: pl.DataFrame = self.task.recommend(list(customer_ids), **extra)
            for cid, pid in (
                frame.sort(["customer_id", "rank"]).select("customer_id", "product_id").iter_rows()
            ):
                ranked.setdefault(str(cid), []).append(str(pid))
        missing = {c for c in customer_ids if not ranked.get(c)}
        own = (
            store.purchases()
            .filter(
                pl.col("customer_id").is_in(list(customer_ids)) & pl.col("product_id").is_not_null()
            )
            .group_by("customer_id", "product_id")
            .agg(pl.col("quantity").sum())
            .sort(["customer_id", "quantity", "product_id"], descending=[False, True, False])
        )
        owned: dict[str, set[str]] = {}
        for cid, pid in own.select("customer_id", "product_id").iter_rows():
            owned.setdefault(str(cid), set()).add(str(pid))
            if cid in missing and not self.exclude_owned:
                ranked.setdefault(str(cid), []).append(str(pid))
        result = {}
        for cid in customer_ids:
            skip = owned.get(cid, set()) if self.exclude_owned else set()
            picks = [p for p in ranked.get(cid, []) if p in self.titles and p not in skip]
            for pid in self.popular:
                if len(picks) >= self.k:
                    break
                if pid not in picks and pid not in skip and pid in self.titles:
                    picks.append(pid)
            result[cid] = [self.titles[p] for p in picks[: self.k]]
        return result

    def save(self, folder: Path) -> None:
        """Write the popularity list and titles, and the recommendation task if it can be saved."""
        saved_task = False
        if self.task is not None:
            try:
                self.task.save(folder / _TASK_DIR)
                saved_task = True
            except (EcomlmError, NotImplementedError) as exc:
                logger.warning(
                    "generate-copy: recommender not saved (%s); fallback after load", exc
                )
        state = {
            "k": self.k,
            "popular": self.popular,
            "titles": self.titles,
            "source": self.source if saved_task else "fallback",
        }
        write_json(folder / _STATE_FILE, state)

    @classmethod
    def load(
        cls, folder: Path, *, name: str | None, k: int, exclude_owned: bool = False
    ) -> Recommender:
        """Read what :meth:`save` wrote."""
        path = folder / _STATE_FILE
        state = read_json(path, error=TaskError, what="saved task")
        if not isinstance(state, dict):
            raise TaskError(f"{path} must hold a JSON object; save the task again")
        popular, titles, source = state.get("popular"), state.get("titles"), state.get("source")
        if not isinstance(popular, list) or not all(isinstance(p, str) for p in popular):
            raise TaskError(f"{path} key 'popular' must be a list of product ids; save again")
        if not isinstance(titles, dict) or not all(isinstance(t, str) for t in titles.values()):
            raise TaskError(f"{path} key 'titles' must map product ids to titles; save again")
        if not isinstance(source, str):
            raise TaskError(f"{path} key 'source' must be a string; save the task again")
        task = None
        if source != "fallback" and name is not None:
            task = resolve_class("task", name, Task).load(folder / _TASK_DIR)
        return cls(k, list(popular), dict(titles), task, source, exclude_owned=exclude_owned)
