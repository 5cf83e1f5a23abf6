# The two commands of the README: `make run` and `make test`. Both work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: run test install install-dev lint format migrate demo clean messages bench-checks bench-summaries bench-import

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -e ".[dev]"
	@touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

## make run: install, migrate, load the demo data, create 'admin', start web + worker + beat.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py loaddemo
	$(BIN)/python manage.py ensureadmin
	@echo "Admin: http://127.0.0.1:$${WEB_PORT:-8000}/admin/  (Ctrl-C stops everything)"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile Procfile start

## make test: install what the tests need and run them (see scripts/test.sh).
test: install-dev
	VENV=$(VENV) scripts/test.sh $(ARGS)

## make bench-checks: the full check sweep at 10k, 100k and 1M claims on PostgreSQL
## (bench/checks.py; BENCH_ARGS="--sizes 10000 --repeat 1" for a quick run).
BENCH_ARGS ?=
bench-checks: install-dev
	mkdir -p var
	scripts/ensure-services.sh postgres
	$(BIN)/python bench/checks.py $(BENCH_ARGS); status=$$?; scripts/stop-services.sh; exit $$status

## make bench-summaries: build a summary of 193 countries x 5 obligations over 100k claims.
bench-summaries: install-dev
	mkdir -p var
	scripts/ensure-services.sh postgres
	$(BIN)/python bench/summaries.py $(BENCH_ARGS); status=$$?; scripts/stop-services.sh; exit $$status

## make bench-import: import 100k spreadsheet rows, then re-import them as updates.
bench-import: install-dev
	mkdir -p var
	scripts/ensure-services.sh postgres
	$(BIN)/python bench/imports.py $(BENCH_ARGS); status=$$?; scripts/stop-services.sh; exit $$status

## make messages: bring the Korean catalogue (locale/ko/LC_MESSAGES/django.po) up to date with
## the source and compile it (django.mo, committed: running the project needs no gettext).
messages: install-dev
	scripts/ensure-services.sh gettext
	DJANGO_READ_DOT_ENV_FILE=false $(BIN)/python manage.py messages

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var
