"""A kit for plugin authors: temporary registration, contract checks, fakes and a fixture store.

Each ``check_*`` contract raises ``AssertionError`` with a message that says what is wrong and
how to fix it. Example (pytest)::

    from ecomlm_sdk import testing

    def test_my_source():
        with testing.registered_plugin(my_plugin_module):
            testing.check_data_source(MySource, path="tests/fixtures/orders.csv")
"""

from __future__ import annotations

from ecomlm_sdk.testing.data_contract import check_data_source
from ecomlm_sdk.testing.fakes import FakeClassifier, FakeEmbedder, FakeGenerator
from ecomlm_sdk.testing.fixtures import fixture_store
from ecomlm_sdk.testing.model_contracts import (
    check_embedder,
    check_text_classifier,
    check_text_generator,
)
from ecomlm_sdk.testing.registration import fresh_plugins, registered_plugin
from ecomlm_sdk.testing.task_contract import check_roi_metric, check_task

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
