"""Redaction of personal data (emails, card and phone numbers, a customer's own details) from text.

Everything the SDK logs, and every prompt it hands to a model, goes through :func:`redact` (or a
:class:`Redactor`) first. Each match is replaced with a bracketed tag, so the text keeps its
shape (``"call me on [PHONE]"``) and a model can still read it::

    >>> redact("I'm jöhn@exämple.de, card 4111.1111.1111.1111, call 2125550123")
    "I'm [EMAIL], card [CARD], call [PHONE]"

What counts as what:

* **email** (``[EMAIL]``): ``local@domain.tld`` with Unicode letters allowed in both parts
  (``jöhn@exämple.de``) and punycode domains (``xn--exmple-cua.de``); a full-width ``＠`` too.
* **card** (``[CARD]``): 13 to 19 digits starting with 2-6 (the digits card networks issue) that
  pass the Luhn checksum, written unbroken or grouped as cards print them (4-4-4-4, 4-4-4-4-3,
  4-4-4-1..4, Amex 4-6-5, Diners 4-6-4) with spaces (one or two), dots or dashes. A card is
  redacted wherever it is, even right after ``#`` or ``order``.
* **phone** (``[PHONE]``), in a run of digit groups: ``+`` and 7-15 digits (``+44 20 7946 0958``);
  ``00``, a country code and 9-17 digits in all (``0044 20 7946 0958``); a bracketed area code and
  7-15 digits (``(212) 555-0123``); 9-15 digits in two or more groups that are not a date
  (``555-123-4567``, ``06 12 34 56 78``); or 10-15 unbroken digits (``2125550123``).
* **name**, **address** (``[NAME]``, ``[ADDRESS]``) and the customer's own email and phone: the
  values the store holds for that customer (see :meth:`Redactor.for_customer`), matched as whole
  words, case-insensitively.

Order references are kept on purpose, so support can still look orders up: a number right after
``#`` (``#536365``) or after an order word (``order``, ``purchase``, ``invoice``, ``parcel``,
``tracking``, optionally with ``no.``, ``number``, ``id``, ``ref``) is never taken for a phone
number (``order 113542617735902``), and runs of fewer than 10 digits without a phone number's
marks (``+``, ``00``, brackets, groups adding up to 9 or more digits) are left alone, as are
dates, amounts and digits glued to letters (``SKU85123A``).

Redaction is one left-to-right pass of one regular expression whose every repetition is either
bounded or unambiguous, plus a linear walk over each run of digit groups, so its time grows
linearly with the text (see ``benchmarks/bench_privacy.py``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

import polars as pl

from ecomlm_sdk._pii_numbers import MIN_RUN_CHARS, luhn_valid, numbers_in_run

if TYPE_CHECKING:
    from ecomlm_sdk.data.store import EcomStore

__all__ = [
    "CUSTOMER_COLUMNS",
    "TAGS",
    "CustomerRedactors",
    "KnownKind",
    "PiiKind",
    "PiiMatch",
    "RedactingFilter",
    "Redactor",
    "contains_pii",
    "find_pii",
    "install_log_redaction",
    "luhn_valid",
    "redact",
    "use_redactor",
]

PiiKind = Literal["email", "card", "phone", "name", "address"]
#: Kinds a known value (one the store holds for a customer) can be tagged as.
KnownKind = Literal["email", "phone", "name", "address"]

#: Replacement text for each kind of personal data.
TAGS: Final[dict[str, str]] = {
    "email": "[EMAIL]",
    "card": "[CARD]",
    "phone": "[PHONE]",
    "name": "[NAME]",
    "address": "[ADDRESS]",
}

#: Customer columns whose values are redacted by :meth:`Redactor.for_customer`, and their kind.
#: Columns a store does not have are skipped; the extra ones are those Shopify exports carry.
CUSTOMER_COLUMNS: Final[dict[str, KnownKind]] = {
    "email": "email",
    "first_name": "name",
    "last_name": "name",
    "phone": "phone",
    "address": "address",
    "address1": "address",
    "address2": "address",
    "street": "address",
    "company": "address",
    "city": "address",
    "zip": "address",
    "postcode": "address",
    "postal_code": "address",
}

_LOCAL: Final = r"[\w.+\-]{1,64}"
_LABEL: Final = r"[^\W_][\w\-]{0,62}"
_TLD: Final = r"[^\W\d_][^\W_]{1,62}"
_EMAIL: Final = rf"(?<![\w.+\-]){_LOCAL}[@＠](?:{_LABEL}\.){{1,8}}{_TLD}"
# A run of digits with the characters phone and card numbers are written with; split_run()
# decides which joins are real. Every repetition is followed by something it cannot match, so
# the engine never backtracks more than the run itself.
_RUN: Final = r"(?<!\w)(?:\+[ \t\u00a0]?|\(\+?)?\d(?:[\d().\- \t\u00a0]*\d)?"
_MIN_KNOWN_CHARS: Final = 2


@dataclass(frozen=True)
class PiiMatch:
    """One piece of personal data found in a text.

    Attributes:
        kind: ``"email"``, ``"card"``, ``"phone"``, ``"name"`` or ``"address"``.
        start: Offset of the first character.
        end: Offset one past the last character.
    """

    kind: PiiKind
    start: int
    end: int


def _fold(value: str) -> str:
    return " ".join(value.casefold().split())


@functools.lru_cache(maxsize=256)
def _pattern(known: tuple[str, ...]) -> re.Pattern[str]:
    parts = [f"(?P<email>{_EMAIL})"]
    if known:
        words = [r"\s+".join(re.escape(word) for word in value.split()) for value in known]
        parts.append(rf"(?P<known>(?i:(?<!\w)(?:{'|'.join(words)})(?![\w@＠])))")
    parts.append(f"(?P<run>{_RUN})")
    return re.compile("|".join(parts))


class Redactor:
    """Finds and replaces personal data; :func:`redact` is the one without known values.

    Args:
        known: Values to remove wherever they appear as whole words (case-insensitive, any
            whitespace between words), each with the kind it is tagged as, e.g.
            ``{"Ann": "name", "12 Baker Street": "address"}``. Values shorter than two
            characters are ignored.

    Example:
        ```py
        redactor = Redactor({"Ann": "name", "Lee": "name", "12 Baker Street": "address"})
        redactor("I'm ann lee, 12 baker street")  # "I'm [NAME] [NAME], [ADDRESS]"
        ```
    """

    def __init__(self, known: Mapping[str, KnownKind] | None = None) -> None:
        kinds: dict[str, KnownKind] = {}
        spellings: set[str] = set()
        for value, kind in (known or {}).items():
            folded = _fold(value)
            if len(folded) < _MIN_KNOWN_CHARS:
                continue
            kinds.setdefault(folded, kind)
            # IGNORECASE maps one character to one; casefold() also catches "ß" = "SS".
            for spelling in (value, value.casefold(), value.upper()):
                spellings.add(" ".join(spelling.split()))
                kinds.setdefault(_fold(spelling), kind)
        #: The known values, folded (lower-cased, single spaces), and their kinds.
        self.known: Final[dict[str, KnownKind]] = kinds
        # Longest first: the regex alternation takes the first alternative that matches.
        self._pattern = _pattern(tuple(sorted(spellings, key=lambda v: (-len(v), v))))

    @classmethod
    def for_customer(cls, store: EcomStore, customer_id: str | None) -> Redactor:
        """A redactor that also removes what ``store`` holds about ``customer_id``.

        The values come from the :data:`CUSTOMER_COLUMNS` the store's ``customers`` table has
        (names, email, phone, street, city, zip). An unknown or ``None`` id gives the plain
        redactor.
        """
        if customer_id is None:
            return _PLAIN
        return CustomerRedactors(store.customers, only=[customer_id]).get(customer_id)

    def find(self, text: str) -> list[PiiMatch]:
        """Every piece of personal data in ``text``, in order of position, never overlapping."""
        found: list[PiiMatch] = []
        for match in self._pattern.finditer(text):
            group = match.lastgroup
            if group == "email":
                found.append(PiiMatch("email", match.start(), match.end()))
            elif group == "known":
                kind = self.known.get(_fold(match.group()), "name")
                found.append(PiiMatch(kind, match.start(), match.end()))
            elif match.end() - match.start() >= MIN_RUN_CHARS:
                found.extend(self._in_run(text, match.start(), match.end()))
        return found

    def redact(self, text: str) -> str:
        """``text`` with every match of :meth:`find` replaced by its tag (:data:`TAGS`).

        Returns:
            The redacted text; ``text`` itself when nothing matched.
        """
        matches = self.find(text)
        if not matches:
            return text
        parts: list[str] = []
        position = 0
        for match in matches:
            parts.append(text[position : match.start])
            parts.append(TAGS[match.kind])
            position = match.end
        parts.append(text[position:])
        return "".join(parts)

    __call__ = redact

    def contains(self, text: str) -> bool:
        """Whether ``text`` holds anything :meth:`find` would report."""
        return bool(self.find(text))

    @staticmethod
    def _in_run(text: str, start: int, end: int) -> Iterator[PiiMatch]:
        for kind, first, last in numbers_in_run(text, start, end):
            yield PiiMatch(kind, first, last)


_PLAIN: Final = Redactor()


def redact(text: str, *, known: Mapping[str, KnownKind] | None = None) -> str:
    """Replace emails, card numbers, phone numbers (and ``known`` values) in ``text`` with tags.

    Args:
        text: Any text: a customer message, a log line, a prompt.
        known: Values to remove too, with their kind (see :class:`Redactor`), e.g. the
            customer's name and street: ``{"Ann": "name", "12 Baker Street": "address"}``.

    Returns:
        The text with every match replaced by ``[EMAIL]``, ``[CARD]``, ``[PHONE]``, ``[NAME]``
        or ``[ADDRESS]``; unchanged when nothing matched.
    """
    return (Redactor(known) if known else _PLAIN).redact(text)


def find_pii(text: str, *, known: Mapping[str, KnownKind] | None = None) -> list[PiiMatch]:
    """Every piece of personal data in ``text`` (see :func:`redact`), in order of position."""
    return (Redactor(known) if known else _PLAIN).find(text)


def contains_pii(text: str, *, known: Mapping[str, KnownKind] | None = None) -> bool:
    """Whether ``text`` holds an email, card number, phone number or ``known`` value."""
    return bool(find_pii(text, known=known))


class CustomerRedactors:
    """One :class:`Redactor` per customer of a ``customers`` table, built on first use.

    Args:
        customers: A frame with ``customer_id`` and any of :data:`CUSTOMER_COLUMNS`.
        only: Customer ids that will be asked for (the rest of the frame is not read); ``None``:
            every customer.
    """

    def __init__(self, customers: pl.DataFrame, *, only: Iterable[str] | None = None) -> None:
        columns = [c for c in CUSTOMER_COLUMNS if c in customers.columns]
        self._rows: dict[str, dict[str, KnownKind]] = {}
        self._cache: dict[str, Redactor] = {}
        if "customer_id" not in customers.columns or not columns:
            return
        if only is not None:
            wanted = pl.DataFrame(
                {"customer_id": sorted(set(only))}, schema={"customer_id": pl.String}
            )
            customers = customers.with_columns(pl.col("customer_id").cast(pl.String)).join(
                wanted, on="customer_id", how="semi"
            )
        for row in customers.select("customer_id", *columns).iter_rows(named=True):
            values: dict[str, KnownKind] = {}
            for column in columns:
                value = row[column]
                if isinstance(value, str) and value.strip():
                    values[value] = CUSTOMER_COLUMNS[column]
            first, last = row.get("first_name"), row.get("last_name")
            if isinstance(first, str) and isinstance(last, str) and first.strip():
                values[f"{first} {last}"] = "name"
            if values and row["customer_id"] is not None:
                self._rows[str(row["customer_id"])] = values

    def get(self, customer_id: str | None) -> Redactor:
        """The redactor for ``customer_id``; the plain one for ``None`` or an unknown id."""
        if customer_id is None or customer_id not in self._rows:
            return _PLAIN
        if customer_id not in self._cache:
            self._cache[customer_id] = Redactor(self._rows[customer_id])
        return self._cache[customer_id]


_CURRENT: ContextVar[Redactor] = ContextVar("ecomlm_redactor", default=_PLAIN)


@contextlib.contextmanager
def use_redactor(redactor: Redactor) -> Iterator[Redactor]:
    """Make :class:`RedactingFilter` use ``redactor`` (e.g. one customer's) inside the block."""
    token = _CURRENT.set(redactor)
    try:
        yield redactor
    finally:
        _CURRENT.reset(token)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts personal data from every record it passes.

    The message is formatted with its arguments first, then redacted, so personal data passed
    as an argument (``logger.info("from %s", email)``) is caught too. Inside
    :func:`use_redactor`, the customer's known values are removed as well.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always lets it through."""
        message = record.getMessage()
        cleaned = _CURRENT.get().redact(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


def install_log_redaction(logger: logging.Logger | str) -> RedactingFilter:
    """Attach a :class:`RedactingFilter` to ``logger`` (a logger or its name) once.

    Returns:
        The filter attached (the existing one when the logger already has one).
    """
    target = logging.getLogger(logger) if isinstance(logger, str) else logger
    for existing in target.filters:
        if isinstance(existing, RedactingFilter):
            return existing
    redacting = RedactingFilter()
    target.addFilter(redacting)
    return redacting
