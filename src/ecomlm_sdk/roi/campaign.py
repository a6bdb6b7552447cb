"""ROI of a campaign from a store: attributed revenue, cost, and (with a control arm) the increment.

Attribution (``campaign_roi``): an order counts for the campaign when the customer was
*touched* by it at most ``window_days`` before the order. A touch is an exposure whose arm is
not the control arm: held-out customers were assigned, never contacted.

* ``"last_touch"`` (default): the order goes to the customer's most recent touch before it,
  across all campaigns, so two campaigns never claim the same order;
* ``"any_touch"``: the order counts for every campaign that touched the customer within the
  window (sums over campaigns double-count).

Order revenue is ``total - refunded_amount`` (``total`` falling back to the sum of the
order's purchase lines when the source has no totals); cancelled orders earn nothing.

**The cost model** (one for both functions): a campaign costs the sum of its exposure costs
plus its ``fixed_cost`` (creative, tooling). :func:`campaign_roi` counts exactly that;
:func:`campaign_experiment` gives each contacted (non-control) arm a cost per contact of its
mean exposure cost plus the fixed cost spread evenly over every contacted customer, so its arms'
total costs add up to the same campaign cost (with a control arm that costs nothing).

Attributed revenue is not incremental: those customers might have bought anyway. When the
campaign has a control arm, :func:`campaign_experiment` measures what it caused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import RoiError
from ecomlm_sdk.roi.experiment import ExperimentResult, analyze_experiment
from ecomlm_sdk.roi.metrics import check_margin

__all__ = [
    "CampaignRoi",
    "campaign_experiment",
    "campaign_outcomes",
    "campaign_roi",
    "experiment_costs",
    "planned_split",
]


class CampaignRoi(BaseModel):
    """Attributed results of one campaign (see the module docstring for the rules).

    Metrics are ``None`` when their denominator is 0 (no cost, no converting customer).
    """

    model_config = ConfigDict(frozen=True)

    campaign_id: str
    attribution: str
    window_days: float
    exposed_customers: int
    touched_customers: int
    attributed_orders: int
    converting_customers: int
    attributed_revenue: float
    cost: float
    margin: float
    roi: float | None
    roas: float | None
    profit: float
    margin_roi: float | None
    cpa: float | None


def _order_revenue(store: EcomStore) -> pl.DataFrame:
    lines = store.purchases().group_by("order_id").agg(line_revenue=pl.col("revenue").sum())
    orders = store.orders.filter(
        ~pl.col("is_cancelled").fill_null(False) & pl.col("customer_id").is_not_null()
    )
    revenue = orders.join(lines, on="order_id", how="left").select(
        "order_id",
        "customer_id",
        "created_at",
        (
            pl.coalesce("total", "line_revenue").fill_null(0.0)
            - pl.col("refunded_amount").fill_null(0.0)
        ).alias("revenue"),
    )
    bad = revenue.filter(~pl.col("revenue").is_finite())
    if len(bad):
        raise RoiError(
            f"{len(bad)} order(s) have a non-finite revenue (total - refunded_amount, or the "
            f"sum of the purchase lines' revenue); the first is order {bad['order_id'][0]!r} "
            f"with {bad['revenue'][0]!r}. Fix those values in the source data"
        )
    return revenue


def _exposures(store: EcomStore, campaign_id: str) -> pl.DataFrame:
    known = store.campaigns.get_column("campaign_id").to_list()
    exposures = store.campaign_exposures.filter(pl.col("campaign_id") == campaign_id)
    if campaign_id not in known and exposures.is_empty():
        raise RoiError(f"no campaign {campaign_id!r} in the store; campaigns: {sorted(known)}")
    if exposures.is_empty():
        raise RoiError(f"campaign {campaign_id!r} has no rows in campaign_exposures")
    bad = exposures.filter(~pl.col("cost").is_finite())
    if len(bad):
        raise RoiError(
            f"campaign {campaign_id!r}: cost column of campaign_exposures holds {len(bad)} "
            f"non-finite value(s) (first: {bad['cost'][0]!r} for customer "
            f"{bad['customer_id'][0]!r}); costs must be finite numbers >= 0"
        )
    negative = exposures.filter(pl.col("cost") < 0)
    if len(negative):
        raise RoiError(
            f"campaign {campaign_id!r}: exposure cost {negative['cost'][0]} for customer "
            f"{negative['customer_id'][0]!r} is negative; costs must be >= 0"
        )
    return exposures


def campaign_roi(
    store: EcomStore,
    campaign_id: str,
    *,
    window_days: float = 30,
    attribution: Literal["last_touch", "any_touch"] = "last_touch",
    margin: float = 1.0,
    control: str = "control",
) -> CampaignRoi:
    """Revenue attributed to a campaign's touched customers within a window, against its cost.

    Args:
        store: The shop's data (tables ``campaigns``, ``campaign_exposures``, ``orders``).
        campaign_id: The campaign.
        window_days: Days after a touch during which an order is attributed to it.
        attribution: ``"last_touch"`` or ``"any_touch"``.
        margin: Gross margin in (0, 1] for ``profit`` and ``margin_roi``.
        control: Arm label of held-out customers (never a touch).

    Raises:
        RoiError: Unknown campaign, no exposures, a negative cost or window, a bad margin.
    """
    check_margin(margin)
    if window_days <= 0:
        raise RoiError(f"window_days={window_days} must be > 0")
    if attribution not in ("last_touch", "any_touch"):
        raise RoiError(f"attribution={attribution!r}; use 'last_touch' or 'any_touch'")
    exposures = _exposures(store, campaign_id)
    window = dt.timedelta(days=window_days)
    touches = store.campaign_exposures.filter(pl.col("arm") != control).select(
        "campaign_id", "customer_id", "exposed_at"
    )
    orders = _order_revenue(store)
    if attribution == "last_touch":
        matched = (
            orders.sort("created_at")
            .join_asof(
                touches.sort("exposed_at"),
                left_on="created_at",
                right_on="exposed_at",
                by="customer_id",
                strategy="backward",
                check_sortedness=False,  # both sides are sorted on the time column above
            )
            .filter(pl.col("campaign_id") == campaign_id)
        )
    else:
        matched = orders.join(
            touches.filter(pl.col("campaign_id") == campaign_id), on="customer_id"
        ).filter(pl.col("exposed_at") <= pl.col("created_at"))
    matched = matched.filter(pl.col("created_at") - pl.col("exposed_at") <= window).unique(
        "order_id"
    )
    fixed = store.campaigns.filter(pl.col("campaign_id") == campaign_id).get_column("fixed_cost")
    cost = float(exposures.get_column("cost").fill_null(0.0).sum()) + float(
        fixed.fill_null(0.0).sum()
    )
    revenue = float(matched.get_column("revenue").sum())
    buyers = matched.get_column("customer_id").n_unique()
    gain = revenue * margin - cost
    return CampaignRoi(
        campaign_id=campaign_id,
        attribution=attribution,
        window_days=float(window_days),
        exposed_customers=exposures.get_column("customer_id").n_unique(),
        touched_customers=exposures.filter(pl.col("arm") != control)
        .get_column("customer_id")
        .n_unique(),
        attributed_orders=len(matched),
        converting_customers=buyers,
        attributed_revenue=revenue,
        cost=cost,
        margin=margin,
        roi=(revenue - cost) / cost if cost > 0 else None,
        roas=revenue / cost if cost > 0 else None,
        profit=gain,
        margin_roi=gain / cost if cost > 0 else None,
        cpa=cost / buyers if buyers else None,
    )


def campaign_outcomes(
    store: EcomStore, campaign_id: str, *, window_days: float = 30
) -> pl.DataFrame:
    """One row per assigned customer: arm, revenue and conversion within the window.

    Every arm, control included, is measured from its own exposure (assignment) time, so arms
    are compared over the same window.

    Returns:
        Columns ``customer_id, arm, exposed_at, cost, revenue, converted``.
    """
    if window_days <= 0:
        raise RoiError(f"window_days={window_days} must be > 0")
    exposures = _exposures(store, campaign_id)
    orders = _order_revenue(store)
    window = dt.timedelta(days=window_days)
    inside = exposures.join(orders, on="customer_id", how="inner").filter(
        (pl.col("created_at") >= pl.col("exposed_at"))
        & (pl.col("created_at") - pl.col("exposed_at") <= window)
    )
    per_customer = inside.group_by("customer_id").agg(revenue=pl.col("revenue").sum())
    return (
        exposures.select("customer_id", "arm", "exposed_at", pl.col("cost").fill_null(0.0))
        .join(per_customer, on="customer_id", how="left")
        .with_columns(pl.col("revenue").fill_null(0.0))
        .with_columns(converted=(pl.col("revenue") > 0).cast(pl.Int64()))
        .sort("customer_id")
    )


def experiment_costs(
    store: EcomStore, campaign_id: str, outcomes: pl.DataFrame, *, control: str = "control"
) -> dict[str, float]:
    """Cost per contact of each arm under the module's cost model (fixed cost included)."""
    fixed = float(
        store.campaigns.filter(pl.col("campaign_id") == campaign_id)
        .get_column("fixed_cost")
        .fill_null(0.0)
        .sum()
    )
    contacted = outcomes.filter(pl.col("arm").cast(pl.String) != control).height
    share = fixed / contacted if contacted else 0.0
    costs = outcomes.group_by("arm").agg(pl.col("cost").mean()).rows()
    return {str(arm): float(cost) + (share if str(arm) != control else 0.0) for arm, cost in costs}


def planned_split(
    arms: list[str], *, control: str, holdout_share: float | None
) -> dict[str, float] | None:
    """``holdout_share`` for the control arm, the rest shared evenly by the other arms."""
    if holdout_share is None:
        return None
    if not 0 < holdout_share < 1:
        raise RoiError(f"holdout_share={holdout_share} must be between 0 and 1 (e.g. 0.2)")
    treated = [arm for arm in arms if arm != control]
    if not treated:
        return None
    return {control: holdout_share, **{arm: (1 - holdout_share) / len(treated) for arm in treated}}


def campaign_experiment(
    store: EcomStore,
    campaign_id: str,
    *,
    window_days: float = 30,
    control: str = "control",
    margin: float = 1.0,
    holdout_share: float | None = None,
    expected_split: dict[str, float] | None = None,
    **options: Any,
) -> ExperimentResult:
    """Incremental revenue, profit and ROI of a campaign with a control arm.

    Costs follow the module's cost model: each contacted arm's cost per contact is its mean
    exposure cost plus the campaign's ``fixed_cost`` spread over every contacted customer, so
    the arms' total cost is the campaign cost :func:`campaign_roi` counts.

    Args:
        store: The shop's data.
        campaign_id: The campaign.
        window_days: Days after each exposure whose orders count.
        control: The control arm's label.
        margin: Gross margin in (0, 1].
        holdout_share: The planned share of the control arm (``0.2`` for an 80/20 holdout), the
            rest split evenly over the other arms; the sample-ratio check tests the arm sizes
            against it.
        expected_split: The planned share of every arm, for uneven designs (instead of
            ``holdout_share``). With neither, the check assumes equal arms.
        options: Further arguments of :func:`analyze_experiment`.

    Raises:
        RoiError: Both ``holdout_share`` and ``expected_split`` given, or either is invalid.
    """
    if holdout_share is not None and expected_split is not None:
        raise RoiError("pass holdout_share or expected_split, not both")
    outcomes = campaign_outcomes(store, campaign_id, window_days=window_days)
    arms = sorted(outcomes.get_column("arm").cast(pl.String).unique().to_list())
    split = expected_split or planned_split(arms, control=control, holdout_share=holdout_share)
    return analyze_experiment(
        outcomes,
        arm="arm",
        control=control,
        outcome="revenue",
        converted="converted",
        cost_per_contact=experiment_costs(store, campaign_id, outcomes, control=control),
        margin=margin,
        expected_split=split,
        **options,
    )
