"""``fixture_store()``: a small, hand-written store touching every table."""

from __future__ import annotations

import datetime as dt

import polars as pl

from ecomlm_sdk.data.store import EcomStore

__all__ = ["fixture_store"]


# --------------------------------------------------------------------------------- fixture store
def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def fixture_store() -> EcomStore:
    """A small, hand-written store touching every table: 4 customers, 5 products, 8 orders
    (one cancelled, one guest), 11 order lines, 3 tickets, 1 campaign with 4 exposures.
    """
    customers = pl.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "email": ["ann@example.com", "bob@example.com", "cy@example.com", "di@example.com"],
            "first_name": ["Ann", "Bob", "Cy", "Di"],
            "country": ["GB", "FR", "GB", "DE"],
            "accepts_marketing": [True, False, True, True],
            "created_at": [
                _ts("2011-01-05"),
                _ts("2011-02-01"),
                _ts("2011-03-10"),
                _ts("2011-06-01"),
            ],
        }
    )
    products = pl.DataFrame(
        {
            "product_id": ["mug", "mug", "lamp", "tote", "card"],
            "variant_id": ["mug-red", "mug-blue", "lamp", "tote", "card"],
            "title": ["Heart mug", "Heart mug", "Star lamp", "Canvas tote", "Birthday card"],
            "description": [
                "Red ceramic mug with a heart",
                "Blue ceramic mug with a heart",
                "Metal star lamp for the bedroom",
                "Cotton shopping bag",
                "Card with a birthday cake",
            ],
            "price": [6.5, 6.5, 24.0, 9.0, 2.5],
        }
    )
    orders = pl.DataFrame(
        {
            "order_id": ["#1001", "#1002", "#1003", "#1004", "#1005", "#1006", "#1007", "#1008"],
            "customer_id": ["c1", "c2", "c1", None, "c3", "c1", "c4", "c2"],
            "created_at": [
                _ts(d)
                for d in (
                    "2011-01-10",
                    "2011-02-03",
                    "2011-03-15",
                    "2011-04-01",
                    "2011-05-20",
                    "2011-07-01",
                    "2011-07-15",
                    "2011-08-01",
                )
            ],
            "total": [13.0, 24.0, 11.5, 9.0, 30.5, 6.5, 48.0, 9.0],
            "is_cancelled": [False, False, False, False, False, True, False, False],
            "fulfillment_status": ["fulfilled"] * 6 + ["unfulfilled", "fulfilled"],
        }
    )
    order_lines = pl.DataFrame(
        {
            "order_id": [
                "#1001",
                "#1001",
                "#1002",
                "#1003",
                "#1003",
                "#1004",
                "#1005",
                "#1005",
                "#1006",
                "#1007",
                "#1008",
            ],
            "line_number": [1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 1],
            "product_id": [
                "mug",
                "mug",
                "lamp",
                "mug",
                "card",
                "tote",
                "lamp",
                "mug",
                "mug",
                "lamp",
                "tote",
            ],
            "variant_id": [
                "mug-red",
                "mug-blue",
                "lamp",
                "mug-red",
                "card",
                "tote",
                "lamp",
                "mug-red",
                "mug-red",
                "lamp",
                "tote",
            ],
            "quantity": [1, 1, 1, 1, 2, 1, 1, 1, 1, 2, 1],
            "unit_price": [6.5, 6.5, 24.0, 6.5, 2.5, 9.0, 24.0, 6.5, 6.5, 24.0, 9.0],
        }
    )
    tickets = pl.DataFrame(
        {
            "ticket_id": ["t1", "t2", "t3"],
            "customer_id": ["c1", "c2", "c4"],
            "created_at": [_ts("2011-03-20"), _ts("2011-02-10"), _ts("2011-07-20")],
            "body": ["Where is my order #1003?", "I want a refund", "Cancel order #1007 please"],
            "intent": ["track_order", "get_refund", "cancel_order"],
            "order_id": ["#1003", "#1002", "#1007"],
        }
    )
    campaigns = pl.DataFrame(
        {
            "campaign_id": ["spring"],
            "name": ["Spring sale"],
            "start_at": [_ts("2011-04-15")],
            "fixed_cost": [10.0],
        }
    )
    exposures = pl.DataFrame(
        {
            "campaign_id": ["spring"] * 4,
            "customer_id": ["c1", "c2", "c3", "c4"],
            "arm": ["treatment", "control", "treatment", "control"],
            "exposed_at": [_ts("2011-04-20")] * 4,
            "cost": [0.5, 0.0, 0.5, 0.0],
        }
    )
    return EcomStore(
        customers, products, orders, order_lines, tickets, campaigns, exposures, source="fixture"
    )
