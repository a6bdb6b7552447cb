"""Copy templates, prompts, and the corpus a small GPT-2 learns marketing copy from.

Offline there is no pretrained language model, so ``generate-copy`` trains a small GPT-2 from
scratch on a corpus built here: the shop's own product titles (and descriptions, when the
store has them) set into the copy templates below, written for ecomlm-sdk. The model learns the
prompt format and the shape of a subject line or blurb from it; the templates are also the
fallback when a generated text is empty or unusable.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from typing import Final

from ecomlm_sdk.tasks.copy.segments import SEGMENT_PHRASES

__all__ = [
    "BLURB_TEMPLATES",
    "SUBJECT_TEMPLATES",
    "blurb_prompt",
    "build_corpus",
    "nice_title",
    "subject_prompt",
    "template_blurb",
    "template_subject",
]

SUBJECT_TEMPLATES: Final[dict[str, tuple[str, ...]]] = {
    "vip": (
        "First look for our best customers: {p1}",
        "Reserved for you: {p1} and {p2}",
        "Thank you for everything - {p1} is here",
    ),
    "loyal": (
        "Thanks for shopping with us: {p1} and more",
        "Back in stock for you: {p1}",
        "Your favourites, plus {p1}",
    ),
    "new": (
        "Loved your first order? Meet {p1}",
        "Welcome back: {p1} and {p2} picked for you",
        "Your next favourite could be {p1}",
    ),
    "at_risk": (
        "We saved you a look at {p1}",
        "Still thinking of us? {p1} is waiting",
        "Something new since your last visit: {p1}",
    ),
    "lapsed": (
        "It has been a while - meet {p1}",
        "We miss you: {p1} and {p2} are here",
        "Come back for {p1}",
    ),
    "regular": (
        "Picked for you: {p1} and {p2}",
        "New this week: {p1}",
        "You might like {p1}",
    ),
    "prospect": (
        "Our most loved: {p1}",
        "Meet {p1}, a customer favourite",
        "Start with {p1}",
    ),
}

BLURB_TEMPLATES: Final[tuple[str, ...]] = (
    "{title} is a favourite with customers like you. Add it to your next order.",
    "Meet {title}: made to brighten your home, and ready to ship.",
    "{title} makes a lovely gift. Order today and it ships this week.",
    "Our customers keep coming back for {title}. See why.",
    "Treat yourself to {title}, picked for you.",
)


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
    return BLURB_TEMPLATES[variant % len(BLURB_TEMPLATES)].format(title=nice_title(product))


def build_corpus(titles: Sequence[str], *, size: int, seed: int = 0) -> list[str]:
    """Training lines: prompts followed by a templated subject line or blurb.

    Args:
        titles: Product titles of the shop (the most popular first).
        size: Number of lines to build (half subject lines, half blurbs).
        seed: Random seed for the pairing of products, segments and templates.
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
            subject = template_subject(segment, products, rng.randrange(3))
            lines.append(f"{subject_prompt(segment, products)} {subject}")
        else:
            product = rng.choice(list(titles))
            blurb = template_blurb(product, rng.randrange(len(BLURB_TEMPLATES)))
            lines.append(f"{blurb_prompt(segment, product)} {blurb}")
    return lines
