"""Batch predictors for text models, and the engine path of ``predict_proba`` and ``embed``.

:class:`ClassifierPredictor` and :class:`EmbedderPredictor` are built from a
:class:`~ecomlm_sdk.engines.Snapshot` of the saved model (safetensors and JSON, loaded through
the model class's own checked ``load()``), once per worker (the engine sets the worker's torch
threads and ``TOKENIZERS_PARALLELISM=false`` first: ``engines.configure_worker``). Each maps an Arrow table with a
``text`` column to one with a fixed-size list column (``probabilities`` or ``embedding``); the
model's own length-sorted batching runs inside each block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final

import numpy as np

from ecomlm_sdk.engines import Engine, PredictorSpec, Snapshot
from ecomlm_sdk.errors import EngineError

if TYPE_CHECKING:
    import pyarrow as pa

    from ecomlm_sdk.models.base import Embedder, TextClassifier

__all__ = [
    "TEXT_COLUMN",
    "ClassifierPredictor",
    "EmbedderPredictor",
    "classifier_spec",
    "embedder_spec",
    "run_text_job",
]

#: The input column of the text predictors.
TEXT_COLUMN: Final = "text"


def _fixed_list(matrix: np.ndarray) -> pa.Array:
    import pyarrow as pa

    values = pa.array(np.ascontiguousarray(matrix, dtype=np.float32).ravel())
    return pa.FixedSizeListArray.from_arrays(values, matrix.shape[1])


def _texts(batch: pa.Table) -> list[str]:
    if TEXT_COLUMN not in batch.column_names:
        raise EngineError(
            f"the batch has no {TEXT_COLUMN!r} column (columns: {batch.column_names})"
        )
    return [str(t) for t in batch.column(TEXT_COLUMN).to_pylist()]


class _ModelPredictor:
    """``text`` -> one fixed-size float32 list column, from a model loaded once per worker."""

    #: The output column, and the model method that computes it.
    column: ClassVar[str]
    method: ClassVar[str]

    def __init__(self, snapshot: Snapshot, model_class: type[Any]) -> None:
        self.model = model_class.load(snapshot.open(self), quiet=True)

    def __call__(self, batch: pa.Table) -> pa.Table:
        import pyarrow as pa

        values = getattr(self.model, self.method)(_texts(batch))
        return pa.table({self.column: _fixed_list(np.asarray(values))})


class ClassifierPredictor(_ModelPredictor):
    """``text`` -> ``probabilities`` (float32, one per label, in the model's label order)."""

    column = "probabilities"
    method = "predict_proba"


class EmbedderPredictor(_ModelPredictor):
    """``text`` -> ``embedding`` (float32 vectors of the model's dimension)."""

    column = "embedding"
    method = "embed"


def classifier_spec(model: TextClassifier[Any]) -> PredictorSpec:
    """The batch predictor of a trained classifier (it is saved into a snapshot now)."""
    return _spec(model, ClassifierPredictor)


def embedder_spec(model: Embedder[Any]) -> PredictorSpec:
    """The batch predictor of an embedder (saved into a snapshot now)."""
    return _spec(model, EmbedderPredictor)


def _spec(model: Any, factory: type[_ModelPredictor]) -> PredictorSpec:
    return PredictorSpec(
        factory=factory,
        kwargs={"snapshot": Snapshot.of(model), "model_class": type(model)},
        job=f"{model.display_name}.{factory.method}",
        kind="texts",
        columns=(TEXT_COLUMN,),
    )


def run_text_job(engine: Engine, texts: list[str], spec: PredictorSpec, column: str) -> np.ndarray:
    """Run ``spec`` over ``texts`` on ``engine``; the output ``column`` as a float32 matrix."""
    import pyarrow as pa

    table = engine.map_batches(pa.table({TEXT_COLUMN: pa.array(texts, pa.string())}), spec)
    if table.num_rows != len(texts):
        raise EngineError(
            f"{spec.job} on engine {engine.display_name!r} returned {table.num_rows} rows for "
            f"{len(texts)} texts"
        )
    values = table.column(column).combine_chunks()
    width = values.type.list_size
    flat = values.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=np.float32).reshape(len(texts), width)
