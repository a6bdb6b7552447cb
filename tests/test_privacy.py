"""Redaction of emails, phone numbers and card numbers (``ecomlm_sdk.privacy``)."""

from __future__ import annotations

import logging

import pytest

from ecomlm_sdk.privacy import (
    RedactingFilter,
    contains_pii,
    find_pii,
    install_log_redaction,
    luhn_valid,
    redact,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail ann.lee+shop@example.co.uk now", "mail [EMAIL] now"),
        ("card 4111 1111 1111 1111 please", "card [CARD] please"),
        ("card 4111-1111-1111-1111", "card [CARD]"),
        ("amex 378282246310005.", "amex [CARD]."),
        ("call +44 20 7946 0958 today", "call [PHONE] today"),
        ("call 0044 20 7946 0958", "call [PHONE]"),
        ("ring (555) 123-4567", "ring [PHONE]"),
        ("ring 555-123-4567", "ring [PHONE]"),
        ("mobile 07911123456", "mobile [PHONE]"),
    ],
)
def test_redact_replaces_each_kind(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Where is my order #536365?",
        "cancel purchase 113542617735902",  # Luhn-valid by chance but starts with 1: not a card
        "cancel order 4111111111111112",  # card-shaped but fails Luhn
        "logged 2011-12-01 08:26:00 for order 536365",
        "I bought 12 mugs for 24.50 on 01/12/2011",
        "customer 17850 asked",
    ],
)
def test_redact_keeps_order_numbers_dates_and_amounts(text: str) -> None:
    assert redact(text) == text
    assert not contains_pii(text)


def test_find_pii_reports_kinds_and_spans_in_order() -> None:
    text = "ann@example.com / 4111111111111111 / +1 415 555 2671"
    matches = find_pii(text)
    assert [m.kind for m in matches] == ["email", "card", "phone"]
    assert [text[m.start : m.end] for m in matches] == [
        "ann@example.com",
        "4111111111111111",
        "+1 415 555 2671",
    ]


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert not luhn_valid("4111-1111")


def test_log_filter_redacts_message_and_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("ecomlm_sdk.test_privacy")
    attached = install_log_redaction(logger)
    assert install_log_redaction(logger) is attached  # attached once only
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("message from %s about card %s", "ann@example.com", "4111111111111111")
            logger.info("call me on +44 20 7946 0958")
        assert [r.getMessage() for r in caplog.records] == [
            "message from [EMAIL] about card [CARD]",
            "call me on [PHONE]",
        ]
    finally:
        logger.removeFilter(attached)


def test_filter_lets_clean_records_through_unchanged() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "order %s", ("#1001",), None)
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "order #1001"
