#!/usr/bin/env bash
# What `make test` runs: lint, the type check, the missing-migrations check, and pytest
# twice: against PostgreSQL + Redis, then on the embedded default (SQLite + the filesystem
# broker).
# Extra arguments go to both pytest runs (e.g. `make test ARGS="-k admin"`).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
export DJANGO_READ_DOT_ENV_FILE=false
TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tracker}
TEST_REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}

mkdir -p var
trap 'scripts/stop-services.sh' EXIT
scripts/ensure-services.sh postgres redis browser gettext

echo "== ruff"
"$BIN/ruff" check .
"$BIN/ruff" format --check .

echo "== mypy"
# Not incremental: the Django plugin reads the settings' types, and a cached run does not see
# them change.
env -u DATABASE_URL DJANGO_SETTINGS_MODULE=config.settings.test TRACKER_VAR_DIR=var/test-mypy \
  "$BIN/mypy" --no-incremental

echo "== missing migrations"
env -u DATABASE_URL DJANGO_SETTINGS_MODULE=config.settings.test TRACKER_VAR_DIR=var/test-migrations \
  "$BIN/python" manage.py makemigrations --check --dry-run

clean_env=(env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND -u EMAIL_URL)

echo "== pytest on PostgreSQL and Redis"
"${clean_env[@]}" DATABASE_URL="$TEST_DATABASE_URL" REDIS_URL="$TEST_REDIS_URL" \
  TRACKER_VAR_DIR=var/test-pg "$BIN/pytest" -m "not embedded" "$@"

echo "== pytest on the embedded default (SQLite, filesystem broker)"
rm -rf var/test-embedded
"${clean_env[@]}" TRACKER_VAR_DIR=var/test-embedded "$BIN/pytest" -m "not postgres" "$@"
