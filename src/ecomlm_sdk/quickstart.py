"""Deprecated import path, kept for one release: use :mod:`ecomlm_sdk.app.quickstart`."""

from __future__ import annotations

from ecomlm_sdk.app.quickstart import QuickstartOptions, QuickstartResult, run_quickstart

__all__ = ["QuickstartOptions", "QuickstartResult", "run_quickstart"]
