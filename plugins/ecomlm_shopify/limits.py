"""Limits on what one export may cost: decompressed size, header width, accepted dates.

An export is untrusted input: a 2 MB ``.gz`` can expand to gigabytes and a header can hold a
million names. Each limit is an option of the ``shopify_csv`` source, checked as early as
possible (while decompressing, on the header), with an error naming the file and the option.
"""

from __future__ import annotations

import datetime as dt
import gzip
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ecomlm_sdk.errors import DataSourceError

__all__ = [
    "DEFAULT_MAX_COLUMNS",
    "DEFAULT_MAX_DATE",
    "DEFAULT_MAX_DECOMPRESSED_BYTES",
    "DEFAULT_MIN_DATE",
    "ReadLimits",
    "decompress_bounded",
    "duplicate_names",
]

DEFAULT_MAX_DECOMPRESSED_BYTES: Final = 2 * 1024**3
DEFAULT_MAX_COLUMNS: Final = 1_000
DEFAULT_MIN_DATE: Final = dt.date(1990, 1, 1)
DEFAULT_MAX_DATE: Final = dt.date(2099, 12, 31)
# decompression works in pieces this large, so memory stays bounded by it, not by the output
_PIECE: Final = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """The limits one load runs under (see :class:`ecomlm_shopify.source.ShopifyCsvOptions`).

    Attributes:
        max_decompressed_bytes: A ``.gz`` export may expand to at most this many bytes.
        max_columns: A header may hold at most this many columns.
        min_date: Timestamps before this day (UTC) are rejected.
        max_date: Timestamps after this day (UTC) are rejected.
    """

    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    max_columns: int = DEFAULT_MAX_COLUMNS
    min_date: dt.date = DEFAULT_MIN_DATE
    max_date: dt.date = DEFAULT_MAX_DATE

    @property
    def earliest(self) -> dt.datetime:
        """The first accepted instant (inclusive)."""
        return dt.datetime.combine(self.min_date, dt.time(), tzinfo=dt.UTC)

    @property
    def latest(self) -> dt.datetime:
        """The first instant no longer accepted (exclusive): the day after ``max_date``."""
        return dt.datetime.combine(self.max_date, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=1)

    @property
    def date_range(self) -> str:
        """The accepted range, for messages: ``"1990-01-01 .. 2099-12-31 (UTC)"``."""
        return f"{self.min_date.isoformat()} .. {self.max_date.isoformat()} (UTC)"


def duplicate_names(names: Iterable[str]) -> list[str]:
    """The (stripped) names that occur more than once, sorted; one pass with a counter."""
    counts = Counter(name.strip() for name in names)
    return sorted(name for name, count in counts.items() if count > 1)


def decompress_bounded(source: Path, target: Path, limit: int) -> int:
    """Stream-decompress the gzip file ``source`` into ``target``, stopping past ``limit`` bytes.

    Works piece by piece (1 MiB at a time), so neither the compressed nor the expanded data is
    ever whole in memory, and a bomb stops as soon as its output passes the limit.

    Returns:
        The number of bytes written.

    Raises:
        DataSourceError: The output would exceed ``limit`` (names the file and the
            ``max_decompressed_bytes`` option), or the file is not valid gzip.
    """
    written = 0
    try:
        with gzip.open(source, "rb") as compressed, target.open("wb") as out:
            while piece := compressed.read(_PIECE):
                written += len(piece)
                if written > limit:
                    raise DataSourceError(
                        f"{source}: expands to more than {limit:,} bytes when decompressed "
                        f"(limit max_decompressed_bytes={limit}); stopped there. If the export "
                        "really is this large, pass a larger max_decompressed_bytes= or "
                        "decompress it yourself and load the .csv (plain files stream)."
                    )
                out.write(piece)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DataSourceError(
            f"{source}: not a readable gzip file ({type(exc).__name__}: truncated or corrupt); "
            "download or compress the export again."
        ) from None
    return written
