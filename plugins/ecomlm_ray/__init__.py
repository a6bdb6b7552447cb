"""Built-in plugin ``ecomlm_ray``: the ``ray`` engine (extra ``ecomlm-sdk[ray]``).

``engine="ray"`` on the batch methods (``PurchasePredictionTask.predict``,
``RecommendationTask.recommend``, ``TextClassifier.predict_proba``, ``Embedder.embed``,
``SupportTask.answer_many``, ``embed_products``), ``ECOMLM_ENGINE=ray`` or ``--engine ray`` runs
them on a Ray cluster through Ray Data. Importing the plugin does not import Ray: that happens on
the first job.
"""

from __future__ import annotations

from ecomlm_ray.engine import AUTO_MIN_ROWS, RayEngine, RayOptions
from ecomlm_sdk import hookimpl
from ecomlm_sdk.hookspecs import Register

__all__ = ["AUTO_MIN_ROWS", "RayEngine", "RayOptions", "register_engines"]

ecomlm_sdk_api = ">=1,<2"


@hookimpl
def register_engines(register: Register) -> None:
    """Register :class:`RayEngine` as ``ray``."""
    register(RayEngine)
