"""Subscriptions to compliance summaries, and the summaries themselves (the archive)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from tracker.models import Obligation, Place


class Cadence(models.TextChoices):
    DAILY = "daily", _("daily")
    WEEKLY = "weekly", _("weekly (Monday to Sunday)")
    MONTHLY = "monthly", _("monthly")


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

    name = models.CharField(_("name"), max_length=200)
    cadence = models.CharField(
        _("cadence"), max_length=10, choices=Cadence.choices, default=Cadence.WEEKLY
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="subscriptions", verbose_name=_("users")
    )
    addresses = models.TextField(
        _("addresses"), blank=True, help_text=_("Further recipients' email addresses, one a line.")
    )
    countries = models.ManyToManyField(
        Place,
        blank=True,
        limit_choices_to={"kind": "country"},
        related_name="+",
        verbose_name=_("countries"),
        help_text=_("Empty: every country."),
    )
    obligations = models.ManyToManyField(
        Obligation,
        blank=True,
        related_name="+",
        verbose_name=_("obligations"),
        help_text=_("Empty: every obligation."),
    )
    include_confidential = models.BooleanField(
        _("include confidential material"),
        default=False,
        help_text=_(
            "Name confidential sources and reports. Allowed only when every recipient is "
            "a user holding the permission to see them (no plain addresses)."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    language = models.CharField(
        _("language of the plain addresses"),
        max_length=10,
        choices=[("en", "English"), ("ko", "한국어")],
        default="en",
        help_text=_("Users receive it in their own language; plain addresses in this one."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
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
                    errors.append(
                        gettext("Line %(line)s: %(address)r is not an email address.")
                        % {"line": line, "address": address.strip()}
                    )
        if errors:
            raise ValidationError({"addresses": errors})


class SummaryStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("summary status", "queued")
    SENDING = "sending", pgettext_lazy("summary status", "sending")
    SENT = "sent", pgettext_lazy("summary status", "sent")
    FAILED = "failed", pgettext_lazy("summary status", "failed")


class Summary(models.Model):
    """One summary of one subscription for one period, stored before it is sent and sent at
    most once (the unique period and the status machine in ``reports.sending``)."""

    Status = SummaryStatus

    subscription = models.ForeignKey(
        Subscription,
        on_delete=models.PROTECT,
        related_name="summaries",
        verbose_name=_("subscription"),
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    status = models.CharField(
        _("status"), max_length=10, choices=SummaryStatus.choices, default=SummaryStatus.QUEUED
    )
    confidential = models.BooleanField(
        _("confidential"),
        default=False,
        help_text=_("Names confidential sources (its recipients may see them)."),
    )
    recipients = models.JSONField(
        _("recipients"), default=list, help_text=_("The addresses it was built for.")
    )
    recipient_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="summaries_received",
        verbose_name=_("recipient users"),
    )
    # What it says, as data (``reports.summaries.build``); said for each reader when read or
    # sent (``reports.summaries.render``), never stored as text.
    content = models.JSONField(_("content"), default=dict)
    created_at = models.DateTimeField(_("created at"))
    sending_since = models.DateTimeField(_("sending since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    message_id = models.CharField(_("message ID"), max_length=300, blank=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = _("summary")
        verbose_name_plural = _("summaries")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start", "period_end"],
                name="summary_once_per_period",
                violation_error_message=_(
                    "This subscription already has a summary for that period."
                ),
            ),
            models.CheckConstraint(
                condition=Q(period_start__lte=models.F("period_end")),
                name="summary_period_in_order",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="summary_status")]

    def __str__(self) -> str:
        return f"{self.subscription.name}: {self.period_start} – {self.period_end}"
