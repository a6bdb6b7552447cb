"""The ecomlm CLI: data commands on real (sample-store) exports, JSON output, errors and exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

import ecomlm_sdk
from ecomlm_sdk import testing
from ecomlm_sdk.cli import main


@pytest.fixture(scope="module")
def exports(sample_exports: Callable[[int], Path]) -> Path:
    """Shopify exports of 120 real customers of the sample store: their orders and products."""
    return sample_exports(120)


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


# ------------------------------------------------------------------ saved models (issue 13, item 3)
def _invoke(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def saved(exports: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """purchase-prediction and recommendation fitted on ``exports`` by ``ecomlm fit``."""
    folder = tmp_path_factory.mktemp("models")
    _invoke("fit", "purchase-prediction", "--path", str(exports), "--out", str(folder / "pp"))
    _invoke(
        "fit", "recommendation", "--path", str(exports), "--out", str(folder / "rec"),
        "--option", "embedder=null", "--option", "k=3",
    )  # fmt: skip
    return {"pp": folder / "pp", "rec": folder / "rec"}


def test_load_task_loads_any_saved_task(saved: dict[str, Path]) -> None:
    pp = ecomlm_sdk.load_task(saved["pp"])
    assert type(pp) is type(ecomlm_sdk.task("purchase-prediction")) and pp.fitted
    rec = ecomlm_sdk.Task.load(saved["rec"])  # the base class dispatches by the saved name
    assert type(rec) is type(ecomlm_sdk.task("recommendation", embedder=None))
    assert rec.options.k == 3
    assert rec.store_fingerprint is not None and rec.store_fingerprint["customers"] == 120
    meta = json.loads((saved["rec"] / "ecomlm_task.json").read_text())
    assert meta["store"]["digest"] == rec.store_fingerprint["digest"]


def test_predict_with_saved_model_writes_every_format(
    exports: Path, saved: dict[str, Path], tmp_path: Path
) -> None:
    for name in ("scores.csv", "scores.parquet", "scores.jsonl"):
        result = _invoke(
            "predict", "--model", str(saved["pp"]), "--path", str(exports), "--output",
            str(tmp_path / name), "--top", "2",
        )  # fmt: skip
        assert "warning" not in result.stderr  # the store it was fitted on
    csv = pl.read_csv(tmp_path / "scores.csv", schema_overrides={"customer_id": pl.String})
    parquet = pl.read_parquet(tmp_path / "scores.parquet")
    jsonl = pl.read_ndjson(tmp_path / "scores.jsonl")
    assert csv.height == parquet.height == jsonl.height > 0
    assert csv["customer_id"].to_list() == parquet["customer_id"].to_list()
    assert parquet["p_buy"].to_list() == pytest.approx(jsonl["p_buy"].to_list(), rel=1e-9)
    bad = CliRunner().invoke(
        main, ["predict", "--model", str(saved["rec"]), "--path", str(exports), "--top", "1"]
    )
    assert bad.exit_code == 1 and "'recommendation' task" in bad.output
    wrong = CliRunner().invoke(
        main, ["predict", "--model", str(saved["pp"]), "--path", str(exports), "--horizon", "7"]
    )
    assert wrong.exit_code == 2


def test_saved_model_on_another_store_warns(saved: dict[str, Path], tmp_path: Path) -> None:
    other = ecomlm_sdk.sample_store()
    ids = other.customers.get_column("customer_id").sort().tail(60).implode()
    orders = other.orders.filter(pl.col("customer_id").is_in(ids))
    lines = other.order_lines.join(orders.select("order_id"), on="order_id", how="semi")
    other.replace(
        customers=other.customers.filter(pl.col("customer_id").is_in(ids)),
        products=other.products.filter(pl.col("variant_id").is_in(lines["variant_id"].implode())),
        orders=orders,
        order_lines=lines,
    ).to_shopify_csv(tmp_path / "other")
    result = _invoke(
        "predict", "--model", str(saved["pp"]), "--path", str(tmp_path / "other"), "--top", "1"
    )
    assert "warning: purchase-prediction: this task was fitted on another store" in result.stderr
    assert "120 customers" in result.stderr and "60 customers" in result.stderr


def test_recommend_with_saved_model_names_unknown_ids(
    exports: Path, saved: dict[str, Path], tmp_path: Path
) -> None:
    model = ["--model", str(saved["rec"]), "--path", str(exports)]
    every = _invoke("recommend", *model, "--output", str(tmp_path / "recs.csv"))
    recs = pl.read_csv(tmp_path / "recs.csv", schema_overrides={"customer_id": pl.String})
    assert recs.columns[-1] == "cold_start" and recs["customer_id"].n_unique() == 120
    assert "unknown" not in every.stderr
    known = recs["customer_id"][0]
    result = _invoke("recommend", known, "99999999", *model, "--json")
    assert "unknown customer id(s) 99999999" in result.stderr and known not in result.stderr
    rows = json.loads(result.stdout)
    assert {r["customer_id"]: r["cold_start"] for r in rows} == {known: False, "99999999": True}
    strict = CliRunner().invoke(main, ["recommend", "99999999", *model, "--strict"])
    assert strict.exit_code == 1 and "99999999" in strict.output
    usage = CliRunner().invoke(main, ["recommend", *model])
    assert usage.exit_code == 2


def test_fit_rejects_bad_options(exports: Path, tmp_path: Path) -> None:
    unknown = CliRunner().invoke(
        main, ["fit", "no-such-task", "--path", str(exports), "--out", str(tmp_path / "x")]
    )
    assert unknown.exit_code == 1 and "no-such-task" in unknown.output
    bad = CliRunner().invoke(
        main,
        ["fit", "recommendation", "--path", str(exports), "--out", str(tmp_path / "y"),
         "--option", "colour"],
    )  # fmt: skip
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output


def test_write_table_joins_lists_for_csv(tmp_path: Path) -> None:
    frame = pl.DataFrame({"customer_id": ["a"], "products": [["Mug", "Tea"]]})
    ecomlm_sdk.write_table(frame, tmp_path / "copy.csv")
    assert pl.read_csv(tmp_path / "copy.csv")["products"].to_list() == ["Mug|Tea"]
    ecomlm_sdk.write_table(frame, tmp_path / "copy.parquet")
    assert pl.read_parquet(tmp_path / "copy.parquet")["products"].to_list() == [["Mug", "Tea"]]
    with pytest.raises(ecomlm_sdk.TaskError, match=r"\.csv, \.parquet, \.jsonl"):
        ecomlm_sdk.write_table(frame, tmp_path / "copy.xlsx")


class _FakeModels:
    @ecomlm_sdk.hookimpl
    def register_models(self, register: Any) -> None:
        for model in (testing.FakeClassifier, testing.FakeEmbedder, testing.FakeGenerator):
            register(model)


def test_copy_and_support_with_saved_models(exports: Path, tmp_path: Path) -> None:
    with testing.registered_plugin(_FakeModels(), name="cli-fakes"):
        _invoke(
            "fit", "generate-copy", "--path", str(exports), "--out", str(tmp_path / "copy"),
            "--option", "generator=fake-generator", "--option", "train_generator=false",
            "--option", "recommender=null",
        )  # fmt: skip
        _invoke("copy", "--model", str(tmp_path / "copy"), "--path", str(exports),
                "--output", str(tmp_path / "copy.csv"))  # fmt: skip
        written = pl.read_csv(tmp_path / "copy.csv")
        assert written.height > 0 and {"subject", "blurb", "products"} <= set(written.columns)
        assert written["products"].str.contains("|", literal=True).any()
        _invoke(
            "fit", "support", "--path", str(exports), "--out", str(tmp_path / "support"),
            "--option", "classifier=fake-classifier", "--option", "embedder=fake-embedder",
            "--option", "examples_per_intent=20",
        )  # fmt: skip
        result = _invoke(
            "support", "ask", "How can I get a refund?", "--model", str(tmp_path / "support"),
            "--path", str(exports), "--output", str(tmp_path / "reply.jsonl"), "--json",
        )  # fmt: skip
        reply = json.loads(result.stdout)
        assert pl.read_ndjson(tmp_path / "reply.jsonl")["intent"].to_list() == [reply["intent"]]


# ------------------------------------------------------------------ target lists (issue 13, item 4)
@pytest.fixture(scope="module")
def consenting(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Exports of 150 sample customers, two in three consenting, and a prediction fitted on them."""
    store = ecomlm_sdk.sample_store()
    ids = store.customers.get_column("customer_id").sort().head(150).implode()
    orders = store.orders.filter(pl.col("customer_id").is_in(ids))
    lines = store.order_lines.join(orders.select("order_id"), on="order_id", how="semi")
    customers = store.customers.filter(pl.col("customer_id").is_in(ids)).with_columns(
        accepts_marketing=pl.int_range(pl.len()) % 3 != 0
    )
    folder = tmp_path_factory.mktemp("consenting")
    store.replace(
        customers=customers,
        products=store.products.filter(pl.col("variant_id").is_in(lines["variant_id"].implode())),
        orders=orders,
        order_lines=lines,
    ).to_shopify_csv(folder / "exports")
    _invoke(
        "fit", "purchase-prediction", "--path", str(folder / "exports"), "--out",
        str(folder / "pp"),
    )  # fmt: skip
    return folder / "exports", folder / "pp"


def test_plan_writes_consenting_targets_in_three_formats(
    consenting: tuple[Path, Path], tmp_path: Path
) -> None:
    exports, model = consenting
    base = ["plan", "--model", str(model), "--path", str(exports), "--budget", "3"]
    result = _invoke(*base, "--output", str(tmp_path / "targets.csv"), "--json")
    summary = json.loads(result.stdout)
    assert 0 < summary["contacts"] <= 30 and summary["total_cost"] <= 3 + 1e-9
    assert summary["skipped_without_consent"] > 0
    targets = pl.read_csv(tmp_path / "targets.csv", schema_overrides={"customer_id": pl.String})
    assert targets.columns[:12] == [
        "customer_id", "email", "first_name", "last_name", "accepts_marketing", "p_buy",
        "expected_revenue", "expected_incremental_profit", "segment", "products", "subject",
        "blurb",
    ]  # fmt: skip
    assert targets.height == summary["contacts"] and targets["accepts_marketing"].all()
    assert targets["email"].null_count() == 0 and targets["subject"].null_count() == 0
    assert targets["products"].str.contains("|", literal=True).any()
    assert targets["rank"].to_list() == list(range(1, targets.height + 1))

    _invoke(
        *base, "--format", "profiles", "--tag", "spring-vip", "--output", str(tmp_path / "p.csv")
    )
    profiles = pl.read_csv(tmp_path / "p.csv")
    assert profiles.columns[:4] == ["Email", "First Name", "Last Name", "Tags"]
    assert profiles["Email"].to_list() == targets["email"].to_list()
    assert set(profiles["Tags"]) == {"spring-vip"}

    shopify = tmp_path / "shopify" / "customers.csv"
    _invoke(
        *base, "--format", "shopify", "--tag", "ecomlm-target-2026-12", "--output", str(shopify)
    )
    back = ecomlm_sdk.load_store("shopify_csv", path=str(shopify))  # the Shopify reader
    assert set(back.customers["customer_id"]) == set(targets["customer_id"])
    assert all("ecomlm-target-2026-12" in tags for tags in back.customers["tags"].to_list())
    assert back.customers["accepts_marketing"].all()

    everyone = _invoke(*base, "--include-non-consenting", "--output", str(tmp_path / "all.csv"))
    assert "left out" not in everyone.output


def test_target_list_python_api(consenting: tuple[Path, Path], tmp_path: Path) -> None:
    from ecomlm_sdk.app.targets import TARGET_COLUMNS, target_list, write_targets

    exports, model = consenting
    store = ecomlm_sdk.load_store("shopify_csv", path=str(exports))
    targets = target_list(store, ecomlm_sdk.load_task(model), budget=1.0)
    assert targets.targets.columns == list(TARGET_COLUMNS)
    assert 0 < targets.plan.contacts <= 10 and targets.targets["accepts_marketing"].all()
    written = write_targets(targets, tmp_path / "t.parquet")
    assert pl.read_parquet(written)["products"].dtype == pl.List(pl.String)
    with pytest.raises(ecomlm_sdk.TaskError, match="needs the store"):
        write_targets(targets, tmp_path / "s.csv", format="shopify")


def test_fit_evaluates_first_and_saves_the_fallback(exports: Path, tmp_path: Path) -> None:
    # A "hybrid" of best sellers only: on real customers buy-again beats it by far.
    args = ["fit", "recommendation", "--path", str(exports), "--option", "embedder=null",
            "--option", 'weights={"popularity": 1.0}']  # fmt: skip
    result = _invoke(*args, "--out", str(tmp_path / "rec"), "--json")
    payload = json.loads(result.stdout)
    assert payload["evaluation"]["metric"] == "ndcg@10"
    assert payload["evaluation"]["baseline"] > payload["evaluation"]["model"]
    assert payload["fallback"] == payload["evaluation"]["fallback"]
    assert payload["fallback"]["baseline"] == payload["evaluation"]["strongest_baseline"]
    meta = json.loads((tmp_path / "rec" / "ecomlm_task.json").read_text())
    assert meta["fallback"] == payload["fallback"]
    assert ecomlm_sdk.load_task(tmp_path / "rec").fallback == payload["fallback"]
    text = _invoke(*args, "--out", str(tmp_path / "rec2"))
    assert "strongest baseline" in text.stdout and "the saved task serves it" in text.stdout
    plain = _invoke(*args, "--out", str(tmp_path / "rec3"), "--no-evaluate", "--json")
    assert json.loads(plain.stdout)["fallback"] is None
