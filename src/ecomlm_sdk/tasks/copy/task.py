"""The ``generate-copy`` task: email subject lines and product blurbs per customer.

Prompts hold a customer's segment and recommended product titles, never personal data, and go
through that customer's :class:`ecomlm_sdk.privacy.Redactor` regardless (emails, phone and card
numbers, and the name, email, street, city and zip the store holds for the customer).
Recommendations come from the task registered as ``recommendation`` when there is one, else from the customer's own most-bought
products topped up by the shop's most popular ones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from ecomlm_sdk._persist import read_json, write_json
from ecomlm_sdk.data.store import Cutoff, EcomStore
from ecomlm_sdk.errors import ModelError, TaskError, UnknownComponentError
from ecomlm_sdk.models.base import TextGenerator
from ecomlm_sdk.plugins import resolve_class
from ecomlm_sdk.privacy import CustomerRedactors, contains_pii, install_log_redaction
from ecomlm_sdk.tasks.base import EvaluateOptions, EvaluationReport, Task, TaskOptions
from ecomlm_sdk.tasks.copy.corpus import (
    blurb_prompt,
    build_corpus,
    completion_ngrams,
    fluent,
    nice_title,
    relexicalize,
    subject_prompt,
    template_blurb,
    template_subject,
)
from ecomlm_sdk.tasks.copy.recommend import Recommender
from ecomlm_sdk.tasks.copy.scoring import score_copy
from ecomlm_sdk.tasks.copy.segments import customer_segments

__all__ = ["CopyOptions", "CopyTask"]

logger = logging.getLogger("ecomlm_sdk.tasks.copy")
install_log_redaction(logger)

#: Generator options used when ``generator_options`` is None, per generator name: the built-in
#: ``gpt2`` starts without weights and is trained from scratch on the copy corpus (offline).
OFFLINE_GENERATOR: dict[str, dict[str, Any]] = {"gpt2": {"name_or_path": None}}
#: Fit arguments used when ``generator_fit_options`` is None, per generator name: a 2-layer,
#: 64-wide GPT-2, small enough to learn the copy format in seconds on a laptop CPU.
OFFLINE_FIT: dict[str, dict[str, Any]] = {
    "gpt2": {
        "epochs": 8,
        "patience": 3,
        "n_embd": 64,
        "n_head": 2,
        "learning_rate": 5e-3,
        "batch_size": 8,
    }
}
#: Longest usable generated text, in words (a subject line or a two-sentence blurb).
MAX_WORDS = 30
_STATE_FILE = "copy_state.json"
_GENERATOR_DIR = "generator"

COPY_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "segment": pl.String(),
    "products": pl.List(pl.String()),
    "subject": pl.String(),
    "blurb": pl.String(),
    "subject_generated": pl.Boolean(),
    "blurb_generated": pl.Boolean(),
}


class CopyOptions(TaskOptions):
    """Options of the ``generate-copy`` task."""

    generator: str = Field(default="gpt2", description="Registered text generator.")
    generator_options: dict[str, Any] | None = Field(
        default=None,
        description="Options for load_model; None: offline defaults (gpt2 without weights).",
    )
    train_generator: bool = Field(
        default=True, description="Train the generator on the copy corpus in fit()."
    )
    from_scratch: bool = Field(
        default=True, description="Train a new small model and tokenizer (no hub needed)."
    )
    generator_fit_options: dict[str, Any] | None = Field(
        default=None,
        description="Keyword arguments for the generator's fit(); None: OFFLINE_FIT defaults.",
    )
    corpus_size: int = Field(default=800, ge=10, description="Training lines built for fit().")
    corpus_products: int = Field(
        default=500, ge=1, description="Most popular products whose titles go in the corpus."
    )
    recommender: str | None = Field(
        default="recommendation",
        description="Registered task recommending products; None: own top products + popularity.",
    )
    recommender_options: dict[str, Any] = Field(
        default_factory=dict, description="Options for the recommender task."
    )
    exclude_owned: bool = Field(
        default=False, description="Feature only products the customer has not bought yet."
    )
    products_per_customer: int = Field(default=3, ge=1, le=10, description="Products per email.")
    max_new_tokens: int = Field(default=24, ge=4, le=128, description="Tokens per generated text.")
    delexicalize: bool = Field(
        default=True,
        description="Train and generate with {p1}/{p2} product slots, filled with the featured "
        "titles afterwards; False: the generator writes the titles itself.",
    )
    do_sample: bool = Field(
        default=True, description="Sample (seeded by `seed`) rather than decode greedily."
    )
    candidates: int = Field(
        default=3, ge=1, le=10, description="Texts sampled per prompt; the first usable is kept."
    )
    temperature: float = Field(default=0.8, gt=0, description="Sampling temperature.")
    only_consenting: bool = Field(
        default=True, description="predict() skips customers with accepts_marketing == False."
    )
    eval_customers: int = Field(default=200, ge=1, description="Customers evaluate() writes for.")
    seed: int = Field(default=0, description="Seed of the corpus and of sampling.")


class CopyTask(Task[CopyOptions]):
    """Writes an email subject line and a product blurb for each customer.

    Example:
        ```py
        copy = ecomlm_sdk.task("generate-copy").fit(store)
        copy.generate(["17850"], store)   # customer_id, segment, products, subject, blurb, ...
        ```
    """

    name: ClassVar[str] = "generate-copy"
    Options: ClassVar[type[TaskOptions]] = CopyOptions
    #: ``evaluate()`` takes only ``cutoff``.
    EvaluateOptions: ClassVar[type[EvaluateOptions]] = EvaluateOptions
    output_schema: ClassVar[Mapping[str, pl.DataType]] = COPY_SCHEMA

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.generator: TextGenerator | None = None
        self.recommender: Recommender | None = None
        self.corpus: list[str] = []
        self._ngram_cache: dict[str, set[tuple[str, ...]]] = {}
        self.fit_summary: dict[str, float] = {}
        #: Where the generator's text comes from, e.g. "gpt2 trained from scratch in this run ...".
        self.generator_note = ""

    # ------------------------------------------------------------------ public API
    def generate(self, customer_ids: list[str], store: EcomStore) -> pl.DataFrame:
        """Write copy for ``customer_ids`` from what ``store`` knows about them.

        Returns:
            Columns ``customer_id, segment, products`` (titles), ``subject, blurb`` and
            ``subject_generated, blurb_generated`` (False where the template fallback was used).
        """
        generator, recommender = self._fitted_parts()
        if not customer_ids:
            return pl.DataFrame(schema=COPY_SCHEMA)
        segments = dict(customer_segments(store).select("customer_id", "segment").iter_rows())
        picks = recommender.recommend(customer_ids, store)
        rows = [(cid, segments.get(cid, "prospect"), picks.get(cid, [])) for cid in customer_ids]
        known = CustomerRedactors(store.customers, only=customer_ids)
        subject_prompts = [known.get(cid)(subject_prompt(seg, prods)) for cid, seg, prods in rows]
        blurb_prompts = [
            known.get(cid)(blurb_prompt(seg, prods[0] if prods else "our bestsellers"))
            for cid, seg, prods in rows
        ]
        outputs = generator.generate(
            subject_prompts + blurb_prompts,
            max_new_tokens=self.options.max_new_tokens,
            do_sample=self.options.do_sample,
            temperature=self.options.temperature,
            num_return_sequences=self.options.candidates,
            seed=self.options.seed,
            stop=["\n", " | ", "Audience:", "Subject:", "Blurb:", "Product:", "Products:"],
        )
        texts = [[str(c) for c in o] if isinstance(o, list) else [str(o)] for o in outputs]
        records = []
        for i, (cid, seg, prods) in enumerate(rows):
            lead = prods[0] if prods else "our bestsellers"
            subject, subject_ok = self._pick(
                texts[i], template_subject(seg, prods, i), prods, kind="subject"
            )
            blurb, blurb_ok = self._pick(
                texts[len(rows) + i], template_blurb(lead, i), prods[:1], kind="blurb"
            )
            records.append((cid, seg, prods, subject, blurb, subject_ok, blurb_ok))
        logger.info("generate-copy: wrote copy for %d customers", len(records))
        return pl.DataFrame(records, schema=COPY_SCHEMA, orient="row")

    # ------------------------------------------------------------------ Task stages
    def _fit(self, store: EcomStore) -> None:
        started = time.perf_counter()
        self.recommender = Recommender.fit(
            store,
            name=self.options.recommender,
            options=self.options.recommender_options,
            k=self.options.products_per_customer,
            exclude_owned=self.options.exclude_owned,
        )
        titles = self.recommender.popular_titles(self.options.corpus_products)
        self._ngram_cache = {}
        self.corpus = build_corpus(
            titles,
            size=self.options.corpus_size,
            seed=self.options.seed,
            delexicalize=self.options.delexicalize,
        )
        generator = self._new_generator()
        if self.options.train_generator:
            if not self.corpus:
                raise TaskError(
                    "generate-copy cannot train its generator: the store has no purchased "
                    "products with titles; load a store with orders, or pass "
                    "train_generator=False with a pretrained generator"
                )
            fit = getattr(generator, "fit", None)
            if fit is None:
                raise TaskError(
                    f"Generator {self.options.generator!r} has no fit(); pass "
                    "train_generator=False to use it as it is"
                )
            fit_options = self.options.generator_fit_options
            if fit_options is None:
                fit_options = OFFLINE_FIT.get(self.options.generator, {})
            if self.options.from_scratch:
                fit_options = {"from_scratch": True, **fit_options}
            fit(self.corpus, **fit_options)
        self.generator = generator
        name, lines = self.options.generator, len(self.corpus)
        if not self.options.train_generator:
            self.generator_note = f"{name}, used as loaded (not trained by ecomlm-sdk)"
        else:
            how = "trained from scratch" if self.options.from_scratch else "fine-tuned"
            self.generator_note = (
                f"{name} {how} in this run on {lines} lines: the shop's product titles set "
                "into ecomlm-sdk's copy templates"
            )
        logger.info("generate-copy: generator is %s", self.generator_note)
        self.fit_summary = {
            "fit_seconds": time.perf_counter() - started,
            "corpus_lines": float(len(self.corpus)),
        }

    def _predict(self, store: EcomStore) -> pl.DataFrame:
        customers = store.customers
        if self.options.only_consenting:
            customers = customers.filter(pl.col("accepts_marketing").fill_null(True))
        return self.generate(customers.get_column("customer_id").to_list(), store)

    def _evaluate(self, store: EcomStore, cutoff: Cutoff | None, **kwargs: Any) -> EvaluationReport:
        history, future = store.split(cutoff) if cutoff is not None else (store, None)
        trainee = self.clone()
        trainee._fit(history)
        buyers = history.purchases().get_column("customer_id").unique().sort()
        sample = buyers.sample(
            min(self.options.eval_customers, buyers.len()), seed=self.options.seed
        ).sort()
        started = time.perf_counter()
        copy = trainee.generate(sample.to_list(), history)
        seconds = time.perf_counter() - started
        assert trainee.recommender is not None
        report = score_copy(
            copy,
            corpus=trainee.corpus,
            future=future,
            popular=trainee.recommender.popular_titles(self.options.products_per_customer),
            cutoff=cutoff,
            extra={**trainee.fit_summary, "generate_seconds": seconds},
        )
        details = {
            **report.details,
            "generator": trainee.generator_note,
            "products_from": trainee.recommender.source,
        }
        return report.model_copy(update={"details": details})

    def _save(self, folder: Path) -> None:
        generator, recommender = self._fitted_parts()
        try:
            generator.save(folder / _GENERATOR_DIR)
        except ModelError as exc:
            raise TaskError(
                f"Cannot save task 'generate-copy': generator {self.options.generator!r} cannot "
                f"be saved ({exc}); use a generator plugin that implements save()/load()"
            ) from exc
        recommender.save(folder)
        state = {
            "corpus": self.corpus,
            "fit_summary": self.fit_summary,
            "generator_note": self.generator_note,
        }
        write_json(folder / _STATE_FILE, state)

    def _load(self, folder: Path) -> None:
        cls = resolve_class("model", self.options.generator, TextGenerator)
        # The saved folder holds the weights (Task.load has refused options naming others).
        generator = cls.load(
            folder / _GENERATOR_DIR, **self.saved_model_options(self._generator_options())
        )
        if not isinstance(generator, TextGenerator):
            raise TaskError(f"{self.options.generator!r} did not load a TextGenerator")
        self.generator = generator
        self.recommender = Recommender.load(
            folder,
            name=self.options.recommender,
            k=self.options.products_per_customer,
            exclude_owned=self.options.exclude_owned,
        )
        path = folder / _STATE_FILE
        state = read_json(path, error=TaskError, what="saved task")
        corpus = state.get("corpus") if isinstance(state, dict) else None
        summary = state.get("fit_summary") if isinstance(state, dict) else None
        if not isinstance(corpus, list) or not all(isinstance(line, str) for line in corpus):
            raise TaskError(f"{path} key 'corpus' must be a list of strings; save the task again")
        if not isinstance(summary, dict):
            raise TaskError(f"{path} key 'fit_summary' must be an object; save the task again")
        self.corpus = list(corpus)
        self._ngram_cache = {}
        self.fit_summary = {k: float(v) for k, v in summary.items()}
        self.generator_note = str(state.get("generator_note", ""))

    # ------------------------------------------------------------------ internals
    def _generator_options(self) -> dict[str, Any]:
        if self.options.generator_options is not None:
            return dict(self.options.generator_options)
        return dict(OFFLINE_GENERATOR.get(self.options.generator, {}))

    def _new_generator(self) -> TextGenerator:
        try:
            cls = resolve_class("model", self.options.generator, TextGenerator)
        except UnknownComponentError as exc:
            raise TaskError(f"generate-copy needs a text generator: {exc}") from exc
        return cls(**self._generator_options())

    def _pick(
        self, candidates: list[str], fallback: str, products: list[str], *, kind: str
    ) -> tuple[str, bool]:
        """The first usable candidate, or the template fallback (and False)."""
        for candidate in candidates:
            text = " ".join(candidate.split())
            if self.options.delexicalize:
                if not fluent(text, self._ngrams(kind)):
                    continue
                filled = relexicalize(text, products or ["our bestsellers"])
                if filled is None:
                    continue
                text = filled
            if kind == "blurb" and not text.endswith((".", "!", "?")):
                continue  # cut off mid-sentence
            chosen, ok = _usable(text, fallback, products)
            if ok:
                return chosen, True
        return fallback, False

    def _ngrams(self, kind: str) -> set[tuple[str, ...]]:
        if kind not in self._ngram_cache:
            self._ngram_cache[kind] = completion_ngrams(self.corpus, kind)
        return self._ngram_cache[kind]

    def _fitted_parts(self) -> tuple[TextGenerator, Recommender]:
        return self.require_fitted(self.generator), self.require_fitted(self.recommender)


def _usable(text: str, fallback: str, products: list[str]) -> tuple[str, bool]:
    """The generated text when usable, else the template fallback (and False).

    Usable: 3 to ``MAX_WORDS`` words, no personal data, no slot left unfilled, no prompt field
    echoed, no featured title repeated, and naming one of the featured ``products`` (when there
    are any), so the copy never promotes something else.
    """
    cleaned = " ".join(text.split())
    if "{" in cleaned or "}" in cleaned or len(cleaned.split()) > MAX_WORDS:
        return fallback, False
    if any(cleaned.count(nice_title(p)) > 1 for p in products):
        return fallback, False  # "X and X": a small model's stutter
    if len(cleaned.split()) < 3 or contains_pii(cleaned) or ";" in cleaned:
        return fallback, False
    if products and not any(nice_title(p).lower() in cleaned.lower() for p in products):
        return fallback, False
    return cleaned, True
