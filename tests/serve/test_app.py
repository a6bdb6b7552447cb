"""The server in-process (FastAPI's TestClient): every endpoint, authentication and limits."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.serve import create_app, make_customer_token
from ecomlm_sdk.tasks.support.reply import SupportReply

SECRET = "test-shared-secret"


@pytest.fixture
def client(make_settings: Any, small_store: EcomStore) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(), store=small_store)) as test_client:
        yield test_client


def customer_with_orders(store: EcomStore) -> str:
    return str(store.orders.get_column("customer_id").drop_nulls().sort()[0])


# ------------------------------------------------------------------ probes and docs
def test_probes_docs_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] and body["version"] == 1 and body["error"] is None
    assert body["tasks"] == ["purchase-prediction", "recommendation", "support"]
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/v1/support/answer",
        "/v1/recommendations/{customer_id}",
        "/v1/scores",
        "/v1/admin/reload",
        "/healthz",
        "/readyz",
        "/metrics",
    } <= set(paths)


# ------------------------------------------------------------------ support
def test_support_answer_is_a_support_reply(client: TestClient, auth: Any) -> None:
    response = client.post(
        "/v1/support/answer", json={"message": "How can I get a refund?"}, headers=auth("widget")
    )
    assert response.status_code == 200, response.text
    reply = SupportReply.model_validate(response.json())
    assert reply.text and 0.0 <= reply.confidence <= 1.0


def test_support_acts_for_the_token_s_customer(
    client: TestClient, auth: Any, small_store: EcomStore
) -> None:
    token = make_customer_token(SECRET, customer_with_orders(small_store), ttl=60)
    response = client.post(
        "/v1/support/answer",
        json={"message": "Where is my order?", "customer_token": token},
        headers=auth("widget"),
    )
    assert response.status_code == 200, response.text
    # A customer id in the body is refused: only a signed token names the customer.
    bare = client.post(
        "/v1/support/answer",
        json={"message": "Where is my order?", "customer_id": "17850"},
        headers=auth("widget"),
    )
    assert bare.status_code == 422


@pytest.mark.parametrize(
    "token",
    [
        make_customer_token(SECRET, "c1", ttl=-1),  # expired
        make_customer_token("another-secret", "c1", ttl=60),  # forged
        "v1.not-base64.sig",  # malformed
        "garbage",
    ],
    ids=["expired", "forged", "malformed", "garbage"],
)
def test_bad_customer_tokens_are_401(client: TestClient, auth: Any, token: str) -> None:
    response = client.post(
        "/v1/support/answer",
        json={"message": "Where is my order?", "customer_token": token},
        headers=auth("widget"),
    )
    assert response.status_code == 401


def test_keys_and_scopes(client: TestClient, auth: Any) -> None:
    body = {"message": "How can I get a refund?"}
    assert client.post("/v1/support/answer", json=body).status_code == 401
    wrong = client.post("/v1/support/answer", json=body, headers={"X-API-Key": "nope"})
    assert wrong.status_code == 401
    assert (
        client.post("/v1/support/answer", json=body, headers=auth("storefront")).status_code == 403
    )
    bearer = {"Authorization": f"Bearer {auth('widget')['X-API-Key']}"}
    assert client.post("/v1/support/answer", json=body, headers=bearer).status_code == 200
    assert client.post("/v1/admin/reload", headers=auth("widget")).status_code == 403
    assert client.get("/v1/recommendations/x", headers=auth("widget")).status_code == 403


def test_malformed_json_long_message_and_big_body(
    client: TestClient, auth: Any, make_settings: Any
) -> None:
    malformed = client.post(
        "/v1/support/answer",
        content=b'{"message": ',
        headers={**auth("widget"), "Content-Type": "application/json"},
    )
    assert malformed.status_code == 422
    long = client.post("/v1/support/answer", json={"message": "a" * 2_001}, headers=auth("widget"))
    assert long.status_code == 422 and "2000" in long.json()["detail"]
    big = client.post("/v1/support/answer", json={"message": "a" * 70_000}, headers=auth("widget"))
    assert big.status_code == 413


def test_streamed_body_over_the_limit_is_413(make_settings: Any, auth: Any) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"message": "'
        for _ in range(10):
            yield b"a" * 1_000
        yield b'"}'

    with TestClient(create_app(make_settings(max_body_bytes=5_000))) as client:
        response = client.post(
            "/v1/support/answer",
            content=chunks(),
            headers={**auth("widget"), "Content-Type": "application/json"},
        )
    assert response.status_code == 413


# ------------------------------------------------------------------ recommendations and scores
def test_recommendations(client: TestClient, auth: Any, small_store: EcomStore) -> None:
    customer = customer_with_orders(small_store)
    response = client.get(f"/v1/recommendations/{customer}?k=2", headers=auth("storefront"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["customer_id"] == customer and body["cold_start"] is False
    assert [item["rank"] for item in body["items"]] == [1, 2]
    unknown = client.get("/v1/recommendations/nobody-at-all", headers=auth("storefront")).json()
    assert unknown["cold_start"] is True and unknown["items"]
    assert client.get(f"/v1/recommendations/{customer}?k=0", headers=auth()).status_code == 422
    assert client.get(f"/v1/recommendations/{customer}?k=101", headers=auth()).status_code == 422


def test_scores(client: TestClient, auth: Any, small_store: EcomStore) -> None:
    customer = customer_with_orders(small_store)
    response = client.post(
        "/v1/scores", json={"customer_ids": [customer, "nobody"]}, headers=auth()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["customer_id"] for s in body["scores"]] == [customer]
    assert 0.0 <= body["scores"][0]["p_buy"] <= 1.0
    assert body["unknown"] == ["nobody"]
    assert client.post("/v1/scores", json={"customer_ids": []}, headers=auth()).status_code == 422
    assert client.post("/v1/scores", json={"customer_ids": [customer]}).status_code == 401


def test_scores_without_a_store_are_503(make_settings: Any, auth: Any) -> None:
    with TestClient(create_app(make_settings())) as client:
        response = client.post("/v1/scores", json={"customer_ids": ["c1"]}, headers=auth())
    assert response.status_code == 503 and "--path" in response.json()["detail"]


# ------------------------------------------------------------------ limits, CORS, metrics, logs
def test_rate_limit_per_key(make_settings: Any, auth: Any) -> None:
    settings = make_settings(rate_per_second=0.001, rate_burst=2)
    with TestClient(create_app(settings)) as client:
        codes = [client.get("/v1/recommendations/x", headers=auth()).status_code for _ in range(3)]
        other = client.get("/v1/recommendations/x", headers=auth("storefront"))
        limited = client.get("/v1/recommendations/x", headers=auth())
    assert codes == [200, 200, 429]
    assert other.status_code == 200  # buckets are per key
    assert int(limited.headers["Retry-After"]) >= 1


def test_cors_allow_list(client: TestClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-api-key",
    }
    allowed = client.options(
        "/v1/support/answer", headers={"Origin": "https://shop.example", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    refused = client.options(
        "/v1/support/answer", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers


def test_metrics_and_access_log_hold_no_personal_data(
    client: TestClient, auth: Any, small_store: EcomStore, caplog: pytest.LogCaptureFixture
) -> None:
    customer = customer_with_orders(small_store)
    token = make_customer_token(SECRET, customer, ttl=60)
    message = "Where is my order? My email is ann@example.com"
    with caplog.at_level(logging.INFO, logger="ecomlm_sdk.serve.access"):
        client.post(
            "/v1/support/answer",
            json={"message": message, "customer_token": token},
            headers=auth("widget"),
        )
        client.get(f"/v1/recommendations/{customer}", headers=auth("storefront"))
    access = [r.getMessage() for r in caplog.records if r.name == "ecomlm_sdk.serve.access"]
    assert any("/v1/recommendations/{customer_id} 200" in line for line in access), access
    assert any("key=widget" in line for line in access)
    for line in access:
        assert customer not in line and token not in line and "ann@example.com" not in line
    text = client.get("/metrics").text
    assert 'route="/v1/recommendations/{customer_id}"' in text
    assert 'ecomlm_request_duration_seconds_bucket{route="/v1/support/answer",le="+Inf"} 1' in text
    assert "ecomlm_support_replies_total 1" in text
    assert "ecomlm_support_handoff_rate" in text and "ecomlm_models_ready 1" in text
    assert customer not in text


def test_widget_is_self_contained(client: TestClient) -> None:
    page = client.get("/widget")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/v1/support/answer" in page.text
    for external in ("http://", "https://", "src=", '<link rel="stylesheet"'):
        assert external not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_openapi_support_reply_schema_is_the_sdk_s(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(SupportReply.model_fields) == set(schemas["SupportReply"]["properties"])
    assert json.dumps(schemas["SupportRequest"]).count("customer_token") >= 1
