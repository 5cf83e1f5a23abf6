"""Celery tasks for the summaries: thin wrappers that take ids."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.conf import settings

from . import sending


@shared_task(name="reports.dispatch_summaries")
def dispatch_summaries(today: str | None = None) -> list[int]:
    """The schedule's tick: create each due summary and enqueue its sending."""
    as_of = datetime.date.fromisoformat(today) if today else None
    return sending.summaries_dispatch(today=as_of)


@shared_task(name="reports.send_summary", bind=True, acks_late=False, max_retries=None)
def send_summary(self, summary_id: int) -> str:
    """Send one summary at most once; an SMTP error is retried with exponential backoff until
    ``SUMMARY_SEND_ATTEMPTS`` attempts were made (counted on the summary, not the message)."""
    outcome = sending.summary_send(summary_id)
    if outcome == sending.RETRY:
        countdown = settings.SUMMARY_RETRY_BACKOFF * 2**self.request.retries
        raise self.retry(countdown=min(countdown, 3600))
    return outcome
