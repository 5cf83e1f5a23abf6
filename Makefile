# The two commands of the README: `make run` and `make test`. Both work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: run test fuzz install install-dev lock lint typecheck format migrate demo clean messages bench-checks bench-summaries bench-import bench-pages

PIP := $(BIN)/pip --disable-pip-version-check -q

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Every install takes the exact versions of a lock file, each file checked against its hash,
# then the project itself, editable and without dependencies. The lock holds the build backend
# (setuptools), so the editable build needs nothing from outside the lock either.
$(VENV)/.installed-run: requirements.lock pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes -r requirements.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	@touch $@

$(VENV)/.installed-dev: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes -r requirements-dev.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	@touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

## make lock: after a change to the dependencies in pyproject.toml, pin every package with its
## hashes in requirements.lock (runtime) and requirements-dev.lock (runtime, same versions, and
## the dev extra). Pins already there are kept; LOCK_ARGS="--upgrade-package celery" or
## LOCK_ARGS=--upgrade moves them. The machine's own pip indexes are not written in the files.
LOCK_ARGS ?=
PIP_COMPILE = $(BIN)/pip-compile -q --generate-hashes --allow-unsafe --all-build-deps \
	--strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock: install-dev
	$(PIP_COMPILE) --output-file=requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra=dev --constraint=requirements.lock \
		--output-file=requirements-dev.lock pyproject.toml
	$(MAKE) install-dev

## make run: install, migrate, load the demo data, create 'admin', start web + worker + beat.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py loaddemo --checks
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

## make bench-pages: the daily pages timed at 1M claims against their targets (bench/pages.py;
## BENCH_ARGS="--claims 100000" for a quicker run, "--reuse" keeps a database already loaded).
bench-pages: install-dev
	mkdir -p var
	scripts/ensure-services.sh postgres
	$(BIN)/python bench/pages.py $(BENCH_ARGS); status=$$?; scripts/stop-services.sh; exit $$status

## make messages: bring the Korean catalogue (locale/ko/LC_MESSAGES/django.po) up to date with
## the source and compile it (django.mo, committed: running the project needs no gettext).
messages: install-dev
	scripts/ensure-services.sh gettext
	DJANGO_READ_DOT_ENV_FILE=false $(BIN)/python manage.py messages

## make fuzz: schemathesis against the API's schema on a live server, as a Viewer and as an
## Editor, FUZZ_SECONDS each (default 300; make test runs the same test for 30 s each). Its
## reports go to var/artefacts/schemathesis-*/ (tests/integration/test_api_fuzz.py).
FUZZ_SECONDS ?= 300
fuzz: install-dev
	mkdir -p var
	scripts/ensure-services.sh postgres redis
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND \
	  DJANGO_READ_DOT_ENV_FILE=false TRACKER_VAR_DIR=var/test-fuzz \
	  DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tracker} \
	  REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/15} API_FUZZ_SECONDS=$(FUZZ_SECONDS) \
	  $(BIN)/pytest -s tests/integration/test_api_fuzz.py $(ARGS); \
	  status=$$?; scripts/stop-services.sh; exit $$status

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make typecheck: mypy alone (make test runs it too); its settings are in pyproject.toml.
typecheck: install-dev
	env -u DATABASE_URL DJANGO_READ_DOT_ENV_FILE=false DJANGO_SETTINGS_MODULE=config.settings.test \
		TRACKER_VAR_DIR=var/test-mypy $(BIN)/mypy --no-incremental

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var
