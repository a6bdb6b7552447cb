"""What ``ecomlm serve`` serves and how: :class:`ServeSettings`, read from arguments and a key file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecomlm_sdk.errors import InvalidValueError
from ecomlm_sdk.serve.security import ApiKey

__all__ = ["KEYS_ENV", "SECRET_ENV", "ServeSettings", "read_keys"]

#: Environment variable holding the key file's JSON itself (instead of ``--keys FILE``).
KEYS_ENV: Final = "ECOMLM_SERVE_KEYS"
#: Environment variable holding the customer-token secret shared with the shop's backend.
SECRET_ENV: Final = "ECOMLM_SERVE_TOKEN_SECRET"


class ServeSettings(BaseModel):
    """Settings of :func:`ecomlm_sdk.serve.create_app`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_dir: Path = Field(
        description="Folder of saved tasks, one sub-folder each (loaded with load_task)."
    )
    api_keys: tuple[ApiKey, ...] = Field(
        default=(), description="Accepted keys (hashed); none: every /v1 call is refused."
    )
    customer_token_secret: str | None = Field(
        default=None,
        description="Secret shared with the shop's backend to check customer tokens; None: "
        "support answers anonymously only (no order details).",
    )
    cors_origins: tuple[str, ...] = Field(
        default=(), description="Origins allowed to call from a browser (the widget's page)."
    )
    max_body_bytes: int = Field(default=64_000, ge=1, description="Larger bodies get 413.")
    max_message_chars: int = Field(
        default=2_000, ge=1, description="Longer support messages get 422."
    )
    max_batch_ids: int = Field(
        default=1_000, ge=1, description="Most customer ids in one POST /v1/scores."
    )
    max_k: int = Field(default=100, ge=1, description="Largest k for recommendations.")
    rate_per_second: float = Field(
        default=20.0, gt=0, description="Requests a second allowed per key, on average."
    )
    rate_burst: int = Field(default=40, ge=1, description="Requests at once allowed per key.")
    batch_wait_ms: float = Field(
        default=5.0, ge=0, description="How long a support batch waits for more messages."
    )
    max_batch: int = Field(default=32, ge=1, description="Most messages in one support batch.")
    trust_remote_code: bool = Field(
        default=False, description="Passed to load_task (only for folders whose code you read)."
    )


def read_keys(path: str | Path | None = None) -> tuple[ApiKey, ...]:
    """API keys from a JSON file, else from ``$ECOMLM_SERVE_KEYS``, else none.

    The JSON is ``{"keys": [{"name": "widget", "sha256": "<hash_api_key(key)>",
    "scopes": ["support"]}, ...]}``.

    Raises:
        InvalidValueError: The file or variable does not hold that shape (names where).
    """
    if path is not None:
        where, text = str(path), Path(path).read_text(encoding="utf-8")
    elif os.environ.get(KEYS_ENV):
        where, text = f"${KEYS_ENV}", os.environ[KEYS_ENV]
    else:
        return ()
    try:
        data: Any = json.loads(text)
        entries = data["keys"] if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise InvalidValueError(f'{where} must hold {{"keys": [...]}}')
        return tuple(ApiKey.model_validate(entry) for entry in entries)
    except json.JSONDecodeError as exc:
        raise InvalidValueError(
            f"{where}: not JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from exc
    except ValidationError as exc:
        raise InvalidValueError(f"{where}: bad key entry: {exc.errors()[0]['msg']}") from exc
