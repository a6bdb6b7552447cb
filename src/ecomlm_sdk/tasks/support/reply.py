"""The reply the ``support`` task gives to each message, and the texts of its hand-offs.

:class:`SupportOptions` lives in ``options.py``; it is re-exported here, where it was first.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from ecomlm_sdk.tasks.support.options import SupportOptions

__all__ = [
    "HANDOFF_TEXT",
    "POLICY_PAGE_TEXT",
    "UNCLASSIFIED",
    "HandoffReason",
    "SupportOptions",
    "SupportReply",
]

HANDOFF_TEXT = "I'm passing your message to a colleague, who will get back to you shortly."
#: The reply when the answer needs a policy the shop did not give, but ``policy_page`` is set.
POLICY_PAGE_TEXT = "You'll find the details in our policies: {page}."

HandoffReason = Literal[
    "out_of_scope",  # unlike every training example (neighbour similarity under the threshold)
    "requested",  # the intent is one of ``handoff_intents`` (e.g. asked for a person)
    "low_confidence",  # top intent probability under ``min_confidence``
    "ambiguous",  # top two intents closer than ``min_margin``
    "no_answer",  # the intent has no knowledge-base entry, or none similar enough
    "no_policy",  # the answer needs a shop policy that was not given, and no ``policy_page``
    "needs_person",  # the order can be changed, but a person must do it
    "action_needed",  # the customer asked for an action (a cancellation) no plugin carried out
    "no_store",  # an order question, but the task has no store to look in
    "too_long",  # longer than ``max_message_chars``: not classified at all
    "language",  # written in a language outside ``languages``: not classified at all
]

#: ``SupportReply.intent`` of a message that was not classified (``reason="too_long"``).
UNCLASSIFIED = "unclassified"


class SupportReply(BaseModel):
    """The support task's answer to one message.

    Attributes:
        intent: The predicted intent.
        confidence: Its probability, calibrated on held-out paraphrase families.
        margin: Its probability minus the runner-up's.
        alternatives: The three most likely intents and their probabilities.
        text: The reply to send.
        handoff: True when a person should take over (``text`` then says so).
        reason: Why it was handed off (see :data:`HandoffReason`), else ``None``.
        source: Where the text came from: ``"order"`` (the store), ``"faq"`` (the knowledge
            base) or ``"handoff"``.
        order_id: The order discussed, when the store answered.
        action: An action for the shop's systems (``"cancel_order"``, ...), else ``None``.
        faq_id: The knowledge-base entry used (or, for ``no_answer``, the closest one).
        similarity: Cosine similarity of that entry to the message.
        reworded: True when a generator reworded the answer and the rewording was grounded.
        neighbour_similarity: Mean cosine similarity of the message to its nearest training
            examples (low: unlike anything trained on), when the task measured it.
    """

    model_config = ConfigDict(frozen=True)

    intent: str
    confidence: float
    margin: float
    alternatives: dict[str, float]
    text: str
    handoff: bool
    reason: HandoffReason | None = None
    source: Literal["order", "faq", "handoff"]
    order_id: str | None = None
    action: str | None = None
    faq_id: str | None = None
    similarity: float | None = None
    reworded: bool = False
    neighbour_similarity: float | None = None
