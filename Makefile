# The two commands of the README: `make run` and `make test`. Both do all set-up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
# Load .env so scripts see the same DATABASE_URL / REDIS_URL as Django.
-include .env
export

.PHONY: run test setup prepare check lint pytest browser-deps bench-deps system-deps services database clean-venv bench

run: prepare
	$(MANAGE) seed_demo
	@echo ""
	@echo "  The hub runs at http://127.0.0.1:$${WEB_PORT:-8000}/  (Ctrl-C stops web, worker and beat)"
	@echo "  Health: http://127.0.0.1:$${WEB_PORT:-8000}/health/  (503 until beat's first tick, about a minute)"
	@echo "  Second step of the demo log-in: $(MANAGE) demo_code  prints the current code"
	@echo ""
	$(VENV)/bin/honcho start -f Procfile

test: prepare browser-deps bench-deps check pytest

.env:
	cp .env.example .env

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

system-deps:
	@command -v msgfmt >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext; }

browser-deps:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# B8 loads gunicorn with Debian's wrk (the tiny-N harness run in `make test` uses it too).
bench-deps:
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

services:
	bash scripts/ensure_services.sh

database: services $(VENV)/.installed
	$(PY) scripts/ensure_database.py

prepare: .env system-deps $(VENV)/.installed database
	$(MANAGE) migrate --no-input
	$(MANAGE) compilemessages --ignore=.venv --ignore=staticfiles -v 0
	$(MANAGE) collectstatic --no-input -v 0

check:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MANAGE) makemigrations --check --dry-run

pytest:
	$(VENV)/bin/pytest

# Benchmarks at BENCH_N referrals (default 1,000,000) in their own database; see bench/README.md.
BENCH_N ?= 1000000
bench: prepare bench-deps
	bash scripts/bench.sh $(BENCH_N)

clean-venv:
	rm -rf $(VENV)
