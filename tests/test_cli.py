"""The ecomlm CLI: data commands on real (sample-store) exports, JSON output, errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import ecomlm_sdk
from ecomlm_sdk.cli import main


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shopify exports of 120 real customers of the sample store: their orders and products."""
    store = ecomlm_sdk.sample_store()
    ids = store.customers.get_column("customer_id").sort().head(120).implode()
    orders = store.orders.filter(pl.col("customer_id").is_in(ids))
    lines = store.order_lines.join(orders.select("order_id"), on="order_id", how="semi")
    small = store.replace(
        customers=store.customers.filter(pl.col("customer_id").is_in(ids)),
        products=store.products.filter(pl.col("variant_id").is_in(lines["variant_id"].implode())),
        orders=orders,
        order_lines=lines,
    )
    folder = tmp_path_factory.mktemp("exports")
    small.to_shopify_csv(folder)
    return folder


def test_ingest_json_accounts_for_every_row(exports: Path) -> None:
    result = CliRunner().invoke(main, ["ingest", str(exports), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["tables"]["customers"] == 120
    for entry in payload["load_report"]:
        assert entry["rows_read"] == entry["rows_loaded"] + entry["rows_rejected"]
    table = CliRunner().invoke(main, ["ingest", str(exports)])
    assert table.exit_code == 0 and "orders" in table.output and "total" in table.output


def test_ingest_bad_file_strict_is_one_line_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "orders.csv"
    bad.write_text(
        "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price\n#1,a@b.c,not a date,1,Mug,3.00\n"
    )
    result = CliRunner().invoke(main, ["ingest", str(bad), "--strict"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "orders.csv" in lines[0]
    assert "Traceback" not in result.output
    debug = CliRunner().invoke(main, ["--debug", "ingest", str(bad), "--strict"])
    assert debug.exit_code == 1


def test_usage_error_exit_2() -> None:
    result = CliRunner().invoke(main, ["ingest", "/no/such/folder"])
    assert result.exit_code == 2


def test_predict_and_recommend_json(exports: Path) -> None:
    predicted = CliRunner().invoke(
        main, ["predict", "--path", str(exports), "--top", "5", "--json"]
    )
    assert predicted.exit_code == 0, predicted.output
    rows = json.loads(predicted.output)
    assert len(rows) == 5 and {"customer_id", "p_buy", "expected_revenue"} <= set(rows[0])
    assert all(0.0 <= r["p_buy"] <= 1.0 for r in rows)
    assert [r["expected_revenue"] for r in rows] == sorted(
        (r["expected_revenue"] for r in rows), reverse=True
    )

    customer = rows[0]["customer_id"]
    recommended = CliRunner().invoke(
        main, ["recommend", customer, "--path", str(exports), "-k", "3", "--json"]
    )
    assert recommended.exit_code == 0, recommended.output
    picks = json.loads(recommended.output)
    assert [p["rank"] for p in picks] == [1, 2, 3] and all(
        p["customer_id"] == customer for p in picks
    )
