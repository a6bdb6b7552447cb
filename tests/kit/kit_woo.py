"""A WooCommerce-style orders data source, written as a third party would, with switchable
mistakes: the plugin the kit's data source contract is tested on."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from ecomlm_sdk import DataSource, DataSourceError, DataSourceOptions, EcomStore, hookimpl
from ecomlm_sdk.data.report import REJECTS_SCHEMA, FileLoadReport, LoadReport

# "1,250.00" or "12.50": thousands groups of exactly three digits, at most two decimals.
MONEY = re.compile(r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?")


class WooOrders(DataSource):
    """Orders from a WooCommerce CSV export: order_id, customer_id, created_at, total."""

    name: ClassVar[str] = "woo-orders"

    class Options(DataSourceOptions):
        path: str = Field(description="The orders CSV export.")

    def parse_money(self, text: str) -> float:
        if not MONEY.fullmatch(text):
            raise ValueError("not an amount like 1,250.00")
        return float(text.replace(",", ""))

    def parse_time(self, text: str) -> dt.datetime:
        value = dt.datetime.fromisoformat(text)
        if value.tzinfo is None:
            raise ValueError("no UTC offset")
        return value.astimezone(dt.UTC)

    def order_rejects(self, rejects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return rejects

    def _load(self) -> EcomStore:
        path = Path(self.options.path)  # type: ignore[attr-defined]
        if not path.is_file():
            raise DataSourceError(f"{path} not found: pass path= the orders CSV export")
        rows, rejects = [], []
        with path.open(newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                try:
                    column = "created_at"
                    created = self.parse_time(row["created_at"])
                    column = "total"
                    total = self.parse_money(row["total"])
                except ValueError as exc:
                    rejects.append(
                        {
                            "file": str(path),
                            "table": "orders",
                            "line": line,
                            "column": column,
                            "value": row[column],
                            "reason": str(exc),
                        }
                    )
                    continue
                rows.append(
                    {
                        "order_id": row["order_id"],
                        "customer_id": row["customer_id"] or None,
                        "created_at": created,
                        "total": total,
                    }
                )
        report = FileLoadReport(
            file=str(path),
            table="orders",
            rows_read=len(rows) + len(rejects),
            rows_loaded=len(rows),
            rows_rejected=len(rejects),
        )
        return EcomStore(
            orders=pl.DataFrame(rows),
            rejects=pl.DataFrame(self.order_rejects(rejects), schema=REJECTS_SCHEMA),
            load_report=LoadReport.of([report]),
            source=self.name,
        )


class Plugin:
    """Registers one data source class (the correct one unless told otherwise)."""

    def __init__(self, source: type[DataSource] = WooOrders) -> None:
        self.source = source

    @hookimpl
    def register_data_sources(self, register: Any) -> None:
        register(self.source)
