"""Self-contained HTML reports and the charts they embed."""

from __future__ import annotations

from ecomlm_sdk.report.html import HtmlReport, Section

__all__ = ["HtmlReport", "Section"]
