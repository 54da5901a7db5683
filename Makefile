# Two commands matter: `make run` (serve the demo on SQLite) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
HOST   ?= 127.0.0.1
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: run test test-postgres test-client-portable install install-test browser-deps bench bench-instructions lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamp files: nothing is reinstalled while pyproject.toml is unchanged. The installer's
# output goes to a log, shown only when it fails.
INSTALLED      := $(VENV)/.installed
TEST_INSTALLED := $(VENV)/.installed-test

$(INSTALLED): pyproject.toml | $(BIN)/python
	@echo "Installing the service into $(VENV) (first run, or pyproject.toml changed)…"
	@$(BIN)/pip install --quiet --disable-pip-version-check -e . >$(VENV)/install.log 2>&1 \
	  || { cat $(VENV)/install.log; exit 1; }
	@touch $@

$(TEST_INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@ $(INSTALLED)

install: $(INSTALLED)

install-test: $(TEST_INSTALLED)

# Browser tests drive Debian's Chromium through Playwright and inject axe-core.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = "0" ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi
	@if [ ! -f node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null; then \
	  npm install --silent --no-audit --no-fund; fi

# The demo's address, lookup and login are printed last, once the server answers; queued
# emails (password resets too) are written to instance/outbox/ by the server itself.
run: $(INSTALLED)
	@OSS_BASE_URL=http://$(HOST):$(PORT) $(BIN)/oss-server init-db
	@OSS_BASE_URL=http://$(HOST):$(PORT) $(BIN)/oss-server run --host $(HOST) --port $(PORT) --demo

test: install-test browser-deps
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install-test browser-deps
	OSS_TEST_DATABASE_URL=$${OSS_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
	  $(BIN)/pytest $(PYTEST_ARGS)

# The client's suite again with fcntl, termios, pwd and grp unavailable, as on Windows.
test-client-portable: install-test
	SEOM_NO_POSIX=1 $(BIN)/python -m pytest -p tests.client.noposix tests/client $(PYTEST_ARGS)

# Style, likely bugs and types: settings in pyproject.toml ([tool.ruff], [tool.mypy]).
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install-test
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# Instructions per update, page and lookup under valgrind: compares two checkouts of the
# code on a machine too noisy for CPU time (docs/performance.md, "Comparing two versions").
bench-instructions: install-test
	$(BIN)/python -m benchmarks.instructions $(BENCH_ARGS)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache test-artifacts
