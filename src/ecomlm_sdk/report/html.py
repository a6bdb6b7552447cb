"""A self-contained HTML report: inline CSS, images embedded as data URIs, no scripts, no network."""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ecomlm_sdk._version import __version__

__all__ = ["HtmlReport", "Section"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7fb}
header{background:#1d2330;color:#fff;padding:24px 40px}header h1{margin:0;font-size:26px}
header p{margin:6px 0 0;color:#c9cede}main{max-width:1100px;margin:0 auto;padding:24px 40px}
section{background:#fff;border-radius:10px;padding:20px 24px;margin:0 0 20px;box-shadow:0 1px 3px #0001}
h2{margin-top:0;font-size:20px}table{border-collapse:collapse;width:100%;font-size:13px;margin:10px 0}
th,td{border-bottom:1px solid #e3e6ee;padding:6px 8px;text-align:left}th{background:#f0f2f7}
td.num{text-align:right;font-variant-numeric:tabular-nums}.metrics{display:flex;flex-wrap:wrap;gap:12px}
.metric{background:#f0f2f7;border-radius:8px;padding:10px 14px;min-width:140px}
.metric b{display:block;font-size:20px}.metric span{font-size:12px;color:#5b6477}
figure{margin:12px 0}figure img{max-width:100%;height:auto}figcaption{font-size:12px;color:#5b6477}
pre{background:#f0f2f7;padding:10px;border-radius:6px;white-space:pre-wrap;font-size:12px}
p.note{font-size:12px;color:#5b6477}
"""


def _number(value: float) -> str:
    """Readable numbers: thousands separators, no exponent notation."""
    if value != value:  # NaN
        return "n/a"
    if value.is_integer() and abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:.4g}"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f'<td class="num">{_number(value)}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{value:,}</td>'
    return f"<td>{html.escape('' if value is None else str(value))}</td>"


@dataclass
class Section:
    """One titled block of the report; add content in display order."""

    title: str
    parts: list[str] = field(default_factory=list)

    def text(self, paragraph: str, *, note: bool = False) -> Section:
        """Add a paragraph of plain text (escaped)."""
        css = ' class="note"' if note else ""
        self.parts.append(f"<p{css}>{html.escape(paragraph)}</p>")
        return self

    def preformatted(self, text: str) -> Section:
        """Add monospaced text, e.g. a load report."""
        self.parts.append(f"<pre>{html.escape(text)}</pre>")
        return self

    def metrics(self, values: Mapping[str, float | int | str], *, digits: int = 3) -> Section:
        """Add headline figures as tiles."""
        tiles = []
        for label, value in values.items():
            if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
                value = int(value)
            shown = (
                f"{value:,.{digits}f}"
                if isinstance(value, float)
                else (f"{value:,}" if isinstance(value, int) else str(value))
            )
            tiles.append(
                f'<div class="metric"><b>{html.escape(shown)}</b><span>{html.escape(label)}</span></div>'
            )
        self.parts.append(f'<div class="metrics">{"".join(tiles)}</div>')
        return self

    def table(self, frame: pl.DataFrame, *, max_rows: int = 20) -> Section:
        """Add a polars frame as a table (first ``max_rows`` rows)."""
        head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
        rows = "".join(
            "<tr>" + "".join(_cell(v) for v in row) + "</tr>"
            for row in frame.head(max_rows).iter_rows()
        )
        more = (
            f'<p class="note">{frame.height - max_rows:,} more rows not shown.</p>'
            if frame.height > max_rows
            else ""
        )
        self.parts.append(
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{more}"
        )
        return self

    def image(self, png: bytes, caption: str) -> Section:
        """Embed a PNG image (bytes) with a caption and alt text."""
        data = base64.b64encode(png).decode("ascii")
        alt = html.escape(caption, quote=True)
        self.parts.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
        return self


@dataclass
class HtmlReport:
    """A report made of sections, rendered into one self-contained HTML file."""

    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section:
        """Start a new section and return it."""
        section = Section(title)
        self.sections.append(section)
        return section

    def render(self) -> str:
        """The whole document as a string."""
        body = "".join(
            f"<section><h2>{html.escape(s.title)}</h2>{''.join(s.parts)}</section>"
            for s in self.sections
        )
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<header><h1>{html.escape(self.title)}</h1><p>{html.escape(self.subtitle)}</p></header>"
            f'<main>{body}<p class="note">Generated by ecomlm-sdk {__version__} on {stamp}.</p></main>'
            "</body></html>\n"
        )

    def write(self, path: str | Path) -> Path:
        """Write the document to ``path`` (parents created) and return the resolved path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.render(), encoding="utf-8")
        return target.resolve()
