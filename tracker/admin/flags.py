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
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .. import exports, services, visibility
from ..flags.render import FlagText
from ..models import CheckState, Claim, Flag, FlagEvent, Place
from .guards import AllowListedLookupsMixin, VisibleChoicesMixin


class FlagCountryFilter(admin.SimpleListFilter):
    """The country whose check found the flag (or the world-level places)."""

    title = _("country")
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
        return [*countries, (self.WORLD, _("World-level places"))]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if self.value() == self.WORLD:
            return queryset.filter(country__isnull=True)
        return queryset.filter(country__iso_code=self.value())


class DismissForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        label=_("Reason"),
        help_text=_("Kept with the flag and shown to every reviewer."),
    )


@admin.register(Flag)
class FlagAdmin(AllowListedLookupsMixin, VisibleChoicesMixin, admin.ModelAdmin):
    # The sentence is what a monitor reads: plain text in a wide column that wraps (Media),
    # its kind a link to the flag's page on the site, where it is read whole and handled. It
    # names the flag's place and obligations: columns of their own squeezed it to ~100 px
    # (the filters on the right pick by both).
    list_display = ["summary", "severity", "status", "seen"]
    list_display_links = None
    list_filter = [
        "kind",
        "status",
        "severity",
        FlagCountryFilter,
        ("obligations", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["place", "country"]
    date_hierarchy = "last_seen"
    actions = ["acknowledge", "dismiss", "reopen", "export_csv", "export_xlsx"]
    show_full_result_count = False
    list_per_page = 100
    fieldsets = [
        (
            None,
            {"fields": ["kind", "status", "severity", "obligation_codes", "where", "explained"]},
        ),
        (_("Evidence"), {"fields": ["claim_list"]}),
        (
            _("Life"),
            {
                "fields": [
                    ("first_seen", "last_seen"),
                    ("resolved_at", "resolved_because"),
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
        "obligation_codes",
        "where",
        "explained",
        "claim_list",
        "first_seen",
        "last_seen",
        "resolved_at",
        "resolved_because",
        "status_changed_by",
        "status_changed_at",
        "status_note",
        "timeline",
    ]

    # A flag stores facts, not sentences: what a search could read is its place; the claims
    # and sources it names are the list filters' and the flag pages' (``/flags/``).
    search_fields = ["place__name_path"]

    class Media:
        css = {"all": ["tracker/flag_admin.css"]}

    def get_changelist(self, request, **kwargs):
        return SaidChangeList

    def get_object(self, request, object_id, from_field=None):
        """The flag, with everything its page says read at once, for this reader."""
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
            _say([flag], request.user, events=list(flag.events.all()))
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

    @admin.display(description=_("flag"), ordering="kind")
    def summary(self, obj: Flag) -> str:
        return format_html(
            '<a href="{}">#{} {}</a>: {}',
            obj.get_absolute_url(),
            obj.pk,
            obj.get_kind_display(),
            obj.said.sentence(obj),
        )

    @admin.display(description=_("last seen"), ordering="last_seen")
    def seen(self, obj: Flag) -> str:
        return f"{timezone.localtime(obj.last_seen):%Y-%m-%d}"

    @admin.display(description=_("obligations"))
    def obligation_codes(self, obj: Flag) -> str:
        said = obj.said
        return ", ".join(said.obligation(pk) for pk in said.obligations_of(obj))

    @admin.display(description=_("resolved because"))
    def resolved_because(self, obj: Flag) -> str:
        return obj.said.resolution(obj)

    @admin.display(description=_("place"), ordering="place__name_path")
    def where(self, obj: Flag) -> str:
        return obj.place.name_path or obj.place.name

    @admin.display(description=_("explanation"))
    def explained(self, obj: Flag) -> str:
        return obj.said.sentence(obj)

    @admin.display(description=_("claims it rests on"))
    def claim_list(self, obj: Flag) -> str:
        claims = {c.pk: c for c in obj.claims.all()}
        rows = []
        for claim_id in obj.claim_ids:
            claim = claims.get(claim_id)
            if claim is None:
                rows.append(("", gettext("claim #%(id)s (deleted)") % {"id": claim_id}))
                continue
            shown = visibility.shown(claim, sees=obj.said.sees)
            if shown.hidden:
                rows.append(("", shown.headline()))
            else:
                url = reverse("admin:tracker_claim_change", args=[claim.pk])
                rows.append((url, f"{shown.ref}: {shown.headline()}"))
        if not rows:
            return gettext("none: the flag is about missing evidence")
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

    @admin.display(description=_("timeline"))
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
                        " " + gettext("by %(who)s") % {"who": event.actor} if event.actor else "",
                        f": {said}" if (said := obj.said.event(event, obj)) else "",
                    )
                    for event in obj.events.all()
                ),
            ),
        )

    # --- actions ------------------------------------------------------------------------------

    @admin.action(description=_("Acknowledge: someone is looking into it"), permissions=["change"])
    def acknowledge(self, request, queryset):
        changed = services.flags_acknowledge(flag_ids=_ids(queryset), user=request.user)
        self.message_user(
            request,
            ngettext(
                "%(n)s flag acknowledged (only open flags change).",
                "%(n)s flags acknowledged (only open flags change).",
                changed,
            )
            % {"n": changed},
        )

    @admin.action(description=_("Dismiss, with a reason…"), permissions=["change"])
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
                self.message_user(
                    request,
                    ngettext("%(n)s flag dismissed.", "%(n)s flags dismissed.", changed)
                    % {"n": changed},
                    messages.SUCCESS,
                )
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Dismiss flags"),
            "opts": self.model._meta,
            "flags": [(f, f.said.sentence(f)) for f in _say(list(queryset), request.user)],
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/tracker/flag/dismiss.html", context)

    @admin.action(description=_("Re-open"), permissions=["change"])
    def reopen(self, request, queryset):
        changed = services.flags_reopen(flag_ids=_ids(queryset), user=request.user)
        self.message_user(
            request,
            ngettext(
                "%(n)s flag re-opened (only acknowledged or dismissed flags change).",
                "%(n)s flags re-opened (only acknowledged or dismissed flags change).",
                changed,
            )
            % {"n": changed},
        )

    @admin.action(description=_("Export selected flags as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        rows = exports.flag_export_rows(queryset, request.user)
        return exports.download(exports.as_csv(rows), "flags", "csv")

    @admin.action(description=_("Export selected flags as XLSX"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        rows = exports.flag_export_rows(queryset, request.user)
        return exports.download(exports.as_xlsx(rows), "flags", "xlsx")


class SaidChangeList(ChangeList):
    """The flag list, each flag said for its reader by one ``FlagText`` for the page."""

    def get_results(self, request):
        super().get_results(request)
        _say(self.result_list, request.user)


def _say(flags, user, *, events=()) -> list[Flag]:
    """Give each flag the ``FlagText`` that says it for ``user`` (``flag.said``): one for all,
    so a page of flags costs the same queries as one."""
    said = FlagText(flags, user, events=events)
    for flag in flags:
        flag.said = said
    return flags


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
