"""Celery tasks: thin wrappers that take ids (partition keys) and call the engine."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from . import checks, selectors
from .models import CheckRequest, CheckState

logger = logging.getLogger(__name__)

SWEEP_KEY = "SWEEP"
# Two sweep ticks closer than this are one sweep (a duplicated beat tick, a retried message).
SWEEP_MIN_INTERVAL = datetime.timedelta(minutes=10)
# A request older than this was not served by its own task (the broker was down, or the
# worker died before acknowledging it): enqueue it again.
PENDING_GRACE = datetime.timedelta(seconds=30)
TRANSIENT = (OperationalError, InterfaceError)


@shared_task(name="tracker.ping", ignore_result=False)
def ping() -> str:
    """Liveness probe: a worker that answers 'pong' is consuming from the broker."""
    return "pong"


@shared_task(
    name="tracker.check_partition",
    acks_late=True,  # safe: a check run twice leaves the same flags
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def check_partition(key: str, today: str | None = None, whole: bool = False) -> dict:
    """Check one partition (an ISO code or WORLD) and write its flags: targeted at the claims
    its pending requests name, or whole (``whole``, or a request asks for it).

    Without ``whole`` and with no request pending, there is nothing to do: a check that
    started after the requests were made has served them (a second message for one save, the
    dispatcher's copy of a request served meanwhile)."""
    if key not in selectors.partition_keys():
        logger.warning("no partition %r: nothing to check", key)
        return {"key": key, "error": "unknown partition"}
    if not whole and not CheckRequest.objects.filter(key=key).exists():
        return {"key": key, "served_already": True}
    as_of = datetime.date.fromisoformat(today) if today else None
    try:
        return checks.partition_check(key, today=as_of, whole=whole).as_dict()
    except TRANSIENT:
        raise  # retried with backoff
    except Exception as exc:  # a bug or a bad row: record it on the state row, no retry loop
        checks.record_failure(key, exc)
        raise


@shared_task(name="tracker.run_sweep")
def run_sweep(today: str | None = None) -> int:
    """The scheduled full sweep: one ``check_partition`` task per partition.

    Compare-and-set on the ``SWEEP`` state row: of two ticks within ``SWEEP_MIN_INTERVAL``
    (a duplicated schedule, a redelivered message) only the first fans out. Checks of one
    partition never overlap anyway (they lock its row); this only saves the double work.

    Each partition also gets a request for a whole check, which its check deletes: a message
    lost with a worker killed as it took it (kombu's Redis transport takes a message and
    records it as unacknowledged in two steps), or held by a dead worker until the broker's
    visibility timeout, leaves its request behind, and ``dispatch_pending_checks`` enqueues
    it again within a minute or two.
    """
    now = timezone.now()
    CheckState.objects.bulk_create([CheckState(key=SWEEP_KEY)], ignore_conflicts=True)
    claimed = (
        CheckState.objects.filter(key=SWEEP_KEY)
        .exclude(last_checked_at__gt=now - SWEEP_MIN_INTERVAL)
        .update(last_checked_at=now)
    )
    if not claimed:
        logger.info("a sweep was dispatched less than %s ago; skipping", SWEEP_MIN_INTERVAL)
        return 0
    keys = selectors.partition_keys()
    CheckRequest.objects.bulk_create([CheckRequest(key=key, requested_at=now) for key in keys])
    for key in keys:
        check_partition.delay(key, today, True)
    return len(keys)


@shared_task(name="tracker.dispatch_pending_checks")
def dispatch_pending_checks() -> int:
    """Enqueue a check for every partition with a request older than ``PENDING_GRACE``."""
    cutoff = timezone.now() - PENDING_GRACE
    keys = sorted(
        set(CheckRequest.objects.filter(requested_at__lt=cutoff).values_list("key", flat=True))
    )
    for key in keys:
        check_partition.delay(key)
    return len(keys)
