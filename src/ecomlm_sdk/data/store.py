"""``EcomStore``: the canonical tables of one shop, validated, with a leak-free time split."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any, Final, TypeVar

import polars as pl
from pydantic import BaseModel, ConfigDict

from ecomlm_sdk.data.currency import in_one_currency
from ecomlm_sdk.data.report import LoadReport, empty_rejects
from ecomlm_sdk.data.schema import SCHEMA, TABLES, UTC_DATETIME, TableSchema
from ecomlm_sdk.data.timestamps import (
    EARLIEST,
    LATEST,
    bad_utc_offset,
    in_range,
    parse_utc_timestamps,
)
from ecomlm_sdk.errors import DataSourceError, InvalidValueError, SchemaError
from ecomlm_sdk.plugins import get_registry

__all__ = [
    "EcomStore",
    "IntegrityIssue",
    "IntegrityWarning",
    "NaiveTimestampWarning",
    "to_utc_datetime",
]

_D = TypeVar("_D")

Cutoff = str | dt.date | dt.datetime


class IntegrityWarning(UserWarning):
    """Rows point at keys that do not exist (e.g. order lines of unknown orders)."""


class NaiveTimestampWarning(UserWarning):
    """Timestamps without a time zone or offset arrived and no ``timezone`` was given: they
    were read as UTC (pass ``timezone=`` to read them as the shop's local time)."""


class IntegrityIssue(BaseModel):
    """A reference that does not resolve: ``count`` rows of ``table.column`` point nowhere."""

    model_config = ConfigDict(frozen=True)

    table: str
    column: str
    references: str
    count: int
    examples: tuple[str, ...]


def to_utc_datetime(value: Cutoff) -> dt.datetime:
    """Turn a cutoff (``"2011-09-09"``, a date, or a datetime) into an aware UTC datetime.

    Naive datetimes and dates are taken to be UTC.
    """
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidValueError(
                f"Cannot read cutoff {value!r}: use ISO format (YYYY-MM-DD), e.g. '2011-09-09' "
                "or '2011-09-09T12:00:00+00:00'"
            ) from exc
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


_SHOWN: Final = 40
#: Financial statuses whose orders are no sale (their lines are never purchases).
NOT_SALES: Final = frozenset({"refunded", "voided"})


def _shown(value: object) -> str:
    """``repr`` of a value for a message, cut to its first 40 characters."""
    text = str(value)
    return repr(text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…")


def _first_bad(original: pl.Series, cast: pl.Series) -> str:
    bad = original.filter(cast.is_null() & original.is_not_null())
    return _shown(bad[0]) if len(bad) else "?"


def _check_range(table: str, name: str, series: pl.Series) -> pl.Series:
    """Raise naming table and column when a UTC timestamp is outside ``EARLIEST .. LATEST``."""
    if series.is_empty() or series.null_count() == len(series):
        return series
    inside = pl.DataFrame({"t": series}).select(in_range(pl.col("t"))).to_series()
    outside = series.filter(~inside)
    if len(outside):
        raise SchemaError(
            f"Table {table!r}, column {name!r}: {len(outside)} timestamp(s) outside "
            f"{EARLIEST:%Y-%m-%d} .. {LATEST - dt.timedelta(days=1):%Y-%m-%d} (UTC), e.g. "
            f"{_shown(outside[0])}; such dates are data errors (a placeholder year, a wrong "
            "offset): fix or drop those rows."
        )
    return series


def _coerce_column(
    table: str, name: str, series: pl.Series, dtype: pl.DataType, timezone: str | None = None
) -> pl.Series:
    if dtype == UTC_DATETIME:
        return _check_range(table, name, _coerce_timestamps(table, name, series, timezone))
    return _coerce_other(table, name, series, dtype)


def _local(table: str, name: str, naive: pl.Series, timezone: str | None) -> pl.Series:
    """Naive wall-clock times (``Datetime("us")``) in ``timezone`` as UTC; as UTC with a
    :class:`NaiveTimestampWarning` when no timezone is given."""
    count = len(naive) - naive.null_count()
    if timezone is None:
        if count:
            warnings.warn(
                f"Table {table!r}, column {name!r}: {count} timestamp(s) without a time zone "
                "read as UTC; pass timezone='Area/City' (the shop's time zone) to read them as "
                "local time",
                NaiveTimestampWarning,
                stacklevel=6,
            )
        return naive.dt.replace_time_zone("UTC")
    return naive.dt.replace_time_zone(
        timezone, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")


def _coerce_timestamps(
    table: str, name: str, series: pl.Series, timezone: str | None = None
) -> pl.Series:
    """``series`` as ``Datetime("us", "UTC")``: aware datetimes converted, naive ones and dates
    read in ``timezone`` (UTC, with a warning, when it is ``None``), text parsed (unreadable
    text and impossible UTC offsets raise; text without an offset is naive)."""
    if series.dtype == UTC_DATETIME:
        return series
    if isinstance(series.dtype, pl.Datetime):
        tz = series.dtype.time_zone
        series = series.dt.cast_time_unit("us")
        return (
            _local(table, name, series, timezone)
            if tz is None
            else series.dt.convert_time_zone("UTC")
        )
    if series.dtype == pl.Date():
        return _local(table, name, series.cast(pl.Datetime("us")), timezone)
    if series.dtype not in (pl.String(), pl.Null()):
        return _coerce_other(table, name, series, UTC_DATETIME)
    text = pl.DataFrame({"t": series.cast(pl.String()).str.strip_chars()})
    parsed = text.select(parse_utc_timestamps(pl.col("t"))).to_series().alias(series.name)
    if parsed.null_count() != series.null_count():
        raise SchemaError(
            f"Table {table!r}, column {name!r}: cannot read {_first_bad(series, parsed)} "
            "as a timestamp; write ISO 8601 such as '2011-12-01 08:26:00+00:00'."
        )
    offsets = text.filter(bad_utc_offset(pl.col("t"))).to_series()
    if len(offsets):
        raise SchemaError(
            f"Table {table!r}, column {name!r}: {_shown(offsets[0])} has a UTC offset outside "
            "-12:00 .. +14:00; fix the offset (e.g. '+02:00')."
        )
    naive = text.select(~pl.col("t").str.contains(_ZONED)).to_series().fill_null(False)
    if naive.any():
        wall = parsed.filter(naive).dt.replace_time_zone(None)
        parsed = parsed.scatter(naive.arg_true(), _local(table, name, wall, timezone))
    return parsed


#: Text that carries its zone: an offset (``+02:00``, ``-0500``), ``Z`` or ``UTC`` at the end.
_ZONED: Final = r"(?i)(?:Z|UTC|GMT|[+-]\d\d(?::?\d\d)?)$"


def _coerce_other(table: str, name: str, series: pl.Series, dtype: pl.DataType) -> pl.Series:
    if series.dtype == dtype:
        return series
    try:
        cast = series.cast(dtype, strict=False)
    except pl.exceptions.PolarsError as exc:
        raise SchemaError(
            f"Table {table!r}, column {name!r}: cannot convert {series.dtype} to {dtype} "
            f"({type(exc).__name__}); cast the column to {dtype} first."
        ) from None
    if cast.null_count() != series.null_count():
        raise SchemaError(
            f"Table {table!r}, column {name!r}: value {_first_bad(series, cast)} is not a valid "
            f"{dtype}; fix or remove it (expected dtype {dtype}, got {series.dtype})."
        )
    return cast


def _conform(
    spec: TableSchema, frame: pl.DataFrame | pl.LazyFrame | None, timezone: str | None = None
) -> pl.DataFrame:
    if frame is None:
        return pl.DataFrame(schema=spec.polars_schema())
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    if not isinstance(frame, pl.DataFrame):
        try:
            frame = pl.from_pandas(frame)
        except Exception as exc:
            raise SchemaError(
                f"Table {spec.name!r} must be a polars (or pandas) DataFrame, got "
                f"{type(frame).__name__}"
            ) from exc
    missing = [c for c in spec.required if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"Table {spec.name!r} is missing required column(s) {missing}; present columns: "
            f"{frame.columns}. Rename your columns to the canonical names "
            "(see docs/concepts/data-model.md)."
        )
    columns = []
    for name, col in spec.columns.items():
        if name in frame.columns:
            columns.append(
                _coerce_column(spec.name, name, frame.get_column(name), col.dtype, timezone)
            )
        else:
            columns.append(pl.Series(name, [None] * frame.height, dtype=col.dtype))
    extras = [frame.get_column(c) for c in frame.columns if c not in spec.columns]
    out = pl.DataFrame(columns + extras)
    if out.height:
        # a 64-bit hash of the key finds the candidates cheaply (integers, not strings, are
        # grouped); the exact test then runs on those rows only, so collisions cannot err
        keys = out.select(spec.key)
        candidates = keys.filter(pl.struct(spec.key).hash().is_duplicated())
        dupes = candidates.filter(pl.struct(spec.key).is_duplicated())
        if dupes.height:
            example = dupes.row(0)
            raise SchemaError(
                f"Table {spec.name!r}: key {list(spec.key)} is not unique, e.g. {example} "
                f"appears more than once ({dupes.height} rows involved). Each row needs its own key."
            )
        nulls = [k for k in spec.key if out.get_column(k).null_count()]
        if nulls:
            raise SchemaError(
                f"Table {spec.name!r}: key column(s) {nulls} have missing values; every row needs a key."
            )
    return out


class EcomStore:
    """The canonical tables of one shop (see :mod:`ecomlm_sdk.data.schema`).

    Construction validates every table: a missing required column raises
    :class:`~ecomlm_sdk.errors.SchemaError` naming the table, the missing and the present
    columns; values are cast to the canonical dtypes; absent optional columns are added as nulls;
    extra columns are kept. References that do not resolve (order lines of unknown orders, ...)
    are listed in :attr:`integrity` and warned about.

    Attributes:
        customers, products, orders, order_lines, tickets, campaigns, campaign_exposures: the tables.
        rejects: Rows a data source could not load (schema in ``ecomlm_sdk.data.report``).
        load_report: Per-file accounting of rows read, loaded and rejected.
        integrity: Unresolved references found at construction.

    A store is immutable: methods that derive a frame from the tables (:meth:`purchases`) or
    split it (:meth:`split`) compute it once per store and argument and return the cached
    result afterwards, so the feature functions of one ``evaluate`` share one join. Each half
    of a split is a store with its own cache. Change a table with :meth:`replace`, which
    builds a new store (with an empty cache); never assign to a table attribute.
    """

    customers: pl.DataFrame
    products: pl.DataFrame
    orders: pl.DataFrame
    order_lines: pl.DataFrame
    tickets: pl.DataFrame
    campaigns: pl.DataFrame
    campaign_exposures: pl.DataFrame

    def __init__(
        self,
        customers: Any = None,
        products: Any = None,
        orders: Any = None,
        order_lines: Any = None,
        tickets: Any = None,
        campaigns: Any = None,
        campaign_exposures: Any = None,
        *,
        rejects: pl.DataFrame | None = None,
        load_report: LoadReport | None = None,
        source: str | None = None,
        check_integrity: bool = True,
        currency: str | None = None,
        fx_rates: Mapping[str, float] | None = None,
        timezone: str | None = None,
    ) -> None:
        given = {
            "customers": customers,
            "products": products,
            "orders": orders,
            "order_lines": order_lines,
            "tickets": tickets,
            "campaigns": campaigns,
            "campaign_exposures": campaign_exposures,
        }
        for name in TABLES:
            setattr(self, name, _conform(SCHEMA[name], given[name], timezone))
        #: Derived frames by (method, arguments): see the class docstring.
        self._derived: dict[tuple[Hashable, ...], Any] = {}
        self.rejects = rejects if rejects is not None else empty_rejects()
        self.load_report = load_report if load_report is not None else LoadReport()
        self.source = source
        #: The currency money is added up in (None: the currency of most orders), and the
        #: rates (units of it per unit of another currency) that convert the others; see
        #: :mod:`ecomlm_sdk.data.currency`.
        self.currency = currency
        self.fx_rates = dict(fx_rates) if fx_rates else None
        #: The shop's time zone (IANA name): naive timestamps given to this store (and to
        #: :meth:`replace`) are read in it; ``None``: as UTC, with a NaiveTimestampWarning.
        self.timezone = timezone
        self.integrity: tuple[IntegrityIssue, ...] = (
            self._check_integrity() if check_integrity else ()
        )
        if self.integrity:
            summary = "; ".join(
                f"{i.count} {i.table}.{i.column} not in {i.references} (e.g. {list(i.examples)})"
                for i in self.integrity
            )
            warnings.warn(f"EcomStore integrity: {summary}", IntegrityWarning, stacklevel=2)

    # ------------------------------------------------------------------ access
    @property
    def tables(self) -> dict[str, pl.DataFrame]:
        """Every table by name, in canonical order."""
        return {name: getattr(self, name) for name in TABLES}

    def replace(self, **tables: pl.DataFrame) -> EcomStore:
        """A new store with some tables replaced (validated again); rejects and report kept."""
        unknown = set(tables) - set(TABLES)
        if unknown:
            raise SchemaError(f"Unknown table(s) {sorted(unknown)}; tables are {list(TABLES)}")
        merged: dict[str, Any] = {**self.tables, **tables}
        return EcomStore(
            **merged,
            rejects=self.rejects,
            load_report=self.load_report,
            source=self.source,
            currency=self.currency,
            fx_rates=self.fx_rates,
            timezone=self.timezone,
        )

    def summary(self) -> dict[str, int]:
        """Row count of every table."""
        return {name: frame.height for name, frame in self.tables.items()}

    def __copy__(self) -> EcomStore:
        # A copy may have a table reassigned (``sample_store()`` hands out copies): it gets a
        # cache of its own, so nothing derived from the original's tables leaks into it.
        clone = object.__new__(EcomStore)
        clone.__dict__.update(self.__dict__)
        clone._derived = {}
        return clone

    def _cached(self, key: tuple[Hashable, ...], compute: Callable[[], _D]) -> _D:
        """``compute()``, computed once per store and ``key`` (the store is immutable)."""
        if key not in self._derived:
            self._derived[key] = compute()
        result: _D = self._derived[key]
        return result

    def purchases(self, *, include_guests: bool = False) -> pl.DataFrame:
        """Order lines that are real purchases, joined with their order.

        A purchase is a line of an order that is not cancelled, not ``refunded`` or ``voided``
        (``financial_status``), with quantity > 0 and unit price > 0, from a known customer
        (guests too with ``include_guests=True``). Its ``revenue`` is quantity x unit price
        net of the order's ``refunded_amount``, spread over the order's purchase lines in
        proportion to their value (a partially refunded order counts only what was kept; one
        refunded in full by amount is no purchase). The orders table keeps the raw values.
        Computed once per store (and ``include_guests``), then returned from its cache.

        Returns:
            Columns ``order_id, customer_id, created_at, product_id, variant_id, title,
            quantity, unit_price, revenue``.
        """
        return self._cached(("purchases", include_guests), lambda: self._purchases(include_guests))

    def _purchases(self, include_guests: bool) -> pl.DataFrame:
        status = pl.col("financial_status").str.to_lowercase().str.replace_all(" ", "_")
        orders = self.orders.select(
            "order_id",
            "customer_id",
            "created_at",
            "is_cancelled",
            "currency",
            status.is_in(list(NOT_SALES)).fill_null(False).alias("_not_sale"),
            pl.col("refunded_amount").fill_null(0.0).clip(lower_bound=0.0).alias("_refunded"),
        )
        lines = in_one_currency(
            self.order_lines.join(orders, on="order_id", how="inner"),
            self.orders,
            currency=self.currency,
            fx_rates=self.fx_rates,
            amounts=("unit_price", "_refunded"),
        )
        keep = (
            (pl.col("quantity") > 0)
            & (pl.col("unit_price") > 0)
            & ~pl.col("is_cancelled").fill_null(False)
            & ~pl.col("_not_sale")
        )
        if not include_guests:
            keep = keep & pl.col("customer_id").is_not_null()
        gross = pl.col("quantity") * pl.col("unit_price")
        kept = (1.0 - pl.col("_refunded") / gross.sum().over("order_id")).clip(lower_bound=0.0)
        lines = lines.filter(keep).with_columns(kept.alias("_kept")).filter(pl.col("_kept") > 0)
        return lines.select(
            "order_id",
            "customer_id",
            "created_at",
            "product_id",
            "variant_id",
            "title",
            "quantity",
            "unit_price",
            (pl.col("quantity") * pl.col("unit_price") * pl.col("_kept")).alias("revenue"),
        )

    # ------------------------------------------------------------------ split
    def split(self, cutoff: Cutoff) -> tuple[EcomStore, EcomStore]:
        """Split at ``cutoff`` into ``(history, future)`` without leaking the future.

        ``history`` holds only rows strictly before the cutoff: orders (and their lines),
        tickets, campaigns, exposures and products by their own timestamps, customers created
        before it (or, when their creation time is unknown, whose first order is before it).
        ``future`` holds the rows at or after the cutoff, plus every customer they mention.
        Products with no timestamp are catalogue data and appear in both.

        Splitting twice at one instant gives the same two stores (cached), so tasks evaluated at
        one cutoff share the halves and their derived frames.

        Raises:
            InvalidValueError: ``cutoff`` is a string that is not an ISO date or datetime.
        """
        at = to_utc_datetime(cutoff)
        return self._cached(("split", at), lambda: self._split(at))

    def _split(self, at: dt.datetime) -> tuple[EcomStore, EcomStore]:
        before, after = pl.col("created_at") < at, pl.col("created_at") >= at
        hist_orders, fut_orders = self.orders.filter(before), self.orders.filter(after)
        hist_lines = self.order_lines.join(
            hist_orders.select("order_id"), on="order_id", how="semi"
        )
        fut_lines = self.order_lines.join(fut_orders.select("order_id"), on="order_id", how="semi")
        first_order = self.orders.group_by("customer_id").agg(
            pl.col("created_at").min().alias("_first")
        )
        customers = self.customers.join(first_order, on="customer_id", how="left")
        in_history = (pl.col("created_at") < at) | (
            pl.col("created_at").is_null() & (pl.col("_first").is_null() | (pl.col("_first") < at))
        )
        hist_customers = customers.filter(in_history).drop("_first")
        future_ids = pl.concat(
            [
                fut_orders.get_column("customer_id"),
                self.tickets.filter(after).get_column("customer_id"),
                self.campaign_exposures.filter(pl.col("exposed_at") >= at).get_column(
                    "customer_id"
                ),
            ]
        ).drop_nulls()
        fut_customers = customers.filter(
            ~in_history | pl.col("customer_id").is_in(future_ids.implode())
        ).drop("_first")
        products_known = pl.col("created_at").is_null()

        def keep(table: str, history: bool) -> pl.DataFrame:
            frame: pl.DataFrame = getattr(self, table)
            column = SCHEMA[table].time_column
            assert column is not None
            return frame.filter(pl.col(column) < at if history else pl.col(column) >= at)

        history = EcomStore(
            hist_customers,
            self.products.filter(products_known | before),
            hist_orders,
            hist_lines,
            keep("tickets", True),
            keep("campaigns", True),
            keep("campaign_exposures", True),
            source=self.source,
            check_integrity=False,
            currency=self.currency,
            fx_rates=self.fx_rates,
            timezone=self.timezone,
        )
        future = EcomStore(
            fut_customers,
            self.products.filter(products_known | after),
            fut_orders,
            fut_lines,
            keep("tickets", False),
            keep("campaigns", False),
            keep("campaign_exposures", False),
            source=self.source,
            check_integrity=False,
            currency=self.currency,
            fx_rates=self.fx_rates,
            timezone=self.timezone,
        )
        return history, future

    # ------------------------------------------------------------------ checks
    def _check_integrity(self) -> tuple[IntegrityIssue, ...]:
        issues = []
        for spec in SCHEMA.values():
            frame: pl.DataFrame = getattr(self, spec.name)
            for column, target in spec.references.items():
                ref_table, ref_column = target.split(".")
                reference: pl.DataFrame = getattr(self, ref_table)
                if frame.height == 0 or (reference.height == 0 and ref_table != "orders"):
                    continue  # an absent optional table is not an integrity problem
                values = frame.get_column(column).drop_nulls()
                missing = values.filter(~values.is_in(reference.get_column(ref_column).implode()))
                if len(missing):
                    issues.append(
                        IntegrityIssue(
                            table=spec.name,
                            column=column,
                            references=target,
                            count=len(missing),
                            examples=tuple(
                                str(v) for v in missing.unique(maintain_order=True).head(3)
                            ),
                        )
                    )
        return tuple(issues)

    def write(self, source: str, folder: str | Path, **options: Any) -> list[Path]:
        """Write the store into ``folder`` in the format of the data source named ``source``.

        Writing is a capability a data source declares (``can_write = True``); the source is
        resolved by name through the registry, so the core never imports a plugin. Loading
        ``folder`` with the same source gives the store back.

        Example:
            ```python
            store.write("shopify_csv", "exports/", compress=True)
            ```

        Returns:
            The files written.

        Raises:
            UnknownComponentError: No data source has that name.
            DataSourceError: That source cannot write (the message names those that can), or
                writing failed.
        """
        registry = get_registry()
        source_cls = registry.get("data_source", source).component
        if not getattr(source_cls, "can_write", False):
            writers = [r.name for r in registry.find("data_source", capability="write")]
            raise DataSourceError(
                f"Data source {source!r} cannot write a store; data sources that can: "
                f"{', '.join(map(repr, writers)) or 'none is registered'}"
            )
        written: list[Path] = source_cls.write(self, folder, **options)
        return written

    def to_shopify_csv(self, folder: str | Path, *, compress: bool = False) -> list[Path]:
        """Write the store as current Shopify exports (79-column orders, 20-column customers,
        48-column products) into ``folder``; loading them with ``shopify_csv`` gives it back.

        Shorthand for ``store.write("shopify_csv", folder, compress=compress)``.

        Returns:
            The files written (``.csv``, or ``.csv.gz`` with ``compress=True``).

        Raises:
            UnknownComponentError: No ``shopify_csv`` data source is registered.
        """
        return self.write("shopify_csv", folder, compress=compress)

    def equals(self, other: EcomStore) -> bool:
        """True when every table holds the same rows and columns (order-sensitive)."""
        return all(
            a.equals(b) for a, b in zip(self.tables.values(), other.tables.values(), strict=True)
        )

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v:,}" for k, v in self.summary().items() if v)
        return f"EcomStore({counts or 'empty'}{', source=' + repr(self.source) if self.source else ''})"
