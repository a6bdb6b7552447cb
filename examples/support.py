"""Answer customer messages: intent, grounded answer, and hand-off when unsure.

Run: python examples/support.py
"""

from __future__ import annotations

import ecomlm_sdk


def main() -> None:
    store = ecomlm_sdk.sample_store()
    support = ecomlm_sdk.task("support").fit(store)
    for message, customer in [
        ("Where is my order #536365?", "17850"),  # asked by the order's owner
        ("Where is my order #536365?", "12346"),  # someone else: refused, nothing revealed
        ("how do I get my money back", "17850"),
        ("I want to speak to a human", None),
    ]:
        reply = support.answer(message, customer_id=customer)
        print(f"{message!r} ({customer}) -> {reply.intent} {reply.confidence:.2f} handoff={reply.handoff}")
        print(f"    {reply.text}")


if __name__ == "__main__":
    main()
