"""Flags in the admin: what the checks found, and what monitors do about it.

Flags are written by the checks only: no one adds, edits or deletes them here. Editors (the
``change_flag`` permission) acknowledge, dismiss (with a reason) and re-open them; every such
step is kept as a ``FlagEvent``. A user without the permission to see confidential material
reads the explanation with confidential sources replaced, and sees the claims of restricted
reports without names or links.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, F, Prefetch, Value, prefetch_related_objects
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from .. import exports, services, visibility
from ..models import CheckState, Claim, Flag, FlagEvent, Place
from .guards import AllowListedLookupsMixin, VisibleChoicesMixin


class FlagCountryFilter(admin.SimpleListFilter):
    """The country whose check found the flag (or the world-level places)."""

    title = "country"
    parameter_name = "country"
    WORLD = "WORLD"

    def lookups(self, request, model_admin):
        # One query: the countries that have flags.
        countries = (
            Place.objects.countries()
            .filter(pk__in=Flag.objects.values("country"))
            .order_by("name")
            .values_list("iso_code", "name")
        )
        return [*countries, (self.WORLD, "World-level places")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if self.value() == self.WORLD:
            return queryset.filter(country__isnull=True)
        return queryset.filter(country__iso_code=self.value())


class DismissForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept with the flag and shown to every reviewer.",
    )


@admin.register(Flag)
class FlagAdmin(AllowListedLookupsMixin, VisibleChoicesMixin, admin.ModelAdmin):
    list_display = ["summary", "severity", "status", "where", "obligation", "last_seen"]
    list_filter = [
        "kind",
        "status",
        "severity",
        FlagCountryFilter,
        ("obligation", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["obligation", "place", "country"]
    date_hierarchy = "last_seen"
    actions = ["acknowledge", "dismiss", "reopen", "export_csv", "export_xlsx"]
    show_full_result_count = False
    list_per_page = 100
    fieldsets = [
        (None, {"fields": ["kind", "status", "severity", "obligation", "where", "explained"]}),
        ("Evidence", {"fields": ["claim_list"]}),
        (
            "Life",
            {
                "fields": [
                    ("first_seen", "last_seen"),
                    ("resolved_at", "resolved_reason"),
                    ("status_changed_by", "status_changed_at"),
                    "status_note",
                    "timeline",
                ]
            },
        ),
    ]
    readonly_fields = [
        "kind",
        "status",
        "severity",
        "obligation",
        "where",
        "explained",
        "claim_list",
        "first_seen",
        "last_seen",
        "resolved_at",
        "resolved_reason",
        "status_changed_by",
        "status_changed_at",
        "status_note",
        "timeline",
    ]

    def get_search_fields(self, request):
        # Searching the full explanation would reveal which flags name a hidden source.
        if visibility.sees_confidential(request.user):
            return ["explanation", "place__name_path"]
        return ["explanation_public", "place__name_path"]

    def get_queryset(self, request):
        # Per-user values as annotations: the ModelAdmin instance is shared by every request.
        may_see = visibility.sees_confidential(request.user)
        return (
            super()
            .get_queryset(request)
            .annotate(
                shown_explanation=F("explanation" if may_see else "explanation_public"),
                show_confidential=Value(may_see, BooleanField()),
            )
        )

    def get_object(self, request, object_id, from_field=None):
        flag = super().get_object(request, object_id, from_field)
        if flag is not None:
            prefetch_related_objects(
                [flag],
                Prefetch(
                    "claims",
                    queryset=Claim.objects.select_related(*visibility.CLAIM_RELATED),
                ),
                Prefetch("events", queryset=FlagEvent.objects.select_related("actor")),
            )
        return flag

    # --- nobody writes flags by hand ----------------------------------------------------------

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    # --- columns ------------------------------------------------------------------------------

    @admin.display(description="flag", ordering="kind")
    def summary(self, obj: Flag) -> str:
        text = obj.shown_explanation
        return f"{obj.get_kind_display()}: {text if len(text) < 160 else text[:157] + '...'}"

    @admin.display(description="place", ordering="place__name_path")
    def where(self, obj: Flag) -> str:
        return obj.place.name_path or obj.place.name

    @admin.display(description="explanation")
    def explained(self, obj: Flag) -> str:
        return obj.shown_explanation

    @admin.display(description="claims it rests on")
    def claim_list(self, obj: Flag) -> str:
        claims = {c.pk: c for c in obj.claims.all()}
        rows = []
        for claim_id in obj.claim_ids:
            claim = claims.get(claim_id)
            if claim is None:
                rows.append(("", f"claim #{claim_id} (deleted)"))
                continue
            shown = visibility.shown(claim, sees=obj.show_confidential)
            if shown.hidden:
                rows.append(("", shown.headline()))
            else:
                url = reverse("admin:tracker_claim_change", args=[claim.pk])
                rows.append((url, f"{shown.ref}: {shown.headline()}"))
        if not rows:
            return "none: the flag is about missing evidence"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}</li>",
                (
                    (format_html('<a href="{}">{}</a>', url, text) if url else text,)
                    for url, text in rows
                ),
            ),
        )

    @admin.display(description="timeline")
    def timeline(self, obj: Flag) -> str:
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} · {}{}{}</li>",
                (
                    (
                        f"{event.at:%Y-%m-%d %H:%M}",
                        event.get_action_display(),
                        f" by {event.actor}" if event.actor else "",
                        f": {event.note}" if event.note else "",
                    )
                    for event in obj.events.all()
                ),
            ),
        )

    # --- actions ------------------------------------------------------------------------------

    @admin.action(description="Acknowledge: someone is looking into it", permissions=["change"])
    def acknowledge(self, request, queryset):
        changed = services.flags_acknowledge(flag_ids=_ids(queryset), user=request.user)
        self.message_user(request, f"{changed} flag(s) acknowledged (only open flags change).")

    @admin.action(description="Dismiss, with a reason…", permissions=["change"])
    def dismiss(self, request, queryset):
        form = DismissForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                changed = services.flags_dismiss(
                    flag_ids=_ids(queryset), user=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                form.add_error("reason", error.message_dict["reason"])
            else:
                self.message_user(request, f"{changed} flag(s) dismissed.", messages.SUCCESS)
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Dismiss flags",
            "opts": self.model._meta,
            "flags": [(f, f.explanation_for(request.user)) for f in queryset],
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/tracker/flag/dismiss.html", context)

    @admin.action(description="Re-open", permissions=["change"])
    def reopen(self, request, queryset):
        changed = services.flags_reopen(flag_ids=_ids(queryset), user=request.user)
        self.message_user(
            request, f"{changed} flag(s) re-opened (only acknowledged or dismissed flags change)."
        )

    @admin.action(description="Export selected flags as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        rows = exports.flag_export_rows(queryset, request.user)
        return exports.download(exports.as_csv(rows), "flags", "csv")

    @admin.action(description="Export selected flags as XLSX", permissions=["view"])
    def export_xlsx(self, request, queryset):
        rows = exports.flag_export_rows(queryset, request.user)
        return exports.download(exports.as_xlsx(rows), "flags", "xlsx")


def _ids(queryset) -> list[int]:
    return list(queryset.values_list("pk", flat=True))


@admin.register(CheckState)
class CheckStateAdmin(AllowListedLookupsMixin, admin.ModelAdmin):
    """When each partition was last checked, and the error of a failed check."""

    list_display = [
        "key",
        "last_checked_at",
        "last_as_of",
        "last_duration_ms",
        "last_claims",
        "last_found",
        "failures",
        "last_error",
    ]
    list_filter = ["failures"]
    search_fields = ["=key"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
