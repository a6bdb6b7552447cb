"""The sample store's disk cache: equal to a fresh parse, verified, keyed, and optional."""

from __future__ import annotations

import fnmatch
import logging
import tomllib
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ecomlm_sdk
from ecomlm_sdk import EcomStore, datasets
from ecomlm_shopify.headers import ORDERS_HEADER, PRODUCTS_HEADER
from ecomlm_shopify.source import ShopifyCsvSource

from .conftest import write_export

KEY = "ab" * 32


def assert_same_store(got: EcomStore, expected: EcomStore) -> None:
    for name, frame in expected.tables.items():
        assert_frame_equal(got.tables[name], frame)
    assert_frame_equal(got.rejects, expected.rejects)
    assert got.load_report == expected.load_report
    assert got.integrity == expected.integrity
    assert got.source == expected.source


@pytest.fixture
def small_store(tmp_path: Path) -> EcomStore:
    """A two-file store with a reject, an extra column, tags (lists) and UTC timestamps."""
    folder = tmp_path / "exports"
    folder.mkdir()
    write_export(
        folder / "o.csv",
        [*ORDERS_HEADER, "Gift wrap"],
        [
            {
                "Name": "#1",
                "Created at": "2025-01-02 03:04:05 -0400",
                "Lineitem quantity": "2",
                "Lineitem price": "3.50",
                "Lineitem sku": "MUG",
                "Gift wrap": "yes",
            },
            {"Name": "#1", "Lineitem quantity": "1", "Lineitem price": "x", "Lineitem sku": "MUG"},
        ],
    )
    write_export(
        folder / "p.csv",
        PRODUCTS_HEADER,
        [{"Handle": "mug", "Title": "Mug", "Variant SKU": "MUG", "Tags": "a, b"}],
    )
    store = ecomlm_sdk.load_store("shopify_csv", path=str(folder))
    store.source = "sample_store"
    assert store.rejects.height == 1 and store.products.get_column("tags")[0].to_list() == [
        "a",
        "b",
    ]
    return store


def test_round_trip_keeps_everything(tmp_path: Path, small_store: EcomStore) -> None:
    folder = datasets._write_cache(tmp_path / "cache", KEY, small_store)
    assert folder is not None and (folder / "meta.json").is_file()
    assert not list((tmp_path / "cache").glob(".sample_store-*"))  # no temp folder left
    cached = datasets._read_cache(tmp_path / "cache", KEY)
    assert cached is not None
    assert_same_store(cached, small_store)
    assert "Gift wrap" in cached.order_lines.columns
    assert datasets._read_cache(tmp_path / "cache", "cd" * 32) is None  # another key


def test_damaged_cache_is_ignored_and_removed(
    tmp_path: Path, small_store: EcomStore, caplog: pytest.LogCaptureFixture
) -> None:
    folder = datasets._write_cache(tmp_path, KEY, small_store)
    assert folder is not None
    lines = folder / "order_lines.parquet"
    data = bytearray(lines.read_bytes())
    data[len(data) // 2] ^= 0xFF
    lines.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="ecomlm_sdk.datasets"):
        assert datasets._read_cache(tmp_path, KEY) is None
    assert "does not match its SHA-256" in caplog.text
    assert not folder.exists()


def test_new_key_replaces_stale_folders(tmp_path: Path, small_store: EcomStore) -> None:
    old = datasets._write_cache(tmp_path, KEY, small_store)
    new = datasets._write_cache(tmp_path, "cd" * 32, small_store)
    assert old is not None and new is not None and old != new
    assert not old.exists() and new.exists()


def test_key_covers_files_version_and_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "orders_export.csv.gz").write_bytes(b"one")
    monkeypatch.setattr(datasets, "SAMPLE_STORE_DIR", shipped)
    first = datasets._cache_key(ShopifyCsvSource)
    assert datasets._cache_key(ShopifyCsvSource) == first
    (shipped / "orders_export.csv.gz").write_bytes(b"two")
    second = datasets._cache_key(ShopifyCsvSource)
    monkeypatch.setattr(datasets, "__version__", "999.0")
    third = datasets._cache_key(ShopifyCsvSource)
    assert len({first, second, third}) == 3


def test_cache_dir_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOMLM_CACHE_DIR", str(tmp_path / "c"))
    assert datasets.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("ECOMLM_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert datasets.cache_dir() == tmp_path / ".cache" / "ecomlm_sdk"


def test_unwritable_cache_dir_still_loads(
    tmp_path: Path,
    small_store: EcomStore,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ECOMLM_CACHE_DIR", str(blocker))
    monkeypatch.setattr(datasets, "_cache", {})
    monkeypatch.setattr(datasets, "_parse", lambda source: small_store)
    with caplog.at_level(logging.WARNING, logger="ecomlm_sdk.datasets"):
        store = ecomlm_sdk.sample_store()
    assert_same_store(store, small_store)
    assert "Cannot write the sample-store cache" in caplog.text
    assert blocker.read_text() == "not a folder"


def test_cached_sample_store_equals_a_fresh_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECOMLM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(datasets, "_cache", {})
    fresh = ecomlm_sdk.sample_store()  # no cache yet: parses the shipped exports, writes it
    (folder,) = tmp_path.glob("sample_store-*")
    assert {p.name for p in folder.iterdir()} >= {"meta.json", "order_lines.parquet"}

    def no_parse(source: object) -> EcomStore:
        raise AssertionError("the second load must come from the disk cache")

    monkeypatch.setattr(datasets, "_cache", {})  # as in a new process
    monkeypatch.setattr(datasets, "_parse", no_parse)
    cached = ecomlm_sdk.sample_store()
    assert_same_store(cached, fresh)
    assert cached.summary()["order_lines"] == 541_909
    assert cached.orders.schema["created_at"] == pl.Datetime("us", "UTC")


def test_package_data_ships_every_dataset_file() -> None:
    # A built wheel holds only files matched by [tool.setuptools.package-data]; checked by
    # hand with `pip wheel`, and here for every file that is (or will be) added to datasets/.
    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["*"]
    shipped = [
        p
        for p in (root / "src" / "ecomlm_sdk" / "datasets").rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    ]
    assert {p.name for p in shipped} >= {"orders_export.csv.gz", "bitext_intents.csv"}
    unmatched = [p.name for p in shipped if not any(fnmatch.fnmatch(p.name, g) for g in patterns)]
    assert unmatched == []


def test_failed_write_leaves_no_partial_folder(
    tmp_path: Path, small_store: EcomStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: pl.DataFrame, *args: object, **kwargs: object) -> None:
        raise pl.exceptions.ComputeError("disk said no")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", broken)
    root = tmp_path / "cache"
    assert datasets._write_cache(root, KEY, small_store) is None
    assert list(root.iterdir()) == []
    assert datasets._read_cache(root, KEY) is None
