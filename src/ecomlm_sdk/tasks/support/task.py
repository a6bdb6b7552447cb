"""The ``support`` task: a customer message in, an intent, an answer and a decision out."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Final

import numpy as np
import polars as pl
from pydantic import Field

from ecomlm_sdk._persist import WEIGHT_SOURCES, read_json, write_json
from ecomlm_sdk.data.store import Cutoff, EcomStore
from ecomlm_sdk.errors import ModelError, TaskError
from ecomlm_sdk.models.base import Embedder, TextClassifier, TextGenerator
from ecomlm_sdk.plugins import resolve, resolve_class
from ecomlm_sdk.privacy import (
    CustomerRedactors,
    Redactor,
    install_log_redaction,
    redact,
    use_redactor,
)
from ecomlm_sdk.progress import progress
from ecomlm_sdk.tasks.base import EvaluateOptions, EvaluationReport, Task, TaskOptions
from ecomlm_sdk.tasks.support.data import (
    bitext_intents,
    cap_per_intent,
    knowledge_base_path,
    stratified_split,
)
from ecomlm_sdk.tasks.support.evaluation import evaluate_replies
from ecomlm_sdk.tasks.support.grounding import reword
from ecomlm_sdk.tasks.support.knowledge import KnowledgeBase
from ecomlm_sdk.tasks.support.language import guess_language
from ecomlm_sdk.tasks.support.orders import (
    ORDER_INTENTS,
    OrderDesk,
    act_through_plugins,
    extract_order_refs,
)
from ecomlm_sdk.tasks.support.policies import fill, missing_policies, policy_values
from ecomlm_sdk.tasks.support.reply import (
    HANDOFF_TEXT,
    POLICY_PAGE_TEXT,
    UNCLASSIFIED,
    HandoffReason,
    SupportOptions,
    SupportReply,
)
from ecomlm_sdk.tasks.support.scope import (
    expected_calibration_error,
    fit_temperature,
    grouped_split,
    neighbour_similarity,
    normalized,
    paraphrase_families,
    scale,
)

__all__ = ["SupportTask"]

logger = logging.getLogger("ecomlm_sdk.tasks.support")
install_log_redaction(logger)

_STATE_FILE = "support_state.json"
_KB_FILE = "knowledge_base.json"
_CLASSIFIER_DIR = "classifier"
_EMBEDDER_DIR = "embedder"
_GENERATOR_DIR = "generator"
_MEMORY_FILE = "neighbours.npy"
#: Fewer held-out rows than this fit a temperature and a threshold on noise: skip both.
MIN_HELD_OUT = 20


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


class SupportEvaluateOptions(EvaluateOptions):
    """Arguments of :meth:`SupportTask.evaluate` besides ``store`` and ``cutoff``."""

    cost_per_ticket: float | None = Field(
        default=None, ge=0, description="Cost of a ticket a person answers; None: the option."
    )


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
        return self.answer_many([message], [customer_id], store=store, act=act)[0]

    def answer_many(
        self,
        messages: Sequence[str],
        customer_ids: Sequence[str | None] | None = None,
        *,
        store: EcomStore | None = None,
        act: bool = True,
    ) -> list[SupportReply]:
        """Answer many messages at once (batched classification and retrieval).

        ``act``: as in :meth:`answer`.
        """
        classifier, embedder, kb = self._fitted_parts()
        ids = list(customer_ids) if customer_ids is not None else [None] * len(messages)
        if len(ids) != len(messages):
            raise TaskError(f"answer_many got {len(messages)} messages but {len(ids)} customer ids")
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
        replies = []
        for i in progress(range(len(texts)), desc="answering", quiet=self.options.quiet):
            with use_redactor(redactors[i]):
                if i in row:
                    n = row[i]
                    near = float(closeness[n]) if closeness is not None else None
                    reply = self._decide(
                        cleaned[i],
                        probabilities[n],
                        queries[n],
                        near,
                        ids[i],
                        classifier,
                        kb,
                        desk,
                        act=act,
                    )
                elif i in foreign:
                    reply = _foreign(foreign[i])
                else:
                    reply = _too_long()
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

    def _predict(self, store: EcomStore) -> pl.DataFrame:
        tickets = store.tickets
        replies = self.answer_many(
            tickets.get_column("body").to_list(),
            tickets.get_column("customer_id").to_list(),
            store=store,
            act=False,  # stored tickets may be old: a batch never changes the shop's orders
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
            train, test = _no_rows(), _no_rows()
            if later is None:
                labelled = _labelled(history.tickets)
                kept, test_tickets = stratified_split(
                    labelled, test_size=opts.test_size, seed=opts.seed
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
        self._save_model(classifier, "classifier", folder / _CLASSIFIER_DIR)
        # Weights named by an option are saved too: a saved task never points outside itself.
        # Models built from their plugin's defaults (the bundled MiniLM) are not copied.
        if _names_weights(self.options.embedder_options):
            self._save_model(embedder, "embedder", folder / _EMBEDDER_DIR)
        if self.options.generator is not None and _names_weights(self.options.generator_options):
            if self.generator is None:
                self.generator = self._model(
                    self.options.generator, self.options.generator_options, TextGenerator
                )
            self._save_model(self.generator, "generator", folder / _GENERATOR_DIR)
        kb.to_json(folder / _KB_FILE)
        if self._memory is not None:
            np.save(folder / _MEMORY_FILE, np.asarray(self._memory, dtype=np.float32))
        write_json(
            folder / _STATE_FILE,
            {"fit_summary": self.fit_summary, "calibration": self.calibration},
        )

    def _save_model(self, model: Any, role: str, folder: Path) -> None:
        try:
            model.save(folder)
        except ModelError as exc:
            raise TaskError(
                f"Cannot save task 'support': {role} {getattr(self.options, role)!r} cannot be "
                f"saved ({exc}); use a {role} plugin that implements save()/load()"
            ) from exc

    def _load(self, folder: Path) -> None:
        opts = self.options
        self.classifier = self._load_model(
            opts.classifier, opts.classifier_options, folder / _CLASSIFIER_DIR, TextClassifier
        )
        self.knowledge_base = KnowledgeBase.from_json(folder / _KB_FILE)
        if (folder / _EMBEDDER_DIR).is_dir():
            self.embedder = self._load_model(
                opts.embedder, opts.embedder_options, folder / _EMBEDDER_DIR, Embedder
            )
        else:
            self.embedder = self._model(opts.embedder, opts.embedder_options, Embedder)
        if opts.generator is not None and (folder / _GENERATOR_DIR).is_dir():
            self.generator = self._load_model(
                opts.generator, opts.generator_options, folder / _GENERATOR_DIR, TextGenerator
            )
        self.knowledge_base.index(self.embedder)
        state = read_json(folder / _STATE_FILE, error=TaskError, what="saved task")
        summary = state.get("fit_summary", {}) if isinstance(state, dict) else None
        if not isinstance(summary, dict):
            raise TaskError(f"{folder / _STATE_FILE} must hold a 'fit_summary' object")
        self.fit_summary = {k: float(v) for k, v in summary.items()}
        calibration = state.get("calibration", {"temperature": 1.0})
        if not isinstance(calibration, dict) or not all(
            isinstance(v, int | float) for v in calibration.values()
        ):
            raise TaskError(f"{folder / _STATE_FILE}: 'calibration' must map names to numbers")
        self.calibration = {k: float(v) for k, v in calibration.items()}
        memory = folder / _MEMORY_FILE
        self._memory = np.load(memory, allow_pickle=False) if memory.is_file() else None

    def _load_model(self, name: str, options: dict[str, Any], folder: Path, base: type[Any]) -> Any:
        cls = resolve_class("model", name, base)
        # The saved folder holds the weights; Task.load has refused options naming others.
        model = cls.load(folder, **self.saved_model_options(options))
        if not isinstance(model, base):
            raise TaskError(f"{name!r} loaded from {folder} is not a {base.__name__}")
        return model

    # ------------------------------------------------------------------ internals
    def _builtin_rows(self, bitext: pl.DataFrame) -> pl.DataFrame:
        """The Bitext rows ``fit`` trains on: capped per intent, or none (``builtin_intents``)."""
        if not self.options.builtin_intents:
            return _no_rows()
        capped = cap_per_intent(bitext, self.options.examples_per_intent, seed=self.options.seed)
        return capped.select("text", "intent")

    def _with_store_tickets(self, frame: pl.DataFrame, store: EcomStore) -> pl.DataFrame:
        if not self.options.builtin_intents:
            _check_shop_intents(store, self.options.min_tickets_per_intent)
        elif not self.options.use_store_tickets:
            return frame.select("text", "intent")
        labelled = _labelled(store.tickets)
        owners = labelled.get_column("customer_id").to_list()
        known = CustomerRedactors(store.customers, only=[c for c in owners if c is not None])
        bodies = labelled.get_column("body").to_list()
        extra = pl.DataFrame(
            {
                "text": [known.get(c)(b) for b, c in zip(bodies, owners, strict=True)],
                "intent": labelled.get_column("intent"),
            },
            schema={"text": pl.String, "intent": pl.String},
        )
        return pl.concat([frame.select("text", "intent"), extra])

    def _train(self, frame: pl.DataFrame, store: EcomStore) -> None:
        started = time.perf_counter()
        classifier = self._model(
            self.options.classifier, self.options.classifier_options, TextClassifier
        )
        fit_options = self.options.classifier_fit_options
        if fit_options is None:
            fit_options = dict(classifier.fast_fit_options)  # the classifier's own quick fit
        texts = [redact(t) for t in frame.get_column("text").to_list()]
        intents = [str(x) for x in frame.get_column("intent").to_list()]
        path = self.options.knowledge_base or knowledge_base_path()
        self.knowledge_base = KnowledgeBase.from_json(path)
        faq_from: int | None = None
        if self.options.train_on_faq:
            faq_from = len(texts)
            learnt = set(intents)
            faq = [e for e in self.knowledge_base.entries if e.intent in learnt]
            texts += [redact(e.question) for e in faq]
            intents += [e.intent for e in faq]
        self.embedder = self._model(self.options.embedder, self.options.embedder_options, Embedder)
        vectors = normalized(self.embedder.embed(texts))
        opts = self.options
        families = paraphrase_families(
            vectors, intents, similarity=opts.family_similarity, seed=opts.seed
        )
        if opts.calibration_split > 0:
            kept, held = grouped_split(
                families, intents, fraction=opts.calibration_split, seed=opts.seed
            )
        else:
            kept, held = list(range(len(texts))), []
        if len(held) < MIN_HELD_OUT:
            kept, held = list(range(len(texts))), []
        if faq_from is not None:  # the FAQ's plain questions always train the classifier
            kept = sorted({*kept, *(i for i in held if i >= faq_from)})
            held = [i for i in held if i < faq_from]
        # FAQ questions weigh more (repeated); the neighbour memory holds each row once.
        taught = kept
        if faq_from is not None and opts.faq_repeats > 1:
            taught = kept + [i for i in kept if i >= faq_from] * (opts.faq_repeats - 1)
        classifier.fit([texts[i] for i in taught], [intents[i] for i in taught], **fit_options)
        self.classifier = classifier
        self._memory = vectors[kept]
        self.calibration = self._calibrate(
            classifier, [texts[i] for i in held], [intents[i] for i in held], vectors, kept, held
        )
        self.calibration["families"] = float(len(set(families.tolist())))
        self.knowledge_base.index(self.embedder)
        self._desk = OrderDesk(store, return_days=self._return_days())
        self._redactors = CustomerRedactors(store.customers)
        self.fit_summary = {
            "train_examples": float(len(texts)),
            "classifier_examples": float(len(kept)),
            "held_out_examples": float(len(held)),
            "fit_seconds": time.perf_counter() - started,
        }
        accuracy = _validation_accuracy(classifier)
        if accuracy is not None:
            self.fit_summary["validation_accuracy"] = accuracy

    def _calibrate(
        self,
        classifier: TextClassifier,
        texts: list[str],
        intents: list[str],
        vectors: np.ndarray,
        kept: list[int],
        held: list[int],
    ) -> dict[str, float]:
        """Temperature and out-of-scope threshold from the held-out families (none: T = 1)."""
        if not held:
            return {"temperature": 1.0}
        probs = classifier.predict_proba(texts)
        index = {label: j for j, label in enumerate(classifier.labels)}
        targets = [index[t] for t in intents]  # every held-out intent keeps a family in training
        temperature = fit_temperature(probs, targets)
        calibrated = scale(probs, temperature)
        top = calibrated.argmax(axis=1)
        correct = [int(p) == t for p, t in zip(top, targets, strict=True)]
        near = neighbour_similarity(
            vectors[held], vectors[kept], neighbours=self.options.oos_neighbours
        )
        return {
            "temperature": temperature,
            "scope_threshold": float(np.quantile(near, self.options.oos_quantile)),
            "held_out_accuracy": float(np.mean(correct)),
            "held_out_ece": expected_calibration_error(calibrated.max(axis=1), correct),
            "held_out_ece_uncalibrated": expected_calibration_error(probs.max(axis=1), correct),
        }

    def _model(self, name: str, options: dict[str, Any], base: type[Any]) -> Any:
        # Resolved through the registry by name, so a plugin can swap the model.
        return resolve("model", name, base, **options)

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

    def _decide(
        self,
        cleaned: str,
        probs: np.ndarray,
        query: np.ndarray,
        near: float | None,
        customer_id: str | None,
        classifier: TextClassifier,
        kb: KnowledgeBase,
        desk: OrderDesk | None,
        *,
        act: bool = True,
    ) -> SupportReply:
        order = np.argsort(probs)[::-1]
        intent = classifier.labels[int(order[0])]
        confidence = float(probs[order[0]])
        margin = confidence - (float(probs[order[1]]) if len(order) > 1 else 0.0)
        base: dict[str, Any] = {
            "intent": intent,
            "confidence": confidence,
            "margin": margin,
            "alternatives": {classifier.labels[int(j)]: float(probs[j]) for j in order[:3]},
            "neighbour_similarity": near,
        }
        opts = self.options
        reason: HandoffReason | None = None
        threshold = self._scope_threshold()
        if near is not None and threshold is not None and near < threshold:
            reason = "out_of_scope"
        elif intent in opts.handoff_intents:
            reason = "requested"
        elif confidence < opts.min_confidence:
            reason = "low_confidence"
        elif margin < opts.min_margin:
            reason = "ambiguous"
        if reason is not None:
            return SupportReply(
                **base, text=HANDOFF_TEXT, handoff=True, reason=reason, source="handoff"
            )
        if intent in ORDER_INTENTS:
            # From the redacted text: a phone or card number is never looked up as an order.
            refs = extract_order_refs(cleaned)
            if desk is None and (refs or customer_id is not None):
                return SupportReply(
                    **base, text=HANDOFF_TEXT, handoff=True, reason="no_store", source="handoff"
                )
            acts = act_through_plugins if act else None
            found = desk.answer(intent, refs, customer_id, act=acts) if desk is not None else None
            if found is not None:
                handed: dict[str, HandoffReason] = {
                    "handoff": "needs_person",
                    "action_needed": "action_needed",
                }
                return SupportReply(
                    **base,
                    text=found.text,
                    handoff=found.outcome in handed,
                    reason=handed.get(found.outcome),
                    source="order",
                    order_id=found.order_id,
                    action=found.action,
                )
        policies = self._policies()
        hit = kb.retrieve(query, intent=intent)
        if hit is None:  # no entry for this intent: never another intent's answer
            return SupportReply(
                **base, text=HANDOFF_TEXT, handoff=True, reason="no_answer", source="handoff"
            )
        known = kb.retrieve(
            query, intent=intent, usable=lambda e: not missing_policies(e.answer, policies)
        )
        if known is None:  # every entry states a policy the shop did not give
            if opts.policy_page is None:
                return SupportReply(
                    **base,
                    text=HANDOFF_TEXT,
                    handoff=True,
                    reason="no_policy",
                    source="handoff",
                    faq_id=hit.entry.id,
                    similarity=hit.similarity,
                )
            return SupportReply(
                **base,
                text=POLICY_PAGE_TEXT.format(page=opts.policy_page),
                handoff=False,
                source="faq",
                similarity=hit.similarity,
            )
        hit = known
        if hit.similarity < opts.min_similarity:
            return SupportReply(
                **base,
                text=HANDOFF_TEXT,
                handoff=True,
                reason="no_answer",
                source="handoff",
                faq_id=hit.entry.id,
                similarity=hit.similarity,
            )
        text = fill(hit.entry.answer, {"shop": opts.shop_name, "contact": opts.contact, **policies})
        reworded = False
        if opts.generator is not None:
            if self.generator is None:
                self.generator = self._model(opts.generator, opts.generator_options, TextGenerator)
            better = reword(self.generator, cleaned, text)
            if better is not None:
                text, reworded = better, True
        return SupportReply(
            **base,
            text=text,
            handoff=False,
            source="faq",
            faq_id=hit.entry.id,
            similarity=hit.similarity,
            reworded=reworded,
        )


def _no_rows() -> pl.DataFrame:
    return pl.DataFrame(schema={"text": pl.String, "intent": pl.String})


def _labelled(tickets: pl.DataFrame) -> pl.DataFrame:
    """The tickets that have both a body and an intent label."""
    return tickets.filter(pl.col("intent").is_not_null() & pl.col("body").is_not_null())


def _check_shop_intents(store: EcomStore, needed: int) -> None:
    """Refuse to train on the shop's taxonomy alone without enough labelled tickets."""
    counts = _labelled(store.tickets).get_column("intent").value_counts()
    if counts.height == 0:
        raise TaskError(
            "support with builtin_intents=False trains only on the store's labelled tickets, "
            f"but its {store.tickets.height} tickets have no 'intent' (and 'body'): label at "
            f"least {needed} tickets per intent, or use builtin_intents=True"
        )
    if counts.height < 2:
        raise TaskError(
            "support with builtin_intents=False needs at least 2 intents among the store's "
            f"labelled tickets, found only {counts.get_column('intent')[0]!r}; label tickets "
            "of another intent, or use builtin_intents=True"
        )
    few = counts.filter(pl.col("count") < needed).sort("count")
    if few.height:
        listed = ", ".join(f"{intent!r} ({n})" for intent, n in few.head(10).iter_rows())
        more = f" and {few.height - 10} more" if few.height > 10 else ""
        raise TaskError(
            f"support with builtin_intents=False needs at least {needed} labelled tickets per "
            f"intent (min_tickets_per_intent); too few for {listed}{more}. Label more tickets "
            "of those intents, merge them into others, lower min_tickets_per_intent, or use "
            "builtin_intents=True"
        )


def _names_weights(options: dict[str, Any]) -> bool:
    """Whether model ``options`` say where weights come from (then the task saves the model)."""
    return any(options.get(key) is not None for key in WEIGHT_SOURCES)


def _validation_accuracy(classifier: TextClassifier) -> float | None:
    """Accuracy on the classifier's own validation split, when it reports one.

    ``bert-classifier`` keeps a ``fit_report`` whose history has ``val_accuracy`` per epoch;
    other classifiers may have nothing of the kind.
    """
    report = getattr(classifier, "fit_report", None)
    history = getattr(report, "history", None)
    best = getattr(report, "best_epoch", None)
    if not history or not isinstance(best, int):
        return None
    for epoch in history:
        if getattr(epoch, "epoch", None) == best:
            value = getattr(epoch, "val_accuracy", None)
            return float(value) if isinstance(value, int | float) else None
    return None


def _foreign(language: str) -> SupportReply:
    """The reply to a message in a language the models do not read: a person answers it."""
    logger.debug("support: message language guessed as %s", language)
    return SupportReply(
        intent=UNCLASSIFIED,
        confidence=0.0,
        margin=0.0,
        alternatives={},
        text=HANDOFF_TEXT,
        handoff=True,
        reason="language",
        source="handoff",
    )


def _too_long() -> SupportReply:
    """The reply to a message over ``max_message_chars``: a person reads it, no model does."""
    return SupportReply(
        intent=UNCLASSIFIED,
        confidence=0.0,
        margin=0.0,
        alternatives={},
        text=HANDOFF_TEXT,
        handoff=True,
        reason="too_long",
        source="handoff",
    )
