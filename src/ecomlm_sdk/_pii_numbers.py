"""Card and phone numbers inside one run of digit groups (the rules are in ``privacy``'s docstring).

:func:`numbers_in_run` gets a run the privacy pattern found (digits with spaces, dots, dashes and
brackets between them), splits it into *chains* of digit groups joined the way numbers are
written, finds Luhn-valid card numbers in each chain, then decides whether each stretch left
between cards is a phone number. Every step looks at each group a bounded number of times, so
the work is linear in the length of the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["MIN_RUN_CHARS", "luhn_valid", "numbers_in_run"]

_DIGITS: Final = re.compile(r"\d+")
_SPACES: Final = " \t\u00a0"
#: What may join two digit groups of one number once spaces are removed (at most two spaces).
_JOINS: Final = frozenset({"", ".", "-", "(", ")", ")-", ")."})
_CARD_JOINS: Final = frozenset({"", ".", "-"})
#: Digit-group sizes cards are printed with; each entry is (smallest, largest) per group.
_CARD_FORMATS: Final[tuple[tuple[tuple[int, int], ...], ...]] = (
    ((4, 4), (4, 4), (4, 4), (4, 4), (1, 3)),  # 17-19 digits
    ((4, 4), (6, 6), (5, 5)),  # American Express
    ((4, 4), (4, 4), (4, 4), (1, 4)),  # 13-16 digits, 4-4-4-4 among them
    ((4, 4), (6, 6), (4, 4)),  # Diners Club
    ((13, 19),),  # unbroken
)
_DATE: Final = re.compile(
    r"(?<!\d)(?:(?:19|20)\d\d[-./](?:0?[1-9]|1[0-2])[-./](?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])[-./](?:0?[1-9]|1[0-2])[-./](?:19|20)\d\d)(?!\d)"
)
#: An order reference marker right before a number: ``#``, ``order``, ``invoice no.``, ...
_ORDER_WORD: Final = re.compile(
    r"(?:#|(?<!\w)(?:order|purchase|invoice|parcel|package|shipment|tracking)s?"
    r"(?:\s+(?:number|no|nr|id|ref|reference))?\.?\s*[:#]?)\s*\Z",
    re.IGNORECASE,
)
_ORDER_WORD_WINDOW: Final = 40
#: Fewest characters a run needs to hold a card or phone number (7 digits).
MIN_RUN_CHARS: Final = 7
_NO_SPACES: Final = str.maketrans("", "", _SPACES)
#: Luhn's doubled digit, digit sum taken: "7" -> 14 -> 5.
_DOUBLED: Final = {str(d): 2 * d - 9 if d > 4 else 2 * d for d in range(10)}

Kind = Literal["card", "phone"]


@dataclass(frozen=True, slots=True)
class _Group:
    start: int  # offset of the first digit
    end: int  # one past the last digit
    lead: int  # where a number starting with this group begins (at a "(" or "+" before it)
    join: str  # what joins it to the previous group, spaces removed ("" for the first)
    opened: bool  # "(" right before it
    closed: bool  # ")" right after it (set on the group, known once the next join is read)


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum used by payment cards."""
    if not (digits.isascii() and digits.isdigit()):
        return False
    reverse = digits[::-1]
    total = sum(map(int, reverse[::2])) + sum(map(_DOUBLED.__getitem__, reverse[1::2]))
    return total % 10 == 0


def numbers_in_run(text: str, start: int, end: int) -> Iterator[tuple[Kind, int, int]]:
    """The card and phone numbers in ``text[start:end]``, as ``(kind, start, end)`` in order."""
    for chain in _chains(text, start, end):
        yield from _in_chain(text, chain)


def _chains(text: str, start: int, end: int) -> Iterator[list[_Group]]:
    chain: list[_Group] = []
    previous_end = start
    for match in _DIGITS.finditer(text, start, end):
        between = text[previous_end : match.start()]
        core = "" if between == " " else between.translate(_NO_SPACES)
        if previous_end == start:  # the run's first group: the pattern allows "+", "(", "(+"
            lead, opened, join = start, between.startswith("("), ""
        elif core in _JOINS and len(between) - len(core) <= 2:
            lead = previous_end + between.rindex("(") if core.endswith("(") else match.start()
            opened = core.endswith("(")
            join = core
            if core.startswith(")"):
                chain[-1] = _replace_closed(chain[-1])
        else:
            yield chain
            opened = core.endswith("(")
            lead = previous_end + between.rindex("(") if opened else match.start()
            chain, join = [], ""
        chain.append(_Group(match.start(), match.end(), lead, join, opened, False))
        previous_end = match.end()
    if chain:
        if text[previous_end:end].startswith(")"):
            chain[-1] = _replace_closed(chain[-1])
        yield chain


def _replace_closed(group: _Group) -> _Group:
    return _Group(group.start, group.end, group.lead, group.join, group.opened, True)


def _in_chain(text: str, chain: list[_Group]) -> Iterator[tuple[Kind, int, int]]:
    i = rest = 0
    while i < len(chain):
        size = _card_at(text, chain, i)
        if not size:
            i += 1
            continue
        if rest < i and _is_phone(text, chain[rest:i]):
            yield "phone", chain[rest].lead, chain[i - 1].end
        yield "card", chain[i].start, chain[i + size - 1].end
        i = rest = i + size
    if rest < len(chain) and _is_phone(text, chain[rest:]):
        yield "phone", chain[rest].lead, chain[-1].end


def _card_at(text: str, chain: list[_Group], i: int) -> int:
    """How many groups from ``chain[i]`` form a card number (0: none)."""
    if text[chain[i].start] not in "23456":
        return 0
    for sizes in _CARD_FORMATS:
        if i + len(sizes) > len(chain):
            continue
        window = chain[i : i + len(sizes)]
        if any(g.join not in _CARD_JOINS for g in window[1:]):
            continue
        if all(
            low <= g.end - g.start <= high for g, (low, high) in zip(window, sizes, strict=True)
        ):
            digits = "".join(text[g.start : g.end] for g in window)
            if luhn_valid(digits):
                return len(sizes)
    return 0


def _is_phone(text: str, groups: list[_Group]) -> bool:
    digits = sum(g.end - g.start for g in groups)
    if digits < 7 or digits > 17:
        return False  # checked first: only short stretches are looked at any further
    first = groups[0]
    if text[first.lead] == "+":
        return digits <= 15
    if _after_order_word(text, first.lead):
        return False
    if _DATE.search(text, first.lead, groups[-1].end):
        return False
    international = text.startswith("00", first.start) and text[first.start + 2] != "0"
    if international and digits >= 9:
        return True
    if digits > 15:
        return False
    if any(_area_code(g) for g in groups):
        return True
    if len(groups) >= 2:
        return digits >= 9
    return digits >= 10


def _area_code(group: _Group) -> bool:
    return group.opened and group.closed and 1 <= group.end - group.start <= 5


def _after_order_word(text: str, position: int) -> bool:
    return _ORDER_WORD.search(text, max(0, position - _ORDER_WORD_WINDOW), position) is not None
