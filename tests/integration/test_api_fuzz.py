"""Schemathesis against the API's own OpenAPI schema (/api/schema/), on a live server, as a
Viewer and as an Editor (token authentication): no answer is a server error, and every answer is
one the schema describes (status code, content type, headers, body).

The run is bounded in time: ``API_FUZZ_SECONDS`` per user (default 30; ``make fuzz`` gives it
more), shared by the phases (``API_FUZZ_PHASES``: examples, coverage, fuzzing, stateful; the
coverage phase, seen to crash inside schemathesis 4.32.0, runs with 4.32.5 and
this schema). Schemathesis' report and output go to ``$TEST_ARTEFACTS_DIR/schemathesis-<user>/``
(default ``var/artefacts``); ``API_FUZZ_SEED`` changes the seed.
"""

from __future__ import annotations

import datetime
import io
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import ClaimFactory, ReportFactory, SourceFactory, UserFactory, country
from tests.integration.browser import artefacts_dir
from tracker import tasks

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SECONDS = int(os.environ.get("API_FUZZ_SECONDS", "30"))
PHASES = os.environ.get("API_FUZZ_PHASES", "examples,coverage,fuzzing,stateful")
# Every check but these two, which judge what the API is meant to do, not what its schema says:
# - positive_data_acceptance expects a 2xx for any request the schema allows, but the schema
#   cannot say which ids exist (a claim in report 7 that does not exist is a 400);
# - ensure_resource_availability expects what a POST created to be there: a report an Editor
#   marks confidential is, by design, gone for them (the visibility rule).
EXCLUDED_CHECKS = "positive_data_acceptance,ensure_resource_availability"


@pytest.fixture
def evidence(monkeypatch):
    """The demo's evidence, and claims that are restricted by their source or report."""
    # The checks a write requests would run in a worker; the fuzz is about the API's edges.
    monkeypatch.setattr(tasks.check_partition, "delay", lambda *args, **kwargs: None)
    call_command("loaddemo", stdout=io.StringIO())
    informant = SourceFactory(name="Informant (fuzz)", confidential=True)
    secret = ReportFactory(title="Confidential report (fuzz)", confidential=True)
    as_of = datetime.date(2019, 12, 23)
    ClaimFactory(place=country("CN"), attributed_to=informant, as_of=as_of, external_id="FZ-1")
    ClaimFactory(place=country("RU"), report=secret, as_of=as_of, summary="a secret summary")


@pytest.fixture
def quiet_server():
    """The live server logs every 4xx it answers as a warning: thousands in a run. Errors (a
    5xx) are still logged."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.mark.parametrize("group", ["Viewers", "Editors"])
def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_schema(
    live_server, evidence, quiet_server, group
):
    user = UserFactory(username=f"fuzz-{group.lower()}", groups=[group])
    token = Token.objects.create(user=user).key
    report = artefacts_dir() / f"schemathesis-{group.lower()}"
    report.mkdir(exist_ok=True)
    # The token as the schema's tokenAuth scheme: schemathesis then also tries each operation
    # without it and with a wrong one (the ignored_auth check). Read from the environment, so
    # it is in no file.
    # The schema as this user reads it (it takes the same permission as the API), from a file:
    # schemathesis sends no token to fetch it.
    client = APIClient()
    client.force_authenticate(user)
    schema = report / "schema.json"
    schema.write_bytes(client.get("/api/schema/", {"format": "json"}).content)
    config = report / "schemathesis.toml"
    config.write_text('[auth.openapi.tokenAuth]\napi_key = "Token ${API_FUZZ_TOKEN}"\n')
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        str(schema),
        "--url",
        live_server.url,
        "--phases",
        PHASES,
        "--checks",
        "all",
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--max-time",
        str(SECONDS),
        "--workers",
        "1",
        "--seed",
        os.environ.get("API_FUZZ_SEED", "2397"),
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-dir",
        str(report),
        "--output-truncate",
        "false",
    ]
    # The server is a thread of this process: schemathesis runs in another, with a deadline,
    # in its report's folder (it keeps a cache in the working directory).
    started = time.monotonic()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=SECONDS * 4 + 120,
        cwd=report,
        env={**os.environ, "NO_COLOR": "1", "API_FUZZ_TOKEN": token},
    )
    output = done.stdout + done.stderr
    (report / "output.txt").write_text(output)
    print(f"schemathesis as {group}: {time.monotonic() - started:.0f} s, {report}/output.txt")
    assert done.returncode == 0, f"{report}/output.txt:\n{output[-20_000:]}"
