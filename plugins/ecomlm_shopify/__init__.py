"""Built-in plugin ``ecomlm_shopify``: the ``shopify_csv`` data source (Shopify admin CSV exports).

``load_store("shopify_csv", path="exports/")`` reads every orders, customers and products export
version found in a folder; ``store.to_shopify_csv(folder)`` writes the current versions back.
"""

from __future__ import annotations

from ecomlm_sdk import hookimpl
from ecomlm_sdk.hookspecs import Register
from ecomlm_shopify.source import ShopifyCsvOptions, ShopifyCsvSource

__all__ = ["ShopifyCsvOptions", "ShopifyCsvSource", "register_data_sources"]

ecomlm_sdk_api = ">=1,<2"


@hookimpl
def register_data_sources(register: Register) -> None:
    """Register :class:`ShopifyCsvSource` as ``shopify_csv`` (alias ``shopify``)."""
    register(ShopifyCsvSource, aliases=("shopify",))
