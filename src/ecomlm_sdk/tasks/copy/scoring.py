"""How good is the copy? Usable, on-product, varied, original, private, and featuring products
customers then bought.

Metrics (over the customers written for):

* ``generated_rate``: share of texts the model wrote (the rest fell back to a template).
* ``subject_mentions_product`` / ``blurb_mentions_product``: share naming a featured product.
* ``distinct_2``: distinct word pairs / all word pairs across subject lines (variety).
* ``novel_subject_rate``: share of generated subject lines not copied verbatim from the corpus.
* ``pii_outputs``: texts holding an email, phone or card number (must be 0).
* ``featured_hit_rate`` (with a cutoff): among customers who bought after the cutoff, the share
  who bought at least one product their email featured.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import polars as pl

from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.privacy import contains_pii
from ecomlm_sdk.tasks.base import EvaluationReport
from ecomlm_sdk.tasks.copy.corpus import nice_title, template_subject

__all__ = ["distinct_n", "featured_hit_rate", "score_copy"]


def distinct_n(texts: Iterable[str], n: int = 2) -> float:
    """Distinct n-grams over all n-grams of ``texts`` (lower-cased words); 0 when there are none."""
    grams = [
        tuple(words[i : i + n])
        for words in (t.lower().split() for t in texts)
        for i in range(len(words) - n + 1)
    ]
    return len(set(grams)) / len(grams) if grams else 0.0


def _delexicalize(text: str, products: Sequence[str]) -> str:
    """Featured titles back to ``{p1}``/``{p2}`` slots, to compare with a delexicalised corpus."""
    for slot, product in zip(("{p1}", "{p2}"), products, strict=False):
        text = text.replace(nice_title(product), slot)
    return text


def _mentions(text: str, products: Sequence[str]) -> bool:
    low = text.lower()
    return any(nice_title(p).lower() in low for p in products)


def featured_hit_rate(featured: dict[str, list[str]], future: EcomStore) -> tuple[float, int]:
    """Share of customers with a purchase in ``future`` who bought a featured product.

    Returns:
        The rate and the number of customers it is measured on.
    """
    catalogue = (
        future.products.filter(pl.col("title").is_not_null())
        .group_by("product_id")
        .agg(pl.col("title").first().alias("_catalogue_title"))
    )
    bought = (
        future.purchases()
        .join(catalogue, on="product_id", how="left")
        .with_columns(pl.coalesce("_catalogue_title", "title").alias("title"))
        .filter(pl.col("customer_id").is_in(list(featured)) & pl.col("title").is_not_null())
        .group_by("customer_id")
        .agg(pl.col("title").str.to_lowercase().str.strip_chars().unique())
    )
    hits = 0
    for cid, titles in bought.iter_rows():
        wanted = {t.lower().strip() for t in featured.get(cid, [])}
        hits += bool(wanted & set(titles))
    return (hits / bought.height if bought.height else 0.0), bought.height


def score_copy(
    copy: pl.DataFrame,
    *,
    corpus: Sequence[str],
    future: EcomStore | None,
    popular: list[str],
    cutoff: str | dt.date | dt.datetime | None,
    extra: dict[str, float],
) -> EvaluationReport:
    """Build the ``generate-copy`` report for the copy written for a sample of customers."""
    subjects = copy.get_column("subject").to_list()
    blurbs = copy.get_column("blurb").to_list()
    products = copy.get_column("products").to_list()
    generated = copy.get_column("subject_generated").to_list()
    corpus_subjects = {
        line.split(" | Subject: ", 1)[1] for line in corpus if " | Subject: " in line
    }
    generated_subjects = [
        _delexicalize(s, p) for s, p, g in zip(subjects, products, generated, strict=True) if g
    ]
    n = max(copy.height, 1)
    metrics = {
        "customers": float(copy.height),
        "generated_rate": (sum(generated) + sum(copy.get_column("blurb_generated").to_list()))
        / (2 * n),
        "subject_mentions_product": sum(
            _mentions(s, p) for s, p in zip(subjects, products, strict=True)
        )
        / n,
        "blurb_mentions_product": sum(
            _mentions(b, p) for b, p in zip(blurbs, products, strict=True)
        )
        / n,
        "distinct_2": distinct_n(subjects),
        "novel_subject_rate": (
            sum(s not in corpus_subjects for s in generated_subjects) / len(generated_subjects)
            if generated_subjects
            else 0.0
        ),
        "pii_outputs": float(sum(contains_pii(t) for t in subjects + blurbs)),
        **extra,
    }
    segments = copy.get_column("segment").to_list()
    templates = [
        template_subject(s, p, i) for i, (s, p) in enumerate(zip(segments, products, strict=True))
    ]
    baselines: dict[str, dict[str, float]] = {
        "template": {
            "generated_rate": 0.0,
            "subject_mentions_product": sum(
                _mentions(t, p) for t, p in zip(templates, products, strict=True)
            )
            / n,
            "distinct_2": distinct_n(templates),
        }
    }
    if future is not None:
        featured = dict(zip(copy.get_column("customer_id").to_list(), products, strict=True))
        rate, measured = featured_hit_rate(featured, future)
        metrics["featured_hit_rate"] = rate
        metrics["featured_hit_customers"] = float(measured)
        everyone_popular = {cid: popular for cid in featured}
        baselines["popularity"] = {
            "featured_hit_rate": featured_hit_rate(everyone_popular, future)[0]
        }
    examples = copy.head(5).select("segment", "products", "subject", "blurb").to_dicts()
    return EvaluationReport(
        task="generate-copy",
        cutoff=str(cutoff) if cutoff is not None else None,
        metrics=metrics,
        baselines=baselines,
        details={"examples": examples},
    )
