"""Issue 11, item 10: amounts of different currencies are never added.

``purchases()`` (and every task, label and ROI figure on it) works in one currency: with
``fx_rates=`` the other orders are converted; without, they are left out with a warning that
says how many.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import ecomlm_sdk
from ecomlm_sdk.data.currency import CurrencyWarning
from ecomlm_shopify.headers import ORDERS_HEADER

from .conftest import write_export


@pytest.fixture
def two_currencies(tmp_path: Path) -> Path:
    def order(name: str, currency: str, price: str) -> dict[str, str]:
        return {
            "Name": name,
            "Email": f"{name[1:]}@example.com",
            "Currency": currency,
            "Created at": "2025-01-01 10:00:00 +0000",
            "Lineitem quantity": "2",
            "Lineitem price": price,
        }

    rows = [order("#1", "EUR", "10.00"), order("#2", "EUR", "5.00"), order("#3", "USD", "20.00")]
    return write_export(tmp_path / "orders.csv", ORDERS_HEADER, rows)


def test_main_currency_with_a_warning_counting_orders_left_out(two_currencies: Path) -> None:
    store = ecomlm_sdk.load_store("shopify_csv", path=str(two_currencies))
    with pytest.warns(
        CurrencyWarning, match=r"1 order\(s\) in currencies other than EUR \(USD: 1\)"
    ):
        purchases = store.purchases()
    assert purchases.select("order_id", "revenue").rows() == [("#1", 20.0), ("#2", 10.0)]
    assert store.orders.get_column("currency").to_list() == ["EUR", "EUR", "USD"]  # raw kept


def test_fx_rates_convert_into_one_currency(two_currencies: Path) -> None:
    store = ecomlm_sdk.load_store("shopify_csv", path=str(two_currencies), fx_rates={"USD": 0.9})
    with warnings.catch_warnings():
        warnings.simplefilter("error", CurrencyWarning)
        purchases = store.purchases()
    assert purchases.select("order_id", "unit_price", "revenue").rows() == [
        ("#1", 10.0, 20.0),
        ("#2", 5.0, 10.0),
        ("#3", 18.0, 36.0),
    ]
    store = ecomlm_sdk.load_store(
        "shopify_csv", path=str(two_currencies), currency="USD", fx_rates={"EUR": 1.1}
    )
    revenue = store.purchases().get_column("revenue").to_list()
    assert revenue == pytest.approx([22.0, 11.0, 40.0])
    # both halves of a split keep the currency settings
    history, _ = store.split("2026-01-01")
    assert (history.currency, history.fx_rates) == ("USD", {"EUR": 1.1})
