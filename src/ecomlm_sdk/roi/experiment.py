"""Analyse a randomized campaign experiment: what each arm earned beyond control, with intervals.

``analyze_experiment`` takes one row per customer (the arm the customer was randomized to and
the outcome, typically revenue in the measurement window) and, per arm against control, reports:

* ``customers``: rows analysed (rows with a missing outcome are counted in ``missing_outcome``
  and excluded, or rejected with ``strict=True``; nothing is dropped silently; an outcome
  that is NaN or infinite is rejected, never averaged; a customer id on several rows warns, or
  raises with ``on_duplicate="error"``);
* ``conversion_rate`` (Wilson) and ``mean_outcome`` (t interval);
* ``incremental_conversion``: conversion rate minus control's (Wald interval, pooled z-test);
* ``incremental_outcome_per_customer``: mean outcome minus control's (Welch);
* ``incremental_outcome_total`` = per-customer increment x customers in the arm;
* ``incremental_profit`` = margin x incremental outcome total - contact cost of the arm, its
  p-value testing break-even (profit = 0);
* ``incremental_roi`` = incremental profit / contact cost (``None`` when the arm cost nothing);
* ``relative_lift`` = mean outcome / control's - 1 (bootstrap, or delta method on large arms).

Profit and ROI are linear in the Welch difference when the cost per contact is fixed, so their
intervals are the Welch interval mapped through that line: exact, not approximated again.
A sample-ratio mismatch check (chi-square goodness of fit of the assigned counts against the
design split) warns when randomization or logging looks broken.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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
from ecomlm_sdk.roi.stats import (
    Estimate,
    bootstrap_ratio_of_means,
    delta_ratio_of_means,
    mean_interval,
    proportion_difference,
    welch_difference,
    wilson_interval,
)

__all__ = [
    "ArmResult",
    "ExperimentOptions",
    "ExperimentResult",
    "SampleRatioCheck",
    "SampleRatioMismatchWarning",
    "analyze_experiment",
]


class SampleRatioMismatchWarning(UserWarning):
    """Arm sizes stray from the design more than chance allows: check randomization and logging."""


class ExperimentOptions(BaseModel):
    """Options of :func:`analyze_experiment` (validated; unknown names are rejected)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arm: str = Field(description="Column holding each customer's arm.")
    control: str = Field(
        description="Value of the arm column that marks the control arm (numbers compare as "
        "text, so control=0 matches an integer arm column holding 0)."
    )
    outcome: str = Field(description="Numeric outcome column, e.g. revenue in the window.")
    converted: str | None = Field(
        default=None, description="0/1 or boolean conversion column; default: outcome > 0."
    )
    cost_per_contact: float | dict[str, float] = Field(
        default=0.0,
        description="Cost of contacting one customer: one number for every non-control arm, "
        "or arm -> cost (control defaults to 0).",
    )
    margin: float = Field(default=1.0, description="Gross margin in (0, 1] applied to outcome.")
    expected_split: dict[str, float] | None = Field(
        default=None, description="Designed share per arm for the SRM check; default: equal."
    )
    confidence: float = Field(default=0.95, gt=0, lt=1, description="Interval coverage.")
    strict: bool = Field(default=False, description="Reject rows with a missing outcome.")
    unit: str | None = Field(
        default=None,
        description="Column identifying each customer, checked for duplicates; default: "
        "customer_id when the frame has it.",
    )
    on_duplicate: OnDuplicate = Field(
        default="warn",
        description="A customer id on several rows: 'warn' (DuplicateUnitWarning) or 'error'.",
    )
    bootstrap_samples: int = Field(default=1000, ge=100, description="Bootstrap resamples.")
    bootstrap_max_rows: int = Field(
        default=50_000,
        ge=0,
        description="Largest arm bootstrapped; larger arms use the delta method for ratios.",
    )
    seed: int | None = Field(default=0, description="Seed of the bootstrap.")
    srm_alpha: float = Field(
        default=0.001, gt=0, lt=1, description="p-value under which the SRM check warns."
    )

    @field_validator("control", mode="before")
    @classmethod
    def _control_as_text(cls, value: Any) -> Any:
        return (
            str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )


class SampleRatioCheck(BaseModel):
    """Chi-square goodness of fit of the assigned arm sizes against the designed split."""

    model_config = ConfigDict(frozen=True)

    observed: dict[str, int]
    expected_share: dict[str, float]
    chi2: float
    p_value: float
    mismatch: bool


class ArmResult(BaseModel):
    """One arm's numbers; the incremental fields are ``None`` for the control arm."""

    model_config = ConfigDict(frozen=True)

    arm: str
    is_control: bool
    assigned: int = Field(description="Rows of this arm in the input.")
    customers: int = Field(description="Rows analysed (assigned minus missing outcome).")
    missing_outcome: int
    cost_per_contact: float
    total_cost: float
    conversion_rate: Estimate
    mean_outcome: Estimate
    incremental_conversion: Estimate | None = None
    incremental_outcome_per_customer: Estimate | None = None
    incremental_outcome_total: Estimate | None = None
    relative_lift: Estimate | None = None
    incremental_profit: Estimate | None = None
    incremental_roi: Estimate | None = None


_ESTIMATES = (
    "conversion_rate",
    "mean_outcome",
    "incremental_conversion",
    "incremental_outcome_per_customer",
    "incremental_outcome_total",
    "relative_lift",
    "incremental_profit",
    "incremental_roi",
)


class ExperimentResult(BaseModel):
    """What :func:`analyze_experiment` found: one :class:`ArmResult` per arm, control first."""

    model_config = ConfigDict(frozen=True)

    control: str
    outcome: str
    margin: float
    confidence: float
    arms: tuple[ArmResult, ...]
    sample_ratio: SampleRatioCheck
    missing_outcome: int
    notes: tuple[str, ...] = ()

    def arm(self, name: str) -> ArmResult:
        """The result of arm ``name``; raises :class:`RoiError` listing the arms otherwise."""
        for result in self.arms:
            if result.arm == name:
                return result
        raise RoiError(f"No arm {name!r}; the arms are {[a.arm for a in self.arms]}")

    def to_frame(self) -> pl.DataFrame:
        """One row per arm; each estimate flattened to ``<name>``, ``<name>_low``,
        ``<name>_high`` and ``<name>_p`` (null where it does not apply)."""
        rows: list[dict[str, Any]] = []
        for arm in self.arms:
            row: dict[str, Any] = {
                "arm": arm.arm,
                "is_control": arm.is_control,
                "assigned": arm.assigned,
                "customers": arm.customers,
                "missing_outcome": arm.missing_outcome,
                "cost_per_contact": arm.cost_per_contact,
                "total_cost": arm.total_cost,
            }
            for name in _ESTIMATES:
                est: Estimate | None = getattr(arm, name)
                row[name] = est.value if est else None
                row[f"{name}_low"] = est.low if est else None
                row[f"{name}_high"] = est.high if est else None
                row[f"{name}_p"] = est.p_value if est else None
            rows.append(row)
        return pl.DataFrame(rows, infer_schema_length=None)


def _conversion(frame: pl.DataFrame, outcome: pl.Series, column: str | None) -> pl.Series:
    if column is None:
        return (outcome > 0).cast(pl.Float64())
    values = numeric_column(frame, column, "converted")
    bad = (values.is_not_null() & ~values.is_in([0.0, 1.0])).arg_true()
    if len(bad):
        row = int(bad[0])
        raise RoiError(
            f"converted column {column!r} must hold 0/1 or true/false; row {row + 1} "
            f"(CSV line {row + 2}) holds {values[row]!r}"
        )
    return values


def _costs(options: ExperimentOptions, arms: list[str]) -> dict[str, float]:
    spec = options.cost_per_contact
    if isinstance(spec, Mapping):
        unknown = sorted(set(spec) - set(arms))
        if unknown:
            raise RoiError(f"cost_per_contact names arms {unknown} not in the data {arms}")
        costs = {arm: float(spec.get(arm, 0.0)) for arm in arms}
    else:
        costs = {arm: 0.0 if arm == options.control else float(spec) for arm in arms}
    for arm, cost in costs.items():
        if not math.isfinite(cost) or cost < 0:
            raise RoiError(
                f"cost_per_contact for arm {arm!r} is {cost!r}; costs must be finite and >= 0"
            )
    return costs


def _sample_ratio(counts: dict[str, int], options: ExperimentOptions) -> SampleRatioCheck:
    from scipy import special  # lazy: scipy.special costs ~0.5 s to import

    arms = list(counts)
    if options.expected_split is None:
        shares = {arm: 1 / len(arms) for arm in arms}
    else:
        split = options.expected_split
        if set(split) != set(arms) or any(not (math.isfinite(v) and v > 0) for v in split.values()):
            raise RoiError(
                f"expected_split {split} must give a share > 0 to exactly the arms {arms}"
            )
        total = sum(split.values())
        shares = {arm: split[arm] / total for arm in arms}
    n = sum(counts.values())
    observed = np.array([counts[a] for a in arms], dtype=float)
    expected = np.array([shares[a] * n for a in arms])
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    p = float(special.chdtrc(len(arms) - 1, chi2))
    return SampleRatioCheck(
        observed=counts,
        expected_share=shares,
        chi2=chi2,
        p_value=p,
        mismatch=p < options.srm_alpha,
    )


def analyze_experiment(frame: FrameLike, **options: Any) -> ExperimentResult:
    """Analyse a randomized experiment with two or more arms against a control arm.

    Args:
        frame: One row per customer: a polars or pandas DataFrame, or a CSV path.
        **options: The fields of :class:`ExperimentOptions`: ``arm``, ``control``, ``outcome``
            (required), ``converted``, ``cost_per_contact``, ``margin``, ``expected_split``,
            ``confidence``, ``strict``, ``unit``, ``on_duplicate``, ``bootstrap_samples``,
            ``bootstrap_max_rows``, ``seed``, ``srm_alpha``.

    Returns:
        The per-arm results, the sample-ratio check and the count of missing outcomes.

    Raises:
        RoiError: A column is missing or not numeric, an outcome or conversion is NaN or
            infinite, there is no control arm, an arm is empty or has fewer than 2 outcomes, a
            cost is negative or not finite, the margin is outside (0, 1], (``strict=True``) an
            outcome is missing, or (``on_duplicate="error"``) a customer id repeats.

    Warns:
        DuplicateUnitWarning: A customer id repeats (``on_duplicate="warn"``, the default).

    Example:
        ```python
        result = analyze_experiment(df, arm="arm", control="control", outcome="revenue",
                                    cost_per_contact=0.05, margin=0.4)
        print(result.to_frame())
        ```
    """
    try:
        opts = ExperimentOptions(**options)
    except ValidationError as exc:
        raise RoiError(f"analyze_experiment: bad options: {exc}") from exc
    check_margin(opts.margin)
    data = to_polars(frame)
    require_columns(
        data,
        {"arm": opts.arm, "outcome": opts.outcome, "converted": opts.converted, "unit": opts.unit},
    )
    unit = opts.unit or ("customer_id" if "customer_id" in data.columns else None)
    if unit is not None:
        check_unique_units(data, unit, opts.on_duplicate)
    arm_col = data.get_column(opts.arm).cast(pl.String())
    if arm_col.null_count():
        row = int(arm_col.is_null().arg_true()[0])
        raise RoiError(
            f"arm column {opts.arm!r} is empty in {arm_col.null_count()} rows (first: row "
            f"{row + 1}); every customer needs an arm"
        )
    outcome = numeric_column(data, opts.outcome, "outcome")
    converted = _conversion(data, outcome, opts.converted)
    arms = sorted(arm_col.unique().to_list(), key=lambda a: (a != opts.control, a))
    if opts.control not in arms:
        raise RoiError(
            f"control arm {opts.control!r} not found in column {opts.arm!r}; its values are "
            f"{arms[:20]}. Pass control=<one of them>"
        )
    if len(arms) < 2:
        raise RoiError(f"column {opts.arm!r} holds only the control arm; nothing to compare")
    if opts.expected_split:
        empty = sorted(set(opts.expected_split) - set(arms))
        if empty:
            raise RoiError(f"arm(s) {empty} of expected_split have no rows in column {opts.arm!r}")
    costs = _costs(opts, arms)
    work = pl.DataFrame({"arm": arm_col, "y": outcome, "c": converted})
    missing = work.filter(pl.col("y").is_null())
    if len(missing) and opts.strict:
        row = int(work.get_column("y").is_null().arg_true()[0])
        raise RoiError(
            f"outcome column {opts.outcome!r} is missing in {len(missing)} rows (first: row "
            f"{row + 1}); strict mode rejects them: fill them (0 for no purchase) or drop strict"
        )
    stats = (
        work.group_by("arm")
        .agg(
            assigned=pl.len(),
            n=pl.col("y").count(),
            mean=pl.col("y").mean(),
            var=pl.col("y").var(),
            conversions=pl.col("c").filter(pl.col("y").is_not_null()).sum(),
        )
        .rows_by_key("arm", named=True, unique=True)
    )
    return _assemble(opts, work, arms, stats, costs, len(missing))


def _assemble(
    opts: ExperimentOptions,
    work: pl.DataFrame,
    arms: list[str],
    stats: dict[Any, dict[str, Any]],
    costs: dict[str, float],
    n_missing: int,
) -> ExperimentResult:
    for arm in arms:
        if stats[arm]["n"] < 2:
            raise RoiError(
                f"arm {arm!r} has {stats[arm]['n']} customer(s) with an outcome; each arm needs "
                "at least 2 (an empty arm cannot be compared)"
            )
    conf = opts.confidence
    ctl = stats[opts.control]
    notes: list[str] = []
    if n_missing:
        notes.append(f"{n_missing} rows with a missing {opts.outcome!r} were excluded")
    results: list[ArmResult] = []
    for arm in arms:
        s = stats[arm]
        n, mean, var = int(s["n"]), float(s["mean"]), float(s["var"])
        base: dict[str, Any] = {
            "arm": arm,
            "is_control": arm == opts.control,
            "assigned": int(s["assigned"]),
            "customers": n,
            "missing_outcome": int(s["assigned"]) - n,
            "cost_per_contact": costs[arm],
            "total_cost": costs[arm] * n,
            "conversion_rate": wilson_interval(float(s["conversions"]), n, conf),
            "mean_outcome": mean_interval(mean, var, n, conf),
        }
        if arm != opts.control:
            base.update(_increments(opts, work, arm, s, ctl, costs))
        results.append(ArmResult(**base))
    srm = _sample_ratio({arm: int(stats[arm]["assigned"]) for arm in arms}, opts)
    if srm.mismatch:
        message = (
            f"sample ratio mismatch: arm sizes {srm.observed} differ from the design "
            f"{srm.expected_share} (chi2={srm.chi2:.1f}, p={srm.p_value:.2g}); check how "
            "customers were assigned and logged before trusting the increments"
        )
        notes.append(message)
        warnings.warn(message, SampleRatioMismatchWarning, stacklevel=3)
    return ExperimentResult(
        control=opts.control,
        outcome=opts.outcome,
        margin=opts.margin,
        confidence=conf,
        arms=tuple(results),
        sample_ratio=srm,
        missing_outcome=n_missing,
        notes=tuple(notes),
    )


def _increments(
    opts: ExperimentOptions,
    work: pl.DataFrame,
    arm: str,
    s: dict[str, Any],
    ctl: dict[str, Any],
    costs: dict[str, float],
) -> dict[str, Estimate | None]:
    conf = opts.confidence
    n, n0 = int(s["n"]), int(ctl["n"])
    args = (float(s["mean"]), float(s["var"]), n, float(ctl["mean"]), float(ctl["var"]), n0)
    per_customer = welch_difference(*args, confidence=conf)
    cost = costs[arm] - costs[opts.control]
    arm_cost = cost * n
    # Profit = margin * n * diff - cost * n: linear in the Welch difference, so its interval is
    # the mapped Welch interval and its test is the Welch test of diff = cost / margin.
    profit = welch_difference(*args, confidence=conf, null=cost / opts.margin).scaled(
        opts.margin * n, -arm_cost
    )
    roi = profit.scaled(1 / arm_cost) if arm_cost > 0 else None
    lift: Estimate | None = None
    if float(ctl["mean"]) != 0:
        if max(n, n0) <= opts.bootstrap_max_rows:
            values = work.filter(pl.col("y").is_not_null())
            a = values.filter(pl.col("arm") == arm).get_column("y").to_numpy()
            b = values.filter(pl.col("arm") == opts.control).get_column("y").to_numpy()
            lift = bootstrap_ratio_of_means(
                a, b, samples=opts.bootstrap_samples, seed=opts.seed, confidence=conf
            )
        else:
            lift = delta_ratio_of_means(*args, confidence=conf)
    return {
        "incremental_conversion": proportion_difference(
            float(s["conversions"]), n, float(ctl["conversions"]), n0, conf
        ),
        "incremental_outcome_per_customer": per_customer,
        "incremental_outcome_total": per_customer.scaled(n),
        "relative_lift": lift,
        "incremental_profit": profit,
        "incremental_roi": roi,
    }
