"""The ``support`` task: intent classification, answers from the store or a FAQ, and hand-off.

See :class:`SupportTask` and the guide ``docs/guides/support.md``.
"""

from __future__ import annotations

from ecomlm_sdk.tasks.support.data import bitext_intents, stratified_split
from ecomlm_sdk.tasks.support.knowledge import FaqEntry, KnowledgeBase
from ecomlm_sdk.tasks.support.orders import OrderAnswer, OrderDesk, extract_order_refs
from ecomlm_sdk.tasks.support.reply import SupportOptions, SupportReply
from ecomlm_sdk.tasks.support.task import SupportTask

__all__ = [
    "FaqEntry",
    "KnowledgeBase",
    "OrderAnswer",
    "OrderDesk",
    "SupportOptions",
    "SupportReply",
    "SupportTask",
    "bitext_intents",
    "extract_order_refs",
    "stratified_split",
]
