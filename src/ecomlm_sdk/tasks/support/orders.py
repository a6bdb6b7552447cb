"""Order questions answered from the store: status, cancellation, changes, invoices, refunds.

An order's details are told only to the customer who placed it. Whether a number names an order
of someone else, a guest order or no order at all is never told apart, so replies cannot be used
to probe which order numbers exist:

* a message whose numbers name none of the asker's orders gets :data:`REFUSAL`;
* a message naming some of the asker's orders gets their answers (every one for questions, the
  first only for a change or cancellation, :data:`ASK_SEPARATELY` for the rest), then one
  :data:`NOT_ON_ACCOUNT` line listing every other number exactly as the customer wrote it;
* anyone not signed in gets :data:`SIGN_IN`.

The reply therefore depends only on the message and on the asker's own orders.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Final, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import PluginError
from ecomlm_sdk.plugins import call_hook

__all__ = [
    "ASK_SEPARATELY",
    "CANCEL_HANDED_OFF",
    "CANCEL_REQUESTED",
    "NOT_ON_ACCOUNT",
    "ORDER_INTENTS",
    "REFUSAL",
    "SIGN_IN",
    "Act",
    "OrderAnswer",
    "OrderDesk",
    "act_through_plugins",
    "extract_order_refs",
]

#: Intents whose answer depends on one order's data.
ORDER_INTENTS: Final = frozenset(
    {
        "track_order",
        "cancel_order",
        "change_order",
        "delivery_period",
        "change_shipping_address",
        "check_invoice",
        "get_invoice",
        "get_refund",
        "track_refund",
    }
)
#: Intents for which "my order" without a number means the customer's latest order.
LATEST_ORDER_INTENTS: Final = frozenset({"track_order", "cancel_order", "delivery_period"})

#: Intents that ask the shop to act on an order: answered for one order per message.
ACTION_INTENTS: Final = frozenset({"cancel_order", "change_order", "change_shipping_address"})
#: Most of the asker's orders answered in one reply; most other numbers listed by name.
MAX_ORDERS_PER_REPLY: Final = 3
MAX_LISTED_REFS: Final = 5

REFUSAL: Final = (
    "I can't find that order on your account. Please check the order number, and make sure you "
    "are signed in with the account that placed it."
)
SIGN_IN: Final = (
    "Please sign in with the account that placed the order, and I'll look it up for you. For "
    "your security I can't discuss an order with someone who isn't signed in."
)

#: Said once for every number in a message that is not one of the asker's orders, whether or
#: not an order with that number exists; ``{refs}`` lists the numbers as written, after ``#``.
NOT_ON_ACCOUNT: Final = "I can't find {refs} on your account."
#: Said for the asker's orders left out of a reply (after the first, for a change or
#: cancellation; after :data:`MAX_ORDERS_PER_REPLY` otherwise).
ASK_SEPARATELY: Final = "Please ask about {refs} in a separate message."
#: Said after a cancellable order's status when the shop's code took the cancellation.
CANCEL_REQUESTED: Final = (
    "I've asked for it to be cancelled; you'll get a confirmation email once it is done."
)
#: Said instead when nothing took it: a person cancels the order.
CANCEL_HANDED_OFF: Final = (
    "It can still be cancelled: I'm passing your request to a colleague, who will cancel it "
    "and confirm by email."
)

#: Carries out an action on an order: ``act(action, order_id, customer_id)`` returns whether it
#: was done (the task's is the ``handle_support_action`` hook).
Act = Callable[[str, str, str], bool]

_HASH_REF: Final = re.compile(r"#\s*([A-Za-z]?\d{3,})\b")
_WORD_REF: Final = re.compile(
    r"\b(?:order|purchase|invoice|parcel|package|delivery)s?\b"
    r"(?:\s+(?:number|no\.?|nr\.?|id|ref(?:erence)?))?\s*[:#]?\s*([A-Za-z]?\d{3,})\b",
    re.IGNORECASE,
)
_BARE_REF: Final = re.compile(r"(?<![\w#.,])(\d{4,})(?![\w.,]\d)")
_YEAR: Final = re.compile(r"(?:19|20)\d\d")
_CURRENCY: Final = {"GBP": "£", "EUR": "€", "USD": "$"}


def extract_order_refs(text: str) -> list[str]:
    """Order references in ``text``, most explicit first, without duplicates.

    ``#536365`` and ``order 536365`` (also ``purchase``, ``invoice``, ``no.``, ``number``) come
    first, then bare runs of four or more digits, except years (``1900`` to ``2099``), which are
    far more often dates than order numbers. References are returned as written, without ``#``.
    """
    found: list[str] = []
    for pattern in (_HASH_REF, _WORD_REF, _BARE_REF):
        for match in pattern.finditer(text):
            ref = match.group(1)
            if pattern is _BARE_REF and _YEAR.fullmatch(ref):
                continue
            if ref not in found:
                found.append(ref)
    return found


class OrderAnswer(BaseModel):
    """What the order desk says about one order question.

    Attributes:
        text: The reply.
        order_id: The order discussed (``None`` when refused or none found).
        outcome: ``"answered"`` (details given), ``"refused"`` (not the asker's order, or unknown),
            ``"sign_in"`` (asker unknown), ``"no_orders"`` (the asker has none), ``"handoff"``
            (a person must act, e.g. change an order) or ``"action_needed"`` (an action nobody
            took: a person must carry it out).
        action: The action on the order, e.g. ``"cancel_order"``: requested when ``outcome`` is
            ``"answered"``, still to do when it is ``"action_needed"``.
    """

    model_config = ConfigDict(frozen=True)

    text: str
    order_id: str | None = None
    outcome: Literal["answered", "refused", "sign_in", "no_orders", "handoff", "action_needed"]
    action: str | None = None


class OrderDesk:
    """Looks orders up in a store and answers questions about them, owners only."""

    def __init__(self, store: EcomStore, *, return_days: int | None = None) -> None:
        #: The shop's return window in days; ``None``: the desk states no return policy.
        self.return_days = return_days
        quantities = (
            store.order_lines.filter(pl.col("quantity") > 0)
            .group_by("order_id")
            .agg(pl.col("quantity").sum().alias("_items"))
        )
        self._orders = store.orders.join(quantities, on="order_id", how="left")
        self._ids = set(self._orders.get_column("order_id").to_list())
        self._owners: dict[str, str | None] = dict(
            zip(
                self._orders.get_column("order_id").to_list(),
                self._orders.get_column("customer_id").cast(pl.String).to_list(),
                strict=True,
            )
        )

    def resolve(self, ref: str) -> str | None:
        """The store's order id for a reference (``"536365"`` -> ``"#536365"``), or ``None``."""
        bare = ref.lstrip("#").strip()
        for candidate in (ref, f"#{bare}", bare, bare.lstrip("0"), f"#{bare.lstrip('0')}"):
            if candidate in self._ids:
                return candidate
        return None

    def latest_order(self, customer_id: str) -> str | None:
        """The most recent order of ``customer_id``, or ``None`` when they have none.

        A record with a negative total is a credit note (a return booked as its own "order",
        as in the sample store's ``C...`` invoices), not something the customer ordered: it is
        the latest only when the customer has nothing else.
        """
        mine = self._orders.filter(pl.col("customer_id") == customer_id)
        if mine.height == 0:
            return None
        bought = mine.filter(pl.col("total").is_null() | (pl.col("total") >= 0))
        mine = bought if bought.height else mine
        return str(mine.sort("created_at").get_column("order_id")[-1])

    def answer(
        self,
        intent: str,
        refs: list[str],
        customer_id: str | None,
        *,
        act: Act | None = None,
    ) -> OrderAnswer | None:
        """Answer an order question, or ``None`` when the store has nothing to add.

        Args:
            intent: The message's intent; only :data:`ORDER_INTENTS` are answered.
            refs: Order references found in the message (see :func:`extract_order_refs`).
            customer_id: The signed-in customer, or ``None``.
            act: Carries out a cancellation of the asker's own cancellable order; the reply
                says it was requested only when ``act`` returns True. ``None``: nothing acts,
                a person is asked to (outcome ``"action_needed"``).
        """
        if intent not in ORDER_INTENTS:
            return None
        if refs and customer_id is None:
            return OrderAnswer(text=SIGN_IN, outcome="sign_in")
        if customer_id is None:
            return None  # no order named, nobody signed in: the FAQ answer explains what to do
        if refs:
            return self._about_refs(intent, refs, customer_id, act)
        if intent not in LATEST_ORDER_INTENTS:
            return None
        latest = self.latest_order(customer_id)
        if latest is None:
            return OrderAnswer(
                text="I can't find any orders on your account yet.", outcome="no_orders"
            )
        return self._about(intent, latest, customer_id, act)

    # ------------------------------------------------------------------ internals
    def _about_refs(
        self, intent: str, refs: list[str], customer_id: str, act: Act | None
    ) -> OrderAnswer:
        """The reply to a message naming ``refs``: the asker's orders answered, others listed.

        Nothing here may depend on whether a number the asker does not own exists: an unknown
        number and another customer's take the same branch and are echoed as written.
        """
        owned: list[str] = []
        others: list[str] = []
        for ref in refs:
            order_id = self.resolve(ref)
            if order_id is not None and self._owners.get(order_id) == customer_id:
                if order_id not in owned:
                    owned.append(order_id)
            elif ref not in others:
                others.append(ref)
        if not owned:
            return OrderAnswer(text=REFUSAL, outcome="refused")
        shown = owned[: 1 if intent in ACTION_INTENTS else MAX_ORDERS_PER_REPLY]
        answers = [self._about(intent, order_id, customer_id, act) for order_id in shown]
        lines = [a.text for a in answers]
        later = owned[len(shown) :]
        if later:
            lines.append(ASK_SEPARATELY.format(refs=_listed(later)))
        if others:
            lines.append(NOT_ON_ACCOUNT.format(refs=_listed([f"#{r}" for r in others])))
        first = answers[0]  # the only one for intents that act (and may hand off)
        return OrderAnswer(
            text=" ".join(lines),
            order_id=first.order_id,
            outcome=first.outcome,
            action=first.action,
        )

    def _about(
        self, intent: str, order_id: str, customer_id: str, act: Act | None = None
    ) -> OrderAnswer:
        row = self._orders.filter(pl.col("order_id") == order_id).row(0, named=True)
        placed = _date(row["created_at"])
        items = row["_items"] or 0
        amount = _money(row["total"], row["currency"])
        summary = f"Order {order_id}, placed on {placed}"
        if items:
            summary += (
                f" ({items} item{'s' if items != 1 else ''}{', ' + amount if amount else ''})"
            )
        status = (row["fulfillment_status"] or "unfulfilled").lower()
        cancelled = bool(row["is_cancelled"])
        if cancelled:
            when = f" on {_date(row['cancelled_at'])}" if row["cancelled_at"] else ""
            state = f"{summary}, was cancelled{when}."
        elif status == "fulfilled":
            state = f"{summary}, has been dispatched."
        elif status in {"partial", "partially_fulfilled"}:
            state = f"{summary}, has been partly dispatched; the rest follows when it is ready."
        elif status in {"unfulfilled", "pending", "open", "scheduled", "on_hold"}:
            state = f"{summary}, is being prepared and has not been dispatched yet."
        else:
            state = f"{summary}, has fulfilment status '{status}'."
        dispatched = status in {"fulfilled", "partial", "partially_fulfilled"}

        if intent == "cancel_order":
            if cancelled:
                return OrderAnswer(text=state, order_id=order_id, outcome="answered")
            if dispatched:
                returns = (
                    f", but you can return it for a refund within {self.return_days} days of "
                    "delivery."
                    if self.return_days is not None
                    else "; ask me about returns if you no longer want it."
                )
                return OrderAnswer(
                    text=f"{state} It can no longer be cancelled{returns}",
                    order_id=order_id,
                    outcome="answered",
                )
            # Said to be requested only when the shop's code took it; else a person does it.
            done = act is not None and act("cancel_order", order_id, customer_id)
            return OrderAnswer(
                text=f"{state} {CANCEL_REQUESTED if done else CANCEL_HANDED_OFF}",
                order_id=order_id,
                outcome="answered" if done else "action_needed",
                action="cancel_order",
            )
        if intent in {"change_order", "change_shipping_address"}:
            if cancelled or dispatched:
                return OrderAnswer(
                    text=f"{state} It can no longer be changed.",
                    order_id=order_id,
                    outcome="answered",
                )
            return OrderAnswer(
                text=f"{state} It can still be changed: I'm passing you to a colleague who "
                "will make the change with you.",
                order_id=order_id,
                outcome="handoff",
                action=intent,
            )
        if intent in {"check_invoice", "get_invoice"}:
            return OrderAnswer(
                text=f"{state} Its invoice is in your order history: open the order and "
                "choose Download invoice.",
                order_id=order_id,
                outcome="answered",
            )
        if intent in {"get_refund", "track_refund"}:
            refunded = row["refunded_amount"] or 0.0
            if refunded > 0:
                extra = f" {_money(refunded, row['currency'])} has been refunded on it."
            else:
                extra = " No refund has been issued on it yet."
            return OrderAnswer(text=state + extra, order_id=order_id, outcome="answered")
        return OrderAnswer(text=state, order_id=order_id, outcome="answered")


def act_through_plugins(action: str, order_id: str, customer_id: str) -> bool:
    """Ask the plugins (``handle_support_action`` hook) to carry out ``action``; True if done.

    Raises:
        PluginError: A plugin raised, or returned something other than True, False or None.
    """
    done = call_hook(
        "handle_support_action", action=action, order_id=order_id, customer_id=customer_id
    )
    if done is not None and not isinstance(done, bool):
        raise PluginError(
            f"handle_support_action returned {done!r} for {action!r}; return True (done), "
            "False (not done) or None (let another plugin decide)"
        )
    return bool(done)


def _listed(refs: list[str]) -> str:
    """``order #1``, ``orders #1 and #2``, ``orders #1, #2, #3, #4, #5 and 3 more``."""
    shown = refs[:MAX_LISTED_REFS]
    more = len(refs) - len(shown)
    noun = "orders " if len(refs) > 1 else "order "
    if more:
        return f"{noun}{', '.join(shown)} and {more} more"
    if len(shown) == 1:
        return noun + shown[0]
    return f"{noun}{', '.join(shown[:-1])} and {shown[-1]}"


def _date(value: dt.datetime | None) -> str:
    if value is None:
        return "an unknown date"
    return f"{value.day} {value.strftime('%B %Y')}"


def _money(value: float | None, currency: str | None) -> str:
    if value is None:
        return ""
    symbol = _CURRENCY.get((currency or "").upper())
    if symbol:
        return f"{symbol}{value:,.2f}"
    return f"{value:,.2f} {currency}" if currency else f"{value:,.2f}"
