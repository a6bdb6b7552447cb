"""API keys, customer tokens and rate limits of ``ecomlm serve``.

* **API keys** are stored as sha256 digests only (:func:`hash_api_key`); a request's key is hashed
  and compared with :func:`hmac.compare_digest` against every stored digest.
* **Customer tokens** say which customer a support request acts for. The shop's backend signs
  them with a secret it shares with the server (:func:`make_customer_token`); the browser only
  carries them. A bare ``customer_id`` from the browser is never trusted.
* **Rate limits** are one token bucket per API key (:class:`TokenBucket`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from ecomlm_sdk.errors import EcomlmError

__all__ = [
    "SCOPES",
    "ApiKey",
    "KeyRing",
    "Scope",
    "TokenBucket",
    "TokenError",
    "hash_api_key",
    "make_customer_token",
    "read_customer_token",
]

Scope = Literal["support", "recommendations", "scores", "admin"]
#: Every scope a key can hold; ``admin`` allows ``POST /v1/admin/reload``.
SCOPES: Final[tuple[Scope, ...]] = ("support", "recommendations", "scores", "admin")
_TOKEN_VERSION: Final = "v1"


class TokenError(EcomlmError):
    """A customer token is malformed, forged (bad signature) or expired."""


def hash_api_key(key: str) -> str:
    """The sha256 hex digest stored in the server's key file instead of the key itself."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKey(BaseModel):
    """One API key as the server stores it: a name (for logs and metrics), a digest, scopes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="Who holds the key, e.g. 'widget' (logged).")
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="hash_api_key(key): the key itself is never stored."
    )
    scopes: tuple[Scope, ...] = Field(min_length=1, description="What the key may call.")


class KeyRing:
    """The server's API keys; :meth:`find` maps a presented key to its :class:`ApiKey`."""

    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self.keys: tuple[ApiKey, ...] = tuple(keys)

    def find(self, presented: str | None) -> ApiKey | None:
        """The stored key whose digest matches ``presented``, or ``None``.

        Every stored digest is compared (in constant time each), so the time taken does not
        tell which key came close.
        """
        if not presented:
            return None
        digest = hash_api_key(presented)
        found = None
        for key in self.keys:
            if hmac.compare_digest(digest, key.sha256):
                found = key
        return found


# ------------------------------------------------------------------ customer tokens
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, body: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{_TOKEN_VERSION}.{body}".encode("ascii"), "sha256")
    return _b64(mac.digest())


def make_customer_token(
    secret: str, customer_id: str, ttl: float = 900, *, now: float | None = None
) -> str:
    """A token saying "this browser is customer ``customer_id``", valid for ``ttl`` seconds.

    The shop's backend calls this (or its own port of it, see the serve guide) for a signed-in
    customer and hands the token to its page; ``ecomlm serve`` checks it with the same secret.
    Format: ``v1.<base64url JSON {"sub", "exp"}>.<base64url HMAC-SHA256>``.

    Args:
        secret: The secret shared with the server (``customer_token_secret``).
        customer_id: The customer, as in the store.
        ttl: Seconds until the token expires.
        now: The current Unix time (default: ``time.time()``).
    """
    if not secret:
        raise TokenError("customer tokens need a non-empty secret")
    issued = time.time() if now is None else now
    payload = {"sub": str(customer_id), "exp": int(issued + ttl)}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    return f"{_TOKEN_VERSION}.{body}.{_sign(secret, body)}"


def read_customer_token(secret: str, token: str, *, now: float | None = None) -> str:
    """The customer id a valid token names.

    Raises:
        TokenError: The token is malformed, its signature does not match (forged, or signed
            with another secret) or it has expired.
    """
    version, _, rest = token.partition(".")
    body, _, signature = rest.partition(".")
    if version != _TOKEN_VERSION or not body or not signature:
        raise TokenError("malformed customer token")
    if not hmac.compare_digest(_sign(secret, body), signature):
        raise TokenError("customer token signature does not match")
    try:
        payload = json.loads(_unb64(body))
        customer, expires = str(payload["sub"]), float(payload["exp"])
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenError("malformed customer token") from exc
    if (time.time() if now is None else now) >= expires:
        raise TokenError("customer token expired")
    return customer


# ------------------------------------------------------------------ rate limits
class TokenBucket:
    """Per-key token buckets: ``rate`` requests a second on average, bursts of ``burst``.

    Args:
        rate: Tokens added per second.
        burst: Bucket size (the most requests at once).
        clock: Monotonic clock (tests pass a fake one).
    """

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self._clock = float(rate), int(burst), clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else seconds until one is available."""
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate if self.rate > 0 else float("inf")
