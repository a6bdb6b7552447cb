"""Built-in ecomlm-sdk plugin `ecomlm_gpt2` (see docs/plugins). Registers nothing yet."""

from __future__ import annotations

ecomlm_sdk_api = ">=1,<2"
