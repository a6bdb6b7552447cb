"""Derived frames are computed once per store; each split half has its own cache (issue 14,
item 8). Calls are counted with a spy, not timed; one whole ``evaluate`` is counted in
tests/tasks/test_prediction.py::test_one_evaluate_joins_purchases_once_per_store."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from polars.testing import assert_frame_equal

from ecomlm_sdk import EcomlmError, EcomStore, InvalidValueError


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[tuple[int, bool]]]:
    """(id of the store, include_guests) -> how often the purchases join actually ran."""
    counted: Counter[tuple[int, bool]] = Counter()
    original = EcomStore._purchases

    def spy(self: EcomStore, include_guests: bool) -> Any:
        counted[(id(self), include_guests)] += 1
        return original(self, include_guests)

    monkeypatch.setattr(EcomStore, "_purchases", spy)
    yield counted


def test_purchases_computed_once_per_store(
    calls: Counter[tuple[int, bool]], store: EcomStore
) -> None:
    first = store.purchases()
    assert store.purchases() is first
    store.purchases(include_guests=True)
    store.purchases(include_guests=True)
    assert calls == {(id(store), False): 1, (id(store), True): 1}
    assert_frame_equal(first, store._purchases(False))  # the cache holds the real join


def test_split_halves_have_their_own_caches(
    calls: Counter[tuple[int, bool]], store: EcomStore
) -> None:
    store.purchases()
    history, future = store.split("2011-06-01")
    assert store.split("2011-06-01T00:00:00+00:00") == (history, future)  # one instant, cached
    for half in (history, future, history, future):
        half.purchases()
    assert calls == {(id(store), False): 1, (id(history), False): 1, (id(future), False): 1}
    assert history.purchases().height + future.purchases().height == store.purchases().height
    # A store built by replace() or copied starts with an empty cache.
    replaced = store.replace(orders=store.orders.head(1))
    assert replaced.purchases().get_column("order_id").n_unique() == 1
    assert calls[(id(replaced), False)] == 1
    copied = copy.copy(store)
    copied.purchases()
    assert calls[(id(copied), False)] == 1


def test_bad_cutoff_is_an_ecomlm_error(store: EcomStore) -> None:
    with pytest.raises(InvalidValueError, match=r"'09/09/2011'.*ISO format \(YYYY-MM-DD\)"):
        store.split("09/09/2011")
    assert issubclass(InvalidValueError, EcomlmError) and issubclass(InvalidValueError, ValueError)
