"""Campaign planner: whom to contact to maximize expected incremental profit.

From a per-customer score the planner derives each customer's expected incremental revenue:

* ``kind="conversion"`` (an uplift model's output): ``uplift * order_value``;
* ``kind="revenue"``: the score already is incremental revenue per customer;
* ``kind="propensity"`` (a purchase-propensity model): ``propensity * incremental_share *
  order_value``, where ``incremental_share`` is the share of contacted buyers whose purchase
  the contact causes (``relative_lift / (1 + relative_lift)`` of a past experiment).

Each customer's expected incremental profit is ``margin * incremental revenue -
cost_per_contact``. The plan contacts customers in decreasing order of that profit while it is
positive and the budget lasts: the profit-maximizing choice when the scores are right.

Scores are estimates, so the plan's expected figures are only as good as the model. Pass
``validation`` (a randomized experiment scored by the same model) to get intervals: the
planner takes the same top share of the validation customers, by score, and measures what
contacting them actually earned there (treated minus control mean outcome, Welch interval),
scaled to the planned contacts.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict

from ecomlm_sdk.errors import RoiError
from ecomlm_sdk.roi.frames import (
    FrameLike,
    OnDuplicate,
    check_unique_units,
    numeric_column,
    require_columns,
    to_polars,
)
from ecomlm_sdk.roi.metrics import check_margin
from ecomlm_sdk.roi.stats import Estimate, welch_difference

__all__ = ["CampaignPlan", "plan_campaign"]

_CURVE_POINTS = 200


class CampaignPlan(BaseModel):
    """A contact list and what it is expected to earn.

    Attributes:
        targets: The customers to contact, best first: ``customer_id``, ``score``,
            ``expected_incremental_revenue``, ``expected_incremental_profit``, ``rank``.
        contacts: Customers to contact.
        total_cost: ``contacts * cost_per_contact``.
        expected_incremental_revenue: Sum over targets, from the scores.
        expected_incremental_profit: ``margin * revenue - cost``, from the scores.
        expected_roi: Profit / cost (``None`` when nothing is contacted).
        budget_limited: Whether the budget, not profitability, stopped the list.
        incremental_revenue: Validated estimate with interval (needs ``validation``).
        incremental_profit: Validated estimate with interval (needs ``validation``).
        incremental_roi: Validated estimate with interval (needs ``validation``).
        profit_curve: Expected (and, with validation, measured) profit by contacts made.
        notes: What the planner could not do, and why.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    targets: pl.DataFrame
    contacts: int
    total_cost: float
    expected_incremental_revenue: float
    expected_incremental_profit: float
    expected_roi: float | None
    budget_limited: bool
    incremental_revenue: Estimate | None = None
    incremental_profit: Estimate | None = None
    incremental_roi: Estimate | None = None
    profit_curve: pl.DataFrame
    notes: tuple[str, ...] = ()


def _incremental_revenue(
    frame: pl.DataFrame,
    score: str,
    kind: str,
    order_value: float | str | None,
    incremental_share: float | None,
) -> np.ndarray:
    values = numeric_column(frame, score, "score")
    if values.null_count():
        row = int(values.is_null().arg_true()[0])
        raise RoiError(f"score column {score!r} is missing at row {row + 1}; score every customer")
    s: np.ndarray = values.to_numpy()
    if kind == "revenue":
        return s
    if order_value is None:
        raise RoiError(f"kind={kind!r} needs order_value (a number or a column of order values)")
    if isinstance(order_value, str):
        require_columns(frame, {"order_value": order_value})
        value: np.ndarray = (
            numeric_column(frame, order_value, "order_value").fill_null(0.0).to_numpy()
        )
    else:
        if not math.isfinite(float(order_value)):
            raise RoiError(f"order_value={order_value!r} must be a finite number >= 0")
        value = np.full(len(s), float(order_value))
    if (value < 0).any():
        raise RoiError("order_value must be >= 0")
    if kind == "conversion":
        conversion: np.ndarray = s * value
        return conversion
    if kind == "propensity":
        if incremental_share is None or not 0 < incremental_share <= 1:
            raise RoiError(
                f"kind='propensity' needs incremental_share in (0, 1], got {incremental_share!r}: "
                "the share of contacted buyers the contact wins, e.g. lift / (1 + lift) from an "
                "experiment"
            )
        propensity: np.ndarray = s * incremental_share * value
        return propensity
    raise RoiError(f"kind={kind!r}; use 'conversion', 'revenue' or 'propensity'")


def plan_campaign(
    scores: FrameLike,
    *,
    score: str = "uplift",
    customer_id: str = "customer_id",
    kind: Literal["conversion", "revenue", "propensity"] = "conversion",
    order_value: float | str | None = None,
    incremental_share: float | None = None,
    cost_per_contact: float,
    margin: float,
    budget: float | None = None,
    validation: FrameLike | None = None,
    arm: str = "arm",
    control: str = "control",
    outcome: str = "revenue",
    confidence: float = 0.95,
    on_duplicate: OnDuplicate = "warn",
) -> CampaignPlan:
    """Choose whom to contact to maximize expected incremental profit.

    Args:
        scores: One row per candidate customer with ``customer_id`` and ``score`` columns.
        score: Column of per-customer scores (see ``kind``).
        customer_id: Column identifying the customer.
        kind: What the score is: ``"conversion"`` uplift, incremental ``"revenue"``, or
            purchase ``"propensity"``.
        order_value: Revenue of one conversion: a number or a column name.
        incremental_share: For ``kind="propensity"``: share of buyers the contact wins.
        cost_per_contact: Cost of one contact (>= 0).
        margin: Gross margin in (0, 1].
        budget: Most to spend on contacts (``None``: no limit).
        validation: Randomized experiment scored by the same model (columns ``score``,
            ``arm``, ``outcome``): gives the validated estimates and their intervals.
        arm: Arm column of ``validation``.
        control: Control arm label in ``validation``; every other arm counts as treated.
        outcome: Outcome (revenue) column of ``validation``.
        confidence: Interval coverage.
        on_duplicate: A ``customer_id`` on several rows of ``scores`` (or of ``validation``,
            when it has that column): ``"warn"`` (:class:`DuplicateUnitWarning`) or
            ``"error"``.

    Raises:
        RoiError: A column is missing or not numeric, a score, order value or outcome is NaN
            or infinite, a cost or budget is negative or NaN, the margin is outside (0, 1],
            ``kind`` needs an input that is absent, or (``on_duplicate="error"``) a customer
            id repeats.
    """
    check_margin(margin)
    if not math.isfinite(cost_per_contact) or cost_per_contact < 0:
        raise RoiError(f"cost_per_contact={cost_per_contact!r} must be a finite number >= 0")
    if budget is not None and not budget >= 0:  # NaN fails too
        raise RoiError(f"budget={budget!r} must be >= 0 (or None for no limit)")
    frame = to_polars(scores, "scores")
    require_columns(frame, {"customer_id": customer_id, "score": score})
    check_unique_units(frame, customer_id, on_duplicate, "scores")
    revenue = _incremental_revenue(frame, score, kind, order_value, incremental_share)
    profit = margin * revenue - cost_per_contact
    order = np.argsort(-profit, kind="mergesort")
    profit_sorted, revenue_sorted = profit[order], revenue[order]
    profitable = int((profit_sorted > 0).sum())
    affordable = (
        len(profit) if budget is None or cost_per_contact == 0 else int(budget // cost_per_contact)
    )
    contacts = min(profitable, affordable)
    chosen = order[:contacts]
    targets = pl.DataFrame(
        {
            "customer_id": frame.get_column(customer_id).gather(chosen),
            "score": frame.get_column(score).gather(chosen),
            "expected_incremental_revenue": revenue[chosen],
            "expected_incremental_profit": profit[chosen],
            "rank": np.arange(1, contacts + 1),
        }
    )
    cost = contacts * cost_per_contact
    exp_revenue = float(revenue_sorted[:contacts].sum())
    exp_profit = float(profit_sorted[:contacts].sum())
    curve = _profit_curve(revenue_sorted, profit_sorted, cost_per_contact)
    plan: dict[str, Any] = {
        "targets": targets,
        "contacts": contacts,
        "total_cost": cost,
        "expected_incremental_revenue": exp_revenue,
        "expected_incremental_profit": exp_profit,
        "expected_roi": exp_profit / cost if cost > 0 else None,
        "budget_limited": affordable < profitable,
    }
    notes: list[str] = []
    if validation is None:
        notes.append("no validation experiment given: intervals need validation=...")
    else:
        val = to_polars(validation, "validation")
        require_columns(val, {"score": score, "arm": arm, "outcome": outcome})
        if customer_id in val.columns:
            check_unique_units(val, customer_id, on_duplicate, "validation")
        share = contacts / len(frame) if len(frame) else 0.0
        measured = _validate(val, score, arm, control, outcome, share, confidence)
        if measured is None:
            notes.append(f"validation top {share:.1%} holds < 2 treated or control customers")
        else:
            # The Welch p-value tests "no uplift", not break-even: keep it on revenue only.
            method = "welch on validation, linear"
            total = measured.scaled(contacts, method=method)
            plan["incremental_revenue"] = total
            plan["incremental_profit"] = total.scaled(margin, -cost, method=method).model_copy(
                update={"p_value": None}
            )
            if cost > 0:
                plan["incremental_roi"] = total.scaled(
                    margin / cost, -1.0, method=method
                ).model_copy(update={"p_value": None})
        curve = _add_validated_curve(
            curve,
            val,
            score,
            arm,
            control,
            outcome,
            len(frame),
            margin,
            cost_per_contact,
            confidence,
        )
    return CampaignPlan(**plan, profit_curve=curve, notes=tuple(notes))


def _profit_curve(revenue: np.ndarray, profit: np.ndarray, cost: float) -> pl.DataFrame:
    n = len(profit)
    points = np.unique(np.linspace(0, n, min(n, _CURVE_POINTS) + 1).round().astype(np.int64))
    cum_revenue = np.r_[0.0, np.cumsum(revenue)][points]
    cum_profit = np.r_[0.0, np.cumsum(profit)][points]
    spend = points * cost
    roi = np.divide(cum_profit, spend, out=np.full(len(points), np.nan), where=spend > 0)
    return pl.DataFrame(
        {
            "contacts": points,
            "share": points / max(n, 1),
            "cost": spend,
            "expected_incremental_revenue": cum_revenue,
            "expected_incremental_profit": cum_profit,
            "expected_roi": roi,
        }
    ).with_columns(pl.col("expected_roi").fill_nan(None))


def _validate(
    val: pl.DataFrame,
    score: str,
    arm: str,
    control: str,
    outcome: str,
    share: float,
    confidence: float,
) -> Estimate | None:
    """Measured incremental outcome per targeted customer in the top ``share`` by score."""
    top = math.ceil(share * len(val))
    if top == 0:
        return None
    ranked = val.with_columns(
        _s=numeric_column(val, score, "score"), _y=numeric_column(val, outcome, "outcome")
    ).sort("_s", descending=True, maintain_order=True)
    head = ranked.head(top).filter(pl.col("_y").is_not_null())
    treated = head.filter(pl.col(arm).cast(pl.String()) != control).get_column("_y")
    held = head.filter(pl.col(arm).cast(pl.String()) == control).get_column("_y")
    if len(treated) < 2 or len(held) < 2:
        return None
    return welch_difference(
        float(treated.mean()),  # type: ignore[arg-type]
        float(treated.var()),  # type: ignore[arg-type]
        len(treated),
        float(held.mean()),  # type: ignore[arg-type]
        float(held.var()),  # type: ignore[arg-type]
        len(held),
        confidence=confidence,
    )


def _add_validated_curve(
    curve: pl.DataFrame,
    val: pl.DataFrame,
    score: str,
    arm: str,
    control: str,
    outcome: str,
    population: int,
    margin: float,
    cost: float,
    confidence: float,
) -> pl.DataFrame:
    values: dict[str, list[float | None]] = {
        "measured_profit": [],
        "measured_profit_low": [],
        "measured_profit_high": [],
    }
    grid = set(np.linspace(0, len(curve) - 1, 21).round().astype(int).tolist())
    for i, (contacts, share) in enumerate(zip(curve["contacts"], curve["share"], strict=True)):
        est = _validate(val, score, arm, control, outcome, share, confidence) if i in grid else None
        if est is None or population == 0:
            for key in values:
                values[key].append(None)
            continue
        profit = est.scaled(margin * contacts, -cost * contacts)
        values["measured_profit"].append(profit.value)
        values["measured_profit_low"].append(profit.low)
        values["measured_profit_high"].append(profit.high)
    return curve.with_columns(
        *(pl.Series(key, column, dtype=pl.Float64()) for key, column in values.items())
    )
