"""The ``generate-copy`` task on fake models (fast), plus one run with the real ``gpt2``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Self

import polars as pl
import pytest

import ecomlm_sdk
from ecomlm_sdk import EcomStore, TaskError, testing
from ecomlm_sdk.hookspecs import hookimpl
from ecomlm_sdk.models.base import GenerationOptions, TextGenerator
from ecomlm_sdk.tasks.copy import CopyTask, build_corpus, customer_segments, nice_title
from ecomlm_sdk.tasks.copy.corpus import relexicalize
from ecomlm_sdk.tasks.copy.scoring import distinct_n

_PRODUCTS = re.compile(r"Products: ([^|]+) \|")
_PRODUCT = re.compile(r"Product: ([^|]+) \|")
_NONE = re.compile("(something)").search("something")


class TemplateLearner(TextGenerator):
    """Trainable fake: learns the corpus, then writes ``Welcome back: {p1} and {p2} are here``
    (a new, fluent combination of two templates) and a templated blurb; with titles instead of
    slots when the corpus is not delexicalised.

    ``mode`` switches to misbehaviour: ``"pii"`` writes an email address, ``"other"`` names
    a product that was not featured, ``"broken-slot"`` an unknown slot, ``"stutter"`` a
    repeated word.
    """

    name: ClassVar[str] = "template-learner"
    prompts: ClassVar[list[str]] = []
    mode: ClassVar[str] = "good"

    delexicalized = True

    def fit(self, texts: list[str], *, from_scratch: bool = False, **kwargs: Any) -> Self:
        self.corpus = list(texts)
        self.delexicalized = any("{p1}" in t for t in texts)
        self.fit_kwargs = {"from_scratch": from_scratch, **kwargs}
        return self

    def _generate(self, prompts: list[str], config: GenerationOptions) -> list[list[str]]:
        type(self).prompts.extend(prompts)
        outs = []
        for prompt in prompts:
            titles = (_PRODUCTS.search(prompt) or _PRODUCT.search(prompt) or _NONE).group(1)
            names = [t.strip() for t in titles.split(";")] + ["more"]
            p1, p2 = ("{p1}", "{p2}") if self.delexicalized else (names[0], names[1])
            if prompt.endswith("Blurb:"):
                text = f" {p1} makes a lovely gift. Order today and it ships this week."
            else:  # a new combination of two subject templates
                text = f" Welcome back: {p1} and {p2} are here"
            mode = type(self).mode
            if mode == "pii":
                text = f" Write to ann@example.com about {p1}"
            elif mode == "other":
                text = " Welcome back: Golden Teapot Deluxe"
            elif mode == "broken-slot":
                text = " Welcome back: {p3} and {p1} are here"
            elif mode == "stutter":
                text = f" Welcome back: {p1} and and {p2} are here"
            outs.append([text + "\nAudience: junk"] * config.num_return_sequences)
        return outs

    def save(self, path: str | Path) -> Path:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "corpus.json").write_text(json.dumps(self.corpus))
        return folder

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Self:
        model = cls(**options)
        model.corpus = json.loads((Path(path) / "corpus.json").read_text())
        return model


class FakeRecommendation(ecomlm_sdk.Task):
    """Recommends the alphabetically last products to everyone (so we can tell it was used)."""

    name: ClassVar[str] = "fake-recommendation"

    class Options(ecomlm_sdk.TaskOptions):
        k: int = 10

    def _fit(self, store: EcomStore) -> None:
        self.products = sorted(store.products.get_column("product_id").unique().to_list())[::-1]

    def recommend(self, customer_ids: list[str], **kwargs: Any) -> pl.DataFrame:
        k = int(getattr(self.options, "k", 10))
        rows = [(c, r + 1, p) for c in customer_ids for r, p in enumerate(self.products[:k])]
        return pl.DataFrame(rows, schema=["customer_id", "rank", "product_id"], orient="row")

    def _predict(self, store: EcomStore) -> pl.DataFrame:
        return self.recommend(store.customers.get_column("customer_id").to_list())

    def _evaluate(self, store: EcomStore, cutoff: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _save(self, folder: Path) -> None:
        raise TaskError("fake recommendation cannot be saved")

    def _load(self, folder: Path) -> None:
        raise NotImplementedError


class Fakes:
    @hookimpl
    def register_models(self, register: Any) -> None:
        register(TemplateLearner)
        register(testing.FakeGenerator)

    @hookimpl
    def register_tasks(self, register: Any) -> None:
        register(FakeRecommendation)


FAKE = {"generator": "template-learner", "recommender": None}


@pytest.fixture(autouse=True)
def fakes() -> Iterator[None]:
    TemplateLearner.prompts.clear()
    TemplateLearner.mode = "good"
    with testing.registered_plugin(Fakes(), name="copy-fakes"):
        yield


def test_segments_of_the_fixture_store(store: EcomStore) -> None:
    segments = customer_segments(store).sort("customer_id")
    assert segments.get_column("segment").to_list() == ["at_risk", "regular", "new", "vip"]
    assert segments.get_column("orders").to_list() == [2, 2, 1, 1]
    assert segments.filter(pl.col("customer_id") == "c1")["recency_days"][0] == pytest.approx(139)
    late = customer_segments(store, as_of="2012-06-01").sort("customer_id")
    assert late.get_column("segment").to_list() == ["lapsed"] * 4
    extra = store.replace(
        customers=pl.concat(
            [store.customers, pl.DataFrame({"customer_id": ["c9"]})], how="diagonal_relaxed"
        )
    )
    assert customer_segments(extra).filter(pl.col("customer_id") == "c9")["segment"][0] == (
        "prospect"
    )


def test_corpus_and_titles() -> None:
    assert nice_title("WHITE HANGING  HEART T-LIGHT HOLDER") == "White Hanging Heart T-light Holder"
    assert nice_title("CHILDREN'S APRON") == "Children's Apron"
    assert nice_title("Heart mug") == "Heart mug"
    corpus = build_corpus(["Heart mug", "Star lamp"], size=10, seed=1)
    assert len(corpus) == 10 and corpus == build_corpus(["Heart mug", "Star lamp"], size=10, seed=1)
    assert all("| Subject: " in line for line in corpus[::2])
    assert all("| Blurb: " in line for line in corpus[1::2])
    assert build_corpus([], size=10) == []
    titled = build_corpus(["Heart mug", "Star lamp"], size=10, seed=1, delexicalize=False)
    assert not any("{p" in line for line in titled)
    assert distinct_n(["a b c", "a b d"]) == pytest.approx(3 / 4)


def test_relexicalize() -> None:
    two = ["HEART MUG", "Star lamp"]
    assert relexicalize("Meet {p1} and {p2}", two) == "Meet Heart Mug and Star lamp"
    assert relexicalize("Also {p2}", two) == "Also Star lamp"
    assert relexicalize("Also {p2}", ["Heart mug"]) is None  # {p2} alone is "more"
    assert relexicalize("No product here", two) is None
    assert relexicalize("Meet {p1} and {p3}", two) is None


def test_generate_writes_on_product_copy_without_pii(store: EcomStore) -> None:
    task: CopyTask = ecomlm_sdk.task("generate-copy", **FAKE).fit(store)
    assert task.recommender is not None and task.recommender.source == "fallback"
    assert task.generator is not None and task.generator.fit_kwargs == {"from_scratch": True}
    copy = task.generate(["c1", "c3"], store)
    c1 = copy.row(0, named=True)
    # c1 bought mugs (3), cards (2) then the shop's most popular product fills the list.
    assert c1["products"] == ["Heart mug", "Birthday card", "Star lamp"]
    assert (c1["segment"], c1["subject"], c1["subject_generated"]) == (
        "at_risk",
        "Welcome back: Heart mug and Birthday card are here",
        True,
    )
    assert c1["blurb"] == "Heart mug makes a lovely gift. Order today and it ships this week."
    assert all("{p1}" in line for line in task.generator.corpus)  # delexicalised training text
    prompts = " ".join(TemplateLearner.prompts)
    for pii in ("ann@example.com", "Ann", "c1", "c3"):
        assert pii not in prompts
    assert "Audience: customer drifting away | Products: Heart mug; Birthday card" in prompts


@pytest.mark.parametrize("mode", ["pii", "other", "broken-slot", "stutter"])
def test_unusable_generations_fall_back_to_templates(store: EcomStore, mode: str) -> None:
    TemplateLearner.mode = mode
    copy = ecomlm_sdk.task("generate-copy", **FAKE).fit(store).generate(["c4"], store)
    row = copy.row(0, named=True)
    assert not row["subject_generated"] and not row["blurb_generated"]
    assert row["subject"] == "First look for our best customers: Star lamp"
    assert "@" not in row["blurb"] and "Golden Teapot" not in row["subject"]


def test_predict_skips_customers_who_declined_marketing(store: EcomStore) -> None:
    task = ecomlm_sdk.task("generate-copy", **FAKE).fit(store)
    assert task.predict(store).get_column("customer_id").to_list() == ["c1", "c3", "c4"]
    everyone = ecomlm_sdk.task("generate-copy", only_consenting=False, **FAKE).fit(store)
    assert everyone.predict(store).height == 4


def test_uses_the_registered_recommendation_task(store: EcomStore) -> None:
    task = ecomlm_sdk.task(
        "generate-copy", generator="template-learner", recommender="fake-recommendation"
    ).fit(store)
    assert task.recommender is not None and task.recommender.source == "task:fake-recommendation"
    copy = task.generate(["c1"], store)
    assert copy.row(0, named=True)["products"] == ["Canvas tote", "Heart mug", "Star lamp"]


def test_without_delexicalisation_the_generator_writes_titles(store: EcomStore) -> None:
    task = ecomlm_sdk.task("generate-copy", delexicalize=False, **FAKE).fit(store)
    assert task.generator is not None and not any("{p1}" in t for t in task.generator.corpus)
    row = task.generate(["c3"], store).row(0, named=True)
    assert (row["subject"], row["subject_generated"]) == (
        "Welcome back: Star lamp and Heart mug are here",
        True,
    )
    TemplateLearner.mode = "other"
    assert not task.generate(["c3"], store).row(0, named=True)["subject_generated"]


def test_exclude_owned_features_only_new_products(store: EcomStore) -> None:
    task = ecomlm_sdk.task("generate-copy", exclude_owned=True, **FAKE).fit(store)
    products = task.generate(["c1"], store).row(0, named=True)["products"]
    assert products == ["Star lamp", "Canvas tote"]  # c1 owns the mug and the card


def test_generator_without_fit_needs_train_generator_false(store: EcomStore) -> None:
    with pytest.raises(TaskError, match="train_generator=False"):
        ecomlm_sdk.task("generate-copy", generator="fake-generator", recommender=None).fit(store)
    task = ecomlm_sdk.task(
        "generate-copy", generator="fake-generator", recommender=None, train_generator=False
    )
    assert task.fit(store).generate(["c1"], store).height == 1
    with pytest.raises(ecomlm_sdk.NotFittedError):
        ecomlm_sdk.task("generate-copy").generate(["c1"], store)


def test_save_load_round_trip(store: EcomStore, tmp_path: Path) -> None:
    task = ecomlm_sdk.task("generate-copy", **FAKE)
    predictions = testing.check_task(task, store, tmp_path)
    assert predictions.height == 3


def test_evaluate_with_cutoff(store: EcomStore) -> None:
    report = ecomlm_sdk.task("generate-copy", **FAKE).evaluate(store, cutoff="2011-04-01")
    m = report.metrics
    assert m["customers"] == 2  # c1 and c2 bought before April
    assert m["generated_rate"] == 1.0 and m["pii_outputs"] == 0.0
    assert m["subject_mentions_product"] == 1.0
    assert m["novel_subject_rate"] == 1.0  # a combination no template has
    # After April, of these two only c2 buys (#1006 of c1 is cancelled): a tote (#1008), which
    # nobody had bought before April, so neither c2's email nor the popularity list featured it.
    assert m["featured_hit_customers"] == 1.0 and m["featured_hit_rate"] == 0.0
    assert report.baselines["popularity"]["featured_hit_rate"] == 0.0
    assert set(report.baselines) == {"template", "popularity"}
    assert report.details["generator"].startswith("template-learner trained from scratch in")
    assert report.details["products_from"] == "fallback"
    with pytest.raises(TaskError, match="unknown argument"):
        ecomlm_sdk.task("generate-copy", **FAKE).evaluate(store, k=3)


def test_real_gpt2_trains_offline_and_writes(store: EcomStore) -> None:
    task = ecomlm_sdk.task(
        "generate-copy",
        recommender=None,
        corpus_size=40,
        generator_options={"name_or_path": None, "device": "cpu", "quiet": True},
        generator_fit_options={"epochs": 1, "n_layer": 1, "n_embd": 32, "n_head": 2},
        max_new_tokens=8,
    ).fit(store)
    copy = task.predict(store)
    assert copy.height == 3
    assert task.generator_note == (
        "gpt2 trained from scratch in this run on 40 lines: the shop's product titles set into "
        "ecomlm-sdk's copy templates"
    )
    assert all(len(s.split()) >= 3 for s in copy.get_column("subject"))


def test_featured_hit_rate_counts_buyers_of_featured_products(store: EcomStore) -> None:
    from ecomlm_sdk.tasks.copy.scoring import featured_hit_rate

    future = store.split("2011-04-01")[1]
    # Buyers after April: c2 (tote), c3 (lamp, mug), c4 (lamp); c1 only has a cancelled order.
    featured = {"c1": ["Heart mug"], "c2": ["Canvas tote"], "c3": ["Birthday card"], "c4": []}
    assert featured_hit_rate(featured, future) == (pytest.approx(1 / 3), 3)


def test_fluency_allows_recombination_but_not_stutter() -> None:
    from ecomlm_sdk.tasks.copy.corpus import completion_ngrams, fluent

    corpus = build_corpus(["Heart mug", "Star lamp", "Canvas tote"], size=400, seed=0)
    subjects, blurbs = completion_ngrams(corpus, "subject"), completion_ngrams(corpus, "blurb")
    assert fluent("We miss you: {p1} and {p2} are here", subjects)  # a template
    assert fluent("Welcome back: {p1} and {p2} are here", subjects)  # two templates joined
    assert not fluent("Welcome back: {p1} and and {p2} are here", subjects)  # stutter
    assert not fluent("Welcome back: {p1} and", subjects)  # stops mid-phrase
    assert not fluent("{p1}", subjects)  # no words of its own
    assert not fluent("{p1} makes a lovely gift. Order today and it ships this week.", subjects)
    assert fluent("{p1} makes a lovely gift. Order today and it ships this week.", blurbs)
