"""Summaries through a real worker and a real SMTP server (aiosmtpd) that is down, then up."""

import time

import pytest
from aiosmtpd.controller import Controller

from reports import tasks
from reports.models import Subscription, Summary
from tests.integration.procs import wait_for
from tests.reports.conftest import Inbox, free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_smtp_down_then_up_sends_the_summary_once(live_worker, settings, viewer):
    port = free_port()  # nothing listens there yet: the server is down
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2
    settings.SUMMARY_SEND_ATTEMPTS = 20
    settings.SUMMARY_RETRY_BACKOFF = 0.2  # 0.2, 0.4, 0.8 s ... (capped by the attempts)

    subscription = Subscription.objects.create(name="Daily", cadence="daily")
    subscription.users.add(viewer)
    tasks.dispatch_summaries.delay()
    wait_for(lambda: Summary.objects.filter(attempts__gte=2).exists(), 30, "two failed attempts")
    tasks.dispatch_summaries.delay()  # a tick during the outage changes nothing
    summary = Summary.objects.get()
    assert summary.status != "sent"
    assert "Connection refused" in summary.last_error

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        wait_for(lambda: Summary.objects.filter(status="sent").exists(), 60, "sent once up")
        time.sleep(1.5)  # room for a wrong second email to arrive
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    recipients, _message = inbox.messages[0]
    assert viewer.email in recipients
    assert Summary.objects.count() == 1
    summary = Summary.objects.get()
    # Sent after at least one refused attempt (the one that was running when the server came
    # up may be the one that succeeds).
    assert summary.attempts >= 2
    print(f"\nSMTP down then up: sent on attempt {summary.attempts}, one email")
