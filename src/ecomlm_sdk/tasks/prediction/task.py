"""The ``purchase-prediction`` task: who buys within the horizon, and for how much.

Training rows are snapshots: customer features at an instant ``t`` labelled by whether the
customer bought in ``[t, t + horizon)``. ``fit`` stacks snapshots ending at the last order in
the store; ``evaluate`` stacks snapshots ending at the cutoff (so it trains at ``cutoff -
horizon`` and earlier) and scores customers at the cutoff against the following horizon.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Final

import numpy as np
import polars as pl
from pydantic import Field

from ecomlm_sdk._deprecated import renamed
from ecomlm_sdk._persist import read_json, write_json
from ecomlm_sdk.data.store import Cutoff, EcomStore, to_utc_datetime
from ecomlm_sdk.engines import ENV_MIN_ROWS, Engine, EngineArg, choose_engine
from ecomlm_sdk.errors import NotFittedError, TaskError
from ecomlm_sdk.progress import progress
from ecomlm_sdk.tasks.base import EvaluateOptions, EvaluationReport, Task, TaskOptions
from ecomlm_sdk.tasks.baselines import fallback_record, strongest_baseline
from ecomlm_sdk.tasks.features import (
    category_shares,
    customer_features,
    purchase_labels,
    top_categories,
)
from ecomlm_sdk.tasks.prediction.bgnbd import bgnbd_features
from ecomlm_sdk.tasks.prediction.learners import Learner, LightGBMLearner, make_learner
from ecomlm_sdk.tasks.prediction.metrics import calibration_table, classification_metrics
from ecomlm_sdk.tasks.prediction.text_features import (
    TextProjection,
    fit_text_projection,
    text_features,
)

__all__ = ["PurchasePredictionOptions", "PurchasePredictionTask"]

_STATE = "purchase_prediction.json"
_REVENUE = "revenue"
_RFM = ("recency_days", "n_orders", "revenue_total")
#: The frame :meth:`PurchasePredictionTask.predict` returns.
SCORES_SCHEMA: Final = {
    "customer_id": pl.String,
    "p_buy": pl.Float64,
    "expected_revenue": pl.Float64,
}


class PurchasePredictionOptions(TaskOptions):
    """Options of :class:`PurchasePredictionTask`."""

    horizon_days: int = Field(default=90, ge=1, description="Predict purchases in this many days.")
    learner: str = Field(
        default="lightgbm",
        description="'lightgbm', 'logistic', or the name of a registered text classifier.",
    )
    snapshots: int = Field(
        default=6, ge=1, description="Training snapshots stacked (more rows, same customers)."
    )
    snapshot_step_days: int = Field(default=14, ge=1, description="Days between snapshots.")
    categories: int = Field(
        default=5,
        ge=0,
        description="Spend share in the top-N categories (when the store has them).",
    )
    bgnbd: bool = Field(
        default=False,
        description="Add BG/NBD expected purchases and P(alive), fitted at each snapshot "
        "(off by default: no gain on the validation holdout of benchmarks/tune_prediction.py).",
    )
    text_embedder: str | None = Field(
        default=None,
        description="Registered embedder for what-they-bought text features (None: off).",
    )
    text_components: int = Field(
        default=8, ge=1, le=64, description="Principal components of the text features kept."
    )
    seed: int = Field(default=0, description="Random seed of the learners.")
    threads: int | None = Field(
        default=1,
        ge=1,
        description="Learner threads (None: all cores). Default 1: on a few thousand customers one "
        "thread is fastest, and OpenMP spin-waiting made 2 threads 12x slower on a busy 2-core "
        "machine (fit 141 s vs 12 s).",
    )
    fallback_to_baseline: bool = Field(
        default=True,
        description="When evaluate() finds that logistic regression on the same features has a "
        "higher ROC-AUC than the learner, the next fit() trains logistic regression instead "
        "(recorded in the evaluation and the saved task).",
    )


class PurchasePredictionTask(Task[PurchasePredictionOptions]):
    """Probability that each customer buys within ``horizon_days``, and expected revenue.

    Example:
        ```py
        pp = ecomlm_sdk.task("purchase-prediction", horizon_days=90)
        report = pp.evaluate(store, cutoff="2011-09-09")
        scores = pp.fit(store).predict(store)  # customer_id, p_buy, expected_revenue
        ```
    """

    name: ClassVar[str] = "purchase-prediction"
    Options: ClassVar[type[TaskOptions]] = PurchasePredictionOptions
    #: ``evaluate()`` takes only ``cutoff``.
    EvaluateOptions: ClassVar[type[EvaluateOptions]] = EvaluateOptions
    requires_cutoff: ClassVar[bool] = True
    output_schema: ClassVar[Mapping[str, type[pl.DataType]]] = SCORES_SCHEMA

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.classifier: Learner | None = None
        self.revenue: LightGBMLearner | None = None
        self.features: list[str] = []
        self.categories: list[str] = []
        self.text_projection: TextProjection | None = None
        #: The fallback the last evaluate() found; the next fit() serves it (``self.fallback``).
        self.pending_fallback: dict[str, Any] | None = None

    # ------------------------------------------------------------------ Task hooks
    def _fit(self, store: EcomStore) -> None:
        self.fallback = self.pending_fallback  # what the last evaluate() found, if anything
        self._train(store, _end_of(store))

    def _predict(self, store: EcomStore) -> pl.DataFrame:
        return self._score(store, _end_of(store))

    def predict_dataset(self, folder: str | Path, *, engine: EngineArg = None) -> pl.DataFrame:
        """Score every customer of a Parquet dataset without loading it whole.

        ``folder`` is what ``ecomlm ingest EXPORTS --to parquet:DIR`` (or
        :func:`ecomlm_sdk.data.partition.write_parquet_dataset`) wrote: the store cut by
        customer. Each partition is read where the job runs (without the tickets) and
        featurized there; the scores equal :meth:`predict` on the whole store.

        Args:
            folder: The dataset.
            engine: ``None`` (``ECOMLM_ENGINE``, else in-process, one partition at a time),
                ``"local"``, ``"ray"`` or an engine. The folder must be readable where the
                engine runs (shared storage on a cluster).
        """
        from ecomlm_sdk.engines import LocalEngine
        from ecomlm_sdk.tasks.prediction.batch import score_dataset

        if not self.fitted:
            raise NotFittedError(
                f"Task {self.name!r} is not fitted: call fit(store) or load() first"
            )
        chosen = choose_engine(engine, kind="partitions", rows=ENV_MIN_ROWS)
        return score_dataset(self, folder, chosen or LocalEngine(quiet=self.options.quiet))

    def _predict_on(self, store: EcomStore, engine: Engine) -> pl.DataFrame:
        """Features per customer partition, then the fitted model applied batch by batch."""
        from ecomlm_sdk.tasks.prediction.batch import score_on

        return score_on(self, store, _end_of(store), engine)

    def _evaluate(self, store: EcomStore, cutoff: Cutoff | None, **kwargs: Any) -> EvaluationReport:
        assert cutoff is not None  # requires_cutoff: Task.evaluate checked it
        at = to_utc_datetime(cutoff)
        history, future = store.split(at)
        horizon = dt.timedelta(days=self.options.horizon_days)
        model = self.clone()
        model._train(history, at)
        scored = model._score(history, at)
        truth = purchase_labels(future, at, at + horizon)
        joined = scored.join(truth, on="customer_id", how="left").with_columns(
            pl.col("bought").fill_null(0), pl.col("revenue").fill_null(0.0)
        )
        if joined.height == 0:
            raise TaskError(f"No customer bought before cutoff {at.date()}: pick a later cutoff")
        labels = joined.get_column("bought").to_numpy().astype(np.int64)
        p_buy = joined.get_column("p_buy").to_numpy()
        metrics = classification_metrics(labels, p_buy)
        actual = joined.get_column("revenue").to_numpy()
        expected = joined.get_column("expected_revenue").to_numpy()
        metrics["revenue_mae"] = float(np.abs(actual - expected).mean())
        metrics["revenue_corr"] = float(np.corrcoef(actual, expected)[0, 1])
        baselines = model._baselines(history, at, joined)
        if self.options.fallback_to_baseline and self.options.learner != "logistic":
            self.pending_fallback = fallback_record(metrics, baselines, "roc_auc", {"logistic"})
        else:
            self.pending_fallback = None
        strongest = strongest_baseline(baselines, "roc_auc")
        return EvaluationReport(
            task=self.name,
            cutoff=at.isoformat(),
            metrics=metrics,
            baselines=baselines,
            details={
                "customers": joined.height,
                "positive_rate": float(labels.mean()),
                "calibration": calibration_table(labels, p_buy),
                "features": list(model.features),
                "strongest_baseline": strongest[0] if strongest else None,
                "fallback_to_baseline": self.options.fallback_to_baseline,
                "fallback": self.pending_fallback,
            },
        )

    def _save(self, folder: Path) -> None:
        classifier, revenue = self._require()
        classifier.save(folder)
        (folder / _REVENUE).mkdir(exist_ok=True)
        revenue.save(folder / _REVENUE)
        state: dict[str, Any] = {"features": self.features, "categories": self.categories}
        if self.text_projection is not None:
            state["text_projection"] = self.text_projection.to_json()
        write_json(folder / _STATE, state)

    def _load(self, folder: Path) -> None:
        path = folder / _STATE
        if not path.is_file():
            raise TaskError(f"{path} is missing: save the task with pp.save(folder)")
        state = read_json(path, error=TaskError, what="saved task")
        features = state.get("features") if isinstance(state, dict) else None
        categories = state.get("categories") if isinstance(state, dict) else None
        for key, value in (("features", features), ("categories", categories)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TaskError(f"{path} key {key!r} must be a list of names; save the task again")
        assert isinstance(features, list) and isinstance(categories, list)
        self.features, self.categories = features, categories
        projection = state.get("text_projection")
        try:
            self.text_projection = TextProjection.from_json(projection) if projection else None
        except (KeyError, TypeError, ValueError) as exc:
            raise TaskError(
                f"{path} key 'text_projection' is malformed ({exc}); save the task again"
            ) from exc
        if self.text_projection is not None and self.text_projection.components.ndim != 2:
            raise TaskError(f"{path} key 'text_projection.components' must be a matrix")
        self.classifier = make_learner(self._learner(), self.options.seed, self.options.threads)
        self.classifier.load(folder)
        self.revenue = _revenue_learner(self.options.seed, self.options.threads)
        self.revenue.load(folder / _REVENUE)

    # ------------------------------------------------------------------ internals
    def _learner(self) -> str:
        """The learner trained: the recorded fallback baseline's, else the ``learner`` option."""
        if self.fallback and self.fallback.get("baseline") == "logistic":
            return "logistic"
        return self.options.learner

    def _require(self) -> tuple[Learner, LightGBMLearner]:
        return self.require_fitted(self.classifier), self.require_fitted(self.revenue)

    def _frame(self, store: EcomStore, as_of: dt.datetime) -> pl.DataFrame:
        frame = customer_features(store, as_of)
        if self.categories:
            shares = category_shares(store, as_of, self.categories)
            frame = frame.join(shares, on="customer_id", how="left").with_columns(
                pl.col(f"cat_{i}").fill_null(0.0) for i in range(len(self.categories))
            )
        if self.options.bgnbd:
            bgnbd = bgnbd_features(store, as_of, float(self.options.horizon_days))
            frame = frame.join(bgnbd, on="customer_id", how="left")
        embedder = self.options.text_embedder
        if embedder is not None and self.text_projection is not None:
            texts = text_features(store, as_of, embedder, self.text_projection)
            frame = frame.join(texts, on="customer_id", how="left")
        return frame

    def _training_rows(self, store: EcomStore, end: dt.datetime) -> pl.DataFrame:
        """Stacked snapshots before ``end``: features, ``bought`` and ``revenue`` per row."""
        options = self.options
        horizon = dt.timedelta(days=options.horizon_days)
        starts = [
            end - horizon - dt.timedelta(days=options.snapshot_step_days * i)
            for i in range(options.snapshots)
        ]
        parts = [
            self._snapshot(store, start)
            for start in progress(starts, desc="snapshots", quiet=options.quiet)
        ]
        parts = [part for part in parts if part.height]
        rows = pl.concat(parts) if parts else pl.DataFrame()
        if rows.height == 0 or rows.get_column("bought").n_unique() < 2:
            raise TaskError(
                f"purchase-prediction needs customers who bought and customers who did not in "
                f"the {options.horizon_days} days after a training snapshot, and found "
                f"{rows.height} rows; use a store with more history or a shorter horizon_days"
            )
        return rows

    def _snapshot(self, store: EcomStore, start: dt.datetime) -> pl.DataFrame:
        """Features at ``start`` labelled by purchases in ``[start, start + horizon)``."""
        frame = self._frame(store, start)
        horizon = dt.timedelta(days=self.options.horizon_days)
        labels = purchase_labels(store, start, start + horizon)
        return frame.join(labels, on="customer_id", how="left").with_columns(
            pl.col("bought").fill_null(0), pl.col("revenue").fill_null(0.0)
        )

    def _train(self, store: EcomStore, end: dt.datetime) -> None:
        options = self.options
        horizon = dt.timedelta(days=options.horizon_days)
        self.categories = top_categories(store, end - horizon, options.categories)
        self.text_projection = None
        if options.text_embedder is not None:
            self.text_projection = fit_text_projection(
                store, end - horizon, options.text_embedder, options.text_components
            )
        rows = self._training_rows(store, end)
        self.features = [c for c in rows.columns if c not in ("customer_id", "bought", "revenue")]
        x = rows.select(self.features).to_numpy().astype(np.float64)
        y = rows.get_column("bought").to_numpy().astype(np.int64)
        self.classifier = make_learner(self._learner(), options.seed, options.threads)
        self.classifier.fit(x, y, self.features)
        buyers = y == 1
        self.revenue = _revenue_learner(options.seed, options.threads)
        target = np.log1p(rows.get_column("revenue").to_numpy()[buyers])
        self.revenue.fit(x[buyers], target, self.features)

    def _score(self, store: EcomStore, as_of: dt.datetime) -> pl.DataFrame:
        return self._score_frame(self._frame(store, as_of))

    def _score_frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Scores of the customers in ``frame`` (``customer_id`` and the model's features)."""
        classifier, revenue = self._require()
        schema = SCORES_SCHEMA
        if frame.height == 0:
            return pl.DataFrame(schema=schema)
        x = frame.select(self.features).to_numpy().astype(np.float64)
        p_buy = classifier.predict_proba(x)
        spend = np.expm1(revenue.predict_proba(x)).clip(min=0.0)
        return pl.DataFrame(
            {
                "customer_id": frame.get_column("customer_id"),
                "p_buy": p_buy,
                "expected_revenue": p_buy * spend,
            },
            schema=schema,
        )

    def _baselines(
        self, history: EcomStore, at: dt.datetime, joined: pl.DataFrame
    ) -> dict[str, dict[str, float]]:
        """Recency alone, BG/NBD expected purchases (fitted at the cutoff on the history), RFM
        logistic regression and all-feature logistic regression, trained on the same snapshots
        and scored on the same customers as the model.
        """
        labels = joined.get_column("bought").to_numpy().astype(np.int64)
        rows = self._training_rows(history, at)
        x_train = rows.select(self.features).to_numpy().astype(np.float64)
        y_train = rows.get_column("bought").to_numpy().astype(np.int64)
        test = joined.select("customer_id").join(
            self._frame(history, at), on="customer_id", how="left"
        )
        x_test = test.select(self.features).to_numpy().astype(np.float64)
        rfm = [self.features.index(c) for c in _RFM]
        rfm_model = make_learner("logistic", self.options.seed, None)
        rfm_model.fit(x_train[:, rfm], y_train, list(_RFM))
        full_model = make_learner("logistic", self.options.seed, None)
        full_model.fit(x_train, y_train, self.features)
        bgnbd = test.select("customer_id").join(
            bgnbd_features(history, at, float(self.options.horizon_days)),
            on="customer_id",
            how="left",
        )
        return {
            "recency": classification_metrics(labels, -test.get_column("recency_days").to_numpy()),
            "bgnbd": classification_metrics(
                labels, bgnbd.get_column("bgnbd_expected").fill_null(0.0).to_numpy()
            ),
            "rfm_logistic": classification_metrics(labels, rfm_model.predict_proba(x_test[:, rfm])),
            "logistic": classification_metrics(labels, full_model.predict_proba(x_test)),
        }


def _revenue_learner(seed: int, threads: int | None) -> LightGBMLearner:
    params: dict[str, Any] = {
        "learning_rate": 0.03,
        "num_leaves": 7,
        "min_data_in_leaf": 50,
        "lambda_l2": 5.0,
        "seed": seed,
        "deterministic": True,
    }
    if threads:
        params["num_threads"] = threads
    return LightGBMLearner(params, rounds=200, objective="regression")


def _end_of(store: EcomStore) -> dt.datetime:
    """Just after the last purchase in the store: the 'now' of fit and predict."""
    last = store.purchases().get_column("created_at").max()
    if not isinstance(last, dt.datetime):
        raise TaskError(
            "purchase-prediction found no purchases (lines with a customer, not cancelled, "
            "quantity > 0, price > 0) in the store; load order data first"
        )
    return last + dt.timedelta(seconds=1)


#: The class was called ``PurchasePrediction`` in 0.1 (kept, with a warning, for one release).
__getattr__ = renamed(__name__, {"PurchasePrediction": "PurchasePredictionTask"}, globals())
