"""``ecomlm serve``: saved support, recommendation and purchase-prediction tasks over HTTP.

Needs the ``serve`` extra (``pip install "ecomlm-sdk[serve]"``): FastAPI on uvicorn. See
``docs/guides/serve.md``.
"""

from __future__ import annotations

from ecomlm_sdk.serve.app import create_app
from ecomlm_sdk.serve.security import (
    SCOPES,
    ApiKey,
    TokenBucket,
    TokenError,
    hash_api_key,
    make_customer_token,
    read_customer_token,
)
from ecomlm_sdk.serve.settings import KEYS_ENV, SECRET_ENV, ServeSettings, read_keys

__all__ = [
    "KEYS_ENV",
    "SCOPES",
    "SECRET_ENV",
    "ApiKey",
    "ServeSettings",
    "TokenBucket",
    "TokenError",
    "create_app",
    "hash_api_key",
    "make_customer_token",
    "read_customer_token",
    "read_keys",
]
