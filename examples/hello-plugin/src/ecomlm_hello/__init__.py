"""ecomlm-hello: a third-party plugin registering one data source, ``hello``."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import polars as pl
from pydantic import Field

from ecomlm_sdk import DataSource, DataSourceOptions, EcomStore, hookimpl
from ecomlm_sdk.hookspecs import Register

#: The plugin API versions this plugin supports; the SDK skips it (with this range in the
#: message) when its own API version falls outside.
ecomlm_sdk_api = ">=1,<2"


class HelloSource(DataSource):
    """A tiny shop: ``customers`` customers, each with one order of one greeting card."""

    name: ClassVar[str] = "hello"

    class Options(DataSourceOptions):
        customers: int = Field(default=3, ge=1, le=10_000, description="How many customers.")

    def _load(self) -> EcomStore:
        count = self.options.customers  # type: ignore[attr-defined]
        ids = [f"hello-{i}" for i in range(1, count + 1)]
        start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        return EcomStore(
            customers=pl.DataFrame({"customer_id": ids}),
            products=pl.DataFrame(
                {
                    "product_id": ["card"],
                    "variant_id": ["card"],
                    "title": ["Hello card"],
                    "price": [3.0],
                }
            ),
            orders=pl.DataFrame(
                {
                    "order_id": [f"#H{i}" for i in range(1, count + 1)],
                    "customer_id": ids,
                    "created_at": [start + dt.timedelta(days=i) for i in range(count)],
                }
            ),
            order_lines=pl.DataFrame(
                {
                    "order_id": [f"#H{i}" for i in range(1, count + 1)],
                    "line_number": [1] * count,
                    "product_id": ["card"] * count,
                    "variant_id": ["card"] * count,
                    "quantity": [1] * count,
                    "unit_price": [3.0] * count,
                }
            ),
            source="hello",
        )


@hookimpl
def register_data_sources(register: Register) -> None:
    """Register :class:`HelloSource` as ``hello``."""
    register(HelloSource)
