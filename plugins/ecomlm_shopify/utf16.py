"""UTF-16 exports (Excel's "Unicode text"): recognised by their BOM or NUL pattern, decoded.

Excel saves "Unicode text" as UTF-16 with a BOM and tabs between cells; other tools write
UTF-16 without a BOM, which shows as a NUL byte after (or before) every ASCII character. Read
as UTF-8 or cp1252, such a file is noise. It is stream-decoded into a UTF-8 copy; a
tab-separated one is rewritten with commas (quoting as CSV needs), so every later step reads
it like any other export. Line numbers are kept: one record is one line in both.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path
from typing import Final

__all__ = ["transcode_utf16", "utf16_encoding"]

_SNIFF: Final = 256


def utf16_encoding(path: Path) -> str | None:
    """``"utf-16"`` (with a BOM), ``"utf-16-le"`` / ``"utf-16-be"`` (NUL pattern), else ``None``."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even, odd = head[0 : 2 * pairs : 2], head[1 : 2 * pairs : 2]
    if odd.count(0) == pairs and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) == pairs and odd.count(0) == 0:
        return "utf-16-be"
    return None


def transcode_utf16(source: Path, target: Path, encoding: str) -> bool:
    """Write the UTF-16 file ``source`` to ``target`` as comma-separated UTF-8, streaming.

    Returns:
        Whether the file was tab-separated (and rewritten with commas).
    """
    with source.open(encoding=encoding, newline="") as handle:
        first = handle.readline().lstrip("\ufeff")
        tabbed = "\t" in first and "," not in first
        handle.seek(0)
        with target.open("w", encoding="utf-8", newline="") as out:
            if not tabbed:
                while piece := handle.read(1024 * 1024):
                    out.write(piece.lstrip("\ufeff") if out.tell() == 0 else piece)
                return False
            writer = csv.writer(out, lineterminator="\n")
            for record in csv.reader(handle, delimiter="\t"):
                if record:
                    record[0] = record[0].lstrip("\ufeff") if out.tell() == 0 else record[0]
                writer.writerow(record)
    return True
