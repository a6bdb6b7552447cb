"""Bundled sample data: the sample store, built from the real UCI Online Retail log.

``sample_store()`` loads the Shopify-format exports in ``datasets/sample_store_data/`` through the
data source registered as ``shopify_csv`` (resolved by name: the core never imports a plugin).
The data is every transaction of a UK online gift retailer, 2010-12-01 to 2011-12-09: UCI
Machine Learning Repository dataset 352, "Online Retail", by Chen, Sain & Guo (2012),
doi:10.1057/dbm.2012.17, licensed CC BY 4.0. Customers' emails are made up
(``customer-17850@example.com``); see ``sample_store_data/README.md`` for the full mapping.

The first parse is also written, as parquet, to a disk cache (``ECOMLM_CACHE_DIR``, else
``~/.cache/ecomlm_sdk``) keyed by the SHA-256 of the shipped files, the SDK version and the
parser's own source, so later processes skip the CSV parse. Every cache file's SHA-256 is
checked before it is read; a cache that fails the check, or a folder that cannot be written,
is ignored (with a log message) and the exports are parsed as if there were no cache.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Final

import polars as pl

from ecomlm_sdk._version import __version__
from ecomlm_sdk.data.report import LoadReport
from ecomlm_sdk.data.schema import TABLES
from ecomlm_sdk.data.source import DataSource
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.plugins import resolve_class

__all__ = ["SAMPLE_STORE_DIR", "SAMPLE_STORE_SOURCE", "cache_dir", "sample_store"]

logger = logging.getLogger(__name__)

#: Folder holding the sample store's orders, customers and products exports.
SAMPLE_STORE_DIR: Final = Path(__file__).resolve().parent / "sample_store_data"

#: The data source that reads the bundled exports: their format is Shopify's admin CSV, so any
#: source registered under this name (or alias) reads them; resolved through the registry.
SAMPLE_STORE_SOURCE: Final = "shopify_csv"

#: Bump when the layout of a cache folder changes.
_CACHE_FORMAT: Final = 1
_PREFIX: Final = "sample_store-"
_META: Final = "meta.json"
_REPORT: Final = "load_report.json"
_REJECTS: Final = "rejects.parquet"

_cache: dict[str, EcomStore] = {}
_lock = threading.Lock()


def cache_dir() -> Path:
    """The folder of the on-disk sample-store cache: ``$ECOMLM_CACHE_DIR``, else
    ``~/.cache/ecomlm_sdk``. It need not exist (it is created on first write)."""
    configured = os.environ.get("ECOMLM_CACHE_DIR", "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "ecomlm_sdk"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _cache_key(source: type[Any]) -> str:
    """SHA-256 over the shipped exports, the SDK and polars versions, and the parser's code.

    The parser's ``.py`` files are part of the key because a development checkout changes the
    parser without changing the version; their folder's path is too, since the load report
    names the shipped files by absolute path.
    """
    digest = hashlib.sha256()
    parser_dir = Path(inspect.getfile(source)).resolve().parent
    digest.update(
        f"cache {_CACHE_FORMAT}; ecomlm-sdk {__version__}; polars {pl.__version__}; "
        f"{SAMPLE_STORE_DIR}; {source.__module__}.{source.__qualname__}\n".encode()
    )
    shipped = sorted(p for p in SAMPLE_STORE_DIR.iterdir() if p.is_file())
    code = sorted(parser_dir.rglob("*.py"))
    for path in [*shipped, *code]:
        digest.update(f"{path.name} {_sha256(path)}\n".encode())
    return digest.hexdigest()


def _write_cache(root: Path, key: str, store: EcomStore) -> Path | None:
    """Write ``store`` under ``root`` as ``sample_store-<key>/``, atomically; ``None`` if not
    writable. Stale folders of other keys are removed."""
    final = root / f"{_PREFIX}{key[:32]}"
    tmp: Path | None = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{_PREFIX}", dir=root))
        for name, frame in store.tables.items():
            frame.write_parquet(tmp / f"{name}.parquet")
        store.rejects.write_parquet(tmp / _REJECTS)
        (tmp / _REPORT).write_text(store.load_report.model_dump_json(), encoding="utf-8")
        files = {p.name: _sha256(p) for p in sorted(tmp.iterdir())}
        meta = {"key": key, "sdk_version": __version__, "files": files}
        (tmp / _META).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        try:
            tmp.rename(final)  # atomic: readers see the whole folder or none of it
        except OSError:
            if not (final / _META).is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process got there first
        tmp = None
    except Exception as exc:  # the cache only saves time: failing to write it must not fail
        logger.warning(
            "Cannot write the sample-store cache in %s (%s); the exports will be parsed again "
            "next time. Set ECOMLM_CACHE_DIR to a writable folder to cache it.",
            root,
            exc,
        )
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        return None
    for stale in root.glob(f"{_PREFIX}*"):
        if stale != final and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    return final


def _read_cache(root: Path, key: str) -> EcomStore | None:
    """The cached store for ``key``, or ``None`` when absent or when any check fails."""
    folder = root / f"{_PREFIX}{key[:32]}"
    meta_path = folder / _META
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("key") != key:
            raise ValueError(f"{meta_path} is for another key")
        files: dict[str, str] = meta["files"]
        expected = {f"{name}.parquet" for name in TABLES} | {_REJECTS, _REPORT}
        if set(files) != expected:
            raise ValueError(f"{meta_path} lists {sorted(files)}, expected {sorted(expected)}")
        for name, digest in files.items():
            if _sha256(folder / name) != digest:
                raise ValueError(f"{folder / name} does not match its SHA-256 in {_META}")
        tables: dict[str, Any] = {n: pl.read_parquet(folder / f"{n}.parquet") for n in TABLES}
        report = LoadReport.model_validate_json((folder / _REPORT).read_text(encoding="utf-8"))
        rejects = pl.read_parquet(folder / _REJECTS)
        return EcomStore(**tables, rejects=rejects, load_report=report, source="sample_store")
    except Exception as exc:  # a damaged cache must never break sample_store()
        logger.warning(
            "Ignoring the sample-store cache in %s: %s; parsing the exports.", folder, exc
        )
        shutil.rmtree(folder, ignore_errors=True)
        return None


def _parse(source: type[Any]) -> EcomStore:
    store: EcomStore = source(path=str(SAMPLE_STORE_DIR)).load()
    store.source = "sample_store"
    return store


def sample_store(*, cache: bool = True) -> EcomStore:
    """The sample store: 25,900 real orders (541,909 lines) of 4,372 customers and 4,070 products.

    The first call in a process reads the disk cache (well under a second) or, the first time
    on a machine, parses the bundled exports (a few seconds) and writes the cache; later calls
    in the same process return a copy of the store at once. Each call returns its own
    :class:`EcomStore` object, so replacing a table on it does not affect other callers (the
    polars frames themselves are immutable and shared). See :func:`cache_dir` for where the
    cache lives.

    Args:
        cache: Use the in-process and disk caches (``False`` parses the shipped exports again
            and touches neither cache).

    Example:
        ```python
        import ecomlm_sdk

        store = ecomlm_sdk.sample_store()
        print(store.summary()["orders"])  # 25900
        ```

    Raises:
        UnknownComponentError: No ``shopify_csv`` data source is registered (the built-in
            ``shopify`` plugin was disabled).
    """
    source = resolve_class("data_source", SAMPLE_STORE_SOURCE, DataSource)
    if not cache:
        return _parse(source)
    with _lock:
        store = _cache.get("store")
        if store is None:
            root, key = cache_dir(), _cache_key(source)
            store = _read_cache(root, key)
            if store is None:
                store = _parse(source)
                _write_cache(root, key, store)
            _cache["store"] = store
    return copy.copy(store)
