# ecomlm-sdk: `make demo` and `make test` work on a fresh machine (they create .venv first).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Offline by construction: nothing in tests, CI or the demo may reach a model hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export TOKENIZERS_PARALLELISM := false
export NO_MKDOCS_2_WARNING := 1

.PHONY: install demo test lint typecheck pytest docs bench clean browser postgres template

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch==2.13.0 is the CPU wheel these machines have; the constraints file pins it, so
	# nothing pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,docs]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/ecomlm quickstart

lint: install
	$(BIN)/ruff check src plugins tests benchmarks examples scripts
	$(BIN)/ruff format --check src plugins
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy src plugins

pytest: install
	$(BIN)/pytest -q

# examples/plugin-template: build it, install it into a temporary folder, run its own contract
# tests against the installed copy (also part of `make pytest`, as tests/kit).
template: install
	$(BIN)/pytest -q tests/kit/test_plugin_template.py

docs: install
	$(BIN)/mkdocs build --strict --quiet --site-dir site

# The report's browser test needs Chromium: install Debian's package where we can (root),
# otherwise that one test skips and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "Chromium could not be installed: the report's browser test will skip"; \
	  else echo "Chromium not found and not root: the report's browser test will skip"; fi; }

# The sql data source's tests start a real PostgreSQL server (initdb/pg_ctl, in a temporary
# folder): install Debian's package where we can (root), otherwise those tests skip and say why.
postgres:
	@command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	      || echo "PostgreSQL could not be installed: the sql source's PostgreSQL tests will skip"; \
	  else echo "PostgreSQL not found and not root: the sql source's PostgreSQL tests will skip"; fi; }

test: browser postgres lint typecheck pytest docs

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) site build *.egg-info .mypy_cache .ruff_cache .pytest_cache
