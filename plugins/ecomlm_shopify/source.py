"""``ShopifyCsvSource``: the ``shopify_csv`` data source.

Point it at one export file or at a folder: each ``.csv`` / ``.csv.gz`` file is classified by
its header (orders, customers or products), never by its name, and whichever kinds are there
are loaded. Customers and products are read first so orders can be linked to them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

import polars as pl
from pydantic import Field

from ecomlm_sdk.data.report import FileLoadReport, LoadReport, empty_rejects
from ecomlm_sdk.data.source import DataSource, DataSourceOptions
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import DataSourceError
from ecomlm_shopify.common import FileResult
from ecomlm_shopify.customers import load_customers
from ecomlm_shopify.orders import load_orders
from ecomlm_shopify.products import load_products
from ecomlm_shopify.reading import RawFile, open_export

__all__ = ["ShopifyCsvOptions", "ShopifyCsvSource"]

logger = logging.getLogger(__name__)
_SUFFIXES = (".csv", ".csv.gz", ".txt")


class ShopifyCsvOptions(DataSourceOptions):
    """Options of the ``shopify_csv`` data source."""

    path: str = Field(description="An export file, or a folder of exports (found by header).")
    strict: bool = Field(
        default=False,
        description="Raise DataSourceError at the first bad row instead of moving bad rows to "
        "store.rejects.",
    )


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(
            p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(_SUFFIXES)
        )
    raise DataSourceError(
        f"Shopify export path {str(path)!r} does not exist; pass a CSV file or a folder of "
        "CSV exports (orders, customers, products) to path=."
    )


def _skipped(file: RawFile, why: str) -> FileLoadReport:
    return FileLoadReport(
        file=str(file.path),
        table="(skipped)",
        rows_read=0,
        rows_loaded=0,
        rows_rejected=0,
        warnings=(*file.warnings, why),
    )


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame | None:
    return pl.concat(frames, how="diagonal_relaxed") if frames else None


class ShopifyCsvSource(DataSource):
    """Shopify admin CSV exports (orders, customers, products; every version) -> ``EcomStore``.

    Example:
        ```py
        store = ecomlm_sdk.load_store("shopify_csv", path="exports/")
        print(store.load_report)
        ```
    """

    name: ClassVar[str] = "shopify_csv"
    Options: ClassVar[type[DataSourceOptions]] = ShopifyCsvOptions

    def _load(self) -> EcomStore:
        options = self.options
        assert isinstance(options, ShopifyCsvOptions)
        root = Path(options.path).expanduser()
        by_kind: dict[str, list[RawFile]] = {"customers": [], "products": [], "orders": []}
        reports: list[FileLoadReport] = []
        for path in _files(root):
            file = open_export(path)
            if file.kind is None:
                why = "empty file" if not file.header else "header matches no Shopify export"
                logger.warning("%s: %s; skipped", path, why)
                reports.append(_skipped(file, why))
                continue
            by_kind[file.kind].append(file)
        results: dict[str, list[FileResult]] = {kind: [] for kind in by_kind}
        for kind in ("customers", "products"):
            for file in by_kind[kind]:
                loader = load_customers if kind == "customers" else load_products
                results[kind].append(loader(file, strict=options.strict))
        customers = _concat([r.tables["customers"] for r in results["customers"]])
        products = _concat([r.tables["products"] for r in results["products"]])
        emails = (
            customers.select("email", "customer_id")
            .drop_nulls("email")
            .unique("email", keep="first", maintain_order=True)
            if customers is not None
            else None
        )
        skus = (
            products.select("sku", "product_id", "variant_id")
            .drop_nulls("sku")
            .unique("sku", keep="first", maintain_order=True)
            if products is not None
            else None
        )
        for file in by_kind["orders"]:
            results["orders"].append(load_orders(file, emails, skus, strict=options.strict))
        done = [r for kind in ("customers", "products", "orders") for r in results[kind]]
        rejects = [r.rejects for r in done if r.rejects.height]
        return EcomStore(
            customers=customers,
            products=products,
            orders=_concat([r.tables["orders"] for r in results["orders"]]),
            order_lines=_concat([r.tables["order_lines"] for r in results["orders"]]),
            rejects=pl.concat(rejects) if rejects else empty_rejects(),
            load_report=LoadReport.of([r.report for r in done] + reports),
            source=f"shopify_csv:{root}",
        )

    @classmethod
    def write(cls, store: EcomStore, folder: str | Path, *, compress: bool = False) -> list[Path]:
        """Write ``store`` as current-format exports (79-column orders, 20-column customers,
        48-column products) into ``folder``; see :func:`ecomlm_shopify.writer.write_store`."""
        from ecomlm_shopify.writer import write_store

        return write_store(store, Path(folder), compress=compress)
