"""Settings come from the environment: the embedded default, PostgreSQL + Redis, production."""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEPLOYMENT_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "EMAIL_URL",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
}
PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "broker": settings.CELERY_BROKER_URL,
    "results": settings.CELERY_RESULT_BACKEND,
    "cache": settings.CACHES["default"]["BACKEND"],
    "email": settings.EMAIL_BACKEND,
    "debug": settings.DEBUG,
}))
"""


def run_settings(module: str, tmp_path, **variables) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in DEPLOYMENT_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE=module,
        DJANGO_READ_DOT_ENV_FILE="false",
        TRACKER_VAR_DIR=str(tmp_path),
        **variables,
    )
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=BASE_DIR, capture_output=True, text=True
    )


def test_embedded_default_needs_no_server(tmp_path):
    result = run_settings("config.settings.local", tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "engine": "django.db.backends.sqlite3",
        "broker": "filesystem://",
        "results": f"file://{tmp_path}/celery-results",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "email": "django.core.mail.backends.filebased.EmailBackend",
        "debug": True,
    }
    assert (tmp_path / "broker").is_dir()
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_database_url_and_redis_url_select_postgresql_and_redis(tmp_path):
    result = run_settings(
        "config.settings.local",
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/tracker",
        REDIS_URL="redis://127.0.0.1:6379/3",
        EMAIL_URL="smtp+tls://mailer:pw@mail.example.org:587",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "engine": "django.db.backends.postgresql",
        "broker": "redis://127.0.0.1:6379/3",
        "results": "redis://127.0.0.1:6379/3",
        "cache": "django.core.cache.backends.redis.RedisCache",
        "email": "django.core.mail.backends.smtp.EmailBackend",
        "debug": True,
    }


def test_malformed_value_fails_loudly(tmp_path):
    result = run_settings("config.settings.local", tmp_path, TRACKER_COUNT_TOLERANCE="ten percent")
    assert result.returncode != 0
    assert (
        "TRACKER_COUNT_TOLERANCE='ten percent' is not a valid float (default: 0.1)."
        in result.stderr
    )
