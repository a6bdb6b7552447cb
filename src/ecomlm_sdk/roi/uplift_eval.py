"""Evaluating uplift scores on randomized data: uplift and Qini curves, AUUC, Qini coefficient,
uplift@k.

Inputs are three arrays over the same customers: ``y`` (0/1 response), ``uplift`` (the score,
higher = contact first) and ``treatment`` (1 treated, 0 control). Customers are sorted by
decreasing score (ties kept in a stable order and grouped, so tied scores give one curve point).
At each cut ``i`` (the first ``i`` customers), with ``N_t, N_c`` the treated and control
customers among them and ``Y_t, Y_c`` their responders:

* uplift curve: ``(Y_t / N_t - Y_c / N_c) * (N_t + N_c)`` (a ratio with a zero denominator
  counts as 0);
* Qini curve: ``Y_t - Y_c * N_t / N_c``;
* both start at (0, 0). The **perfect** uplift curve sorts treated responders and control
  non-responders first (and control responders last); the perfect Qini curve (with negative
  effects allowed) does the same;
* **AUUC** = (area under the uplift curve - area under the random line) / (the same for the
  perfect curve); the random line joins (0, 0) to the curve's end. **Qini coefficient**: the
  same ratio for Qini curves. 1 is perfect, 0 random, negative worse than random.
* **uplift@k**: the response rate of the treated minus that of the control among the top
  ``ceil(k * n)`` customers (``strategy="overall"``), or among the top ``ceil(k * n_t)``
  treated and top ``ceil(k * n_c)`` control customers (``strategy="by_group"``).

These match scikit-uplift 0.5 (``uplift_curve``, ``qini_curve``, ``perfect_uplift_curve``,
``perfect_qini_curve(negative_effect=True)``, ``uplift_auc_score``, ``qini_auc_score``,
``uplift_at_k``), except that uplift@k raises :class:`RoiError` when the top ``k`` holds no
treated or no control customer (scikit-uplift returns NaN with a numpy warning), and every
function here accepts several arms through :func:`evaluate_uplift`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import polars as pl

from ecomlm_sdk.errors import RoiError

__all__ = [
    "auuc",
    "evaluate_uplift",
    "perfect_qini_curve",
    "perfect_uplift_curve",
    "qini_coefficient",
    "qini_curve",
    "uplift_at_k",
    "uplift_curve",
]

Curve = tuple[np.ndarray, np.ndarray]


def _arrays(y: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ya, ua, ta = (np.asarray(v, dtype=float).ravel() for v in (y, uplift, treatment))
    if not len(ya) == len(ua) == len(ta):
        raise RoiError(f"y ({len(ya)}), uplift ({len(ua)}), treatment ({len(ta)}) differ in length")
    if not np.isin(ya, (0, 1)).all() or not np.isin(ta, (0, 1)).all():
        raise RoiError("y and treatment must hold only 0 and 1")
    if ta.sum() == 0 or ta.sum() == len(ta):
        raise RoiError("treatment must hold both treated (1) and control (0) customers")
    if not np.isfinite(ua).all():
        raise RoiError("uplift scores must be finite numbers")
    return ya, ua, ta


def _cumulative(y: np.ndarray, uplift: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, ...]:
    order = np.argsort(uplift, kind="mergesort")[::-1]
    y, uplift, t = y[order], uplift[order], t[order]
    cuts = np.r_[np.where(np.diff(uplift))[0], uplift.size - 1]
    n_t = np.cumsum(t)[cuts]
    y_t = np.cumsum(y * t)[cuts]
    y_c = np.cumsum(y * (1 - t))[cuts]
    n_all = (cuts + 1).astype(float)
    return n_all, n_t, n_all - n_t, y_t, y_c


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b != 0)
    return out


def _start_at_origin(x: np.ndarray, v: np.ndarray) -> Curve:
    if x.size == 0 or x[0] != 0 or v[0] != 0:
        return np.r_[0.0, x], np.r_[0.0, v]
    return x, v


def uplift_curve(y: Any, uplift: Any, treatment: Any) -> Curve:
    """Points ``(customers targeted, cumulative uplift)`` of the uplift curve."""
    n_all, n_t, n_c, y_t, y_c = _cumulative(*_arrays(y, uplift, treatment))
    return _start_at_origin(n_all, (_ratio(y_t, n_t) - _ratio(y_c, n_c)) * n_all)


def qini_curve(y: Any, uplift: Any, treatment: Any) -> Curve:
    """Points ``(customers targeted, Qini value)`` of the Qini curve."""
    n_all, n_t, n_c, y_t, y_c = _cumulative(*_arrays(y, uplift, treatment))
    return _start_at_origin(n_all, y_t - y_c * _ratio(n_t, n_c))


def perfect_uplift_curve(y: Any, treatment: Any) -> Curve:
    """The uplift curve of an oracle ranking (the AUUC's upper reference)."""
    ya, _, ta = _arrays(y, np.zeros(len(np.asarray(y))), treatment)
    control_responders = np.sum((ya == 1) & (ta == 0))
    treated_non_responders = np.sum((ya == 0) & (ta == 1))
    summand = ya if control_responders > treated_non_responders else ta
    return uplift_curve(ya, 2 * (ya == ta) + summand, ta)


def perfect_qini_curve(y: Any, treatment: Any) -> Curve:
    """The Qini curve of an oracle ranking, negative effects allowed."""
    ya, _, ta = _arrays(y, np.zeros(len(np.asarray(y))), treatment)
    return qini_curve(ya, ya * ta - ya * (1 - ta), ta)


def _normalized_area(actual: Curve, perfect: Curve) -> float:
    base = np.trapezoid([0.0, perfect[1][-1]], [0.0, perfect[0][-1]])
    top = float(np.trapezoid(perfect[1], perfect[0]) - base)
    if top == 0:
        return math.nan
    return float((np.trapezoid(actual[1], actual[0]) - base) / top)


def auuc(y: Any, uplift: Any, treatment: Any) -> float:
    """Normalized area under the uplift curve (scikit-uplift's ``uplift_auc_score``)."""
    return _normalized_area(uplift_curve(y, uplift, treatment), perfect_uplift_curve(y, treatment))


def qini_coefficient(y: Any, uplift: Any, treatment: Any) -> float:
    """Normalized area under the Qini curve (scikit-uplift's ``qini_auc_score``)."""
    return _normalized_area(qini_curve(y, uplift, treatment), perfect_qini_curve(y, treatment))


def uplift_at_k(
    y: Any,
    uplift: Any,
    treatment: Any,
    k: float = 0.3,
    strategy: Literal["overall", "by_group"] = "overall",
) -> float:
    """Treated minus control response rate among the top-scored customers.

    Args:
        y: 0/1 responses.
        uplift: Scores.
        treatment: 1 treated, 0 control.
        k: Share in (0, 1], or a count of customers (an int >= 1).
        strategy: ``"overall"`` cuts the top ``k`` of everyone, ``"by_group"`` of each group.
    """
    ya, ua, ta = _arrays(y, uplift, treatment)
    order = np.argsort(ua, kind="mergesort")[::-1]
    ya, ta = ya[order], ta[order]

    def size(total: int) -> int:
        if isinstance(k, int) and not isinstance(k, bool):
            if not 1 <= k <= total:
                raise RoiError(f"k={k} must lie in [1, {total}]")
            return k
        if not 0 < k <= 1:
            raise RoiError(f"k={k} must be a share in (0, 1] or a count >= 1")
        return math.ceil(k * total)

    if strategy == "overall":
        top = size(len(ya))
        yt, tt = ya[:top], ta[:top]
        treated, control = yt[tt == 1], yt[tt == 0]
    elif strategy == "by_group":
        treated_all, control_all = ya[ta == 1], ya[ta == 0]
        treated = treated_all[: size(len(treated_all))]
        control = control_all[: size(len(control_all))]
    else:
        raise RoiError(f"strategy={strategy!r}; use 'overall' or 'by_group'")
    if len(treated) == 0 or len(control) == 0:
        raise RoiError(f"the top k={k} holds no treated or no control customer; raise k")
    return float(treated.mean() - control.mean())


def evaluate_uplift(
    y: Any,
    scores: Any,
    arm: Any,
    *,
    control: str = "control",
    treatments: list[str] | None = None,
    ks: tuple[float, ...] = (0.1, 0.3),
) -> pl.DataFrame:
    """AUUC, Qini coefficient and uplift@k for each treatment arm against control.

    Args:
        y: 0/1 responses.
        scores: ``(n,)`` scores for one treatment arm, ``(n, arms)`` for several (columns in
            the order of ``treatments``), or a frame with ``uplift_<arm>`` columns.
        arm: Each customer's arm label.
        control: The control arm label.
        treatments: Treatment arms (default: every arm but control, sorted).
        ks: Shares for uplift@k (strategy ``"overall"``).

    Returns:
        Columns ``arm, customers, auuc, qini, uplift_at_<k>`` (k in percent).
    """
    arms = np.asarray(arm).astype(str)
    treatments = treatments or sorted(set(arms.tolist()) - {control})
    if isinstance(scores, pl.DataFrame):
        matrix = np.column_stack([scores.get_column(f"uplift_{a}").to_numpy() for a in treatments])
    else:
        matrix = np.asarray(scores, dtype=float).reshape(len(arms), -1)
    if matrix.shape[1] != len(treatments):
        raise RoiError(f"scores have {matrix.shape[1]} columns for treatment arms {treatments}")
    ya = np.asarray(y, dtype=float)
    rows = []
    for j, name in enumerate(treatments):
        mask = (arms == name) | (arms == control)
        t = (arms[mask] == name).astype(float)
        row: dict[str, Any] = {
            "arm": name,
            "customers": int(mask.sum()),
            "auuc": auuc(ya[mask], matrix[mask, j], t),
            "qini": qini_coefficient(ya[mask], matrix[mask, j], t),
        }
        for k in ks:
            row[f"uplift_at_{round(k * 100)}"] = uplift_at_k(ya[mask], matrix[mask, j], t, k)
        rows.append(row)
    return pl.DataFrame(rows)
