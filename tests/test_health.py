"""/healthz: database, queue and beat, each "ok" or not, without saying more to anyone."""

import datetime
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config import health
from config.celery_app import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def beat_ticked():
    """Beat sent the every-minute dispatcher a moment ago."""
    PeriodicTask.objects.filter(task="tracker.dispatch_pending_checks").update(
        last_run_at=timezone.now() - datetime.timedelta(seconds=30)
    )


@pytest.fixture
def broker_down(monkeypatch):
    # A loopback port nothing listens on: the queue is gone.
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")


def test_healthz_is_ok_when_database_queue_and_beat_are(client, beat_ticked):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "queue": "ok", "beat": "ok"},
    }
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_says_the_queue_is_unavailable_and_stays_up(client, beat_ticked, broker_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "queue": "unavailable", "beat": "ok"}
    # Why is in the log, not in the answer: no host or port leaks to an anonymous caller.
    assert b"127.0.0.1" not in response.content
    # The pages themselves still serve.
    assert client.get("/healthz/live").status_code == 200


def test_beat_is_stale_when_it_sent_nothing_for_longer_than_the_bound(client, settings):
    settings.HEALTH_BEAT_MAX_AGE = 300
    PeriodicTask.objects.update(last_run_at=timezone.now() - datetime.timedelta(seconds=301))
    assert health.beat() == health.STALE
    PeriodicTask.objects.filter(task="tracker.dispatch_pending_checks").update(
        last_run_at=timezone.now() - datetime.timedelta(seconds=299)
    )
    assert health.beat() == health.OK


def test_beat_that_never_ran_is_stale():
    PeriodicTask.objects.update(last_run_at=None)
    assert health.beat() == health.STALE


def test_a_disabled_task_does_not_count_as_beat_ticking():
    PeriodicTask.objects.update(last_run_at=None)
    PeriodicTask.objects.filter(task="tracker.dispatch_pending_checks").update(
        enabled=False, last_run_at=timezone.now()
    )
    assert health.beat() == health.STALE


def test_database_unavailable_is_reported(monkeypatch, client):
    from django.db import OperationalError

    class BrokenCursor:
        def __enter__(self):
            raise OperationalError("connection refused")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(health.connection, "cursor", lambda: BrokenCursor())
    response = client.get("/healthz/live")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "unavailable"}}


def test_healthz_takes_only_get_and_head(client):
    assert client.post("/healthz").status_code == 405


def test_healthcheck_command_reports_each_part(beat_ticked, capsys):
    call_command("healthcheck", "all")
    assert '"status": "ok"' in capsys.readouterr().out
    call_command("healthcheck", "beat")
    PeriodicTask.objects.update(last_run_at=None)
    with pytest.raises(CommandError, match="beat is stale"):
        call_command("healthcheck", "beat")


def test_healthcheck_web_fails_clearly_when_nothing_listens():
    with pytest.raises(CommandError, match=re.escape("web does not answer at http://127.0.0.1:1/")):
        call_command("healthcheck", "web", url="http://127.0.0.1:1/healthz/live")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_healthcheck_web_asks_the_running_web(live_server, capsys):
    call_command("healthcheck", "web", url=f"{live_server.url}/healthz/live")
    assert '"database": "ok"' in capsys.readouterr().out


def test_a_redis_that_accepts_but_never_answers_is_unavailable_within_the_timeout(
    monkeypatch, settings
):
    import socket
    import time

    hung = socket.socket()  # listens, never reads: the connection opens, PING gets no answer
    hung.bind(("127.0.0.1", 0))
    hung.listen(5)
    try:
        monkeypatch.setattr(app.conf, "broker_url", f"redis://127.0.0.1:{hung.getsockname()[1]}/0")
        settings.HEALTH_TIMEOUT = 0.5
        started = time.monotonic()
        assert health.queue() == health.UNAVAILABLE
        assert time.monotonic() - started < 5
    finally:
        hung.close()
