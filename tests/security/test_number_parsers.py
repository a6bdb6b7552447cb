"""Property tests for the money and integer parsers of ``shopify_csv`` (values.py, fastparse.py).

The parsers must never scale a value silently: a decimal comma (``12,50``), a European
``1.234,50`` or an ambiguous ``1,234`` is rejected with a reason instead of read as 1250, 1.2345
or 1234; ``NaN``, ``inf`` and overflowing values are never amounts. Issue 10 ("hypothesis
property tests cover the number parsers").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ecomlm_sdk
from ecomlm_sdk import DataSourceError
from ecomlm_shopify.fastparse import MONEY, QUANTITY, TwoStepParser
from ecomlm_shopify.headers import ORDERS_HEADER, PRODUCTS_HEADER
from ecomlm_shopify.values import clean, number_reason, parse_int, parse_money

FEW = settings(max_examples=60, deadline=None)


def _full(parser: Callable[[pl.Expr], pl.Expr], cells: Sequence[str | None]) -> list[object]:
    frame = pl.DataFrame({"c": pl.Series(cells, dtype=pl.String())})
    return frame.select(parser(clean(pl.col("c")))).to_series().to_list()


def _both(
    two_step: TwoStepParser, full: Callable[[pl.Expr], pl.Expr], cells: list[str]
) -> list[object]:
    """The loader's result (fast step + fallback) after checking it equals the full parser's."""
    got = two_step.series(pl.Series("c", cells, dtype=pl.String())).to_list()
    assert got == _full(full, cells)
    return got


def _fixed(places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=places, allow_nan=False
    )


DECIMALS = st.integers(1, 3).flatmap(_fixed)
STYLES: list[Callable[[Decimal], str]] = [
    lambda d: f"{d:f}",
    lambda d: f"{d:,f}",
    lambda d: f"${d:f}",
    lambda d: f"{d:f} €",
    lambda d: f"  {d:f}\t",
    lambda d: f"{d:,f}".replace(",", " "),
]


@FEW
@given(st.lists(DECIMALS, min_size=1, max_size=25), st.sampled_from(range(len(STYLES))))
def test_formatted_decimals_round_trip(values: list[Decimal], style: int) -> None:
    cells = [STYLES[style](v) for v in values]
    assert _both(MONEY, parse_money, cells) == [float(v) for v in values]


@FEW
@given(st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=25))
def test_integers_round_trip(values: list[int]) -> None:
    for cells in (
        [str(v) for v in values],
        [f"{v}.0" for v in values],
        [f"{v:,}" if abs(v) >= 10**6 or abs(v) < 1000 else str(v) for v in values],
    ):
        assert _both(QUANTITY, parse_int, cells) == values
        assert _both(MONEY, parse_money, cells) == [float(v) for v in values]


@FEW
@given(
    st.lists(
        st.tuples(st.integers(0, 10**9), st.integers(0, 999), st.integers(1, 3)),
        min_size=1,
        max_size=25,
    )
)
def test_decimal_commas_are_never_rescaled(parts: list[tuple[int, int, int]]) -> None:
    cells = []
    for whole, fraction, width in parts:
        digits = f"{fraction:0{width}d}"[-width:]
        if whole < 1000 and width == 3 and whole > 0:
            cells.append(f"{whole},{digits}")  # "12,500": 12.5 or 12500? rejected either way
        else:
            cells.append(f"{whole},{digits[:2]}")  # "12,50"
        cells.append(f"{whole:,}".replace(",", ".") + f",{digits[:2]}")  # "1.234,50"
        cells.append(f"-€{whole},{digits[:2]}")
    assert _both(MONEY, parse_money, cells) == [None] * len(cells)
    assert _both(QUANTITY, parse_int, cells) == [None] * len(cells)
    reasons = pl.DataFrame({"c": cells}).select(number_reason(pl.col("c"), "x")).to_series()
    assert all(r.startswith("ambiguous separator") for r in reasons)


NUMBERISH = st.text(alphabet="0123456789,. $€-+e", max_size=14)


@FEW
@given(st.lists(NUMBERISH, min_size=1, max_size=40))
def test_any_value_read_is_the_decimal_point_reading(cells: list[str]) -> None:
    """Whatever text is read, it is read as written with '.' as the decimal point and commas
    only as thousands separators in an unambiguous place: never scaled."""
    for cell, value in zip(cells, _both(MONEY, parse_money, cells), strict=True):
        if value is None:
            continue
        assert isinstance(value, float) and math.isfinite(value)
        assert value == float(re.sub(r"[,\s$€]", "", cell))
        body = cell.strip(" $€")
        if "," in body:
            assert body.count(",") >= 2 or "." in body.rsplit(",", 1)[1]
            assert all(
                len(group) == 3 for group in re.split(r"[,.]", body)[1 : body.count(",") + 1]
            )
    _both(QUANTITY, parse_int, cells)


NON_FINITE = [
    "NaN",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "+inf",
    "Infinity",
    "-Infinity",
    "1e309",
    "-1e400",
    "1E999",
    "$inf",
    "9" * 400,
]


@FEW
@given(
    st.lists(
        st.one_of(
            st.sampled_from(NON_FINITE),
            # Drawn directly, not filtered out of all floats: a filter rejects most draws and
            # made Hypothesis fail its health check now and then.
            st.sampled_from([math.nan, math.inf, -math.inf]).map(repr),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_non_finite_values_are_never_amounts(cells: list[str]) -> None:
    assert _both(MONEY, parse_money, cells) == [None] * len(cells)
    assert _both(QUANTITY, parse_int, cells) == [None] * len(cells)
    reasons = pl.DataFrame({"c": cells}).select(number_reason(pl.col("c"), "x")).to_series()
    assert all(r.startswith("not a finite number") for r in reasons)


@FEW
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=25))
def test_finite_floats_round_trip(values: list[float]) -> None:
    assert _both(MONEY, parse_money, [repr(v) for v in values]) == values


def _write(path: Path, header: Sequence[str], rows: list[dict[str, str]]) -> Path:
    lines = [",".join(header)] + [",".join(f'"{r.get(h, "")}"' for h in header) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("12,50", "ambiguous separator"),
        ("1.234,50", "ambiguous separator"),
        ("1,234", "ambiguous separator"),
        ("NaN", "not a finite number"),
        ("inf", "not a finite number"),
        ("1e309", "not a finite number"),
        ("twelve", "not an amount such as '12.50'"),
    ],
)
def test_loaders_reject_with_the_reason(tmp_path: Path, cell: str, reason: str) -> None:
    order = {"Name": "#1", "Created at": "2025-01-01 10:00:00 +0000", "Lineitem quantity": "1"}
    orders = _write(tmp_path / "orders.csv", ORDERS_HEADER, [{**order, "Lineitem price": cell}])
    # decimal_comma=False: a file whose only amount is "12,50" is detected as decimal-comma
    # (tests/shopify/test_decimal_comma.py); here every file is read with a decimal point
    store = ecomlm_sdk.load_store("shopify_csv", path=str(orders), decimal_comma=False)
    assert store.rejects.select("column", "value").row(0) == ("Lineitem price", cell)
    assert store.rejects.get_column("reason")[0].startswith(reason)
    with pytest.raises(DataSourceError, match=re.escape(f"value {cell!r}: {reason}")):
        ecomlm_sdk.load_store("shopify_csv", path=str(orders), strict=True, decimal_comma=False)
    products = tmp_path / "products"
    products.mkdir()
    _write(
        products / "p.csv",
        PRODUCTS_HEADER,
        [{"Handle": "mug", "Title": "Mug", "Variant Price": cell}],
    )
    store = ecomlm_sdk.load_store("shopify_csv", path=str(products), decimal_comma=False)
    assert store.products.height == 0
    assert store.rejects.get_column("reason")[0].startswith(reason)
