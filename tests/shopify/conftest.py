"""Helpers for the Shopify tests: write small exports of any header version."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

SHARED_FORMATS = Path(__file__).resolve().parents[3] / "shared" / "data" / "shopify_csv_formats"


def export_text(header: Sequence[str], rows: Sequence[Mapping[str, str]]) -> str:
    """CSV text with ``header`` and one line per row (cells by column name, others empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue()


def write_export(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Mapping[str, str]],
    *,
    encoding: str = "utf-8",
    newline: str = "\n",
) -> Path:
    """Write an export file; ``newline="\\r\\n"`` for CRLF, ``encoding="utf-8-sig"`` for a BOM."""
    text = export_text(header, rows).replace("\n", newline)
    path.write_bytes(text.encode(encoding))
    return path
