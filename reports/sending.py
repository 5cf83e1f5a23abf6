"""Writes for the summaries: store a summary, send it at most once, re-send on request.

At most once, whatever happens:

* one summary per (subscription, period): a unique constraint, so two schedule ticks, two
  workers or a retried task cannot make a second one;
* sending claims the summary with a conditional UPDATE (``queued`` -> ``sending``): of two
  workers, one sends and the other finds nothing to do;
* an SMTP error before the server accepted the message puts it back to ``queued`` for a retry
  with backoff (bounded), then ``failed`` with the error;
* a worker killed while ``sending`` leaves it ``sending``: whether the server got it is
  unknown, so it is not sent again by itself; the admin shows it and a person can re-send it
  (a deliberate action), as for ``failed``.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
import time
from email.mime.image import MIMEImage
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection, make_msgid
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from tracker import languages, visibility

from . import summaries
from .models import Subscription, Summary, SummaryStatus, last_complete_period

logger = logging.getLogger(__name__)

SENT, RETRY, FAILED, SKIPPED = "sent", "retry", "failed", "skipped"
# Errors worth another try: the server or the network refused, nothing was accepted.
TRANSIENT = (smtplib.SMTPException, OSError)


class ConfidentialRecipientsError(ValueError):
    pass


def confidential_allowed(subscription: Subscription) -> str:
    """Why the subscription may not include confidential material, or '' when it may."""
    if subscription.address_list():
        return (
            "Confidential material can go only to users holding the permission to see it: "
            "remove the plain addresses, or untick 'include confidential'."
        )
    if subscription.pk is None:
        return ""
    lacking = [
        u.get_username() for u in subscription.users.all() if not visibility.sees_confidential(u)
    ]
    if lacking:
        return (
            "Confidential material can go only to users holding the permission to see it; "
            f"these recipients lack it: {', '.join(sorted(lacking))}."
        )
    return ""


def recipients_of(subscription: Subscription) -> list[str]:
    users = [u.email for u in subscription.users.all() if u.email and u.is_active]
    return sorted(set(users) | set(subscription.address_list()))


def summary_create(
    *,
    subscription: Subscription,
    period_start: datetime.date,
    period_end: datetime.date,
    enqueue: bool = True,
) -> Summary | None:
    """Build and store the summary of a period, queued; None when it exists already.

    The summary is written, with its bodies and chart, before anything is sent. With
    ``enqueue``, its sending is enqueued when the transaction commits.
    """
    if subscription.include_confidential and (why := confidential_allowed(subscription)):
        raise ConfidentialRecipientsError(why)
    previous = (
        subscription.summaries.filter(period_end__lt=period_start).order_by("-period_end").first()
    )
    try:
        with transaction.atomic():
            summary = Summary.objects.create(
                subscription=subscription,
                period_start=period_start,
                period_end=period_end,
                confidential=subscription.include_confidential,
                recipients=recipients_of(subscription),
                created_at=timezone.now(),
            )
            content = summaries.build(subscription, period_start, period_end, previous=previous)
            Summary.objects.filter(pk=summary.pk).update(content=content)
            summary.recipient_users.set(subscription.users.all())
            if enqueue:
                from .tasks import send_summary

                transaction.on_commit(partial(_enqueue, send_summary, summary.pk), robust=True)
    except IntegrityError:
        return None  # another tick or worker made it
    summary.refresh_from_db()
    return summary


def _enqueue(task, *args) -> None:
    try:
        task.delay(*args)
    except Exception:  # the broker is down: the queued summary is found by the next dispatch
        logger.warning("could not enqueue %s%r", task.name, args, exc_info=True)


def due_summaries(
    *, today: datetime.date
) -> list[tuple[Subscription, datetime.date, datetime.date]]:
    """The (subscription, period) pairs whose last complete period has no summary yet."""
    out = []
    for subscription in Subscription.objects.filter(active=True).order_by("pk"):
        start, end = last_complete_period(subscription.cadence, today)
        if not subscription.summaries.filter(period_start=start, period_end=end).exists():
            out.append((subscription, start, end))
    return out


def summaries_dispatch(*, today: datetime.date | None = None) -> list[int]:
    """Create the due summaries (each enqueued on commit), and enqueue again the queued ones
    whose message was lost (the broker was down). Safe to run twice at once."""
    from .tasks import send_summary

    today = today or timezone.localdate()
    created = []
    for subscription, start, end in due_summaries(today=today):
        try:
            summary = summary_create(subscription=subscription, period_start=start, period_end=end)
        except ConfidentialRecipientsError as error:
            logger.error("subscription %s not sent: %s", subscription.pk, error)
            continue
        if summary is not None:
            created.append(summary.pk)
    stale = timezone.now() - datetime.timedelta(minutes=5)
    for pk in (
        Summary.objects.filter(status=SummaryStatus.QUEUED, created_at__lt=stale)
        .exclude(pk__in=created)
        .values_list("pk", flat=True)
    ):
        _enqueue(send_summary, pk)
    return created


def summary_send(summary_id: int, *, max_attempts: int | None = None) -> str:
    """Send one queued summary, once: SENT, RETRY (an SMTP error; it is queued again), FAILED
    (the last attempt failed) or SKIPPED (not queued: sent, being sent, or failed)."""
    max_attempts = max_attempts or settings.SUMMARY_SEND_ATTEMPTS
    now = timezone.now()
    claimed = Summary.objects.filter(pk=summary_id, status=SummaryStatus.QUEUED).update(
        status=SummaryStatus.SENDING, sending_since=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return SKIPPED
    summary = Summary.objects.select_related("subscription").get(pk=summary_id)
    messages = email_messages(summary)
    try:
        with get_connection(fail_silently=False) as connection:
            connection.send_messages(messages)
    except TRANSIENT as error:
        final = summary.attempts >= max_attempts
        Summary.objects.filter(pk=summary_id, status=SummaryStatus.SENDING).update(
            status=SummaryStatus.FAILED if final else SummaryStatus.QUEUED,
            last_error=f"attempt {summary.attempts}: {type(error).__name__}: {error}"[:2000],
        )
        logger.warning("summary %s: attempt %s failed: %s", summary_id, summary.attempts, error)
        return FAILED if final else RETRY
    Summary.objects.filter(pk=summary_id).update(
        status=SummaryStatus.SENT,
        sent_at=timezone.now(),
        last_error="",
        message_id=" ".join(m.extra_headers["Message-ID"] for m in messages)[:300],
    )
    return SENT


def summary_deliver(summary_id: int, *, backoff: float | None = None) -> str:
    """Send in this process, retrying SMTP errors with exponential backoff (the command line;
    the Celery task retries through Celery instead of sleeping)."""
    backoff = settings.SUMMARY_RETRY_BACKOFF if backoff is None else backoff
    attempt = 0
    while (outcome := summary_send(summary_id)) == RETRY:
        time.sleep(backoff * 2**attempt)
        attempt += 1
    return outcome


def summaries_requeue(*, summary_ids, user) -> int:
    """A person's deliberate re-send of failed summaries, or of summaries stuck in
    ``sending`` (a worker died: the server may or may not have got it)."""
    stuck = timezone.now() - datetime.timedelta(minutes=settings.SUMMARY_SENDING_STUCK_MINUTES)
    from .tasks import send_summary

    with transaction.atomic():
        ids = list(
            Summary.objects.select_for_update()
            .filter(pk__in=list(summary_ids))
            .filter(
                Q(status=SummaryStatus.FAILED)
                | Q(status=SummaryStatus.SENDING, sending_since__lt=stuck)
            )
            .values_list("pk", flat=True)
        )
        Summary.objects.filter(pk__in=ids).update(
            status=SummaryStatus.QUEUED,
            attempts=0,
            last_error=f"re-sent by {user.get_username()} at {timezone.now():%Y-%m-%d %H:%M}",
        )
        for pk in ids:
            transaction.on_commit(partial(_enqueue, send_summary, pk), robust=True)
    return len(ids)


def recipients_by_language(summary: Summary) -> dict[str, list[str]]:
    """The summary's recipients (the addresses it was built for), by the language each reads:
    a user's own choice, else the subscription's language, which plain addresses read."""
    subscription = summary.subscription
    users = {
        u.email: languages.preferred_language(u) or subscription.language
        for u in summary.recipient_users.all()
        if u.email
    }
    groups: dict[str, list[str]] = {}
    for address in summary.recipients:
        groups.setdefault(users.get(address, subscription.language), []).append(address)
    return groups or {subscription.language: []}  # none: the sender's own copy


def email_messages(summary: Summary) -> list[EmailMultiAlternatives]:
    """One email per language its recipients read, each said for them (``summaries.render``):
    with confidential material only when the summary may include it (every recipient may
    see it: ``confidential_allowed``)."""
    out = []
    for language, addresses in sorted(recipients_by_language(summary).items()):
        said = summaries.render(summary, language=language, sees=summary.confidential)
        message = EmailMultiAlternatives(
            subject=said.subject,
            body=said.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[settings.DEFAULT_FROM_EMAIL],
            bcc=addresses,
            headers={"Message-ID": make_msgid(domain="compliance-tracker")},
        )
        message.attach_alternative(said.html, "text/html")
        if said.chart_png:
            message.mixed_subtype = "related"
            image = MIMEImage(said.chart_png, _subtype="png")
            image.add_header("Content-ID", f"<{summaries.CHART_CID}>")
            image.add_header("Content-Disposition", "inline", filename="chart.png")
            message.attach(image)
        out.append(message)
    return out
