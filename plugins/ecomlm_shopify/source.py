"""``ShopifyCsvSource``: the ``shopify_csv`` data source.

Point it at one export file or at a folder: each ``.csv`` / ``.csv.gz`` file is classified by
its header (orders, customers or products), never by its name, and whichever kinds are there
are loaded. Customers and products are read first so orders can be linked to them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
from pydantic import Field, model_validator

from ecomlm_sdk.data.report import FileLoadReport, LoadReport, empty_rejects
from ecomlm_sdk.data.source import DataSource, DataSourceOptions
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.data.timestamps import EARLIEST, LATEST
from ecomlm_sdk.errors import DataSourceError
from ecomlm_shopify.common import FileResult, MissingColumnsError
from ecomlm_shopify.customers import load_customers
from ecomlm_shopify.headers import is_checkouts
from ecomlm_shopify.limits import (
    DEFAULT_MAX_COLUMNS,
    DEFAULT_MAX_DATE,
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    DEFAULT_MIN_DATE,
    ReadLimits,
)
from ecomlm_shopify.merge import HIDDEN, MergeSpec, merge_files
from ecomlm_shopify.orders import load_orders
from ecomlm_shopify.products import load_products
from ecomlm_shopify.reading import RawFile, open_export
from ecomlm_shopify.safety import guarded
from ecomlm_shopify.variants import sku_index
from ecomlm_shopify.writer import write_store

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
    decimal_comma: bool | None = Field(
        default=None,
        description="Read amounts with a decimal comma ('12,50', '1.234,50'): True for every "
        "file, False for none, None (default) per file when unambiguous (an amount only a "
        "decimal comma explains and none with a decimal point); the choice is in each file's "
        "load-report line, and cells the chosen notation cannot read are rejected.",
    )
    day_first: bool | None = Field(
        default=None,
        description="Read slash dates of spreadsheet-resaved files ('31/12/2023 22:36') "
        "day-first (True) or month-first (False); None (default) decides per file when a "
        "part over 12 settles it, and otherwise rejects those dates naming this option.",
    )
    currency: str | None = Field(
        default=None,
        description="The currency money is added up in (purchases, revenue, tasks, ROI); "
        "default: the currency of most orders.",
    )
    fx_rates: dict[str, float] | None = Field(
        default=None,
        description="Exchange rates into that currency, e.g. {'USD': 0.92} (units of it per "
        "US dollar); orders in a currency without a rate are left out, with a warning.",
    )
    timezone: str | None = Field(
        default=None,
        description="The shop's time zone (IANA name, e.g. 'Europe/Paris'), for timestamps "
        "without an offset (slash dates of resaved files); default: read as UTC, as the load "
        "report says. Shopify's own exports carry offsets and need none.",
    )
    follow_symlinks: bool = Field(
        default=False,
        description="Read symbolic links in the folder that point outside it (off by default: "
        "such links are reported as skipped; loops and dangling links always are).",
    )
    max_decompressed_bytes: int = Field(
        default=DEFAULT_MAX_DECOMPRESSED_BYTES,
        gt=0,
        description="A .gz export may expand to at most this many bytes (default 2 GiB); "
        "decompression streams and stops with DataSourceError as soon as it passes the limit.",
    )
    max_columns: int = Field(
        default=DEFAULT_MAX_COLUMNS,
        gt=0,
        description="A header may hold at most this many columns (default 1,000; Shopify's "
        "widest export has under 200).",
    )
    min_date: dt.date = Field(
        default=DEFAULT_MIN_DATE,
        description="Order timestamps before this day (UTC) are rejected as data errors.",
    )
    max_date: dt.date = Field(
        default=DEFAULT_MAX_DATE,
        description="Order timestamps after this day (UTC) are rejected as data errors.",
    )

    @model_validator(mode="after")
    def _dates_in_store_range(self) -> ShopifyCsvOptions:
        first, last = EARLIEST.date(), (LATEST - dt.timedelta(days=1)).date()
        if not first <= self.min_date <= self.max_date <= last:
            raise ValueError(
                f"min_date ({self.min_date}) and max_date ({self.max_date}) must satisfy "
                f"{first} <= min_date <= max_date <= {last} (the range EcomStore accepts)"
            )
        return self

    @property
    def limits(self) -> ReadLimits:
        """The limits as the readers take them."""
        return ReadLimits(
            max_decompressed_bytes=self.max_decompressed_bytes,
            max_columns=self.max_columns,
            min_date=self.min_date,
            max_date=self.max_date,
        )


def _entry(entry: Path, root: Path, *, follow_symlinks: bool) -> str | None:
    """Why a folder entry is skipped (``None``: it is read). Only CSV-like names are asked."""
    if entry.is_symlink():
        try:
            target = entry.resolve(strict=True)
        except RuntimeError:
            return "symbolic link loop: skipped"
        except OSError as exc:
            loop = "loop" if "symbolic links" in str(exc) else "dangling (its target is missing)"
            return f"symbolic link {loop}: skipped"
        if not follow_symlinks and not target.is_relative_to(root.resolve()):
            return (
                "symbolic link to a file outside the folder: not followed (pass "
                "follow_symlinks=True to read it)"
            )
    if entry.is_dir():
        return "subfolder: not searched (point path= at it to load its exports)"
    if not entry.is_file():
        return "not a regular file: skipped"
    return None


def _files(path: Path, *, follow_symlinks: bool = False) -> tuple[list[Path], list[FileLoadReport]]:
    """The export files to read, and a report line for each entry skipped (and why)."""
    if path.is_file():
        return [path], []
    if path.is_dir():
        files, skipped = [], []
        for entry in sorted(path.iterdir()):
            why = _entry(entry, path, follow_symlinks=follow_symlinks)
            if why is None:
                if entry.name.lower().endswith(_SUFFIXES):
                    files.append(entry)
                continue
            if (entry.is_dir() and not entry.is_symlink()) or entry.name.lower().endswith(
                _SUFFIXES
            ):
                logger.warning("%s: %s", entry, why)
                skipped.append(
                    FileLoadReport(
                        file=str(entry),
                        table="(skipped)",
                        rows_read=0,
                        rows_loaded=0,
                        rows_rejected=0,
                        warnings=(why,),
                    )
                )
        return files, skipped
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
    """The frames of one table, the loaders' hidden merge columns dropped."""
    if not frames:
        return None
    return pl.concat(frames, how="diagonal_relaxed").drop(HIDDEN, strict=False)


_MERGES: dict[str, MergeSpec] = {
    "customers": MergeSpec("customers", "customer_id", "Customer ID"),
    "products": MergeSpec("products", "variant_id", "Variant SKU"),
    "orders": MergeSpec("orders", "order_id", "Name", child="order_lines"),
}


def _orders_of(
    file: RawFile, *, emails: pl.DataFrame | None, skus: pl.DataFrame | None, **options: Any
) -> FileResult:
    return load_orders(file, emails, skus, **options)


class ShopifyCsvSource(DataSource[ShopifyCsvOptions]):
    """Shopify admin CSV exports (orders, customers, products; every version) -> ``EcomStore``.

    Example:
        ```py
        store = ecomlm_sdk.load_store("shopify_csv", path="exports/")
        print(store.load_report)
        ```
    """

    name: ClassVar[str] = "shopify_csv"
    Options: ClassVar[type[DataSourceOptions]] = ShopifyCsvOptions
    can_write: ClassVar[bool] = True

    def _load(self) -> EcomStore:
        options = self.options
        opened: list[RawFile] = []
        try:
            return self._load_files(options, opened)
        finally:
            for file in opened:
                file.close()

    def _load_files(self, options: ShopifyCsvOptions, opened: list[RawFile]) -> EcomStore:
        root = Path(options.path).expanduser()
        limits = options.limits
        strict = options.strict
        by_kind: dict[str, list[RawFile]] = {"customers": [], "products": [], "orders": []}
        paths, reports = _files(root, follow_symlinks=options.follow_symlinks)
        for path in paths:
            file = open_export(path, limits)
            opened.append(file)
            if is_checkouts(file.header):
                rows = file.frame.select(pl.len()).collect().item()
                why = (
                    f"abandoned-checkouts export ({rows:,} data row(s); it has a 'Completed At' "
                    "or 'Abandoned Checkout URL' column): abandoned carts are not orders, so "
                    "the file is skipped and none of its rows counts as an order or revenue"
                )
                logger.warning("%s: %s", path, why)
                reports.append(_skipped(file, why))
                continue
            if file.kind is None:
                why = "empty file" if not file.header else "header matches no Shopify export"
                logger.warning("%s: %s; skipped", path, why)
                reports.append(_skipped(file, why))
                continue
            by_kind[file.kind].append(file)
        results: dict[str, list[FileResult]] = {kind: [] for kind in by_kind}

        def run(kind: str, load: Callable[[RawFile], FileResult]) -> None:
            kept = []
            for file in by_kind[kind]:
                try:
                    results[kind].append(guarded(file, partial(load, file)))
                except MissingColumnsError as exc:
                    if strict:
                        raise
                    why = f"{exc} Skipped in lenient mode; the folder's other files load."
                    logger.warning("%s", why)
                    reports.append(_skipped(file, why))
                    continue
                kept.append(file)
            by_kind[kind] = kept

        run("customers", partial(load_customers, strict=strict))
        run("products", partial(load_products, strict=strict, decimal_comma=options.decimal_comma))
        for kind in ("customers", "products"):
            results[kind] = merge_files(results[kind], by_kind[kind], _MERGES[kind], strict=strict)
        customers = _concat([r.tables["customers"] for r in results["customers"]])
        products_frames = [r.tables["products"] for r in results["products"]]
        skus = sku_index(
            pl.concat(products_frames, how="diagonal_relaxed") if products_frames else None
        )
        products = _concat(products_frames)
        emails = (
            customers.select("email", "customer_id")
            .drop_nulls("email")
            .unique("email", keep="first", maintain_order=True)
            if customers is not None
            else None
        )
        run(
            "orders",
            partial(
                _orders_of,
                emails=emails,
                skus=skus,
                strict=strict,
                limits=limits,
                decimal_comma=options.decimal_comma,
                day_first=options.day_first,
                timezone=options.timezone,
            ),
        )
        results["orders"] = merge_files(
            results["orders"], by_kind["orders"], _MERGES["orders"], strict=strict
        )
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
            currency=options.currency,
            fx_rates=options.fx_rates,
            timezone=options.timezone,
        )

    @classmethod
    def _write(
        cls, store: EcomStore, folder: Path, *, compress: bool = False, **options: Any
    ) -> list[Path]:
        """Write ``store`` as current-format exports (79-column orders, 20-column customers,
        48-column products) into ``folder``; see :func:`ecomlm_shopify.writer.write_store`.

        Reached through :meth:`DataSource.write` (``store.write("shopify_csv", folder)``).
        """
        if options:
            raise DataSourceError(
                f"Data source 'shopify_csv' cannot write with options {sorted(options)}; "
                "it accepts only compress=True/False"
            )
        return write_store(store, folder, compress=compress)
