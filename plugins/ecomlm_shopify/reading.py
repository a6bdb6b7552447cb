"""Open one CSV export: encoding, BOM, gzip, header, duplicate names, and line numbers of rows.

Plain UTF-8 files are scanned lazily by polars (so files larger than memory stream); gzip files
and files in a legacy encoding (cp1252, else latin-1, with a warning) are decoded in memory
first. Every cell is read as text: the loaders parse values themselves so that a bad cell is
reported, never silently turned into null.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

import polars as pl

from ecomlm_sdk.errors import DataSourceError
from ecomlm_shopify.headers import FileKind, detect_kind

__all__ = ["ROW", "RawFile", "open_export"]

#: Name of the 0-based data-row index column added to every raw frame.
ROW: Final = "_row"
_CHUNK: Final = 16 * 1024 * 1024
_BOM: Final = codecs.BOM_UTF8
_HEAD: Final = 1024 * 1024


def _read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def _is_utf8(chunks: Iterable[bytes]) -> bool:
    """Whether the whole byte stream is valid UTF-8, checked chunk by chunk at C speed.

    Pure-ASCII chunks (most of a real export) are only scanned by ``bytes.isascii``, several
    times faster than decoding them; a chunk is decoded when it holds other bytes or when the
    previous one ended inside a multi-byte character.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in chunks:
            if chunk.isascii() and not decoder.getstate()[0]:
                continue
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _dedupe(names: Iterable[str]) -> list[str]:
    """Strip names; number repeats as ``"Tags (2)"`` so no column is lost."""
    seen: dict[str, int] = {}
    out = []
    for raw_name in names:
        name = raw_name.strip()
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


@dataclass
class RawFile:
    """One export file, opened.

    Attributes:
        path: The file.
        kind: ``"orders"``, ``"customers"``, ``"products"``, or ``None`` when the header is none
            of them (or the file is empty).
        header: Column names as used in :attr:`frame` (trimmed, repeats numbered).
        frame: Every cell as text, plus :data:`ROW`; lazy for plain UTF-8 files.
        encoding: ``"utf-8"``, ``"utf-8-sig"``, ``"cp1252"`` or ``"latin-1"``.
        warnings: What was noticed while opening (legacy encoding, duplicate column names).
    """

    path: Path
    kind: FileKind | None
    header: list[str]
    frame: pl.LazyFrame
    encoding: str
    warnings: list[str] = field(default_factory=list)
    _text: str | None = None
    _data: bytes | None = None

    def _lines(self) -> IO[str]:
        if self._text is not None:
            return io.StringIO(self._text, newline="")
        if self._data is not None:
            return io.StringIO(self._data.decode(self.encoding), newline="")
        return self.path.open(encoding=self.encoding, newline="")

    def line_numbers(self, rows: Iterable[int]) -> dict[int, int]:
        """Map 0-based data rows to the 1-based file line each starts on (quoted newlines counted)."""
        wanted = sorted(set(rows))
        found: dict[int, int] = {}
        if not wanted:
            return found
        targets = iter(wanted)
        target = next(targets)
        with self._lines() as handle:
            reader = csv.reader(handle)
            next(reader, None)
            previous = reader.line_num
            # blank lines are rows to polars too, so every record counts
            for index, _record in enumerate(reader):
                if index == target:
                    found[index] = previous + 1
                    next_target = next(targets, None)
                    if next_target is None:
                        break
                    target = next_target
                previous = reader.line_num
        return found


def _header(lines: Iterator[str]) -> list[str]:
    return next(csv.reader(lines), [])


def open_export(path: Path) -> RawFile:
    """Open ``path`` and classify it by its header.

    Raises:
        DataSourceError: The file cannot be read at all (names the file and the reason).
    """
    warnings: list[str] = []
    text: str | None = None
    data: bytes | None = None
    try:
        with path.open("rb") as handle:
            compressed = handle.read(2) == b"\x1f\x8b"
        if compressed:
            data = _read_bytes(path)
            utf8 = _is_utf8(data[i : i + _CHUNK] for i in range(0, len(data), _CHUNK))
        else:
            utf8 = _is_utf8(_chunks(path))
        if utf8:
            head = data[:_HEAD] if data is not None else path.open("rb").read(_HEAD)
            encoding = "utf-8-sig" if head.startswith(_BOM) else "utf-8"
            header = _header(io.StringIO(head.decode(encoding, errors="ignore"), newline=""))
        else:
            text, encoding = _decode(
                data if data is not None else path.read_bytes(), path, warnings
            )
            data = None
            header = _header(io.StringIO(text, newline=""))
    except OSError as exc:
        raise DataSourceError(
            f"Cannot read {path}: {exc}; check the path and permissions."
        ) from exc
    names = _dedupe(header)
    repeated = sorted(
        {n.strip() for n in header if [h.strip() for h in header].count(n.strip()) > 1}
    )
    if repeated:
        warnings.append(
            f"duplicate column name(s) {repeated}: later copies renamed like '{repeated[0]} (2)'"
        )
    kind = detect_kind(names) if names else None
    if not names:
        frame = pl.LazyFrame(schema={ROW: pl.UInt32()})
    else:
        schema = {name: pl.String() for name in names}
        options = {
            "has_header": False,
            "skip_rows": 1,
            "schema": schema,
            "truncate_ragged_lines": True,
            "quote_char": '"',
        }
        source: Path | io.BytesIO = path
        if text is not None:
            source = io.BytesIO(text.encode("utf-8"))
        elif data is not None:
            source = io.BytesIO(data)
        frame = pl.scan_csv(source, encoding="utf8", **options)  # type: ignore[arg-type]
        frame = frame.with_row_index(ROW)
    return RawFile(path, kind, names, frame, encoding, warnings, text, data)


def _decode(data: bytes, path: Path, warnings: list[str]) -> tuple[str, str]:
    if data.startswith(_BOM):
        try:
            return data[len(_BOM) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        for encoding in ("cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            warnings.append(
                f"{path.name} is not UTF-8 (first bad byte at offset {exc.start}); decoded it as "
                f"{encoding}. Re-export from Shopify, or save the file as UTF-8, to be sure."
            )
            return text, encoding
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover
