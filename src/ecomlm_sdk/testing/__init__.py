"""A kit for plugin authors: temporary registration, contract checks, fakes and a fixture store."""

from __future__ import annotations

from ecomlm_sdk.testing.fixtures import (
    FakeClassifier,
    FakeEmbedder,
    FakeGenerator,
    check_data_source,
    check_embedder,
    check_roi_metric,
    check_task,
    check_text_classifier,
    check_text_generator,
    fixture_store,
    fresh_plugins,
    registered_plugin,
)

__all__ = [
    "FakeClassifier",
    "FakeEmbedder",
    "FakeGenerator",
    "check_data_source",
    "check_embedder",
    "check_roi_metric",
    "check_task",
    "check_text_classifier",
    "check_text_generator",
    "fixture_store",
    "fresh_plugins",
    "registered_plugin",
]
