"""Which decimal separator one file's amounts use: the ``decimal_comma`` option, or detection.

A spreadsheet saved in a European locale writes ``12,50`` and ``1.234,50``. Read with a decimal
point, those would be 1250 and 1.2345; so a file is read with a decimal comma only when the
option says so, or (``decimal_comma=None``, the default) when it is unambiguous: some amount
of the file can only be a decimal-comma amount (``12,50``, ``1.234,50``) and none can only be
a decimal-point amount (``12.50``, ``1,234.50``). Otherwise the decimal point stays, and every
cell only a decimal comma explains is rejected with a reason that names the option. The choice
is made per file and recorded in its load-report line; one file never mixes both readings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from ecomlm_shopify.safety import shown
from ecomlm_shopify.values import clean, decimal_comma_evidence

__all__ = ["Notation", "detect_notation"]


@dataclass(frozen=True)
class Notation:
    """How one file's amounts are read.

    Attributes:
        decimal_comma: Read amounts with a decimal comma.
        note: What was decided and why, for the file's load-report line (``None`` when the
            file gave no reason to say anything: no amount only a decimal comma explains).
    """

    decimal_comma: bool
    note: str | None = None


def detect_notation(
    frame: pl.DataFrame,
    columns: Sequence[str],
    option: bool | None,
    *,
    unread: Mapping[str, str] | None = None,
) -> Notation:
    """The notation of a file from its amount cells (text columns ``columns`` of ``frame``).

    Args:
        frame: The file's cells (uncleaned text is fine).
        columns: The amount columns present in the file.
        option: The ``decimal_comma`` option: ``True``/``False`` are taken as given; ``None``
            detects.
        unread: Amount column -> the column of its value read with a decimal point. Only the
            cells that reading left null can hold a comma, so the first (and, for a clean
            decimal-point file, only) search runs on those alone.
    """
    if option is not None:
        how = "set" if option else "not used (decimal_comma=False)"
        return Notation(option, f"amounts read with a decimal comma ({how})" if option else None)
    if frame.height == 0 or not columns:
        return Notation(False)
    comma_cells = []
    for column in columns:
        text = pl.col(column)
        if unread is not None and column in unread:
            text = text.filter(pl.col(unread[column]).is_null() & text.is_not_null())
        cleaned = clean(text)
        only_comma, _ = decimal_comma_evidence(cleaned)
        comma_cells.append(cleaned.filter(only_comma).first().alias(column))
    found = frame.select(comma_cells)
    examples = [v for v in found.row(0) if v is not None] if found.height else []
    if not examples:
        return Notation(False)
    point = pl.any_horizontal(
        decimal_comma_evidence(clean(pl.col(c)))[1].any().alias(c) for c in columns
    )
    if bool(frame.select(point).item()):
        return Notation(
            False,
            f"amounts such as {shown(examples[0])!r} may use a decimal comma, but the file "
            "also has decimal-point amounts: read with a decimal point, and the decimal-comma "
            "cells rejected; pass decimal_comma=True or False to decide",
        )
    return Notation(
        True,
        f"amounts read with a decimal comma (detected: {shown(examples[0])!r}, and no amount "
        "with a decimal point); pass decimal_comma=False to refuse",
    )
