#!/usr/bin/env sh
# CI for this plugin: install it (so its entry point is registered), then run its contract
# tests. Usage: ./ci.sh  (from any folder; uses the python on PATH, or $PYTHON).
set -eu
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
"$PYTHON" -m pip install --quiet -e ".[test]"
if "$PYTHON" -m ruff --version >/dev/null 2>&1; then "$PYTHON" -m ruff check src tests; fi
"$PYTHON" -m pytest -q
