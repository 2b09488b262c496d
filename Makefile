# Two set-up commands for users: `make run` and `make test`. Everything else builds on `install`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 7860
export OMP_WAIT_POLICY ?= PASSIVE
export HF_HUB_OFFLINE := 1

.PHONY: install run test test-unit test-e2e lint bench bench-sql sample tables browser postgres clean

install: $(STAMP)

# llama.cpp (pinned in pyproject.toml) is built by pip for this CPU (-march=native, twice as fast as AVX2 here).
# That build died of a segmentation fault at the first prompt on a Xeon with AVX-512 and AMX, so install checks it
# reads a prompt and, only if it does not, builds it again for AVX2 (--no-cache-dir: not from a cached wheel).
LLAMA_FALLBACK_CMAKE_ARGS ?= -DGGML_NATIVE=OFF
LLAMA_REQUIREMENT = $(shell grep -o '"llama-cpp-python[^"]*"' pyproject.toml | tr -d '"')

# torch first, from the local CPU wheel: a bare `torch` requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m assistant.llm.selfcheck || { echo "building llama.cpp again for AVX2"; \
		CMAKE_ARGS="$(LLAMA_FALLBACK_CMAKE_ARGS)" $(PY) -m pip install --quiet --no-cache-dir --force-reinstall \
			--no-deps '$(LLAMA_REQUIREMENT)' && $(PY) -m assistant.llm.selfcheck; }
	touch $(STAMP)

sample: install
	$(BIN)/govdata ingest data/sample

# the sample approved tables for SQL questions (unchanged files are skipped on later runs)
tables: install
	GOVDATA=$(BIN)/govdata data/tables/register.sh

run: sample tables
	$(BIN)/govdata serve --host $(HOST) --port $(PORT)

# Debian's Chromium (and a CJK font) for the browser tests; never `playwright install` (it downloads a browser)
browser:
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
		{ SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); $$SUDO apt-get update -q && \
		  $$SUDO apt-get install -y -q chromium fonts-wqy-zenhei; }

# Debian's PostgreSQL server programs for the PostgreSQL-engine tests (the tests start their own cluster)
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
		{ SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); $$SUDO apt-get update -q && \
		  $$SUDO apt-get install -y -q postgresql; }

test: install browser postgres
	$(BIN)/ruff check .
	$(PY) -m pytest tests/unit -q
	$(PY) -m pytest tests/e2e -q -m e2e

test-unit: install
	$(PY) -m pytest tests/unit -q

test-e2e: install browser postgres
	$(PY) -m pytest tests/e2e -q -m e2e

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	$(PY) bench/ingest.py
	$(PY) bench/embeddings.py
	$(PY) bench/search.py
	$(PY) bench/ask.py
	$(PY) bench/audit.py

# text-to-SQL EX, ours vs LangChain's create_sql_query_chain, en + zh (about 40 min on 2 cores at --per-db 6)
bench-sql: install
	$(PY) bench/sql.py --per-db 6 --out bench/results/sql.json

clean:
	rm -rf $(VENV) .govdata .pytest_cache .mypy_cache .ruff_cache
