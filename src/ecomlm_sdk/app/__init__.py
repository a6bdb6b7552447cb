"""Applications built on the SDK's public API: ``ecomlm quickstart`` (:mod:`.quickstart`).

The app layer computes; it hands its results to :mod:`ecomlm_sdk.report` to be written up, so
no report prose lives here.
"""

from __future__ import annotations

from ecomlm_sdk.app.quickstart import QuickstartOptions, QuickstartResult, run_quickstart

__all__ = ["QuickstartOptions", "QuickstartResult", "run_quickstart"]
