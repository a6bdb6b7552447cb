"""``ecomlm ingest EXPORTS --to URI`` and ``ecomlm predict --source sql --output-table``."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

import ecomlm_sdk
from ecomlm_sdk.cli import main
from ecomlm_sql.connection import parse_uri


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shopify exports of 80 sample-store customers, and a purchase prediction fitted on them."""
    store = ecomlm_sdk.sample_store()
    ids = store.customers.get_column("customer_id").sort().head(80).implode()
    orders = store.orders.filter(pl.col("customer_id").is_in(ids))
    lines = store.order_lines.join(orders.select("order_id"), on="order_id", how="semi")
    folder = tmp_path_factory.mktemp("sql-cli")
    store.replace(
        customers=store.customers.filter(pl.col("customer_id").is_in(ids)),
        products=store.products.filter(pl.col("variant_id").is_in(lines["variant_id"].implode())),
        orders=orders,
        order_lines=lines,
    ).to_shopify_csv(folder / "exports")
    fitted = CliRunner().invoke(
        main,
        ["fit", "purchase-prediction", "--path", str(folder / "exports"), "--out",
         str(folder / "pp"), "--no-evaluate"],
    )  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    return folder / "exports"


def test_ingest_to_a_database_reads_back_identically(exports: Path, uri: str) -> None:
    result = CliRunner().invoke(main, ["ingest", str(exports), "--to", uri])
    assert result.exit_code == 0, result.output
    from_csv = ecomlm_sdk.load_store("shopify_csv", path=str(exports))
    from_sql = ecomlm_sdk.load_store("sql", uri=uri)
    for name, frame in from_csv.tables.items():
        key = list(ecomlm_sdk.data.schema.SCHEMA[name].key)
        assert_frame_equal(frame.sort(key), from_sql.tables[name].sort(key))


def test_predict_writes_scores_to_a_table(exports: Path, uri: str) -> None:
    assert CliRunner().invoke(main, ["ingest", str(exports), "--to", uri]).exit_code == 0
    model = exports.parent / "pp"
    base = ["predict", "--model", str(model), "--source", "sql", "--option", f"uri={uri}"]
    for _ in range(2):
        result = CliRunner().invoke(main, [*base, "--output-table", "scores", "--top", "1"])
        assert result.exit_code == 0, result.output
        assert "wrote" in result.stderr and "table scores" in result.stderr
    db = parse_uri(uri)
    with db.connect(read_only=True) as con:
        read = pl.from_arrow(db.fetch_arrow(con, 'SELECT * FROM "scores"'))
    assert isinstance(read, pl.DataFrame)
    customers = ecomlm_sdk.load_store("sql", uri=uri).customers.height
    assert read.height == 2 * customers and read["run_id"].n_unique() == 2
    assert {"customer_id", "expected_revenue", "run_id", "written_at"} <= set(read.columns)
    upsert = CliRunner().invoke(
        main, [*base, "--output-table", "scores", "--table-mode", "upsert", "--top", "1"]
    )
    assert upsert.exit_code == 0, upsert.output
    with db.connect(read_only=True) as con:
        count = db.fetch_arrow(con, 'SELECT COUNT(*) FROM "scores"').column(0)[0].as_py()
    assert count == customers


def test_output_table_needs_a_source_that_writes(exports: Path) -> None:
    model = exports.parent / "pp"
    alone = CliRunner().invoke(main, ["predict", "--model", str(model), "--output-table", "t"])
    assert alone.exit_code == 2 and "--output-table needs --source" in alone.output
    csv = CliRunner().invoke(
        main,
        ["predict", "--model", str(model), "--source", "shopify_csv", "--path", str(exports),
         "--output-table", "t"],
    )  # fmt: skip
    assert csv.exit_code == 2 and "cannot write results" in csv.output and "sql" in csv.output


def test_recommend_writes_lists_to_a_table(exports: Path, tmp_path: Path) -> None:
    uri = f"duckdb:///{tmp_path / 'shop.duckdb'}"
    assert CliRunner().invoke(main, ["ingest", str(exports), "--to", uri]).exit_code == 0
    base = ["recommend", "--source", "sql", "--option", f"uri={uri}", "-k", "3"]
    result = CliRunner().invoke(main, [*base, "--output-table", "recs"])
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(main, [*base, "--output-table", "recs", "--table-mode", "upsert"])
    assert again.exit_code == 0, again.output
    db = parse_uri(uri)
    with db.connect(read_only=True) as con:
        read = pl.from_arrow(db.fetch_arrow(con, 'SELECT * FROM "recs"'))
    assert isinstance(read, pl.DataFrame)
    assert read["run_id"].n_unique() == 1  # the upsert replaced every customer's list
    per_customer = read.group_by("customer_id").len()["len"]
    assert per_customer.max() == 3 and {"rank", "product_id", "written_at"} <= set(read.columns)
