"""Redaction benchmark: seconds per MB of ``privacy.redact`` against two baselines, side by side.

* **floor**: one ``re.finditer(r"[@\\d]+")`` pass that only finds the characters redaction must
  look at: no regex-based redactor can be faster than touching every character once.
* **old**: the patterns and overlap checks ``redact`` had before issue 10 (three regex passes,
  overlap checked against every earlier match), run on the small sizes only because it is
  quadratic (``--old-max-mb``).

Two kinds of message, 0.1/0.4/1/4 MB each: a chat log (a timestamp, an e-mail, an order
number, a phone and a card number per line) and a hostile run of card-sized digit groups
(``"4111 " * n``). Each figure is the median of ``--repeat`` runs.

Usage::

    .venv/bin/python benchmarks/bench_privacy.py [--repeat 5] [--old-max-mb 0.4]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable

from ecomlm_sdk.privacy import redact

SIZES_MB = (0.1, 0.4, 1.0, 4.0)
_CHAT_LINE = (
    "[2011-12-01 08:26] ann@example.com: where is order #536365? call 020 7946 0958 "
    "or charge 4111 1111 1111 1111, thanks\n"
)


def chat(size: int) -> str:
    """A chat log of ``size`` characters."""
    return (_CHAT_LINE * (size // len(_CHAT_LINE) + 1))[:size]


def card_groups(size: int) -> str:
    """``"4111 4111 ..."``: every position starts a card-shaped window that must be checked."""
    return ("4111 " * (size // 5 + 1))[:size]


_FLOOR = re.compile(r"[@\d]+")


def floor(text: str) -> str:
    """Touch every character once; the least any regex redactor must do."""
    for _ in _FLOOR.finditer(text):
        pass
    return text


# The pre-issue-10 implementation, kept here as the baseline.
_OLD_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_OLD_CARD = re.compile(r"(?<![\w#])\d(?:[ -]?\d){12,18}(?!\w)")
_OLD_PHONE = re.compile(r"(?<![\w#])(?:\+|00)?\(?\d[\d().\s-]{6,22}\d(?![\w])")
_OLD_SEPARATED = re.compile(r"\d[\s.-]+\d")
_OLD_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4}")


def _old_luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _old_phone(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15 or _OLD_DATE.search(text):
        return False
    if text.startswith("+") or (text.startswith("00") and len(digits) >= 10):
        return True
    if "(" in text and ")" in text:
        return True
    if _OLD_SEPARATED.search(text) and len(digits) >= 9:
        return True
    return text.isdigit() and text.startswith("0") and 10 <= len(digits) <= 11


def old_redact(text: str) -> str:
    """``redact`` as it was: three passes, each match checked against all earlier ones."""
    taken: list[tuple[int, int, str]] = []

    def free(start: int, end: int) -> bool:
        return not any(start < e and s < end for s, e, _ in taken)

    for m in _OLD_EMAIL.finditer(text):
        taken.append((m.start(), m.end(), "[EMAIL]"))
    for m in _OLD_CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if free(*m.span()) and digits[0] in "23456" and _old_luhn(digits):
            taken.append((m.start(), m.end(), "[CARD]"))
    for m in _OLD_PHONE.finditer(text):
        trimmed = m.group().rstrip(" .-(")
        end = m.start() + len(trimmed)
        if free(m.start(), end) and _old_phone(trimmed):
            taken.append((m.start(), end, "[PHONE]"))
    parts, position = [], 0
    for start, end, tag in sorted(taken):
        parts += [text[position:start], tag]
        position = end
    parts.append(text[position:])
    return "".join(parts)


def median_seconds(function: Callable[[str], str], text: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--old-max-mb", type=float, default=0.4)
    args = parser.parse_args()
    expected = "[2011-12-01 08:26] [EMAIL]: where is order #536365? call [PHONE] or charge [CARD]"
    assert redact(_CHAT_LINE) == old_redact(_CHAT_LINE) == expected + ", thanks\n"
    print(f"median of {args.repeat} runs; s/MB = seconds per 1,000,000 characters")
    header = f"{'message':<12}{'MB':>5}{'redact s/MB':>13}{'floor s/MB':>12}{'ratio':>8}"
    print(header + f"{'old s/MB':>11}{'old/new':>9}")
    for name, make in (("chat", chat), ("card groups", card_groups)):
        for mb in SIZES_MB:
            text = make(int(mb * 1_000_000))
            ours = median_seconds(redact, text, args.repeat) / mb
            base = median_seconds(floor, text, args.repeat) / mb
            line = f"{name:<12}{mb:>5}{ours:>13.3f}{base:>12.4f}{ours / base:>8.1f}"
            if mb <= args.old_max_mb:
                old = median_seconds(old_redact, text, max(1, args.repeat // 2)) / mb
                line += f"{old:>11.3f}{old / ours:>9.1f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
