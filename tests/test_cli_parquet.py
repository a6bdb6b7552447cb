"""``ecomlm ingest EXPORTS --to parquet:DIR``: the store as a Parquet dataset cut by customer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

import ecomlm_sdk
from ecomlm_sdk.cli import main
from ecomlm_sdk.data.partition import dataset_partitions, read_parquet_dataset
from ecomlm_sdk.data.store import EcomStore


@pytest.fixture(scope="module")
def exports(sample_exports: Callable[[int], Path]) -> tuple[Path, EcomStore]:
    """Shopify exports of 80 sample-store customers, and the store they load back as."""
    folder = sample_exports(80)
    return folder, ecomlm_sdk.load_store("shopify_csv", path=str(folder))


@pytest.mark.parametrize("scheme", ["parquet:", "parquet://"])
def test_ingest_to_parquet_writes_a_dataset_that_reads_back(
    exports: tuple[Path, EcomStore], tmp_path: Path, scheme: str
) -> None:
    folder, loaded = exports
    target = tmp_path / "shop-parquet"
    result = CliRunner().invoke(
        main, ["ingest", str(folder), "--to", f"{scheme}{target}", "--partitions", "3"]
    )
    assert result.exit_code == 0, result.output
    rows = sum(loaded.summary().values())
    assert f"wrote {rows:,} rows in 3 partitions to the Parquet dataset {target}" in result.stderr
    assert dataset_partitions(target) == 3
    back = read_parquet_dataset(target)
    for name, frame in loaded.tables.items():
        assert_frame_equal(back.tables[name], frame, check_row_order=False)


def test_ingest_to_parquet_defaults_to_16_partitions(
    exports: tuple[Path, EcomStore], tmp_path: Path
) -> None:
    target = tmp_path / "ds"
    result = CliRunner().invoke(main, ["ingest", str(exports[0]), "--to", f"parquet:{target}"])
    assert result.exit_code == 0, result.output
    assert dataset_partitions(target) == 16
    assert sorted(p.name for p in (target / "orders").iterdir()) == sorted(
        f"part={k}" for k in range(16)
    )


def test_ingest_to_parquet_refuses_a_foreign_folder(
    exports: tuple[Path, EcomStore], tmp_path: Path
) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(main, ["ingest", str(exports[0]), "--to", f"parquet:{target}"])
    assert result.exit_code == 1
    assert "holds no _ecomlm_dataset.json" in result.output
    assert (target / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_ingest_partitions_needs_a_parquet_target(exports: tuple[Path, EcomStore]) -> None:
    result = CliRunner().invoke(main, ["ingest", str(exports[0]), "--partitions", "4"])
    assert result.exit_code == 2
    assert "--partitions applies only to --to parquet:DIR" in result.output
    empty = CliRunner().invoke(main, ["ingest", str(exports[0]), "--to", "parquet:"])
    assert empty.exit_code == 2
    assert "name the folder" in empty.output
    zero = CliRunner().invoke(
        main, ["ingest", str(exports[0]), "--to", "parquet:x", "--partitions", "0"]
    )
    assert zero.exit_code == 2
