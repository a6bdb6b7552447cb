"""Open one CSV export: encoding, BOM, gzip, header, duplicate names, and line numbers of rows.

Every file is scanned lazily by polars from disk, so large files stream: a plain UTF-8 file is
read where it is; a ``.gz`` export is stream-decompressed into a temporary file first (never
past ``max_decompressed_bytes``), and a file in a legacy encoding (cp1252, else latin-1, with a
warning) is stream-transcoded into a temporary UTF-8 file. Only the header (at most its first
MiB, at most ``max_columns`` names) is parsed in Python. Every cell is read as text: the
loaders parse values themselves so that a bad cell is reported, never silently turned into null.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import polars as pl

from ecomlm_sdk.errors import DataSourceError
from ecomlm_shopify.headers import FileKind, detect_kind
from ecomlm_shopify.limits import ReadLimits, decompress_bounded, duplicate_names
from ecomlm_shopify.utf16 import transcode_utf16, utf16_encoding

__all__ = ["ROW", "RawFile", "open_export"]

#: Name of the 0-based data-row index column added to every raw frame.
ROW: Final = "_row"
_CHUNK: Final = 16 * 1024 * 1024
_BOM: Final = codecs.BOM_UTF8
_GZIP: Final = b"\x1f\x8b"
#: The header line must end within the first MiB of the (decompressed) file.
HEADER_BYTES: Final = 1024 * 1024


def _is_utf8(chunks: Iterable[bytes]) -> bool:
    """Whether the whole byte stream is valid UTF-8, checked chunk by chunk at C speed."""
    return _utf8_error_at(chunks) is None


def _utf8_error_at(chunks: Iterable[bytes]) -> int | None:
    """Offset of the first byte that is not valid UTF-8, ``None`` when the stream is valid.

    Pure-ASCII chunks (most of a real export) are only scanned by ``bytes.isascii``, several
    times faster than decoding them; a chunk is decoded when it holds other bytes or when the
    previous one ended inside a multi-byte character.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    done = 0
    for chunk in chunks:
        pending = len(decoder.getstate()[0])
        if chunk.isascii() and not pending:
            done += len(chunk)
            continue
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return done - pending + exc.start
        done += len(chunk)
    pending = len(decoder.getstate()[0])
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return done - pending
    return None


def _dedupe(names: Iterable[str]) -> list[str]:
    """Strip names; number repeats as ``"Tags (2)"`` so no column is lost.

    Linear in the number of names (a set of the names taken); a generated name never collides
    with a real one or with :data:`ROW`.
    """
    # a doubled BOM or stray NUL bytes would hide "Name" from the header checks
    stripped = [name.replace("\ufeff", "").replace("\x00", "").strip() for name in names]
    taken = {ROW}
    last: dict[str, int] = {}
    out = []
    for name in stripped:
        if name not in taken:
            taken.add(name)
            out.append(name)
            continue
        number = last.get(name, 1)
        while True:
            number += 1
            candidate = f"{name} ({number})"
            if candidate not in taken:
                break
        last[name] = number
        taken.add(candidate)
        out.append(candidate)
    return out


@dataclass
class RawFile:
    """One export file, opened.

    Attributes:
        path: The file.
        kind: ``"orders"``, ``"customers"``, ``"products"``, or ``None`` when the header is none
            of them (or the file is empty).
        header: Column names as used in :attr:`frame` (trimmed, repeats numbered).
        frame: Every cell as text, plus :data:`ROW`; a lazy scan of :attr:`text_path`.
        encoding: ``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"``, ``"cp1252"`` or ``"latin-1"``
            (of the original).
        warnings: What was noticed while opening (legacy encoding, duplicate column names).
        text_path: The UTF-8 file the frame scans, when it is a temporary decompressed or
            transcoded copy of :attr:`path` (removed by :meth:`close`, or when collected);
            ``None`` when the frame scans :attr:`path` itself (see :attr:`scanned`).
    """

    path: Path
    kind: FileKind | None
    header: list[str]
    frame: pl.LazyFrame
    encoding: str
    warnings: list[str] = field(default_factory=list)
    text_path: Path | None = None
    _workdir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def scanned(self) -> Path:
        """The UTF-8 file the frame reads: :attr:`text_path`, else :attr:`path`."""
        return self.text_path or self.path

    @property
    def text_encoding(self) -> str:
        """How :attr:`text_path` is decoded: UTF-8, with its BOM skipped when it has one."""
        return "utf-8-sig" if self.encoding == "utf-8-sig" else "utf-8"

    def close(self) -> None:
        """Remove the temporary copy, if any (the frame can no longer be collected then)."""
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def _lines(self) -> io.TextIOWrapper:
        return self.scanned.open(encoding=self.text_encoding, newline="")

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


def _chunks(path: Path, size: int = _CHUNK) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


def _header(path: Path, text: Path, encoding: str, limits: ReadLimits) -> list[str]:
    """The names of the header line, read from at most the first :data:`HEADER_BYTES`.

    Raises:
        DataSourceError: More than ``limits.max_columns`` names, or a header line that does
            not end within the first MiB.
    """
    with text.open("rb") as handle:
        head = handle.read(HEADER_BYTES)
    lines = head.decode(encoding, errors="ignore").splitlines(keepends=True)
    reader = csv.reader(lines)
    try:
        names = next(reader, [])
    except csv.Error:
        names, ran_out = [], True
    else:
        ran_out = len(head) == HEADER_BYTES and reader.line_num >= len(lines)
    if len(names) > limits.max_columns:
        more = " or more" if ran_out else ""
        raise DataSourceError(
            f"{path}, line 1: the header has {len(names):,}{more} columns, over the limit "
            f"max_columns={limits.max_columns} (a Shopify export has under 200). Check that "
            "this is a Shopify export, or pass a larger max_columns= to load it."
        )
    if ran_out:
        raise DataSourceError(
            f"{path}, line 1: the header line does not end within its first "
            f"{HEADER_BYTES // 1024} KiB (an unclosed quote, or not a CSV export); fix the "
            "header line or export the file again."
        )
    return names


def open_export(path: Path, limits: ReadLimits | None = None) -> RawFile:
    """Open ``path`` and classify it by its header.

    Raises:
        DataSourceError: The file cannot be read at all, expands past
            ``limits.max_decompressed_bytes``, or has a header over ``limits.max_columns``
            (names the file, the reason and the option).
    """
    limits = limits or ReadLimits()
    warnings: list[str] = []
    workdir: tempfile.TemporaryDirectory[str] | None = None
    try:
        with path.open("rb") as handle:
            compressed = handle.read(2) == _GZIP
        text = path
        if compressed:
            workdir = tempfile.TemporaryDirectory(prefix="ecomlm-shopify-")
            text = Path(workdir.name) / "decompressed.csv"
            decompress_bounded(path, text, limits.max_decompressed_bytes)
        wide = utf16_encoding(text)
        bad_at = None if wide else _utf8_error_at(_chunks(text))
        if wide:
            workdir = workdir or tempfile.TemporaryDirectory(prefix="ecomlm-shopify-")
            utf8 = Path(workdir.name) / "utf8.csv"
            try:
                tabbed = transcode_utf16(text, utf8, wide)
            except UnicodeDecodeError as exc:
                raise DataSourceError(
                    f"{path}: looks like UTF-16 but byte {exc.start} of it is not valid "
                    "UTF-16; save the file again as 'CSV UTF-8', or re-export it from Shopify."
                ) from None
            text, encoding = utf8, "utf-16"
            warnings.append(
                f"{path.name} is UTF-16 (as Excel saves 'Unicode text'"
                + (", tab-separated" if tabbed else "")
                + "): decoded it; save as 'CSV UTF-8' or re-export from Shopify to avoid this."
            )
        elif bad_at is None:
            with text.open("rb") as handle:
                encoding = "utf-8-sig" if handle.read(len(_BOM)) == _BOM else "utf-8"
        else:
            workdir = workdir or tempfile.TemporaryDirectory(prefix="ecomlm-shopify-")
            utf8 = Path(workdir.name) / "utf8.csv"
            encoding = _transcode(text, utf8)
            text = utf8
            warnings.append(
                f"{path.name} is not UTF-8 (first bad byte at offset {bad_at}); decoded it as "
                f"{encoding}. Re-export from Shopify, or save the file as UTF-8, to be sure."
            )
        header = _header(path, text, "utf-8-sig" if encoding == "utf-8-sig" else "utf-8", limits)
    except OSError as exc:
        if workdir is not None:
            workdir.cleanup()
        raise DataSourceError(
            f"Cannot read {path}: {exc}; check the path and permissions."
        ) from exc
    except DataSourceError:
        if workdir is not None:
            workdir.cleanup()
        raise
    names = _dedupe(header)
    repeated = duplicate_names(header)
    if repeated:
        warnings.append(
            f"duplicate column name(s) {repeated}: later copies renamed like '{repeated[0]} (2)'"
        )
    kind = detect_kind(names) if names else None
    if not names:
        frame = pl.LazyFrame(schema={ROW: pl.UInt32()})
    else:
        frame = pl.scan_csv(
            text,
            has_header=False,
            skip_rows=1,
            schema={name: pl.String() for name in names},
            # ragged rows are found and rejected by the loaders (shape.py); here a long or
            # short row, even the first one, must not fail the whole scan
            truncate_ragged_lines=True,
            extra_columns="ignore",
            missing_columns="insert",
            quote_char='"',
            encoding="utf8",
        ).with_row_index(ROW)
    return RawFile(
        path, kind, names, frame, encoding, warnings, None if text == path else text, workdir
    )


def _transcode(source: Path, target: Path) -> str:
    """Write ``source`` (cp1252, else latin-1; a UTF-8 BOM dropped) to ``target`` as UTF-8.

    Streams piece by piece. Returns the encoding used; latin-1 decodes every byte.
    """
    for encoding in ("cp1252", "latin-1"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with target.open("w", encoding="utf-8", newline="") as out:
                first = True
                for chunk in _chunks(source):
                    if first and chunk.startswith(_BOM):
                        chunk = chunk[len(_BOM) :]
                    first = False
                    out.write(decoder.decode(chunk))
                out.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError:
            continue
        return encoding
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover
