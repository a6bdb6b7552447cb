"""ecomlm-template: a plugin registering one data source and one classifier.

Both components are cheap to register: nothing is read or trained until they are used.
"""

from __future__ import annotations

from ecomlm_sdk import hookimpl
from ecomlm_sdk.hookspecs import Register
from ecomlm_template.classifier import CentroidClassifier
from ecomlm_template.source import OrdersCsvSource

__all__ = ["CentroidClassifier", "OrdersCsvSource"]

#: The plugin API versions this plugin supports; the SDK skips it (naming this range) otherwise.
ecomlm_sdk_api = ">=1,<2"


@hookimpl
def register_data_sources(register: Register) -> None:
    """Register :class:`OrdersCsvSource` as ``template-orders``."""
    register(OrdersCsvSource)


@hookimpl
def register_models(register: Register) -> None:
    """Register :class:`CentroidClassifier` as ``template-classifier``."""
    register(CentroidClassifier)
