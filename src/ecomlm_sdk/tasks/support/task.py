"""The ``support`` task: a customer message in, an intent, an answer and a decision out.

The task ties its parts together: ``training.py`` (training rows and calibration),
``decision.py`` (the hand-off or answer for each message), ``persistence.py`` (the saved
folder) and ``options.py`` (:class:`SupportOptions`, :class:`SupportEvaluateOptions`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Final

import numpy as np
import polars as pl

from ecomlm_sdk.data.store import Cutoff, EcomStore
from ecomlm_sdk.engines import Engine, EngineArg, choose_engine
from ecomlm_sdk.errors import TaskError
from ecomlm_sdk.models.base import Embedder, TextClassifier, TextGenerator
from ecomlm_sdk.plugins import resolve
from ecomlm_sdk.privacy import (
    CustomerRedactors,
    Redactor,
    install_log_redaction,
    redact,
    use_redactor,
)
from ecomlm_sdk.progress import progress
from ecomlm_sdk.tasks.base import EvaluateOptions, EvaluationReport, Task, TaskOptions
from ecomlm_sdk.tasks.support import persistence as saved
from ecomlm_sdk.tasks.support.data import bitext_intents, knowledge_base_path, stratified_split
from ecomlm_sdk.tasks.support.decision import Decider, unclassified
from ecomlm_sdk.tasks.support.evaluation import evaluate_replies
from ecomlm_sdk.tasks.support.knowledge import KnowledgeBase
from ecomlm_sdk.tasks.support.language import guess_language
from ecomlm_sdk.tasks.support.options import SupportEvaluateOptions, SupportOptions
from ecomlm_sdk.tasks.support.orders import OrderDesk
from ecomlm_sdk.tasks.support.policies import policy_values
from ecomlm_sdk.tasks.support.reply import SupportReply
from ecomlm_sdk.tasks.support.scope import neighbour_similarity, normalized, scale
from ecomlm_sdk.tasks.support.training import (
    MIN_HELD_OUT,
    builtin_rows,
    calibrate,
    calibration_split,
    labelled,
    no_rows,
    taught_rows,
    validation_accuracy,
    with_store_tickets,
)

__all__ = ["MIN_HELD_OUT", "TICKET_REPLIES_SCHEMA", "SupportEvaluateOptions", "SupportTask"]

logger = logging.getLogger("ecomlm_sdk.tasks.support")
install_log_redaction(logger)


#: The frame :meth:`SupportTask.predict` returns: one reply per ticket.
TICKET_REPLIES_SCHEMA: Final = {
    "ticket_id": pl.String,
    "intent": pl.String,
    "confidence": pl.Float64,
    "handoff": pl.Boolean,
    "reason": pl.String,
    "source": pl.String,
    "order_id": pl.String,
    "action": pl.String,
    "text": pl.String,
}


class SupportTask(Task[SupportOptions]):
    """Answers customer messages: intent, then an answer from the store or the FAQ, or a person.

    Example:
        ```py
        support = ecomlm_sdk.task("support").fit(store)
        reply = support.answer("Where is my order #536365?", customer_id="17850")
        reply.intent, reply.confidence, reply.text, reply.handoff
        ```
    """

    name: ClassVar[str] = "support"
    Options: ClassVar[type[TaskOptions]] = SupportOptions
    EvaluateOptions: ClassVar[type[EvaluateOptions]] = SupportEvaluateOptions
    output_schema: ClassVar[Mapping[str, type[pl.DataType]]] = TICKET_REPLIES_SCHEMA

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.classifier: TextClassifier | None = None
        self.embedder: Embedder | None = None
        self.generator: TextGenerator | None = None
        self.knowledge_base: KnowledgeBase | None = None
        self._desk: OrderDesk | None = None
        #: The store fit() read (orders are looked up in it when answer_many gets no store).
        self._store: EcomStore | None = None
        #: Redactors of the fit store's customers (their names and addresses are removed too).
        self._redactors: CustomerRedactors | None = None
        #: How many examples the classifier was trained on, and how long it took.
        self.fit_summary: dict[str, float] = {}
        #: Embeddings of the classifier's training rows (the out-of-scope neighbours).
        self._memory: np.ndarray | None = None
        #: Temperature, out-of-scope threshold and held-out figures (see ``scope.py``).
        self.calibration: dict[str, float] = {"temperature": 1.0}

    # ------------------------------------------------------------------ public API
    def answer(
        self,
        message: str,
        customer_id: str | None = None,
        *,
        store: EcomStore | None = None,
        act: bool = True,
    ) -> SupportReply:
        """Answer one customer message.

        Args:
            message: What the customer wrote.
            customer_id: The signed-in customer, or ``None``; order details are given only to
                the order's own customer.
            store: Store to look orders up in (default: the one given to :meth:`fit`).
            act: Ask the plugins (``handle_support_action`` hook) to carry out what the
                customer asks of their own order (a cancellation); False: never, the message
                is handed off (``action_needed``) as when no plugin takes it.
        """
        return self.answer_many([message], [customer_id], store=store, act=act, engine="local")[0]

    def answer_many(
        self,
        messages: Sequence[str],
        customer_ids: Sequence[str | None] | None = None,
        *,
        store: EcomStore | None = None,
        act: bool = True,
        engine: EngineArg = None,
    ) -> list[SupportReply]:
        """Answer many messages at once (batched classification and retrieval).

        ``act``: as in :meth:`answer`. ``engine``: where to run a backlog: ``None``
        (``ECOMLM_ENGINE`` for 1,000 messages or more, else in-process), ``"local"``, ``"ray"``
        or an engine. Off this process nothing acts on orders: a non-local engine needs
        ``act=False`` (with ``act=True`` and no ``engine`` given, the job stays in-process).
        """
        classifier, embedder, kb = self._fitted_parts()
        ids = list(customer_ids) if customer_ids is not None else [None] * len(messages)
        if len(ids) != len(messages):
            raise TaskError(f"answer_many got {len(messages)} messages but {len(ids)} customer ids")
        if act and engine is None:
            engine = "local"  # actions are taken here, for the signed-in customer
        chosen = choose_engine(engine, kind="tickets", rows=len(messages))
        if chosen is not None:
            if act:
                raise TaskError(
                    f"answer_many on engine {chosen.display_name!r} never acts on orders: pass "
                    "act=False (a backlog is answered without cancelling anything)"
                )
            from ecomlm_sdk.tasks.support.batch import answer_on

            return answer_on(self, messages, ids, store or self._store, chosen)
        desk = (
            OrderDesk(store, return_days=self._return_days()) if store is not None else self._desk
        )
        known = (
            CustomerRedactors(store.customers, only=[c for c in ids if c is not None])
            if store is not None
            else self._redactors
        )
        texts = [str(m) for m in messages]
        # Over-long messages are neither redacted nor classified: a person reads them.
        short = [i for i, t in enumerate(texts) if len(t) <= self.options.max_message_chars]
        languages = self.options.languages
        foreign = (
            {i: lang for i in short if (lang := guess_language(texts[i])) not in languages}
            if languages is not None
            else {}
        )
        short = [i for i in short if i not in foreign]
        plain = Redactor()
        redactors = [known.get(c) if known is not None else plain for c in ids]
        # The models see redacted text only, the customer's own name and address removed too:
        # personal data never reaches a model or a log.
        cleaned = {i: redactors[i](texts[i]) for i in short}
        batch = [cleaned[i] for i in short]
        probabilities = classifier.predict_proba(batch) if batch else np.zeros((0, 0))
        if batch:
            probabilities = scale(probabilities, self.calibration.get("temperature", 1.0))
        queries = embedder.embed(batch) if batch else np.zeros((0, 0))
        closeness = (
            neighbour_similarity(queries, self._memory, neighbours=self.options.oos_neighbours)
            if batch and self._memory is not None
            else None
        )
        row = {i: n for n, i in enumerate(short)}
        generator = self.options.generator
        decider = Decider(
            classifier=classifier,
            kb=kb,
            desk=desk,
            options=self.options,
            scope_threshold=self._scope_threshold(),
            policies=self._policies(),
            generator=partial(self._generator, generator) if generator is not None else None,
            act=act,
        )
        replies = []
        for i in progress(range(len(texts)), desc="answering", quiet=self.options.quiet):
            with use_redactor(redactors[i]):
                if i in row:
                    n = row[i]
                    near = float(closeness[n]) if closeness is not None else None
                    reply = decider.decide(cleaned[i], probabilities[n], queries[n], near, ids[i])
                elif i in foreign:
                    logger.debug("support: message language guessed as %s", foreign[i])
                    reply = unclassified("language")
                else:
                    reply = unclassified("too_long")
                logger.info(
                    "support: intent=%s confidence=%.3f handoff=%s reason=%s source=%s",
                    reply.intent,
                    reply.confidence,
                    reply.handoff,
                    reply.reason,
                    reply.source,
                )
            replies.append(reply)
        return replies

    # ------------------------------------------------------------------ Task stages
    def _fit(self, store: EcomStore) -> None:
        self._train(self._with_store_tickets(self._builtin_rows(bitext_intents()), store), store)

    engine_job_kind: ClassVar[str] = "tickets"

    def _job_rows(self, store: EcomStore) -> int:
        return store.tickets.height

    def _predict(self, store: EcomStore) -> pl.DataFrame:
        return self._replies_frame(store, "local")

    def _predict_on(self, store: EcomStore, engine: Engine) -> pl.DataFrame:
        return self._replies_frame(store, engine)

    def _replies_frame(self, store: EcomStore, engine: EngineArg) -> pl.DataFrame:
        tickets = store.tickets
        replies = self.answer_many(
            tickets.get_column("body").to_list(),
            tickets.get_column("customer_id").to_list(),
            store=store,
            act=False,  # stored tickets may be old: a batch never changes the shop's orders
            engine=engine,
        )
        return pl.DataFrame(
            {
                "ticket_id": tickets.get_column("ticket_id"),
                "intent": [r.intent for r in replies],
                "confidence": [r.confidence for r in replies],
                "handoff": [r.handoff for r in replies],
                "reason": [r.reason for r in replies],
                "source": [r.source for r in replies],
                "order_id": [r.order_id for r in replies],
                "action": [r.action for r in replies],
                "text": [r.text for r in replies],
            },
            schema=dict(TICKET_REPLIES_SCHEMA),
        )

    def _evaluate(self, store: EcomStore, cutoff: Cutoff | None, **kwargs: Any) -> EvaluationReport:
        given = SupportEvaluateOptions(**kwargs)
        cost = (
            self.options.cost_per_ticket if given.cost_per_ticket is None else given.cost_per_ticket
        )
        opts = self.options
        history, later = store.split(cutoff) if cutoff is not None else (store, None)
        if opts.builtin_intents:
            train, test = stratified_split(
                bitext_intents(), test_size=opts.test_size, seed=opts.seed
            )
        else:  # the shop's taxonomy: its own labelled tickets train and test
            train, test = no_rows(), no_rows()
            if later is None:
                kept, test_tickets = stratified_split(
                    labelled(history.tickets), test_size=opts.test_size, seed=opts.seed
                )
                test = test_tickets.select(pl.col("body").alias("text"), "intent")
                history = history.replace(tickets=kept)
        trainee = self.clone()
        train = self._builtin_rows(train)
        rows = trainee._with_store_tickets(train, history)
        trainee._train(rows, history)
        if not opts.builtin_intents:
            train = rows  # the baselines learn the shop's tickets too
        tested = test.select("text", "intent")
        if later is not None:
            future = later.tickets.filter(pl.col("intent").is_not_null())
            tested = pl.concat([tested, future.select(pl.col("body").alias("text"), "intent")])
        started = time.perf_counter()
        replies = trainee.answer_many(tested.get_column("text").to_list(), store=history)
        answer_seconds = time.perf_counter() - started
        return evaluate_replies(
            replies,
            texts=tested.get_column("text").to_list(),
            truth=tested.get_column("intent").to_list(),
            train=train,
            cost_per_ticket=cost,
            cutoff=cutoff,
            extra={
                "fit_seconds": trainee.fit_summary["fit_seconds"],
                "train_examples": trainee.fit_summary["train_examples"],
                "answer_seconds": answer_seconds,
            },
            options=self.options,
        )

    def _save(self, folder: Path) -> None:
        classifier, embedder, kb = self._fitted_parts()
        opts = self.options
        saved.save_model(classifier, "classifier", opts.classifier, folder / saved.CLASSIFIER_DIR)
        # Weights named by an option are saved too: a saved task never points outside itself.
        # Models built from their plugin's defaults (the bundled MiniLM) are not copied.
        if saved.names_weights(opts.embedder_options):
            saved.save_model(embedder, "embedder", opts.embedder, folder / saved.EMBEDDER_DIR)
        if opts.generator is not None and saved.names_weights(opts.generator_options):
            generator = self._generator(opts.generator)
            saved.save_model(generator, "generator", opts.generator, folder / saved.GENERATOR_DIR)
        kb.to_json(folder / saved.KB_FILE)
        saved.write_state(folder, self.fit_summary, self.calibration, self._memory)

    def _load(self, folder: Path) -> None:
        opts = self.options
        self.classifier = self._load_model(
            opts.classifier, opts.classifier_options, folder / saved.CLASSIFIER_DIR, TextClassifier
        )
        self.knowledge_base = KnowledgeBase.from_json(folder / saved.KB_FILE)
        if (folder / saved.EMBEDDER_DIR).is_dir():
            self.embedder = self._load_model(
                opts.embedder, opts.embedder_options, folder / saved.EMBEDDER_DIR, Embedder
            )
        else:
            self.embedder = self._model(opts.embedder, opts.embedder_options, Embedder)
        if opts.generator is not None and (folder / saved.GENERATOR_DIR).is_dir():
            self.generator = self._load_model(
                opts.generator, opts.generator_options, folder / saved.GENERATOR_DIR, TextGenerator
            )
        self.knowledge_base.index(self.embedder)
        self.fit_summary, self.calibration = saved.read_state(folder)
        self._memory = saved.read_memory(folder)

    def _load_model(self, name: str, options: dict[str, Any], folder: Path, base: type[Any]) -> Any:
        # The saved folder holds the weights; Task.load has refused options naming others.
        return saved.load_model(name, self.saved_model_options(options), folder, base)

    # ------------------------------------------------------------------ internals
    def _builtin_rows(self, bitext: pl.DataFrame) -> pl.DataFrame:
        """The Bitext rows ``fit`` trains on: capped per intent, or none (``builtin_intents``)."""
        return builtin_rows(bitext, self.options)

    def _with_store_tickets(self, frame: pl.DataFrame, store: EcomStore) -> pl.DataFrame:
        return with_store_tickets(frame, store, self.options)

    def _train(self, frame: pl.DataFrame, store: EcomStore) -> None:
        started = time.perf_counter()
        opts = self.options
        classifier = self._model(opts.classifier, opts.classifier_options, TextClassifier)
        fit_options = opts.classifier_fit_options
        if fit_options is None:
            fit_options = dict(classifier.fast_fit_options)  # the classifier's own quick fit
        texts = [redact(t) for t in frame.get_column("text").to_list()]
        intents = [str(x) for x in frame.get_column("intent").to_list()]
        self.knowledge_base = KnowledgeBase.from_json(opts.knowledge_base or knowledge_base_path())
        faq_from: int | None = None
        if opts.train_on_faq:
            faq_from = len(texts)
            learnt = set(intents)
            faq = [e for e in self.knowledge_base.entries if e.intent in learnt]
            texts += [redact(e.question) for e in faq]
            intents += [e.intent for e in faq]
        self.embedder = self._model(opts.embedder, opts.embedder_options, Embedder)
        vectors = normalized(self.embedder.embed(texts))
        families, kept, held = calibration_split(vectors, intents, faq_from, opts)
        taught = taught_rows(kept, faq_from, opts)
        classifier.fit([texts[i] for i in taught], [intents[i] for i in taught], **fit_options)
        self.classifier = classifier
        self._memory = vectors[kept]
        self.calibration = calibrate(
            classifier,
            [texts[i] for i in held],
            [intents[i] for i in held],
            vectors,
            kept,
            held,
            opts,
        )
        self.calibration["families"] = float(len(set(families.tolist())))
        self.knowledge_base.index(self.embedder)
        self._desk = OrderDesk(store, return_days=self._return_days())
        self._redactors = CustomerRedactors(store.customers)
        self._store = store
        self.fit_summary = {
            "train_examples": float(len(texts)),
            "classifier_examples": float(len(kept)),
            "held_out_examples": float(len(held)),
            "fit_seconds": time.perf_counter() - started,
        }
        accuracy = validation_accuracy(classifier)
        if accuracy is not None:
            self.fit_summary["validation_accuracy"] = accuracy

    def _model(self, name: str, options: dict[str, Any], base: type[Any]) -> Any:
        # Resolved through the registry by name, so a plugin can swap the model.
        return resolve("model", name, base, **options)

    def _generator(self, name: str) -> TextGenerator:
        """The generator that rewords answers, resolved on first use."""
        if self.generator is None:
            self.generator = self._model(name, self.options.generator_options, TextGenerator)
        return self.generator

    def _scope_threshold(self) -> float | None:
        """The neighbour similarity under which a message is out of scope, if any."""
        if self.options.min_neighbour_similarity is not None:
            return self.options.min_neighbour_similarity
        return self.calibration.get("scope_threshold")

    def _policies(self) -> dict[str, str]:
        """The shop's policies: the FAQ file's ``policies``, overridden by the options."""
        from_file = self.knowledge_base.policies if self.knowledge_base is not None else None
        return policy_values(self.options.model_dump(), from_file)

    def _return_days(self) -> int | None:
        days = self._policies().get("return_days")
        return int(days) if days is not None and days.isdigit() else None

    def _fitted_parts(self) -> tuple[TextClassifier, Embedder, KnowledgeBase]:
        return (
            self.require_fitted(self.classifier),
            self.require_fitted(self.embedder),
            self.require_fitted(self.knowledge_base),
        )
