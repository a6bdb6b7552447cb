"""``template-orders``: orders from one CSV file (order_id, customer_id, created_at, total).

Every data row is either loaded or rejected with its file, 1-based line, column, value and
reason; amounts are read strictly (``1,250.00`` yes, ``12,5,0`` no) and timestamps keep the
offset they were written with, converted to UTC.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo

import polars as pl
from pydantic import Field

from ecomlm_sdk import DataSource, DataSourceError, DataSourceOptions, EcomStore
from ecomlm_sdk.data.report import REJECTS_SCHEMA, FileLoadReport, LoadReport

__all__ = ["OrdersCsvOptions", "OrdersCsvSource"]

#: ``1250``, ``1250.5``, ``1,250.00``: thousands groups of exactly three digits.
MONEY: Final = re.compile(r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?")
COLUMNS: Final = ("order_id", "customer_id", "created_at", "total")


class OrdersCsvOptions(DataSourceOptions):
    """Options of :class:`OrdersCsvSource`."""

    path: str = Field(description="The orders CSV file.")
    timezone: str = Field(
        default="UTC", description="Zone of timestamps written without an offset."
    )


class OrdersCsvSource(DataSource):
    """Orders from a CSV export; unreadable rows go to ``store.rejects``."""

    name: ClassVar[str] = "template-orders"
    Options: ClassVar[type[DataSourceOptions]] = OrdersCsvOptions
    options: OrdersCsvOptions

    def _load(self) -> EcomStore:
        path = Path(self.options.path)
        if not path.is_file():
            raise DataSourceError(f"{path} not found: pass path= the orders CSV file")
        zone = ZoneInfo(self.options.timezone)
        rows: list[dict[str, Any]] = []
        rejects: list[dict[str, Any]] = []
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise DataSourceError(f"{path}: line 1 lacks column(s) {missing}")
            for line, raw in enumerate(reader, start=2):  # line 1 is the header
                try:
                    rows.append(_parse(raw, zone))
                except _Reject as reject:
                    rejects.append(
                        {"file": str(path), "table": "orders", "line": line, **reject.fields}
                    )
        report = FileLoadReport(
            file=str(path),
            table="orders",
            rows_read=len(rows) + len(rejects),
            rows_loaded=len(rows),
            rows_rejected=len(rejects),
        )
        return EcomStore(
            orders=pl.DataFrame(rows) if rows else None,
            rejects=pl.DataFrame(rejects, schema=REJECTS_SCHEMA),
            load_report=LoadReport.of([report]),
            source=self.name,
        )


class _Reject(Exception):
    def __init__(self, column: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.fields = {"column": column, "value": value, "reason": reason}


def _parse(raw: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    order_id = (raw["order_id"] or "").strip()
    if not order_id:
        raise _Reject("order_id", order_id, "empty order_id")
    return {
        "order_id": order_id,
        "customer_id": (raw["customer_id"] or "").strip() or None,
        "created_at": _timestamp(raw["created_at"] or "", zone),
        "total": _money(raw["total"] or ""),
    }


def _timestamp(text: str, zone: ZoneInfo) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise _Reject("created_at", text, "not an ISO 8601 timestamp") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)


def _money(text: str) -> float:
    if not MONEY.fullmatch(text.strip()):
        raise _Reject("total", text, "not an amount like 1250.00 or 1,250.00")
    return float(text.strip().replace(",", ""))
