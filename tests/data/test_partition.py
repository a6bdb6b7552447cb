"""A store cut by customer (issue 17, item 2): buckets, in-memory parts, the Parquet dataset."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import ecomlm_sdk
from ecomlm_sdk.data.partition import (
    CUSTOMER_TABLES,
    METADATA_FILE,
    SHARED_TABLES,
    customer_bucket,
    dataset_partitions,
    partition_files,
    read_parquet_dataset,
    scan_dataset_table,
    split_by_customer,
    write_parquet_dataset,
)
from ecomlm_sdk.data.schema import TABLES
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import DataSourceError, InvalidValueError, SchemaError
from ecomlm_sdk.testing import fixture_store

CUT = (*CUSTOMER_TABLES, "order_lines")
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def small_store(seed: int, customers: int = 12, orders: int = 30) -> EcomStore:
    """A store with guests, tickets, exposures, an unknown order's lines and an extra column."""
    import random

    rng = random.Random(seed)
    ids = [f"c{i:03d}" for i in range(customers)]

    def someone() -> str | None:
        return None if rng.random() < 0.2 else rng.choice(ids)

    order_ids = [f"#{1000 + i}" for i in range(orders)]
    line_orders = [rng.choice([*order_ids, "#unknown"]) for _ in range(orders * 3)]
    return EcomStore(
        customers=pl.DataFrame(
            {
                "customer_id": ids,
                "email": [f"{i}@example.com" for i in ids],
                "tags": [["vip"] if rng.random() < 0.3 else [] for _ in ids],
                "loyalty_points": [rng.randint(0, 500) for _ in ids],  # an extra column
            }
        ),
        products=pl.DataFrame({"product_id": ["p1", "p2"], "variant_id": ["v1", "v2"]}),
        orders=pl.DataFrame(
            {
                "order_id": order_ids,
                "customer_id": [someone() for _ in order_ids],
                "created_at": [T0 + dt.timedelta(hours=i) for i in range(orders)],
                "total": [round(rng.uniform(1, 90), 2) for _ in order_ids],
                "currency": ["EUR"] * orders,
            }
        ),
        order_lines=pl.DataFrame(
            {
                "order_id": line_orders,
                "line_number": list(range(1, len(line_orders) + 1)),
                "variant_id": [rng.choice(["v1", "v2"]) for _ in line_orders],
                "quantity": [rng.randint(-1, 5) for _ in line_orders],
                "unit_price": [round(rng.uniform(0.5, 30), 2) for _ in line_orders],
            }
        ),
        tickets=pl.DataFrame(
            {
                "ticket_id": [f"t{i}" for i in range(8)],
                "customer_id": [someone() for _ in range(8)],
                "created_at": [T0] * 8,
                "body": ["where is my order"] * 8,
            }
        ),
        campaigns=pl.DataFrame({"campaign_id": ["spring"], "start_at": [T0]}),
        campaign_exposures=pl.DataFrame(
            {
                "campaign_id": ["spring"] * customers,
                "customer_id": ids,
                "arm": ["control", "treatment"] * (customers // 2) + ["control"] * (customers % 2),
                "exposed_at": [T0] * customers,
            }
        ),
        source="test",
        check_integrity=False,
        currency="EUR",
        fx_rates={"USD": 0.9},
        timezone="Europe/Berlin",
    )


def assert_stores_equal(left: EcomStore, right: EcomStore) -> None:
    for name in TABLES:
        assert_frame_equal(left.tables[name], right.tables[name], check_row_order=False)


def customers_of(store: EcomStore) -> set[str]:
    ids: set[str] = set()
    for name in CUSTOMER_TABLES:
        ids |= set(getattr(store, name).get_column("customer_id").drop_nulls())
    return ids


@pytest.fixture(scope="module")
def sample() -> EcomStore:
    return ecomlm_sdk.sample_store()


@pytest.fixture(scope="module")
def sample_dataset(sample: EcomStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_parquet_dataset(sample, tmp_path_factory.mktemp("ds") / "shop", 4)


# ------------------------------------------------------------------------------ buckets
def test_customer_bucket_is_in_range_with_guests_in_bucket_0() -> None:
    ids = pl.DataFrame({"customer_id": [f"c{i}" for i in range(500)] + [None]})
    buckets = ids.select(customer_bucket(pl.col("customer_id"), 7)).to_series()
    assert buckets.dtype == pl.UInt32()
    assert buckets.null_count() == 0
    assert buckets.min() == 0 and buckets.max() == 6
    assert buckets[-1] == 0
    # spread: 500 ids over 7 buckets, none empty and none with more than twice its share
    counts = buckets.head(500).value_counts().get_column("count").to_list()
    assert len(counts) == 7 and max(counts) < 2 * 500 / 7


def test_customer_bucket_is_the_same_in_another_process() -> None:
    ids = ["17850", "13047", "12583", "guest?", "00042"]
    here = pl.DataFrame({"c": ids}).select(customer_bucket(pl.col("c"), 16)).to_series().to_list()
    code = (
        "import polars as pl; from ecomlm_sdk.data.partition import customer_bucket; "
        f"print(pl.DataFrame({{'c': {ids!r}}}).select(customer_bucket(pl.col('c'), 16))"
        ".to_series().to_list())"
    )
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(there) == here


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "4"])
def test_partitions_must_be_a_whole_number_of_at_least_1(bad: Any, tmp_path: Path) -> None:
    with pytest.raises(InvalidValueError, match="partitions must be a whole number"):
        customer_bucket(pl.col("customer_id"), bad)
    with pytest.raises(InvalidValueError, match="partitions must be a whole number"):
        split_by_customer(fixture_store(), bad)
    with pytest.raises(InvalidValueError, match="partitions must be a whole number"):
        write_parquet_dataset(fixture_store(), tmp_path / "ds", bad)
    assert not (tmp_path / "ds").exists()


# ------------------------------------------------------------------------------ split
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), partitions=st.integers(1, 9))
def test_split_loses_and_duplicates_no_row(seed: int, partitions: int) -> None:
    store = small_store(seed)
    parts = split_by_customer(store, partitions)
    assert len(parts) == partitions
    for name in CUT:
        union = pl.concat([getattr(p, name) for p in parts])
        assert_frame_equal(union, getattr(store, name), check_row_order=False)
    for name in SHARED_TABLES:
        for part in parts:
            assert_frame_equal(getattr(part, name), getattr(store, name))
    # every customer in exactly one part, with all of its rows
    seen = [customers_of(p) for p in parts]
    assert sum(len(s) for s in seen) == len(set().union(*seen))
    # every order line sits with its order; lines of unknown orders in part 0
    for k, part in enumerate(parts):
        known = part.order_lines.join(part.orders, on="order_id", how="anti")
        assert known.height == 0 or (k == 0 and set(known["order_id"]) == {"#unknown"})
    assert all(p.currency == "EUR" and p.fx_rates == {"USD": 0.9} for p in parts)
    assert all(p.timezone == "Europe/Berlin" and p.integrity == () for p in parts)


def test_guest_rows_are_in_part_0(sample: EcomStore) -> None:
    parts = split_by_customer(sample, 5)
    guests = sample.orders.get_column("customer_id").null_count()
    assert guests > 0
    assert parts[0].orders.get_column("customer_id").null_count() == guests
    assert all(p.orders.get_column("customer_id").null_count() == 0 for p in parts[1:])


def test_split_of_the_sample_store_keeps_every_row(sample: EcomStore) -> None:
    parts = split_by_customer(sample, 3)
    for name in CUT:
        assert sum(getattr(p, name).height for p in parts) == getattr(sample, name).height
    assert {c for p in parts for c in p.customers["customer_id"]} == set(
        sample.customers["customer_id"]
    )


# ------------------------------------------------------------------------------ dataset
def test_sample_store_round_trip(sample: EcomStore, sample_dataset: Path) -> None:
    back = read_parquet_dataset(sample_dataset)
    assert_stores_equal(back, sample)
    assert back.source == sample.source


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_small_store_round_trip_and_partitions(seed: int, tmp_path: Path) -> None:
    store = small_store(seed)
    folder = write_parquet_dataset(store, tmp_path / "ds", 5)
    back = read_parquet_dataset(folder)
    assert_stores_equal(back, store)
    assert back.customers.columns[-1] == "loyalty_points"
    assert (back.currency, back.fx_rates, back.timezone) == ("EUR", {"USD": 0.9}, "Europe/Berlin")
    parts = split_by_customer(store, 5)
    read = [read_parquet_dataset(folder, partition=k) for k in range(5)]
    for k in range(5):
        assert_stores_equal(read[k], parts[k])
    for name in CUT:
        union = pl.concat([getattr(r, name) for r in read])
        assert_frame_equal(union, getattr(store, name), check_row_order=False)
    seen = [customers_of(r) for r in read]
    assert sum(len(s) for s in seen) == len(set().union(*seen)) == len(customers_of(store))


def test_layout_and_metadata(sample: EcomStore, sample_dataset: Path) -> None:
    meta = json.loads((sample_dataset / METADATA_FILE).read_text(encoding="utf-8"))
    assert meta["partitions"] == 4 == dataset_partitions(sample_dataset)
    assert meta["ecomlm_sdk_version"] == ecomlm_sdk.__version__
    assert meta["bucket_rule"]["polars_version"] == pl.__version__
    assert meta["bucket_rule"]["seed"] == 0 and meta["bucket_rule"]["null_bucket"] == 0
    for name in TABLES:
        entry = meta["tables"][name]
        assert entry["rows"] == getattr(sample, name).height
        assert entry["columns"] == getattr(sample, name).columns
    for name in CUT:
        folders = sorted(p.name for p in (sample_dataset / name).iterdir())
        assert folders == [f"part={k}" for k in range(4)]
        assert (
            sum(meta["tables"][name]["rows_per_partition"].values()) == meta["tables"][name]["rows"]
        )
    for name in SHARED_TABLES:
        assert [p.name for p in (sample_dataset / name).iterdir()] == ["data.parquet"]


def test_empty_buckets_still_have_a_file_with_the_schema(tmp_path: Path) -> None:
    store = fixture_store()  # 4 customers in 32 buckets: most buckets are empty
    folder = write_parquet_dataset(store, tmp_path / "ds", 32)
    for k in range(32):
        files = partition_files(folder, k)
        assert all(len(paths) >= 1 for paths in files.values())
        part = read_parquet_dataset(folder, partition=k)
        assert part.tickets.columns == store.tickets.columns
    empty = next(
        k for k in range(32) if read_parquet_dataset(folder, partition=k).customers.height == 0
    )
    assert pl.read_parquet(partition_files(folder, empty)["orders"]).schema == store.orders.schema


def test_partition_files_are_readable_by_another_reader(
    sample: EcomStore, sample_dataset: Path
) -> None:
    files = partition_files(sample_dataset, 2)
    assert files["products"] == [sample_dataset / "products" / "data.parquet"]
    assert all(p.parent.name == "part=2" for p in files["orders"])
    orders = pl.read_parquet(files["orders"], columns=["order_id", "customer_id"])
    expected = split_by_customer(sample, 4)[2].orders.select("order_id", "customer_id")
    assert_frame_equal(orders, expected, check_row_order=False)


def test_column_pruning_reads_only_the_requested_columns(
    sample: EcomStore, sample_dataset: Path
) -> None:
    lazy = scan_dataset_table(sample_dataset, "order_lines", partition=1, columns=["quantity"])
    frame = lazy.collect()
    assert frame.columns == ["quantity"]
    assert frame.height == split_by_customer(sample, 4)[1].order_lines.height
    whole = scan_dataset_table(sample_dataset, "orders", columns=["order_id", "total"]).collect()
    assert whole.columns == ["order_id", "total"] and whole.height == sample.orders.height
    # a store keeps every canonical column: the required ones are read, the others are null
    store = read_parquet_dataset(sample_dataset, columns={"orders": ["total"], "tickets": []})
    assert store.orders.columns == sample.orders.columns
    assert store.orders.get_column("email").null_count() == store.orders.height
    assert_frame_equal(
        store.orders.select("order_id", "created_at", "total"),
        sample.orders.select("order_id", "created_at", "total"),
        check_row_order=False,
    )
    assert store.tickets.height == 0
    assert_frame_equal(store.order_lines, sample.order_lines, check_row_order=False)


def test_column_pruning_errors_name_the_table_and_column(sample_dataset: Path) -> None:
    with pytest.raises(SchemaError, match=r"Table 'orders' .* no column\(s\) \['totl'\]"):
        read_parquet_dataset(sample_dataset, columns={"orders": ["totl"]})
    with pytest.raises(SchemaError, match=r"unknown table\(s\) \['order'\]"):
        read_parquet_dataset(sample_dataset, columns={"order": ["total"]})
    with pytest.raises(InvalidValueError, match=r"write \['total'\]"):
        read_parquet_dataset(sample_dataset, columns={"orders": "total"})
    with pytest.raises(SchemaError, match="Unknown table 'lines'"):
        scan_dataset_table(sample_dataset, "lines")


@pytest.mark.parametrize("bad", [4, -1, 99])
def test_out_of_range_partition_says_the_range(sample_dataset: Path, bad: int) -> None:
    with pytest.raises(InvalidValueError, match=r"has 4 partitions, numbered 0 \.\. 3"):
        read_parquet_dataset(sample_dataset, partition=bad)
    with pytest.raises(InvalidValueError, match=r"numbered 0 \.\. 3"):
        partition_files(sample_dataset, bad)


# ------------------------------------------------------------------------------ bad folders
def test_a_folder_that_is_no_dataset_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"is not a folder"):
        read_parquet_dataset(tmp_path / "missing")
    with pytest.raises(DataSourceError, match=rf"holds no {METADATA_FILE}.*write_parquet_dataset"):
        dataset_partitions(tmp_path)


def _copy(folder: Path, target: Path, **changes: Any) -> Path:
    import shutil

    shutil.copytree(folder, target)
    meta = json.loads((target / METADATA_FILE).read_text(encoding="utf-8"))
    meta.update(changes)
    (target / METADATA_FILE).write_text(json.dumps(meta), encoding="utf-8")
    return target


def test_bad_metadata_gives_errors_naming_the_file(sample_dataset: Path, tmp_path: Path) -> None:
    broken = _copy(sample_dataset, tmp_path / "a")
    (broken / METADATA_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(DataSourceError, match=rf"{METADATA_FILE} line 1 column 2: not valid JSON"):
        read_parquet_dataset(broken)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"format": "something"}, "is not the metadata of an ecomlm Parquet dataset"),
        ({"ecomlm_sdk_version": "9.0.0"}, "written by ecomlm-sdk 9.0.0"),
        ({"format_version": 7}, "format_version 7"),
        ({"partitions": 0}, "key 'partitions' is 0"),
        ({"partitions": "4"}, "key 'partitions' is '4'"),
        ({"tables": {"orders": {}}}, "key 'tables' must list the tables"),
    ]
    for i, (change, message) in enumerate(cases):
        folder = _copy(sample_dataset, tmp_path / f"case{i}", **change)
        with pytest.raises(DataSourceError, match=message) as info:
            read_parquet_dataset(folder)
        assert str(folder / METADATA_FILE) in str(info.value)


def test_a_missing_file_is_named(sample_dataset: Path, tmp_path: Path) -> None:
    folder = _copy(sample_dataset, tmp_path / "c")
    lost = folder / "orders" / "part=1" / "00000000.parquet"
    lost.unlink()
    with pytest.raises(DataSourceError, match=rf"{lost} is missing, but .* lists it"):
        read_parquet_dataset(folder)
    assert read_parquet_dataset(folder, partition=2).orders.height > 0


def test_write_refuses_a_foreign_folder_and_replaces_a_dataset(tmp_path: Path) -> None:
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(DataSourceError, match="not written by ecomlm-sdk and will not be replaced"):
        write_parquet_dataset(fixture_store(), foreign)
    assert [p.name for p in foreign.iterdir()] == ["cat.jpg"]
    with pytest.raises(DataSourceError, match="it is a file"):
        write_parquet_dataset(fixture_store(), foreign / "cat.jpg")
    folder = write_parquet_dataset(small_store(0), tmp_path / "ds", 3)
    write_parquet_dataset(fixture_store(), folder, 2)
    assert dataset_partitions(folder) == 2
    assert_stores_equal(read_parquet_dataset(folder), fixture_store())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "photos"]  # no temp folder left


def test_extra_columns_round_trip_and_the_bucket_column_name_is_reserved(tmp_path: Path) -> None:
    store = fixture_store()
    with_part = store.replace(customers=store.customers.with_columns(pl.lit(7).alias("part")))
    back = read_parquet_dataset(write_parquet_dataset(with_part, tmp_path / "a", 2))
    assert_frame_equal(back.customers, with_part.customers, check_row_order=False)
    clash = store.replace(orders=store.orders.with_columns(pl.lit(1).alias("__ecomlm_part")))
    with pytest.raises(SchemaError, match=r"\['orders'\] have a column named '__ecomlm_part'"):
        write_parquet_dataset(clash, tmp_path / "b")
    with pytest.raises(SchemaError, match="reserved"):
        split_by_customer(clash, 2)
    assert not (tmp_path / "b").exists()


def test_an_empty_store_round_trips_with_its_schema(tmp_path: Path) -> None:
    empty = EcomStore()
    folder = write_parquet_dataset(empty, tmp_path / "ds", 3)
    for partition in (None, 0, 2):
        assert_stores_equal(read_parquet_dataset(folder, partition=partition), empty)
