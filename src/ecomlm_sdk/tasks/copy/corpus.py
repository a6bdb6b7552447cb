"""Copy templates, prompts, and the corpus a small GPT-2 learns marketing copy from.

Offline there is no pretrained language model, so ``generate-copy`` trains a small GPT-2 from
scratch on a corpus built here: the shop's own product titles (and descriptions, when the
store has them) set into the copy templates below, written for ecomlm-sdk. The model learns the
prompt format and the shape of a subject line or blurb from it; the templates are also the
fallback when a generated text is empty or unusable.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Sequence
from typing import Final

from ecomlm_sdk.tasks.copy.segments import SEGMENT_PHRASES

__all__ = [
    "BLURB_TEMPLATES",
    "SUBJECT_TEMPLATES",
    "blurb_prompt",
    "build_corpus",
    "completion_ngrams",
    "fluent",
    "nice_title",
    "relexicalize",
    "subject_prompt",
    "template_blurb",
    "template_subject",
]

SUBJECT_TEMPLATES: Final[dict[str, tuple[str, ...]]] = {
    "vip": (
        "First look for our best customers: {p1}",
        "Reserved for you: {p1} and {p2}",
        "Thank you for everything - {p1} is here",
        "Just for you, before anyone else: {p1}",
        "Your VIP pick this week: {p1} and {p2}",
    ),
    "loyal": (
        "Thanks for shopping with us: {p1} and more",
        "Back in stock for you: {p1}",
        "Your favourites, plus {p1}",
        "Because you keep coming back: {p1}",
        "A little thank you - {p1} and {p2}",
    ),
    "new": (
        "Loved your first order? Meet {p1}",
        "Welcome back: {p1} and {p2} picked for you",
        "Your next favourite could be {p1}",
        "Good to see you again: {p1}",
        "Ready for round two? {p1} is here",
    ),
    "at_risk": (
        "We saved you a look at {p1}",
        "Still thinking of us? {p1} is waiting",
        "Something new since your last visit: {p1}",
        "Don't miss out on {p1}",
        "Your basket misses you: {p1} and {p2}",
    ),
    "lapsed": (
        "It has been a while - meet {p1}",
        "We miss you: {p1} and {p2} are here",
        "Come back for {p1}",
        "A lot has changed - including {p1}",
        "Time for a treat? {p1} is back",
    ),
    "regular": (
        "Picked for you: {p1} and {p2}",
        "New this week: {p1}",
        "You might like {p1}",
        "Fresh in: {p1} and {p2}",
        "This week's pick: {p1}",
    ),
    "prospect": (
        "Our most loved: {p1}",
        "Meet {p1}, a customer favourite",
        "Start with {p1}",
        "Everyone is talking about {p1}",
        "Discover {p1} and {p2}",
    ),
}

BLURB_TEMPLATES: Final[tuple[str, ...]] = (
    "{p1} is a favourite with customers like you. Add it to your next order.",
    "Meet {p1}: made to brighten your home, and ready to ship.",
    "{p1} makes a lovely gift. Order today and it ships this week.",
    "Our customers keep coming back for {p1}. See why.",
    "Treat yourself to {p1}, picked for you.",
    "Looking for a little something? {p1} is in stock and ready to go.",
    "Add a touch of charm with {p1}. Ships this week.",
)

#: The product slots of delexicalised copy, filled with featured titles after generation.
SLOT_PATTERN: Final = re.compile(r"\{p([12])\}")


def nice_title(title: str) -> str:
    """A product title fit for copy: ``"WHITE HANGING HEART"`` -> ``"White Hanging Heart"``."""
    cleaned = " ".join(title.split())
    return string.capwords(cleaned) if cleaned.isupper() else cleaned


def _slots(products: Sequence[str]) -> dict[str, str]:
    names = [nice_title(p) for p in products] or ["our bestsellers"]
    return {"p1": names[0], "p2": names[1] if len(names) > 1 else "more"}


def subject_prompt(segment: str, products: Sequence[str]) -> str:
    """The prompt for an email subject line: audience and products only, never personal data."""
    listed = "; ".join(nice_title(p) for p in products) or "our bestsellers"
    return f"Audience: {SEGMENT_PHRASES.get(segment, segment)} | Products: {listed} | Subject:"


def blurb_prompt(segment: str, product: str) -> str:
    """The prompt for a one-product blurb."""
    return f"Audience: {SEGMENT_PHRASES.get(segment, segment)} | Product: {nice_title(product)} | Blurb:"


def template_subject(segment: str, products: Sequence[str], variant: int = 0) -> str:
    """A subject line from the templates (the fallback, and the baseline)."""
    templates = SUBJECT_TEMPLATES.get(segment, SUBJECT_TEMPLATES["regular"])
    return templates[variant % len(templates)].format(**_slots(products))


def template_blurb(product: str, variant: int = 0) -> str:
    """A blurb from the templates (the fallback, and the baseline)."""
    return BLURB_TEMPLATES[variant % len(BLURB_TEMPLATES)].format(p1=nice_title(product))


def relexicalize(text: str, products: Sequence[str]) -> str | None:
    """Fill the ``{p1}``/``{p2}`` slots of delexicalised copy with featured product titles.

    Returns:
        The filled text, or ``None`` when it names no featured product (no slot, or only
        ``{p2}`` when a single product is featured) or holds a malformed slot.
    """
    slots = _slots(products)
    used = {m.group(1) for m in SLOT_PATTERN.finditer(text)}
    if "1" not in used and not ("2" in used and len(products) > 1):
        return None
    filled = SLOT_PATTERN.sub(lambda m: slots[f"p{m.group(1)}"], text)
    return None if "{" in filled or "}" in filled else filled


_TOKEN: Final = re.compile(r"\{p[12]\}|[a-z0-9']+|[^\sa-z0-9']")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


#: Words of context a generated text must share with the templates at every position.
FLUENCY_ORDER: Final = 3
_MARKERS: Final = {"subject": " | Subject: ", "blurb": " | Blurb: "}


def _ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    padded = ["<s>"] * (n - 1) + tokens + ["</s>"]
    return {tuple(padded[i : i + n]) for i in range(len(padded) - n + 1)}


def completion_ngrams(
    corpus: Sequence[str], kind: str, n: int = FLUENCY_ORDER
) -> set[tuple[str, ...]]:
    """Every run of ``n`` adjacent tokens (words, slots, punctuation) in the corpus's subject
    lines (``kind="subject"``) or blurbs (``kind="blurb"``), with start and end markers."""
    marker = _MARKERS[kind]
    grams: set[tuple[str, ...]] = set()
    for line in corpus:
        if marker in line:
            grams |= _ngrams(_tokens(line.split(marker, 1)[1]), n)
    return grams


def fluent(text: str, ngrams: set[tuple[str, ...]], n: int = FLUENCY_ORDER) -> bool:
    """Whether every run of ``n`` adjacent tokens of ``text`` occurs in the corpus completions.

    The text may recombine templates where they share ``n - 1`` tokens, but never stutters
    ("add a a while"), mixes a blurb into a subject line, or stops mid-phrase. It must also
    hold at least two words besides its product slots.
    """
    tokens = _tokens(text)
    words = [t for t in tokens if t.isalnum() or "'" in t]
    if len(words) < 2:
        return False
    return _ngrams(tokens, n) <= ngrams


def build_corpus(
    titles: Sequence[str], *, size: int, seed: int = 0, delexicalize: bool = True
) -> list[str]:
    """Training lines: prompts followed by a templated subject line or blurb.

    Args:
        titles: Product titles of the shop (the most popular first).
        size: Number of lines to build (half subject lines, half blurbs).
        seed: Random seed for the pairing of products, segments and templates.
        delexicalize: Write the products in the completions as ``{p1}``/``{p2}`` slots
            (filled in after generation by :func:`relexicalize`) rather than as titles: a
            small model learns the copy, and can never name the wrong product.
    """
    if not titles:
        return []
    rng = random.Random(seed)
    segments = list(SUBJECT_TEMPLATES)
    lines = []
    for i in range(size):
        segment = segments[i % len(segments)]
        if i % 2 == 0:
            products = rng.sample(list(titles), k=min(3, len(titles)))
            templates = SUBJECT_TEMPLATES[segment]
            template = templates[rng.randrange(len(templates))]
            subject = template if delexicalize else template.format(**_slots(products))
            lines.append(f"{subject_prompt(segment, products)} {subject}")
        else:
            product = rng.choice(list(titles))
            template = BLURB_TEMPLATES[rng.randrange(len(BLURB_TEMPLATES))]
            blurb = template if delexicalize else template.format(**_slots([product]))
            lines.append(f"{blurb_prompt(segment, product)} {blurb}")
    return lines
