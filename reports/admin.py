"""The admin for subscriptions (managed by staff) and summaries (read-only, with re-send)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from tracker import visibility
from tracker.admin.guards import AllowListedLookupsMixin, VisibleChoicesMixin

from . import sending
from .models import Subscription, Summary


class SubscriptionForm(forms.ModelForm):
    class Meta:
        model = Subscription
        fields = [
            "name",
            "cadence",
            "active",
            "users",
            "addresses",
            "language",
            "countries",
            "obligations",
            "include_confidential",
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("include_confidential"):
            addresses = [a for a in (cleaned.get("addresses") or "").splitlines() if a.strip()]
            if addresses:
                self.add_error(
                    "include_confidential",
                    gettext(
                        "Confidential material can go only to users holding the permission to "
                        "see it: remove the plain addresses, or untick this box."
                    ),
                )
            lacking = sorted(
                u.get_username()
                for u in cleaned.get("users") or []
                if not visibility.sees_confidential(u)
            )
            if lacking:
                self.add_error(
                    "include_confidential",
                    gettext(
                        "Confidential material can go only to users holding the permission to "
                        "see it; these recipients lack it: %(users)s."
                    )
                    % {"users": ", ".join(lacking)},
                )
        return cleaned


@admin.register(Subscription)
class SubscriptionAdmin(AllowListedLookupsMixin, VisibleChoicesMixin, admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["name", "cadence", "active", "include_confidential", "recipient_count"]
    list_filter = ["cadence", "active", "include_confidential"]
    search_fields = ["name", "addresses"]
    filter_horizontal = ["users"]
    autocomplete_fields = ["countries", "obligations"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("users")

    @admin.display(description=_("recipients"))
    def recipient_count(self, obj: Subscription) -> int:
        return len(obj.users.all()) + len(obj.address_list())

    def view_on_site(self, obj):
        return reverse("reports:preview", args=[obj.pk])


@admin.register(Summary)
class SummaryAdmin(AllowListedLookupsMixin, admin.ModelAdmin):
    list_display = ["__str__", "status", "attempts", "sent_at", "error", "archive"]
    list_filter = ["status", "subscription"]
    list_select_related = ["subscription"]
    date_hierarchy = "period_end"
    actions = ["resend"]
    readonly_fields = [
        "subscription",
        "period_start",
        "period_end",
        "status",
        "confidential",
        "recipients",
        "created_at",
        "sending_since",
        "sent_at",
        "attempts",
        "last_error",
        "message_id",
        "archive",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request).defer("content")
        if not visibility.sees_confidential(request.user):
            queryset = queryset.filter(confidential=False)
        return queryset

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the archive keeps what was sent

    @admin.display(description=_("error"))
    def error(self, obj: Summary) -> str:
        return obj.last_error[:120]

    @admin.display(description=_("archive"))
    def archive(self, obj: Summary) -> str:
        url = reverse("reports:detail", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("view"))

    @admin.action(description=_("Re-send (failed, or stuck while sending)"), permissions=["change"])
    def resend(self, request, queryset):
        count = sending.summaries_requeue(
            summary_ids=queryset.values_list("pk", flat=True), user=request.user
        )
        skipped = queryset.count() - count
        queued = ngettext(
            "%(count)s summary queued again;", "%(count)s summaries queued again;", count
        ) % {"count": count}
        left = ngettext(
            "%(skipped)s left alone (sent, queued, or sending for less than the stuck threshold).",
            "%(skipped)s left alone (sent, queued, or sending for less than the stuck threshold).",
            skipped,
        ) % {"skipped": skipped}
        self.message_user(
            request, f"{queued} {left}", messages.SUCCESS if count else messages.WARNING
        )
