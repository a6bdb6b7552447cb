"""A small, dependency-free guess of a message's language, for the ``language`` hand-off.

The bundled encoder (all-MiniLM-L6-v2) reads English only: a Spanish "¿Dónde está mi pedido?"
gets a confident, wrong English intent. :func:`guess_language` tells the common cases apart
without a model: a message written mostly in a non-Latin script is named by its script, and a
Latin-script message by which language's frequent words (and greetings) it holds most, English
winning ties. It is a guard, not a language identifier: a message without any such word
(``"ok"``, a postcode) counts as English, and rare languages are reported as ``"other"``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["guess_language"]

_WORD: Final = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)

# Frequent words that are not also common English words (no "a", "no", "me", "in", "die").
_STOPWORDS: Final[dict[str, frozenset[str]]] = {
    "en": frozenset(
        [
            "the",
            "my",
            "is",
            "are",
            "was",
            "where",
            "what",
            "when",
            "how",
            "why",
            "can",
            "could",
            "would",
            "i",
            "you",
            "your",
            "it",
            "this",
            "that",
            "and",
            "or",
            "of",
            "to",
            "for",
            "with",
            "not",
            "have",
            "has",
            "did",
            "do",
            "does",
            "order",
            "refund",
            "please",
            "want",
            "need",
            "get",
            "help",
            "cancel",
            "account",
            "delivery",
            "hi",
            "hello",
            "thanks",
            "thank",
            "yes",
            "okay",
            "ok",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "mi",
            "mis",
            "tu",
            "es",
            "está",
            "están",
            "dónde",
            "donde",
            "qué",
            "cuándo",
            "cómo",
            "por",
            "para",
            "con",
            "una",
            "uno",
            "quiero",
            "necesito",
            "pedido",
            "hola",
            "gracias",
            "sí",
            "pero",
            "mí",
            "del",
            "al",
            "ha",
            "llegado",
            "devuelvan",
            "dinero",
            "cancelar",
            "hablar",
            "buenos",
            "días",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "mon",
            "ma",
            "mes",
            "est",
            "où",
            "quand",
            "comment",
            "pour",
            "avec",
            "une",
            "je",
            "veux",
            "voudrais",
            "vous",
            "nous",
            "commande",
            "bonjour",
            "merci",
            "oui",
            "mais",
            "du",
            "des",
            "être",
            "remboursé",
            "annuler",
            "s'il",
            "plaît",
            "beaucoup",
            "salut",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "das",
            "ist",
            "wo",
            "wann",
            "wie",
            "warum",
            "ich",
            "möchte",
            "meine",
            "mein",
            "meinen",
            "bestellung",
            "hallo",
            "danke",
            "ja",
            "nicht",
            "und",
            "mit",
            "für",
            "bitte",
            "habe",
            "vergessen",
            "stornieren",
            "kann",
            "machen",
            "geht's",
            "wie's",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "gli",
            "mio",
            "mia",
            "dov'è",
            "dove",
            "quando",
            "come",
            "voglio",
            "vorrei",
            "ordine",
            "ciao",
            "grazie",
            "sì",
            "non",
            "con",
            "per",
            "parlare",
            "operatore",
        ]
    ),
    "nl": frozenset(
        [
            "mijn",
            "waar",
            "wanneer",
            "hoe",
            "ik",
            "wil",
            "bestelling",
            "hallo",
            "dank",
            "bedankt",
            "niet",
            "met",
        ]
    ),
    "pt": frozenset(
        [
            "onde",
            "está",
            "minha",
            "meu",
            "encomenda",
            "pedido",
            "olá",
            "obrigado",
            "obrigada",
            "quero",
            "não",
            "com",
            "para",
        ]
    ),
    "pl": frozenset(
        ["gdzie", "jest", "moje", "moja", "zamówienie", "dzień", "dobry", "dziękuję", "chcę", "nie"]
    ),
    "tr": frozenset(
        ["nerede", "siparişim", "sipariş", "merhaba", "teşekkürler", "istiyorum", "değil"]
    ),
    "hi": frozenset(
        ["mera", "meri", "kahan", "hai", "kab", "milega", "bhai", "nahi", "kya", "kaise", "chahiye"]
    ),
}
_SCRIPTS: Final = (
    ("CJK", "zh"),
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("HANGUL", "ko"),
    ("CYRILLIC", "ru"),
    ("ARABIC", "ar"),
    ("HEBREW", "he"),
    ("GREEK", "el"),
    ("DEVANAGARI", "hi"),
    ("THAI", "th"),
)


def _script(char: str) -> str | None:
    name = unicodedata.name(char, "")
    for marker, language in _SCRIPTS:
        if name.startswith(marker) or f" {marker} " in f" {name} ":
            return language
    return None


def guess_language(text: str) -> str:
    """A language code (``"en"``, ``"es"``, ``"zh"``, ...) for ``text``; ``"en"`` when unsure."""
    letters = [c for c in text if c.isalpha()]
    if letters:
        scripts: dict[str, int] = {}
        for char in letters:
            language = _script(char)
            if language is not None:
                scripts[language] = scripts.get(language, 0) + 1
        if scripts:
            language, count = max(scripts.items(), key=lambda kv: kv[1])
            if count * 2 >= len(letters):
                return language
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text)]
    hits = {lang: sum(w in vocab for w in words) for lang, vocab in _STOPWORDS.items()}
    english = hits.pop("en")
    best, count = max(hits.items(), key=lambda kv: kv[1])
    return best if count > english else "en"
