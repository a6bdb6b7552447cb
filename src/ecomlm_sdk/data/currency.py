"""One currency for money that is added up: conversion with given rates, else the main one.

A shop may sell in several currencies (each order carries its own). Amounts of different
currencies are never added: :meth:`ecomlm_sdk.EcomStore.purchases` (and so every task, label
and ROI figure built on it) works in one currency, the store's ``currency`` or else its main
one (the currency of most orders; ties: alphabetical). Orders in another currency are
converted with ``fx_rates`` (units of the main currency per unit of theirs) or, without a
rate, left out with a :class:`CurrencyWarning` that says how many.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import polars as pl

__all__ = ["CurrencyWarning", "in_one_currency", "main_currency"]


class CurrencyWarning(UserWarning):
    """Orders in other currencies were left out of money totals (no exchange rate given)."""


def main_currency(orders: pl.DataFrame) -> str | None:
    """The currency of most orders (ties: alphabetical); ``None`` when no order has one."""
    counts = (
        orders.get_column("currency")
        .drop_nulls()
        .value_counts(name="n")
        .sort(["n", "currency"], descending=[True, False])
    )
    return None if counts.height == 0 else str(counts.get_column("currency")[0])


def in_one_currency(
    lines: pl.DataFrame,
    orders: pl.DataFrame,
    *,
    currency: str | None,
    fx_rates: Mapping[str, float] | None,
    amounts: Sequence[str] = ("unit_price",),
) -> pl.DataFrame:
    """``lines`` (with the order's ``currency``) in one currency: the ``amounts`` converted.

    Lines of orders without a currency are taken as the main currency. Warns (once per call)
    with the number of orders left out for want of a rate.
    """
    target = (currency or main_currency(orders) or "").upper()
    present = set(orders.get_column("currency").drop_nulls().str.to_uppercase().unique().to_list())
    if not target or present <= {target}:
        return lines
    rates = {target: 1.0, **{k.upper(): float(v) for k, v in (fx_rates or {}).items()}}
    code = pl.col("currency").str.to_uppercase().fill_null(target)
    rate = code.replace_strict(rates, default=None, return_dtype=pl.Float64())
    missing = orders.filter(
        pl.col("currency").is_not_null() & ~pl.col("currency").str.to_uppercase().is_in(list(rates))
    )
    if missing.height:
        by_code = missing.get_column("currency").str.to_uppercase().value_counts(sort=True)
        detail = ", ".join(f"{c}: {n}" for c, n in by_code.iter_rows())
        warnings.warn(
            f"{missing.height} order(s) in currencies other than {target} ({detail}) are left "
            f"out of purchases and revenue; pass fx_rates={{'<code>': <{target} per unit>}} to "
            "convert them, or currency= to choose the currency to work in",
            CurrencyWarning,
            stacklevel=3,
        )
    return (
        lines.with_columns(rate.alias("_rate"))
        .filter(pl.col("_rate").is_not_null())
        .with_columns(pl.col(c) * pl.col("_rate") for c in amounts if c in lines.columns)
        .drop("_rate")
    )
