"""Celery tasks: thin wrappers that take ids and call services."""

from celery import shared_task


@shared_task(name="tracker.ping", ignore_result=False)
def ping() -> str:
    """Liveness probe: a worker that answers 'pong' is consuming from the broker."""
    return "pong"
