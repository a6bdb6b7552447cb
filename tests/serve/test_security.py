"""Customer tokens, API key look-up, key files and token buckets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecomlm_sdk.errors import InvalidValueError
from ecomlm_sdk.serve import (
    KEYS_ENV,
    ApiKey,
    TokenBucket,
    TokenError,
    hash_api_key,
    make_customer_token,
    read_customer_token,
    read_keys,
)
from ecomlm_sdk.serve.security import KeyRing


def test_customer_token_round_trip_and_expiry() -> None:
    token = make_customer_token("s3cret", "17850", ttl=60, now=1_000.0)
    assert read_customer_token("s3cret", token, now=1_030.0) == "17850"
    with pytest.raises(TokenError, match="expired"):
        read_customer_token("s3cret", token, now=1_060.0)
    with pytest.raises(TokenError, match="signature"):
        read_customer_token("other", token, now=1_030.0)


def test_a_changed_customer_id_breaks_the_signature() -> None:
    token = make_customer_token("s3cret", "17850", ttl=60, now=1_000.0)
    victim = make_customer_token("s3cret", "12345", ttl=60, now=1_000.0)
    version, _body, signature = token.split(".")
    forged = ".".join([version, victim.split(".")[1], signature])
    with pytest.raises(TokenError):
        read_customer_token("s3cret", forged, now=1_030.0)
    with pytest.raises(TokenError, match="secret"):
        make_customer_token("", "17850")


def test_key_ring_matches_hashes_only() -> None:
    ring = KeyRing([ApiKey(name="w", sha256=hash_api_key("abc"), scopes=("support",))])
    found = ring.find("abc")
    assert found is not None and found.name == "w"
    assert ring.find("abd") is None and ring.find(None) is None and ring.find("") is None
    with pytest.raises(ValueError):
        ApiKey(name="w", sha256="abc", scopes=("support",))  # a raw key is not a digest
    with pytest.raises(ValueError):
        ApiKey(name="w", sha256=hash_api_key("abc"), scopes=("everything",))  # type: ignore[arg-type]


def test_read_keys_from_file_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = {"name": "widget", "sha256": hash_api_key("k"), "scopes": ["support"]}
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [entry]}))
    assert read_keys(path)[0].scopes == ("support",)
    monkeypatch.delenv(KEYS_ENV, raising=False)
    assert read_keys() == ()
    monkeypatch.setenv(KEYS_ENV, json.dumps({"keys": [entry]}))
    assert read_keys()[0].name == "widget"
    path.write_text('{"keys": [')
    with pytest.raises(InvalidValueError, match="line 1"):
        read_keys(path)
    path.write_text(json.dumps({"keys": [{**entry, "sha256": "raw-key"}]}))
    with pytest.raises(InvalidValueError, match=r"keys\.json"):
        read_keys(path)


def test_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=2, clock=lambda: now[0])
    assert [bucket.take("a"), bucket.take("a")] == [0.0, 0.0]
    assert bucket.take("a") == pytest.approx(0.5)
    assert bucket.take("b") == 0.0  # another key, another bucket
    now[0] = 0.5
    assert bucket.take("a") == 0.0
    now[0] = 100.0
    assert [bucket.take("a") for _ in range(3)][:2] == [0.0, 0.0]  # refilled to burst, no more
