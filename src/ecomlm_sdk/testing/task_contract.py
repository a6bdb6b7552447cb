"""Contracts for tasks and ROI metrics: ``check_task``, ``check_roi_metric``."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from ecomlm_sdk.data.store import Cutoff, EcomStore
from ecomlm_sdk.errors import EcomlmError, NotFittedError
from ecomlm_sdk.roi.base import RoiMetric
from ecomlm_sdk.tasks.base import EvaluationReport, Task
from ecomlm_sdk.testing._checks import expect, pickled_files

__all__ = ["check_roi_metric", "check_task"]


def _same_frame(a: pl.DataFrame, b: pl.DataFrame, what: str) -> None:
    # Floats are compared with a tolerance: a reloaded model may sum in another order (one
    # run in four differed by 4e-16 with exact equality).
    try:
        assert_frame_equal(a, b, rel_tol=1e-9, abs_tol=1e-12)
    except AssertionError as exc:
        raise AssertionError(f"{what}: {exc}") from exc


def _expect_not_fitted(task: Task, store: EcomStore, folder: Path) -> None:
    label = type(task).__name__
    for stage, call in (
        ("predict", lambda: task.predict(store)),
        ("save", lambda: task.save(folder)),
    ):
        try:
            call()
        except NotFittedError:
            continue
        except Exception as exc:
            raise AssertionError(
                f"{label}.{stage}() before fit() raised {type(exc).__name__}: {exc}; it must "
                "raise NotFittedError (leave Task.predict/save in charge: do not override them)"
            ) from exc
        raise AssertionError(f"{label}.{stage}() before fit() must raise NotFittedError")


def _median_order_time(store: EcomStore) -> Cutoff | None:
    times = store.orders.get_column("created_at").drop_nulls().sort()
    if times.is_empty():
        return None
    value = times[len(times) // 2]
    return value if isinstance(value, dt.datetime) else None


def check_task(
    task: Task, store: EcomStore, tmp_path: Path, *, cutoff: Cutoff | None = None
) -> pl.DataFrame:
    """Contract for a task.

    Checks that ``predict`` and ``save`` raise :class:`~ecomlm_sdk.errors.NotFittedError`
    before ``fit``; that ``fit`` returns the task and runs through the ``run_task_stage`` hook;
    that ``predict`` gives a non-empty polars frame, the same (schema and values) when called
    again, after ``evaluate`` and after a save (no pickle files) and load; and that
    ``evaluate(store, cutoff)`` returns an :class:`~ecomlm_sdk.tasks.base.EvaluationReport`
    for this task with finite metrics.

    Args:
        task: An unfitted task (a fitted one is checked from a fresh copy of its options).
        store: A store the task can fit on and evaluate with.
        tmp_path: A folder the contract may write into.
        cutoff: Passed to ``evaluate``; by default the median order time of ``store``, so
            both halves of the split hold orders.

    Returns:
        The predictions, for further checks.

    Raises:
        AssertionError: A rule is broken; the message says which and how to fix it.
    """
    label = type(task).__name__
    fresh = type(task)(**dict(task.options)) if task.fitted else task
    _expect_not_fitted(fresh, store, tmp_path / "not-fitted")
    fitted = task.fit(store)
    expect(fitted is task, f"{label}.fit() must return the task itself")
    expect("fit" in task.timings, f"{label}.fit must run through the run_task_stage hook")
    predictions = task.predict(store)
    expect(
        isinstance(predictions, pl.DataFrame),
        f"{label}.predict() must return a polars DataFrame, got {type(predictions).__name__}",
    )
    expect(
        predictions.height > 0,
        f"{label}.predict() returned no rows for the store it was fitted on",
    )
    declared = getattr(task, "output_schema", None)
    if isinstance(declared, pl.Schema | dict):
        expect(
            dict(predictions.schema) == dict(declared),
            f"{label}.predict() schema {dict(predictions.schema)} differs from its declared "
            f"output_schema {dict(declared)}",
        )
    _same_frame(task.predict(store), predictions, f"{label}.predict() twice differs")
    folder = task.save(tmp_path / "task")
    pickles = pickled_files(folder)
    expect(
        not pickles,
        f"{label}.save() wrote pickle files {pickles}: write safetensors, JSON or parquet",
    )
    again = type(task).load(folder).predict(store)
    expect(
        again.schema == predictions.schema,
        f"{label}: a loaded task predicts with schema {dict(again.schema)}, not "
        f"{dict(predictions.schema)}",
    )
    _same_frame(predictions, again, "a saved and loaded task must predict the same")
    report = task.evaluate(store, _median_order_time(store) if cutoff is None else cutoff)
    expect(
        isinstance(report, EvaluationReport),
        f"{label}.evaluate() must return an EvaluationReport, got {type(report).__name__}",
    )
    expect(report.task == task.name, f"EvaluationReport.task is {report.task!r}, not {task.name!r}")
    expect(bool(report.metrics), f"{label}.evaluate() reported no metrics")
    for where, metrics in (("metrics", report.metrics), *report.baselines.items()):
        bad = {k: v for k, v in metrics.items() if not math.isfinite(v)}
        expect(
            not bad,
            f"{label}.evaluate() {where} are not finite: {bad}. Report a metric only when it "
            "is defined (e.g. AUC needs both classes), and say why in details",
        )
    _same_frame(
        task.predict(store),
        predictions,
        f"{label}.evaluate() changed the fitted task (fit a copy inside _evaluate)",
    )
    return predictions


def check_roi_metric(metric: RoiMetric, **values: float) -> float:
    """Contract for an ROI metric: has a formula; computes a finite float; rejects bad input."""
    label = type(metric).__name__
    expect(bool(getattr(metric, "formula", "")), f"{label} needs a `formula`")
    result = metric.compute(**values)
    expect(isinstance(result, float), f"{label}.compute() must return a float")
    expect(math.isfinite(result), f"{label}.compute({values}) is not finite: {result}")
    try:
        metric.compute(**{**values, "__unknown__": 1.0})
    except EcomlmError:
        pass
    else:
        raise AssertionError(f"{label}.compute() must reject unknown inputs with an EcomlmError")
    return result
