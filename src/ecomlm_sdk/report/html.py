"""A self-contained HTML report: inline CSS, images embedded as data URIs, no scripts, no network.

Written for the person who runs the shop: money carries the store's currency, each headline tile
has a plain-language line under it, each section can end with "What to do next", and tables
wrap inside their card (fixed layout, long words broken) instead of scrolling sideways.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ecomlm_sdk._version import __version__

__all__ = ["HtmlReport", "Section", "money"]

#: Symbols shown before amounts; other currencies show their ISO code ("CHF 12.00").
_SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€", "JPY": "¥", "INR": "₹"}

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7fb}
header{background:#1d2330;color:#fff;padding:24px 40px}header h1{margin:0;font-size:26px}
header p{margin:6px 0 0;color:#c9cede}main{max-width:1100px;margin:0 auto;padding:24px 40px}
section{background:#fff;border-radius:10px;padding:20px 24px;margin:0 0 20px;box-shadow:0 1px 3px #0001}
h2{margin-top:0;font-size:20px}
table{border-collapse:collapse;width:100%;table-layout:fixed;font-size:13px;margin:10px 0}
th,td{border-bottom:1px solid #e3e6ee;padding:6px 8px;text-align:left;vertical-align:top;
overflow-wrap:anywhere;word-break:break-word}th{background:#f0f2f7}
td.num{text-align:right;font-variant-numeric:tabular-nums}.metrics{display:flex;flex-wrap:wrap;gap:12px}
.metric{background:#f0f2f7;border-radius:8px;padding:10px 14px;flex:1 1 180px;max-width:300px;min-width:0}
.metric b{display:block;font-size:20px}.metric span{display:block;font-size:12px;color:#5b6477}
.metric small{display:block;font-size:12px;color:#1d2330;margin-top:6px;line-height:1.35}
.next{background:#eef6ee;border-left:4px solid #3a8f3a;border-radius:6px;padding:10px 16px;margin:14px 0 0}
.next b{display:block;margin-bottom:4px}.next ul{margin:0;padding-left:18px}
*{box-sizing:border-box}
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


def money(value: float, currency: str | None) -> str:
    """``value`` as an amount: ``£1,234.50``, ``CHF 12.00``, or ``1,234.50`` without a currency."""
    if value != value:  # NaN
        return "n/a"
    sign = "-" if value < 0 else ""
    amount = f"{abs(value):,.2f}"
    if not currency:
        return f"{sign}{amount}"
    symbol = _SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{currency.upper()} {amount}"


#: :func:`money` under another name: :meth:`Section.metrics` has a parameter called ``money``.
_format_money = money


def _cell(value: object, currency: str | None = None, is_money: bool = False) -> str:
    if is_money and isinstance(value, int | float) and not isinstance(value, bool):
        return f'<td class="num">{html.escape(money(float(value), currency))}</td>'
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
    #: ISO code of the store's currency, for money figures (``None``: plain numbers).
    currency: str | None = None

    def text(self, paragraph: str, *, note: bool = False) -> Section:
        """Add a paragraph of plain text (escaped)."""
        css = ' class="note"' if note else ""
        self.parts.append(f"<p{css}>{html.escape(paragraph)}</p>")
        return self

    def preformatted(self, text: str) -> Section:
        """Add monospaced text, e.g. a load report."""
        self.parts.append(f"<pre>{html.escape(text)}</pre>")
        return self

    def metrics(
        self,
        values: Mapping[str, float | int | str],
        *,
        digits: int = 3,
        notes: Mapping[str, str] | None = None,
        money: Collection[str] = (),
    ) -> Section:
        """Add headline figures as tiles.

        Args:
            values: Label -> figure.
            digits: Decimals of non-integer figures.
            notes: Label -> a plain-language line shown under the tile ("each 1 spent ...").
            money: Labels whose figure is an amount in the store's currency.
        """
        tiles = []
        for label, value in values.items():
            if label in money and isinstance(value, int | float):
                shown = _format_money(float(value), self.currency)
            else:
                if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
                    value = int(value)
                shown = (
                    f"{value:,.{digits}f}"
                    if isinstance(value, float)
                    else (f"{value:,}" if isinstance(value, int) else str(value))
                )
            note = (notes or {}).get(label)
            line = f"<small>{html.escape(note)}</small>" if note else ""
            tiles.append(
                f'<div class="metric"><b>{html.escape(shown)}</b>'
                f"<span>{html.escape(label)}</span>{line}</div>"
            )
        self.parts.append(f'<div class="metrics">{"".join(tiles)}</div>')
        return self

    def next_steps(self, steps: Sequence[str]) -> Section:
        """Add a short "What to do next" box: one line per action."""
        items = "".join(f"<li>{html.escape(step)}</li>" for step in steps)
        self.parts.append(f'<div class="next"><b>What to do next</b><ul>{items}</ul></div>')
        return self

    def table(
        self, frame: pl.DataFrame, *, max_rows: int = 20, money: Collection[str] = ()
    ) -> Section:
        """Add a polars frame as a table (first ``max_rows`` rows).

        Args:
            frame: The rows; list columns are joined with ", ".
            max_rows: Rows shown; a note counts the rest.
            money: Columns holding amounts in the store's currency.
        """
        lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
        frame = frame.with_columns(
            pl.col(name).cast(pl.List(pl.String)).list.join(", ") for name in lists
        )
        flags = [name in money for name in frame.columns]
        head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
        rows = "".join(
            "<tr>"
            + "".join(
                _cell(v, self.currency, is_money) for v, is_money in zip(row, flags, strict=True)
            )
            + "</tr>"
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
    #: ISO code of the store's currency (``"GBP"``), shown on every money figure.
    currency: str | None = None

    def section(self, title: str) -> Section:
        """Start a new section and return it."""
        section = Section(title, currency=self.currency)
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
