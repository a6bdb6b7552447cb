"""Bundled sample data: the sample store, built from the real UCI Online Retail log.

``sample_store()`` loads the Shopify-format exports in ``datasets/sample_store/`` through the
data source registered as ``shopify_csv`` (resolved by name: the core never imports a plugin).
The data is every transaction of a UK online gift retailer, 2010-12-01 to 2011-12-09: UCI
Machine Learning Repository dataset 352, "Online Retail", by Chen, Sain & Guo (2012),
doi:10.1057/dbm.2012.17, licensed CC BY 4.0. Customers' emails are made up
(``customer-17850@example.com``); see ``sample_store/README.md`` for the full mapping.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Final

from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.plugins import get_registry

__all__ = ["SAMPLE_STORE_DIR", "sample_store"]

#: Folder holding the sample store's orders, customers and products exports.
SAMPLE_STORE_DIR: Final = Path(__file__).resolve().parent / "sample_store"

_cache: dict[str, EcomStore] = {}
_lock = threading.Lock()


def sample_store(*, cache: bool = True) -> EcomStore:
    """The sample store: 25,900 real orders (541,909 lines) of 4,372 customers and 4,070 products.

    The first call parses the bundled exports (about a second or two); later calls in the same
    process return a copy of the cached store at once. Each call returns its own
    :class:`EcomStore` object, so replacing a table on it does not affect other callers (the
    polars frames themselves are immutable and shared).

    Args:
        cache: Reuse the store parsed earlier in this process (``False`` parses again).

    Example:
        ```python
        import ecomlm_sdk

        store = ecomlm_sdk.sample_store()
        print(store.summary()["orders"])  # 25900
        ```

    Raises:
        UnknownComponentError: No ``shopify_csv`` data source is registered (the built-in
            ``shopify`` plugin was disabled).
    """
    with _lock:
        store = _cache.get("store") if cache else None
        if store is None:
            source = get_registry().get("data_source", "shopify_csv").component
            store = source(path=str(SAMPLE_STORE_DIR)).load()
            store.source = "sample_store"
            _cache["store"] = store
    return copy.copy(store)
