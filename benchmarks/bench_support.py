"""Support and marketing-copy benchmark on the bundled data (Bitext intents, sample store).

Support protocol (issue 6): stratified 80/20 split of the bundled Bitext utterances (seed 0);
the intent model trains on the 80% (all of it, or the fast default of 60 per intent) and is
scored on the 20%; target accuracy >= 97%. A TF-IDF + linear SVM baseline and the majority
class are trained on the same rows in the same run. Then the order-status flow runs end to end
on the sample store: the owner asks about a real order, another customer and an anonymous
visitor ask about the same order, and both are refused without any detail.

generate-copy: fit on purchases before 2011-10-01, write for 200 customers who bought before,
and measure how often the featured products are bought in the following two months, next to
featuring the most popular products to everyone.

Usage::

    .venv/bin/python benchmarks/bench_support.py [--parts fast,full,orders,copy]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import polars as pl

import ecomlm_sdk
from ecomlm_sdk.tasks.support import SupportTask

SUPPORT_KEYS = (
    "intent_accuracy",
    "macro_f1",
    "handoff_rate",
    "automated_resolution_rate",
    "wrong_answer_rate",
    "money_saved_per_1000",
)
COPY_KEYS = (
    "generated_rate",
    "subject_mentions_product",
    "distinct_2",
    "novel_subject_rate",
    "pii_outputs",
    "featured_hit_rate",
)


def _row(name: str, metrics: dict[str, float], keys: tuple[str, ...]) -> str:
    cells = "".join(f"{metrics[k]:>12.3f}" if k in metrics else f"{'-':>12}" for k in keys)
    return f"{name:<30}{cells}"


def bench_intents(store: ecomlm_sdk.EcomStore, label: str, **options: Any) -> None:
    task = ecomlm_sdk.task("support", quiet=True, **options)
    started = time.perf_counter()
    report = task.evaluate(store)
    total = time.perf_counter() - started
    m = report.metrics
    print(
        f"\n[{label}] trained on {int(m['train_examples']):,} utterances, tested on "
        f"{int(m['test_examples']):,}; fit {m['fit_seconds']:.1f}s, answering "
        f"{1000 * m['answer_seconds'] / m['test_examples']:.1f} ms/message, evaluate {total:.1f}s"
    )
    print(f"{'model':<30}" + "".join(f"{k[:11]:>12}" for k in SUPPORT_KEYS))
    print(_row("ecomlm support", m, SUPPORT_KEYS))
    for name, values in report.baselines.items():
        print(_row(f"baseline: {name}", values, SUPPORT_KEYS))
    print(f"hand-off reasons: {report.details['handoff_reasons']}")
    worst = sorted(report.details["per_intent_accuracy"].items(), key=lambda kv: kv[1])[:3]
    print("weakest intents: " + ", ".join(f"{k} {v:.3f}" for k, v in worst))
    print("target: intent accuracy >= 0.97")


def bench_orders(store: ecomlm_sdk.EcomStore) -> None:
    started = time.perf_counter()
    support: SupportTask = ecomlm_sdk.task("support", quiet=True).fit(store)
    print(f"\nsupport.fit(sample_store()) {time.perf_counter() - started:.1f}s (fast default)")
    open_order = (
        store.orders.filter(pl.col("customer_id").is_not_null() & ~pl.col("is_cancelled"))
        .sort("created_at")
        .row(0, named=True)
    )
    order_id, owner = open_order["order_id"], open_order["customer_id"]
    other = store.customers.filter(pl.col("customer_id") != owner).get_column("customer_id")[0]
    cases = [
        (f"Where is my order {order_id}?", owner),
        (f"Where is my order {order_id}?", other),
        (f"Where is my order {order_id}?", None),
        (f"cancel order {order_id.lstrip('#')}", owner),
        (f"cancel order {order_id.lstrip('#')}", other),
        ("I want a refund, my email is ann@example.com", owner),
        ("I need to speak to a real person", None),
    ]
    off_topic = [
        "what's the weather like in Paris tomorrow?",
        "tell me a joke about penguins",
        "asdf qwerty zxcv",
        "who won the football last night",
        "recommend a good book on Roman history",
    ]
    started = time.perf_counter()
    replies = support.answer_many([m for m, _ in cases], [c for _, c in cases])
    seconds = time.perf_counter() - started
    for (message, customer), reply in zip(cases, replies, strict=True):
        who = "owner" if customer == owner else ("other customer" if customer else "anonymous")
        print(
            f"- {message!r} as {who}: intent={reply.intent} ({reply.confidence:.2f}) "
            f"handoff={reply.handoff} source={reply.source} order={reply.order_id} "
            f"action={reply.action}\n    -> {reply.text}"
        )
    leaked = [r for r, (_, c) in zip(replies, cases, strict=True) if c != owner and r.order_id]
    print(f"answered {len(cases)} messages in {seconds:.2f}s; order details leaked: {len(leaked)}")
    print("off-topic messages (none of the 27 intents):")
    for message, reply in zip(off_topic, support.answer_many(off_topic), strict=True):
        print(
            f"- {message!r}: intent={reply.intent} ({reply.confidence:.2f}, margin "
            f"{reply.margin:.2f}) similarity={reply.similarity} handoff={reply.handoff} "
            f"reason={reply.reason}"
        )


def bench_copy(store: ecomlm_sdk.EcomStore) -> None:
    task = ecomlm_sdk.task("generate-copy", quiet=True)
    started = time.perf_counter()
    report = task.evaluate(store, cutoff="2011-10-01")
    total = time.perf_counter() - started
    m = report.metrics
    print(
        f"\n[generate-copy] {int(m['customers'])} customers; corpus {int(m['corpus_lines'])} "
        f"lines; fit {m['fit_seconds']:.1f}s (recommender + GPT-2 trained from scratch), "
        f"generate {m['generate_seconds']:.1f}s, evaluate {total:.1f}s; featured-product hit "
        f"rate measured on {int(m['featured_hit_customers'])} customers who bought after the "
        "cutoff"
    )
    print(f"{'copy':<30}" + "".join(f"{k[:11]:>12}" for k in COPY_KEYS))
    print(_row("ecomlm generate-copy", m, COPY_KEYS))
    for name, values in report.baselines.items():
        print(_row(f"baseline: {name}", values, COPY_KEYS))
    for example in report.details["examples"][:3]:
        print(f"- [{example['segment']}] {example['subject']!r} / {example['blurb']!r}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--parts",
        default="fast,full,orders,copy",
        help="comma-separated: fast (default support), full (all 80%%), orders, copy",
    )
    parts = set(parser.parse_args().parts.split(","))
    store = ecomlm_sdk.sample_store()
    if "fast" in parts:
        bench_intents(store, "fast default: 60 per intent, bert-classifier head mode")
    if "full" in parts:
        bench_intents(store, "all of the 80%, head mode", examples_per_intent=None)
    if "orders" in parts:
        bench_orders(store)
    if "copy" in parts:
        bench_copy(store)


if __name__ == "__main__":
    main()
