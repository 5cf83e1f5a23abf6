"""The deployment files agree with the settings: docker-compose.yml's structure (no Docker
engine runs here), the Dockerfile, .env.example and the README's configuration table; and the
production settings pass Django's deployment checks."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING = ("web", "worker", "beat", "db", "redis", "mail")
# Variables read by the compose file for its own containers (PostgreSQL's image), not Django.
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}
# Variables of `make run` (Makefile, ensureadmin) and of Django itself, not of the settings.
RUN_ONLY = {"ADMIN_PASSWORD", "WEB_PORT"}
DJANGO_ITSELF = {"DJANGO_SETTINGS_MODULE"}


def settings_variables() -> set[str]:
    """Every variable name the settings modules read (env.str("X"), env_number("X", ...), ...)."""
    pattern = re.compile(r"""(?:env(?:\.\w+)?|env_number|required)\(\s*["']([A-Z][A-Z0-9_]+)["']""")
    names = set()
    for module in (BASE_DIR / "config" / "settings").glob("*.py"):
        names |= set(pattern.findall(module.read_text()))
    return names


def example_variables() -> set[str]:
    text = (BASE_DIR / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def readme_variables() -> set[str]:
    section = (BASE_DIR / "README.md").read_text().split("## Configuration", 1)[1]
    section = section.split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, flags=re.MULTILINE))


def compose_variables() -> set[str]:
    """Names set in the app services' environment and names interpolated anywhere (${X...})."""
    names = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", (BASE_DIR / "docker-compose.yml").read_text()))
    for name in APP_SERVICES:
        names |= set(SERVICES[name].get("environment", {}))
    return names


def test_compose_has_every_service_of_the_stack():
    assert set(SERVICES) == {"migrate", "web", "worker", "beat", "db", "redis", "mail"}


def test_every_long_running_service_has_a_health_check_and_restarts():
    for name in LONG_RUNNING:
        service = SERVICES[name]
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service["restart"] == "unless-stopped", name
    assert SERVICES["migrate"]["restart"] == "no"


def test_app_services_run_what_the_procfile_runs_in_production_form():
    assert SERVICES["web"]["command"][:2] == ["gunicorn", "config.wsgi"]
    assert SERVICES["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    beat = SERVICES["beat"]["command"]
    assert beat[:4] == ["celery", "-A", "config", "beat"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert SERVICES["web"]["healthcheck"]["test"][1:] == [
        "python",
        "manage.py",
        "healthcheck",
        "web",
    ]
    assert "inspect ping" in SERVICES["worker"]["healthcheck"]["test"][1]
    assert SERVICES["beat"]["healthcheck"]["test"][1:] == [
        "python",
        "manage.py",
        "healthcheck",
        "beat",
    ]


def test_app_services_start_after_a_healthy_database_and_broker_and_the_migrations():
    for name in ("web", "worker", "beat"):
        depends = SERVICES[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert SERVICES[name]["env_file"] == ".env"
        assert SERVICES[name]["environment"]["DJANGO_SETTINGS_MODULE"] == (
            "config.settings.production"
        )


def test_database_broker_and_documents_keep_their_data_in_volumes():
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["db"]["volumes"]
    assert "redisdata:/data" in SERVICES["redis"]["volumes"]
    for name in APP_SERVICES:  # the documents' folder under TRACKER_VAR_DIR (Dockerfile)
        assert "documents:/app/var/documents" in SERVICES[name]["volumes"], name
    assert set(COMPOSE["volumes"]) == {"pgdata", "redisdata", "documents"}


def test_published_ports_listen_on_loopback_only():
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)


def test_no_secret_is_written_in_the_compose_file():
    text = (BASE_DIR / "docker-compose.yml").read_text()
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in text
    assert "DJANGO_SECRET_KEY:" not in text  # it comes from .env only
    assert "tracker:tracker@" not in text


def test_every_compose_variable_is_a_setting_and_in_env_example():
    known = settings_variables() | COMPOSE_ONLY | DJANGO_ITSELF
    assert compose_variables() - known == set()
    assert compose_variables() <= example_variables()


def test_env_example_and_readme_table_list_exactly_the_variables_read():
    read = settings_variables() | COMPOSE_ONLY | RUN_ONLY | DJANGO_ITSELF
    assert example_variables() == read
    assert readme_variables() == read


def test_dockerfile_is_multi_stage_and_runs_as_a_user():
    text = (BASE_DIR / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, flags=re.MULTILINE)) >= 2
    users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "collectstatic" in text  # whitenoise serves what the image collected
    assert "pip install --require-hashes -r requirements.lock" in text


# --- the production settings ------------------------------------------------------------------

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "k" * 20 + "-not-a-real-key-but-long-enough-0123456789",
    "DJANGO_ALLOWED_HOSTS": "tracker.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/tracker",
    "REDIS_URL": "redis://127.0.0.1:6379/3",
    "EMAIL_URL": "smtp+tls://mailer:pw@mail.example.org:587",
    "DJANGO_SECURE_HSTS_PRELOAD": "true",
}


def manage(tmp_path, *args, **variables) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env = {k: v for k, v in env.items() if k not in ("REDIS_URL", "EMAIL_URL")}
    env.update(DJANGO_READ_DOT_ENV_FILE="false", TRACKER_VAR_DIR=str(tmp_path), **variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checks(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_embedded_default_passes_the_system_checks_without_a_warning(tmp_path):
    result = manage(tmp_path, "check", "--database", "default", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_hsts_preload_the_only_deployment_warning_says_so(tmp_path):
    variables = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECURE_HSTS_PRELOAD"}
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **variables)
    assert result.returncode != 0
    assert re.findall(r"\((\S+\.W\d+)\)", result.stderr) == ["security.W021"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "Production needs DJANGO_SECRET_KEY: a long random string"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY to be a random string of at least 50"),
        (
            {"DJANGO_ALLOWED_HOSTS": ""},
            "Production needs DJANGO_ALLOWED_HOSTS: the comma-separated",
        ),
        ({"DATABASE_URL": ""}, "Production needs DATABASE_URL=postgres://"),
        ({"REDIS_URL": ""}, "Production needs REDIS_URL=redis://"),
    ],
)
def test_start_up_fails_with_a_clear_message_when_a_required_setting_is_missing(
    tmp_path, variables, message
):
    result = manage(tmp_path, "check", **{**PRODUCTION, **variables})
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert message in last_line
    assert "ImproperlyConfigured" in last_line


def test_production_cookies_are_secure_and_http_only(tmp_path):
    probe = (
        "import django; from django.conf import settings as s; django.setup(); "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, s.X_FRAME_OPTIONS)"
    )
    env = {**os.environ, **PRODUCTION, "DJANGO_READ_DOT_ENV_FILE": "false"}
    env["TRACKER_VAR_DIR"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=BASE_DIR, capture_output=True, text=True
    )
    assert out.stdout.split() == ["True", "True", "True", "True", "True", "DENY"], out.stderr
