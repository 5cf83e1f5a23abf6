"""Health probes: is the database reachable, does the queue (broker) answer, is beat ticking.

Each probe returns one word ("ok", "unavailable", "stale") and logs why when it is not "ok";
the reasons stay in the log, never in the answer (they can name hosts and users).
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"
STALE = "stale"


def database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.warning("health: the database does not answer", exc_info=True)
        return UNAVAILABLE
    return OK


def queue() -> str:
    """The broker accepts a connection and (Redis) answers a PING, within HEALTH_TIMEOUT
    seconds: a hung Redis is as unavailable as a stopped one."""
    from config.celery_app import app

    timeout = settings.HEALTH_TIMEOUT
    try:
        options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
        with app.connection_for_write(transport_options=options) as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=timeout
            )
            if conn.transport.driver_type == "redis":
                conn.default_channel.client.ping()
    except Exception:
        logger.warning("health: the queue (broker) does not answer", exc_info=True)
        return UNAVAILABLE
    return OK


def beat(now: datetime.datetime | None = None) -> str:
    """Beat records when it last sent each periodic task (``last_run_at``); the pending-checks
    dispatcher runs every minute, so the newest of those is under a few minutes old while
    beat runs. Older than HEALTH_BEAT_MAX_AGE: stale."""
    from django_celery_beat.models import PeriodicTask

    try:
        newest = (
            PeriodicTask.objects.filter(enabled=True, last_run_at__isnull=False)
            .order_by("-last_run_at")
            .values_list("last_run_at", flat=True)
            .first()
        )
    except Exception:
        logger.warning("health: cannot read beat's schedule", exc_info=True)
        return UNAVAILABLE
    now = now or timezone.now()
    if newest is None or now - newest > datetime.timedelta(seconds=settings.HEALTH_BEAT_MAX_AGE):
        logger.warning("health: beat last sent a task at %s", newest)
        return STALE
    return OK


def report() -> dict:
    """Every probe; ``status`` is "ok" only when all of them are."""
    checks = {"database": database(), "queue": queue(), "beat": beat()}
    status = OK if all(value == OK for value in checks.values()) else UNAVAILABLE
    return {"status": status, "checks": checks}
