# The two set-up commands of the README are `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml setup.py hub/matching/ctree.pyx hub/ingest/cfilter.pyx web/package-lock.json
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	npm ci --prefix web --no-audit --no-fund --loglevel=error  # Leaflet for the console map
	touch $(STAMP)

.PHONY: install run demo test lint docs bench-ingest bench-sessions
install: $(STAMP)

# The hub on the embedded engines with the fictional demo data around São Paulo (loaded
# once, into hub.sqlite3) and its app providers moving, so a newcomer sees a living system.
# `hub serve` alone runs an empty hub.
run: $(STAMP)
	$(BIN)/hub demo >/dev/null
	HUB_DEMO=true $(BIN)/hub serve

demo: run

lint: $(STAMP)
	$(BIN)/ruff check hub tests bench
	$(BIN)/ruff format --check hub tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

bench-ingest: $(STAMP)
	$(BIN)/python -m bench ingest --quick

# Regenerate the documents that tests compare with the code.
docs: $(STAMP)
	$(BIN)/hub asyncapi > docs/asyncapi.json
	$(BIN)/hub openapi > docs/openapi.json
	$(BIN)/python -m hub.readme README.md
