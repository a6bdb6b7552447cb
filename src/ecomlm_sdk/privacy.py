"""Redaction of personal data (emails, phone numbers, card numbers) from text.

Everything the SDK logs, and every prompt it hands to a text generator, goes through
:func:`redact` first. Redaction replaces each match with a bracketed tag, so the text keeps its
shape (``"call me on [PHONE]"``) and a model can still read it::

    >>> redact("I'm ann@example.com, card 4111 1111 1111 1111, call +44 20 7946 0958")
    "I'm [EMAIL], card [CARD], call [PHONE]"

What counts as what:

* **email**: ``local@domain.tld``.
* **card**: 13 to 19 digits, optionally in groups split by single spaces or dashes, starting
  with 2-6 (the digits card networks issue) and passing the Luhn checksum (every real card
  number does; 9 random numbers in 10 do not).
* **phone**: a number written like a phone number: starting with ``+`` or ``00`` and a country
  code, or with a bracketed area code, or 9 to 15 digits split into groups by spaces, dashes or
  dots, or 10 to 11 unbroken digits starting with ``0`` (UK style ``07911123456``).

Order references are kept on purpose: a number written after ``#`` (``#536365``) is never
redacted, and neither is a bare run of digits that is not a valid card number and does not look
like a phone number (``order 113542617735902``), so support can still look orders up.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "PiiMatch",
    "RedactingFilter",
    "contains_pii",
    "find_pii",
    "install_log_redaction",
    "luhn_valid",
    "redact",
]

PiiKind = Literal["email", "card", "phone"]

#: Replacement text for each kind of personal data.
TAGS: Final[dict[str, str]] = {"email": "[EMAIL]", "card": "[CARD]", "phone": "[PHONE]"}

_EMAIL: Final = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Digit groups joined by at most one space or dash: cards are written "4111 1111 1111 1111".
_CARD: Final = re.compile(r"(?<![\w#])\d(?:[ -]?\d){12,18}(?!\w)")
_PHONE_CANDIDATE: Final = re.compile(r"(?<![\w#])(?:\+|00)?\(?\d[\d().\s-]{6,22}\d(?![\w])")
_SEPARATED: Final = re.compile(r"\d[\s.-]+\d")
_DATE: Final = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4}")


@dataclass(frozen=True)
class PiiMatch:
    """One piece of personal data found in a text.

    Attributes:
        kind: ``"email"``, ``"card"`` or ``"phone"``.
        start: Offset of the first character.
        end: Offset one past the last character.
    """

    kind: PiiKind
    start: int
    end: int


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum used by payment cards."""
    if not digits.isdigit():
        return False
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_like(digits: str) -> bool:
    # Card networks issue numbers starting with 2-6 (Mastercard 2/5, Amex/Diners/JCB 3, Visa 4,
    # Discover/Maestro/UnionPay 6); other leading digits are order or account numbers.
    return digits[0] in "23456" and luhn_valid(digits)


def _looks_like_phone(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15:
        return False
    stripped = text.strip()
    if _DATE.search(stripped):
        return False  # "2011-12-01 08:26" is a timestamp, not a phone number
    if stripped.startswith("+") or (stripped.startswith("00") and len(digits) >= 10):
        return True
    if "(" in stripped and ")" in stripped:
        return True
    if _SEPARATED.search(stripped) and len(digits) >= 9:
        return True
    return stripped.isdigit() and stripped.startswith("0") and 10 <= len(digits) <= 11


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def find_pii(text: str) -> list[PiiMatch]:
    """Every email, card number and phone number in ``text``, in order of position."""
    found: list[PiiMatch] = []
    taken: list[tuple[int, int]] = []

    def add(kind: PiiKind, start: int, end: int) -> None:
        found.append(PiiMatch(kind, start, end))
        taken.append((start, end))

    for match in _EMAIL.finditer(text):
        add("email", match.start(), match.end())
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if not _overlaps(match.span(), taken) and _card_like(digits):
            add("card", match.start(), match.end())
    for match in _PHONE_CANDIDATE.finditer(text):
        candidate = match.group()
        # The candidate pattern is greedy; trim trailing separators it may have swallowed.
        trimmed = candidate.rstrip(" .-(")
        end = match.start() + len(trimmed)
        if not _overlaps((match.start(), end), taken) and _looks_like_phone(trimmed):
            add("phone", match.start(), end)
    return sorted(found, key=lambda m: m.start)


def redact(text: str) -> str:
    """Replace emails, card numbers and phone numbers in ``text`` with ``[EMAIL]``, ``[CARD]``
    and ``[PHONE]``.

    Args:
        text: Any text: a customer message, a log line, a prompt.

    Returns:
        The text with every match replaced by its tag; unchanged when nothing matched.
    """
    matches = find_pii(text)
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


def contains_pii(text: str) -> bool:
    """Whether ``text`` holds an email, card number or phone number."""
    return bool(find_pii(text))


class RedactingFilter(logging.Filter):
    """A logging filter that redacts personal data from every record it passes.

    The message is formatted with its arguments first, then redacted, so personal data passed
    as an argument (``logger.info("from %s", email)``) is caught too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always lets it through."""
        message = record.getMessage()
        cleaned = redact(message)
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
