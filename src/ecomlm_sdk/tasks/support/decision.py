"""The ``support`` task's decision for one message: a hand-off, an order answer or a FAQ answer.

The classifier's probabilities, the message's embedding and its neighbour similarity come in;
:class:`Decider` turns them into a :class:`SupportReply`, in this order: out of scope, an intent
always handed off, low confidence, ambiguity; then the store for order intents; then the
knowledge base, whose answer states only the policies the shop gave.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ecomlm_sdk.models.base import TextClassifier, TextGenerator
from ecomlm_sdk.tasks.support.grounding import reword
from ecomlm_sdk.tasks.support.knowledge import KnowledgeBase
from ecomlm_sdk.tasks.support.options import SupportOptions
from ecomlm_sdk.tasks.support.orders import (
    ORDER_INTENTS,
    OrderDesk,
    act_through_plugins,
    extract_order_refs,
)
from ecomlm_sdk.tasks.support.policies import fill, missing_policies
from ecomlm_sdk.tasks.support.reply import (
    HANDOFF_TEXT,
    POLICY_PAGE_TEXT,
    UNCLASSIFIED,
    HandoffReason,
    SupportReply,
)

__all__ = ["Decider", "handoff", "unclassified"]

#: What the store's answer outcomes hand off, and why.
_HANDED: Mapping[str, HandoffReason] = {
    "handoff": "needs_person",
    "action_needed": "action_needed",
}


def handoff(base: Mapping[str, Any], reason: HandoffReason, **extra: Any) -> SupportReply:
    """A reply that passes the message to a person, with the classifier's figures in ``base``."""
    return SupportReply(
        **base, text=HANDOFF_TEXT, handoff=True, reason=reason, source="handoff", **extra
    )


def unclassified(reason: HandoffReason) -> SupportReply:
    """The reply to a message no model reads (too long, or in another language): a person does."""
    return handoff(
        {"intent": UNCLASSIFIED, "confidence": 0.0, "margin": 0.0, "alternatives": {}}, reason
    )


@dataclass(frozen=True)
class Decider:
    """What one batch of messages is decided with (the fitted parts, options and policies).

    Attributes:
        classifier: The fitted intent classifier (its ``labels`` name the probability columns).
        kb: The knowledge base, indexed.
        desk: The store's orders, or ``None`` when the task has no store.
        options: The task's options.
        scope_threshold: Neighbour similarity under which a message is out of scope, if any.
        policies: The shop's known policies.
        generator: Gives the generator that rewords answers; ``None``: no rewording.
        act: Whether plugins may carry out what the customer asks of their order.
    """

    classifier: TextClassifier
    kb: KnowledgeBase
    desk: OrderDesk | None
    options: SupportOptions
    scope_threshold: float | None
    policies: Mapping[str, str]
    generator: Callable[[], TextGenerator] | None
    act: bool = True

    def decide(
        self,
        cleaned: str,
        probs: np.ndarray,
        query: np.ndarray,
        near: float | None,
        customer_id: str | None,
    ) -> SupportReply:
        """The reply to one redacted message, from its probabilities, embedding and closeness."""
        labels = self.classifier.labels
        order = np.argsort(probs)[::-1]
        intent = labels[int(order[0])]
        confidence = float(probs[order[0]])
        margin = confidence - (float(probs[order[1]]) if len(order) > 1 else 0.0)
        base: dict[str, Any] = {
            "intent": intent,
            "confidence": confidence,
            "margin": margin,
            "alternatives": {labels[int(j)]: float(probs[j]) for j in order[:3]},
            "neighbour_similarity": near,
        }
        reason = self._handoff_reason(intent, confidence, margin, near)
        if reason is not None:
            return handoff(base, reason)
        if intent in ORDER_INTENTS:
            from_store = self._order_reply(base, intent, cleaned, customer_id)
            if from_store is not None:
                return from_store
        return self._faq_reply(base, intent, cleaned, query)

    def _handoff_reason(
        self, intent: str, confidence: float, margin: float, near: float | None
    ) -> HandoffReason | None:
        """Why the classifier's figures alone hand the message off, if they do."""
        opts = self.options
        threshold = self.scope_threshold
        if near is not None and threshold is not None and near < threshold:
            return "out_of_scope"
        if intent in opts.handoff_intents:
            return "requested"
        if confidence < opts.min_confidence:
            return "low_confidence"
        if margin < opts.min_margin:
            return "ambiguous"
        return None

    def _order_reply(
        self, base: dict[str, Any], intent: str, cleaned: str, customer_id: str | None
    ) -> SupportReply | None:
        """The store's answer to an order question; ``None``: the knowledge base answers."""
        desk = self.desk
        # From the redacted text: a phone or card number is never looked up as an order.
        refs = extract_order_refs(cleaned)
        if desk is None and (refs or customer_id is not None):
            return handoff(base, "no_store")
        acts = act_through_plugins if self.act else None
        found = desk.answer(intent, refs, customer_id, act=acts) if desk is not None else None
        if found is None:
            return None
        return SupportReply(
            **base,
            text=found.text,
            handoff=found.outcome in _HANDED,
            reason=_HANDED.get(found.outcome),
            source="order",
            order_id=found.order_id,
            action=found.action,
        )

    def _faq_reply(
        self, base: dict[str, Any], intent: str, cleaned: str, query: np.ndarray
    ) -> SupportReply:
        """The knowledge base's answer for ``intent``, its policies filled, or a hand-off."""
        opts = self.options
        policies = self.policies
        kb = self.kb
        hit = kb.retrieve(query, intent=intent)
        if hit is None:  # no entry for this intent: never another intent's answer
            return handoff(base, "no_answer")
        known = kb.retrieve(
            query, intent=intent, usable=lambda e: not missing_policies(e.answer, policies)
        )
        if known is None:  # every entry states a policy the shop did not give
            if opts.policy_page is None:
                return handoff(base, "no_policy", faq_id=hit.entry.id, similarity=hit.similarity)
            return SupportReply(
                **base,
                text=POLICY_PAGE_TEXT.format(page=opts.policy_page),
                handoff=False,
                source="faq",
                similarity=hit.similarity,
            )
        hit = known
        if hit.similarity < opts.min_similarity:
            return handoff(base, "no_answer", faq_id=hit.entry.id, similarity=hit.similarity)
        text = fill(hit.entry.answer, {"shop": opts.shop_name, "contact": opts.contact, **policies})
        reworded = False
        if self.generator is not None:
            better = reword(self.generator(), cleaned, text)
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
