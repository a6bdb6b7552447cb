"""Optional rewording of a chosen answer by a text generator, kept only when grounded in it.

The generator sees a redacted prompt (no emails, phone or card numbers) holding the customer's
message and the chosen answer. Its output replaces the answer only when it is *grounded*: every
number in it (order numbers, dates, amounts) appears in the answer, and most of its content
words come from the answer or the message. Anything else, including an empty output, keeps the
original answer, so rewording can change the tone but never the facts.
"""

from __future__ import annotations

import re
from typing import Final

from ecomlm_sdk.models.base import TextGenerator
from ecomlm_sdk.privacy import redact

__all__ = ["build_prompt", "is_grounded", "reword"]

_NUMBER: Final = re.compile(r"\d+(?:[.,]\d+)*")
_WORD: Final = re.compile(r"[a-z]+")
#: Words a rewording may add freely: they carry tone, not facts.
_STYLE_WORDS: Final = frozenset(
    [
        "thank",
        "thanks",
        "good",
        "news",
        "you",
        "your",
        "please",
        "happy",
        "glad",
        "help",
        "sorry",
        "certainly",
        "course",
        "sure",
        "hello",
        "dear",
        "there",
        "here",
        "that",
        "this",
        "with",
        "will",
        "have",
        "just",
        "need",
        "anything",
        "else",
        "today",
        "best",
        "regards",
        "kind",
        "assist",
        "assistance",
        "hope",
        "great",
        "welcome",
        "glad",
        "also",
        "more",
        "about",
    ]
)


def build_prompt(message: str, answer: str) -> str:
    """The rewording prompt: redacted message and answer, then ``Reworded answer:``."""
    return (
        "Reword the support answer below in a warm, concise tone. Do not add facts.\n"
        f"Customer: {redact(message)}\n"
        f"Answer: {redact(answer)}\n"
        "Reworded answer:"
    )


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 3}


def is_grounded(
    candidate: str, answer: str, message: str = "", *, min_overlap: float = 0.7
) -> bool:
    """Whether ``candidate`` says nothing that ``answer`` (or ``message``) does not.

    Args:
        candidate: The generator's rewording.
        answer: The answer it rewords.
        message: The customer's message (its words may be echoed).
        min_overlap: Share of the candidate's content words (longer than three letters, style
            words excluded) that must come from the answer or message.
    """
    text = candidate.strip()
    if len(text.split()) < 3:
        return False
    allowed_numbers = set(_NUMBER.findall(answer))
    if any(n not in allowed_numbers for n in _NUMBER.findall(text)):
        return False
    words = _content_words(text) - _STYLE_WORDS
    if not words:
        return True
    known = _content_words(answer) | _content_words(message)
    return len(words & known) / len(words) >= min_overlap


def reword(
    generator: TextGenerator, message: str, answer: str, *, max_new_tokens: int = 60
) -> str | None:
    """Ask ``generator`` to reword ``answer``; return the rewording, or ``None`` if not grounded."""
    prompt = build_prompt(message, answer)
    output = str(generator.generate(prompt, max_new_tokens=max_new_tokens)[0])
    if output.startswith(prompt):  # some generators echo the prompt
        output = output[len(prompt) :]
    candidate = output.strip().split("\n")[0].strip()
    return candidate if is_grounded(candidate, answer, message) else None
