"""Subscriptions to compliance summaries, and the summaries themselves (the archive)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import Q

from tracker.models import Obligation, Place


class Cadence(models.TextChoices):
    DAILY = "daily", "daily"
    WEEKLY = "weekly", "weekly (Monday to Sunday)"
    MONTHLY = "monthly", "monthly"


def last_complete_period(cadence: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The newest period of ``cadence`` that ended before ``today``: (first day, last day)."""
    if cadence == Cadence.DAILY:
        day = today - datetime.timedelta(days=1)
        return day, day
    if cadence == Cadence.WEEKLY:
        end = today - datetime.timedelta(days=today.weekday() + 1)  # last Sunday
        return end - datetime.timedelta(days=6), end
    end = today.replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end


def period_ending(cadence: str, end: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The period of ``cadence`` whose last day is ``end`` (snapped to the cadence's grid)."""
    return last_complete_period(cadence, end + datetime.timedelta(days=1))


class Subscription(models.Model):
    """Who receives which summary, how often."""

    name = models.CharField(max_length=200)
    cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.WEEKLY)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="subscriptions"
    )
    addresses = models.TextField(
        blank=True, help_text="Further recipients' email addresses, one a line."
    )
    countries = models.ManyToManyField(
        Place,
        blank=True,
        limit_choices_to={"kind": "country"},
        related_name="+",
        help_text="Empty: every country.",
    )
    obligations = models.ManyToManyField(
        Obligation, blank=True, related_name="+", help_text="Empty: every obligation."
    )
    include_confidential = models.BooleanField(
        default=False,
        help_text="Name confidential sources and reports. Allowed only when every recipient is "
        "a user holding the permission to see them (no plain addresses).",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.cadence})"

    def address_list(self) -> list[str]:
        return [line.strip() for line in self.addresses.splitlines() if line.strip()]

    def clean(self) -> None:
        errors = []
        for line, address in enumerate(self.addresses.splitlines(), start=1):
            if address.strip():
                try:
                    validate_email(address.strip())
                except ValidationError:
                    errors.append(f"Line {line}: {address.strip()!r} is not an email address.")
        if errors:
            raise ValidationError({"addresses": errors})


class SummaryStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    SENDING = "sending", "sending"
    SENT = "sent", "sent"
    FAILED = "failed", "failed"


class Summary(models.Model):
    """One summary of one subscription for one period, stored before it is sent and sent at
    most once (the unique period and the status machine in ``reports.sending``)."""

    Status = SummaryStatus

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="summaries"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(
        max_length=10, choices=SummaryStatus.choices, default=SummaryStatus.QUEUED
    )
    confidential = models.BooleanField(
        default=False, help_text="Names confidential sources (its recipients may see them)."
    )
    recipients = models.JSONField(default=list, help_text="The addresses it was built for.")
    recipient_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="summaries_received"
    )
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField()
    chart_png = models.BinaryField(blank=True, default=b"")
    headline = models.CharField(max_length=300, blank=True)
    statuses = models.JSONField(
        default=dict, help_text="The status matrix it reported, to compare the next one with."
    )
    created_at = models.DateTimeField()
    sending_since = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name_plural = "summaries"
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start", "period_end"],
                name="summary_once_per_period",
                violation_error_message="This subscription already has a summary for that period.",
            ),
            models.CheckConstraint(
                condition=Q(period_start__lte=models.F("period_end")),
                name="summary_period_in_order",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="summary_status")]

    def __str__(self) -> str:
        return f"{self.subscription.name}: {self.period_start} – {self.period_end}"
