"""The admin: the monitors' data-entry tool.

Confidentiality: a user without ``tracker.view_confidential`` does not see confidential
sources or reports (nor reports published by a confidential source) at all; a claim made by a
confidential source, or logged from a restricted report, still appears in the claim list with
its names replaced, cannot be opened, and cannot be found by searching for the hidden names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models, router, transaction
from django.db.models import (
    Count,
    ProtectedError,
    Value,
)
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .. import exports, history, search, selectors, services, text, visibility
from ..forms import ClaimForm
from ..models import (
    Claim,
    Obligation,
    Place,
    Report,
    Resolution,
    Source,
    Watch,
    in_reading_language,
)
from . import report_form
from .documents import DocumentInline
from .dossier import DossierMixin
from .guards import AllowListedLookupsMixin, VisibleChoicesMixin
from .imports import ImportClaimsMixin


class TrackerAdmin(AllowListedLookupsMixin, VisibleChoicesMixin, SimpleHistoryAdmin):
    """Base for the domain's admin classes: change history; the visibility rule on every form
    field and URL lookup (``guards``); links typed without a scheme are taken as https
    (Django 6's default)."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """One past version. simple-history checks the permission against that version only,
        and saves a POST (a revert) for anyone who may view, merely hiding the button. Here a
        version is shown only to who may read the object as it is now (a report made
        confidential since stays hidden in every version), and reverted only by who may
        change it."""
        current = self.get_object(request, unquote(object_id))
        if current is None or not self.has_view_permission(request, current):
            raise Http404
        if request.method == "POST" and not self.has_change_permission(request, current):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


@dataclass
class Touched:
    """What a change concerns, for the checks: places and self-report sources (their
    partitions are checked whole), and claims as (claim id, place id) pairs (their partitions
    get a check targeted at those claims)."""

    places: set[int] = field(default_factory=set)
    sources: set[int] = field(default_factory=set)
    claims: set[tuple[int, int]] = field(default_factory=set)

    def __or__(self, other: Touched) -> Touched:
        return Touched(
            self.places | other.places, self.sources | other.sources, self.claims | other.claims
        )

    def request_checks(self) -> None:
        services.checks_request_for(
            place_ids=self.places, source_ids=self.sources, claims=self.claims
        )


class ChecksOnChangeMixin:
    """After a save or a delete, request checks (on commit) of every partition the change
    touched, before and after: a claim moved from China to Russia re-checks both.

    Subclasses say what an object concerns, read from the database, so that the call before
    the save sees the old values.
    """

    def touched(self, obj) -> Touched:
        """What the object concerns, as stored now."""
        raise NotImplementedError

    def save_model(self, request, obj, form, change: bool) -> None:
        before = self.touched(obj) if change else Touched()
        super().save_model(request, obj, form, change)
        (before | self.touched(obj)).request_checks()

    def delete_model(self, request, obj) -> None:
        touched = self.touched(obj)
        super().delete_model(request, obj)
        touched.request_checks()

    def delete_queryset(self, request, queryset) -> None:
        touched = Touched()
        for obj in queryset:
            touched |= self.touched(obj)
        super().delete_queryset(request, queryset)
        touched.request_checks()


class HiddenWhenConfidentialMixin:
    """Object-level permissions: a restricted object is neither viewable nor changeable.

    Covers the change view, the history view (simple-history asks the same questions), and
    deletion. Subclasses say which objects are restricted. Past versions restricted at any
    time since they were recorded (``history.restricted_versions``: a report confidential
    before it was made public, a claim attributed to a confidential source before it was
    corrected) are listed without their values, and neither their page nor the change from
    them to the next version shows them.
    """

    object_history_list_template = "admin/tracker/object_history_list.html"
    # What the list of versions shows in place of a value a restricted version held.
    RESTRICTED_VALUE = _("(restricted)")

    def is_hidden(self, request: HttpRequest, obj) -> bool:
        return (
            obj is not None
            and not visibility.sees_confidential(request.user)
            and self._restricted_or_was(obj)
        )

    def _restricted_or_was(self, obj) -> bool:
        try:
            return self.is_restricted(obj)
        except ObjectDoesNotExist:  # a deleted object (its history) whose related rows are gone
            return bool(
                history.restricted_versions([self.model.history.filter(id=obj.pk).latest()])
            )

    def _concealed(self, records: list) -> set[int]:
        """The versions among ``records`` (of one object) a reader without the permission may
        not see: restricted (``history.restricted_versions``), but not the object's latest
        version while it exists, whose values its change page shows whoever may open it (a
        version recorded while its source was confidential, the source public since)."""
        concealed = history.restricted_versions(records)
        if concealed:
            latest = self.model.history.filter(id=records[0].id).latest()
            if self.model._default_manager.filter(pk=latest.id).exists():
                concealed.discard(latest.history_id)
        return concealed

    def is_restricted(self, obj) -> bool:
        raise NotImplementedError

    def get_object(self, request, object_id, from_field=None):
        """A hidden object is one that does not exist: Django's change and delete pages then
        answer as they do for a missing id (the same redirect and message)."""
        obj = super().get_object(request, object_id, from_field)
        return None if self.is_hidden(request, obj) else obj

    def history_view(self, request, object_id, extra_context=None):
        """The list of versions of a hidden object (or of a deleted one that was restricted)
        answers 404, as for an id that never existed."""
        if self._hidden_by_id(request, unquote(object_id)):
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def _hidden_by_id(self, request: HttpRequest, object_id: str) -> bool:
        if visibility.sees_confidential(request.user) or not str(object_id).isdigit():
            return False
        obj = self.model._default_manager.filter(pk=object_id).first()
        if obj is None:  # deleted: as its last version was
            latest = self.model.history.filter(id=object_id).order_by("-history_id").first()
            obj = latest.instance if latest is not None else None
        return self.is_hidden(request, obj)

    def has_view_permission(self, request, obj=None):
        return not self.is_hidden(request, obj) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self.is_hidden(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self.is_hidden(request, obj) and super().has_delete_permission(request, obj)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)
        if visibility.sees_confidential(request.user):
            return
        records = list(historical_records)  # newest first; a change is from the next one
        concealed = self._concealed(records)
        for record, older in zip(records, [*records[1:], None], strict=True):
            if record.history_id in concealed:
                record.concealed = True
                record.history_delta_changes = []
            elif older is not None and older.history_id in concealed:
                for change in getattr(record, "history_delta_changes", None) or []:
                    change["old"] = self.RESTRICTED_VALUE

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        current = self.get_object(request, unquote(object_id))
        if current is not None and not visibility.sees_confidential(request.user):
            if not str(version_id).isdigit():
                raise Http404
            version = current.history.filter(history_id=version_id).first()
            if version is not None and self._concealed([version]):
                raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context)


class FlaggedMeanwhileMixin:
    """For what no flag may be about (places, obligations). The deletion page lists the flags
    that protect the object, but a check may write one between that page and the deletion,
    which is then refused (``signals.protect_by_flags_written_meanwhile``) and rolled back
    whole: say so on the page the user came from, not with a server error."""

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ProtectedError as refusal:
            return self._refused(request, refusal)

    def changelist_view(self, request, extra_context=None):
        if request.method != "POST":
            return super().changelist_view(request, extra_context)
        try:
            # An action ("delete selected" logs, then deletes): as a whole, as delete_view.
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().changelist_view(request, extra_context)
        except ProtectedError as refusal:
            return self._refused(request, refusal)

    def _refused(self, request, refusal: ProtectedError) -> HttpResponseRedirect:
        message = gettext("Nothing was deleted. %(reason)s") % {"reason": refusal.args[0]}
        self.message_user(request, message, messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())


# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------


@admin.register(Resolution)
class ResolutionAdmin(TrackerAdmin):
    list_display = ["symbol", "adopted_on", "title", "title_ko"]
    search_fields = ["symbol", "title", "title_ko"]
    ordering = ["number"]


@admin.register(Obligation)
class ObligationAdmin(FlaggedMeanwhileMixin, TrackerAdmin):
    list_display = [
        "code",
        "short_name",
        "short_name_ko",
        "resolution",
        "paragraph",
        "kind",
        "effective_from",
        "due_on",
        "max_evidence_age_days",
    ]
    list_filter = ["kind", "resolution"]
    list_select_related = ["resolution"]
    # Any of its names, in either language: "repatriation", "송환", the code.
    search_fields = ["code", "short_name", "short_name_ko", "summary", "summary_ko"]

    def save_model(self, request, obj, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.checks_request_all()  # dates and evidence ages apply everywhere


@admin.register(Place)
class PlaceAdmin(FlaggedMeanwhileMixin, ChecksOnChangeMixin, TrackerAdmin):
    list_display = ["name_path", "name_ko", "kind", "iso_code", "claim_count"]
    list_filter = ["kind"]
    # Any of its names, in either language, and its path (its ancestors' names) in either.
    search_fields = ["name", "name_ko", "aliases", "name_path", "name_path_ko", "=iso_code"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path"]
    ordering = ["name_path"]
    show_full_result_count = False

    def get_queryset(self, request):
        # A GROUP BY drops Meta.ordering: order again for autocomplete and pagination.
        return (
            super().get_queryset(request).annotate(n_claims=Count("claims")).order_by("name_path")
        )

    @admin.display(description=_("claims"), ordering="n_claims")
    def claim_count(self, obj: Place) -> int:
        return obj.n_claims

    def touched(self, obj: Place):
        return Touched(places={obj.pk})


# --------------------------------------------------------------------------------------------
# Sources and reports
# --------------------------------------------------------------------------------------------


@admin.register(Source)
class SourceAdmin(ChecksOnChangeMixin, HiddenWhenConfidentialMixin, TrackerAdmin):
    list_display = ["name", "kind", "country", "reliability", "confidential", "claim_count"]
    list_filter = [
        "kind",
        "reliability",
        "confidential",
        ("country", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["country"]
    # get_queryset holds only the sources the user may see: a hidden one is found by no name.
    search_fields = ["name", "aliases"]
    autocomplete_fields = ["country"]
    fields = ["name", "aliases", "kind", "country", "reliability", "confidential", "url", "notes"]

    def is_restricted(self, obj: Source) -> bool:
        return obj.confidential

    def get_queryset(self, request):
        return (
            visibility.sources(request.user, super().get_queryset(request))
            .annotate(n_claims=visibility.claims_counted(request.user))
            .order_by("name")
        )

    @admin.display(description=_("claims"), ordering="n_claims")
    def claim_count(self, obj: Source) -> int:
        return obj.n_claims

    def touched(self, obj: Source):
        return Touched(places=selectors.claim_place_ids(source_id=obj.pk), sources={obj.pk})


class ClaimInline(VisibleChoicesMixin, admin.StackedInline):
    """Each claim a block laid out in a grid that fits a 1,400 px window (who, where, which
    obligation; the figure; grades and summary), not a 3,000 px row of a table."""

    model = Claim
    form = report_form.ClaimForm
    formset = report_form.ClaimFormSet
    autocomplete_fields = ["attributed_to", "place", "obligation"]
    show_change_link = True
    classes = ["claim-blocks"]

    def get_fieldsets(self, request, obj=None):
        creates = _creates(request)
        who = ["attributed_to", "attributed_to_new"] if creates[Source] else ["attributed_to"]
        where = ["place", "place_new"] if creates[Place] else ["place"]
        return [
            (None, {"fields": [(*who, *where, "obligation")]}),
            (
                _("Figure"),
                {
                    "fields": [("measure", "count_low", "count_high", "period_start", "as_of")],
                    "description": FIGURE_HINT,
                },
            ),
            (None, {"fields": [("stance", "credibility", "summary", "external_id")]}),
        ]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        creates = _creates(request)
        formset.form.may_create_source = creates[Source]
        formset.form.may_create_place = creates[Place]
        return formset

    def get_extra(self, request, obj=None, **kwargs):
        return 3 if obj is None else 1

    def get_queryset(self, request):
        queryset = (
            super().get_queryset(request).select_related("attributed_to", "place", "obligation")
        )
        # The report is visible; claims made by a confidential source inside it are not.
        return visibility.claims(request.user, queryset)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "summary":
            field.widget.attrs.update(rows=2)
        return _without_add_popup(field, db_field)


# How a figure is typed, said once above each claim's figure.
FIGURE_HINT = _(
    "60,000: low 60,000, high 60,000 · 70,000–80,000: low 70,000, high 80,000 · "
    "at least 2,000: low 2,000, high empty · fewer than 500: low 0, high 500."
)


def _creates(request) -> dict:
    """Which new rows the user may describe on the report form (and tick in its claims):
    only who may add them, and only on a form they may save."""
    user = request.user
    saves = user.has_perm("tracker.add_report") or user.has_perm("tracker.change_report")
    return {model: saves and report_form.may_create(user, model) for model in (Source, Place)}


def _without_add_popup(field, db_field):
    """A new source or place is described on the report form itself: no pop-up window
    (nor the change and view ones beside it, which open another window in the middle of a
    report and take the width a claim's line needs)."""
    if db_field.name in ("attributed_to", "place", "publisher") and field is not None:
        widget = field.widget
        if isinstance(widget, RelatedFieldWidgetWrapper):
            widget.can_add_related = widget.can_change_related = False
            widget.can_view_related = widget.can_delete_related = False
    return field


@admin.register(Report)
class ReportAdmin(ChecksOnChangeMixin, HiddenWhenConfidentialMixin, TrackerAdmin):
    list_display = [
        "title",
        "publisher",
        "published_on",
        "claim_count",
        "language",
        "confidential",
        "logged_by",
    ]
    list_filter = ["publisher__kind", "confidential", "language"]
    list_select_related = ["publisher", "logged_by"]
    # Only reports the user may see are listed, so their publishers are visible too.
    search_fields = ["title", "url", "publisher__name", "publisher__aliases"]
    date_hierarchy = "published_on"
    autocomplete_fields = ["publisher"]
    readonly_fields = ["logged_by", "created_at", "updated_at"]
    form = report_form.ReportForm
    inlines = [ClaimInline, DocumentInline]
    change_form_template = "admin/tracker/report/change_form.html"

    class Media:
        css = {"all": ["tracker/report_form.css"]}
        js = ["tracker/report_form.js"]

    def get_fieldsets(self, request, obj=None):
        creates = _creates(request)
        publisher = ["publisher", "publisher_new"] if creates[Source] else ["publisher"]
        fields = [
            "title",
            "url",
            (*publisher, "published_on", "language"),
            ("confidential", "notes"),
        ]
        if obj is not None:  # who logged it and when, once there is something to say
            fields.append(("logged_by", "created_at", "updated_at"))
        fieldsets = [(None, {"fields": fields})]
        new_source = [
            (
                "new_source_name",
                "new_source_kind",
                "new_source_country",
                "new_source_reliability",
                "new_source_confidential",
            )
        ]
        new_place = [("new_place_name", "new_place_name_ko", "new_place_kind", "new_place_parent")]
        for model, name, fields, description in [
            (Source, _("New source"), new_source, NEW_SOURCE_HINT),
            (Place, _("New place"), new_place, NEW_PLACE_HINT),
        ]:
            if creates[model]:
                options = {"fields": fields, "description": description, "classes": ["new-row"]}
                fieldsets.append((name, options))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        creates = _creates(request)
        form.may_create_source = creates[Source]
        form.may_create_place = creates[Place]
        return form

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        return _without_add_popup(field, db_field)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The errors listed at the top, each linked to its field, in place of Django's
        # "Please correct the errors below." over a page wider than the window.
        if context.get("errors"):
            context["error_summary"] = report_form.error_summary(
                context["adminform"], context["inline_admin_formsets"]
            )
            context["errors"] = None
        return super().render_change_form(request, context, add, change, form_url, obj)

    def is_restricted(self, obj: Report) -> bool:
        return obj.is_restricted

    def get_queryset(self, request):
        return (
            visibility.reports(request.user, super().get_queryset(request))
            .annotate(n_claims=visibility.claims_counted(request.user))
            .order_by("-published_on", "title")
        )

    @admin.display(description=_("claims"), ordering="n_claims")
    def claim_count(self, obj: Report) -> int:
        return obj.n_claims

    def save_model(self, request, obj: Report, form, change: bool) -> None:
        if change and any(k.endswith("-DELETE") and v for k, v in request.POST.items()):
            # It deletes claims (save_related), which waits for the checks writing links:
            # that lock first, before this save's row locks, or it could deadlock with a
            # deletion holding the lock and waiting for those rows.
            services.links_lock(exclusive=True)
        if not change:
            obj.logged_by = request.user
        # The new source and place are saved in the report's transaction (the admin's view
        # is atomic): if anything after fails, none of them is kept.
        for row in (form.new_source, form.new_place):
            if row is not None:
                row.save()
        if form.new_source is not None and form.cleaned_data.get("publisher_new"):
            obj.publisher = form.new_source
        # The claims are saved later, by save_related: the checks are requested there.
        super(ChecksOnChangeMixin, self).save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change: bool) -> None:
        # What the claims were before this save (deleted rows included): the inline forms'
        # initial values.
        before = Touched()
        for formset in formsets:
            for inline_form in formset.initial_forms:
                initial = inline_form.initial
                before.claims.add((inline_form.instance.pk, initial.get("place")))
                before.sources.add(initial.get("attributed_to"))
            if formset.model is Claim:
                report_form.attach_new_rows(formset, source=form.new_source, place=form.new_place)
        super().save_related(request, form, formsets, change)
        (before | self.touched(form.instance)).request_checks()
        for row in (form.new_source, form.new_place):
            if row is not None:
                self.message_user(request, _created_message(row), messages.SUCCESS)
        for formset in formsets:
            if formset.model is Claim:
                for warning in _late_claims(formset, form):
                    self.message_user(request, warning, messages.WARNING)

    def touched(self, obj: Report):
        rows = obj.claims.values_list("pk", "place_id", "attributed_to_id")
        return Touched(
            sources={source for *_, source in rows},
            claims={(pk, place) for pk, place, _ in rows},
        )


NEW_SOURCE_HINT = _(
    "Not in the list yet? Describe it here and tick “the new source” beside the publisher or "
    "a claim: it is created with the report, or not at all."
)
NEW_PLACE_HINT = _(
    "Not in the list yet? Describe it here and tick “the new place” in a claim: it is "
    "created with the report, or not at all."
)


def _created_message(row) -> str:
    if isinstance(row, Source):
        return gettext("The source “%(name)s” was created.") % {"name": row.name}
    return gettext("The place “%(name)s” was created.") % {"name": row}


def _late_claims(formset, report_form_) -> list[str]:
    """A warning per claim of the form whose as-of date is after the report's publication:
    saved as typed (a state's figures can be dated ahead, a slip can too), the monitor told
    which block to look at. Only for what this save typed (a new claim, its as-of date, the
    publication date): a date already looked at is not warned about on every later save."""
    report = report_form_.instance
    warnings = []
    for number, inline_form in enumerate(formset.forms, start=1):
        claim = inline_form.instance
        if claim.pk is None or inline_form in formset.deleted_forms:
            continue
        typed = (
            inline_form not in formset.initial_forms
            or "as_of" in inline_form.changed_data
            or "published_on" in report_form_.changed_data
        )
        if typed and claim.is_dated_after(report.published_on):
            warnings.append(
                gettext(
                    "Claim #%(number)s of the form (saved as %(ref)s) is dated as of %(as_of)s, "
                    "after the report's publication on %(published)s. It was saved; check the "
                    "date if it is a slip."
                )
                % {
                    "number": number,
                    "ref": claim.ref,
                    "as_of": text.date(claim.as_of_given),
                    "published": text.date(report.published_on),
                }
            )
    return warnings


# --------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------


class SourceChoicesListFilter(admin.ChoicesFieldListFilter):
    """A choice of the claims' source's kind or grade: a restricted claim's source is hidden
    from whoever may not see it, so no choice finds it for them (the filter would say what
    the row hides)."""

    def queryset(self, request, queryset):
        filtered = super().queryset(request, queryset)
        if self.used_parameters and not visibility.sees_confidential(request.user):
            filtered = filtered.exclude(visibility.restricted_claim_q())
        return filtered


class CountryFilter(admin.SimpleListFilter):
    """Claims about a country or any place inside it."""

    title = _("country")
    parameter_name = "country"

    def lookups(self, request, model_admin):
        # The countries holding a place with a claim about it: one probe of the claims' place
        # index per place (a few thousand), never a scan of the claims per country.
        countries = Place.objects.countries().filter(pk__in=selectors.countries_with_claims())
        return sorted(
            ((iso, in_reading_language(name, name_ko)) for iso, name, name_ko in
             countries.values_list("iso_code", "name", "name_ko")),
            key=lambda choice: choice[1],
        )  # fmt: skip

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        country = Place.objects.countries().filter(iso_code=self.value()).first()
        if country is None:
            return queryset.none()
        return queryset.inside(country)


@admin.register(Claim)
class ClaimAdmin(
    DossierMixin,
    ImportClaimsMixin,
    ChecksOnChangeMixin,
    HiddenWhenConfidentialMixin,
    TrackerAdmin,
):
    list_display = ["claim", "obligation", "stance", "grade", "report_link"]
    list_filter = [
        "obligation",
        CountryFilter,
        "stance",
        "measure",
        ("attributed_to__kind", SourceChoicesListFilter),
        ("attributed_to__reliability", SourceChoicesListFilter),
        "credibility",
    ]
    list_select_related = list(visibility.CLAIM_RELATED)
    actions = ["export_csv", "export_xlsx"]
    # What the search box searches: ``tracker.search`` (get_search_results), which finds a
    # claim by its place's, obligation's and source's names, its report's title, its summary
    # and reference, the hidden ones only for who may see them. The names below only show
    # the box.
    search_fields = ["summary"]
    date_hierarchy = "as_of"
    autocomplete_fields = ["report", "attributed_to", "place", "obligation"]
    show_full_result_count = False
    # Facets count the claims under every choice of every filter (a count per country): at a
    # million claims, seconds a page.
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100
    fieldsets = [
        (None, {"fields": ["report", "attributed_to", "place", "obligation", "stance"]}),
        (
            _("Count"),
            {"fields": [("measure", "count_low", "count_high"), ("period_start", "as_of")]},
        ),
        (None, {"fields": ["credibility", "summary", "external_id", "reference"]}),
    ]
    form = ClaimForm
    readonly_fields = ["reference"]

    @admin.display(description=_("reference"))
    def reference(self, obj: Claim) -> str:
        """The monitor's own reference, else the one the system gave: what exports write."""
        return obj.reference

    def is_restricted(self, obj: Claim) -> bool:
        return obj.is_restricted

    def get_queryset(self, request):
        sees = visibility.sees_confidential(request.user)
        return super().get_queryset(request).annotate(show_confidential=Value(sees))

    def get_search_results(self, request, queryset, search_term):
        """Each word (or quoted phrase) of ``search_term`` found as ``tracker.search`` finds
        it, by the names the user may see; no joins unless searching."""
        sees = visibility.sees_confidential(request.user)
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            queryset = queryset.filter(search.claims_q(bit, sees=sees))
        return queryset, False

    def get_paginator(self, request, queryset, per_page, *args, **kwargs):
        return selectors.EstimatedCountPaginator(queryset, per_page, *args, **kwargs)

    @admin.display(description=_("claim"), ordering="as_of")
    def claim(self, obj: Claim) -> str:
        headline = getattr(obj, "_headline", None)
        if headline is None:  # asked twice a row: its column and its checkbox's label
            headline = obj._headline = _shown(obj).headline()
        return headline

    def get_actions(self, request):
        """Every action but the exports (which redact) acts only on the claims the user may
        open: "delete selected" would list and delete a restricted claim chosen by its id."""
        actions = super().get_actions(request)
        for name, (func, action_name, description) in list(actions.items()):
            if name not in ("export_csv", "export_xlsx"):
                actions[name] = (_on_visible_claims(func), action_name, description)
        return actions

    def action_checkbox(self, obj: Claim) -> str:
        """Django labels each row's checkbox with the object's name, which for a claim is its
        monitor's reference: labelled by its headline instead, which hides what it must.
        Otherwise as Django's widget renders it (never ticked), written out directly: the
        widget's template, rendered 100 times a page, cost more than the rest of a row."""
        label = format_html(gettext("Select this object for an action - {}"), self.claim(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )

    @admin.action(description=_("Export selected claims as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        rows = exports.claim_export_rows(queryset, request.user)
        return exports.download(exports.as_csv(rows), "claims", "csv")

    @admin.action(description=_("Export selected claims as XLSX"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        rows = exports.claim_export_rows(queryset, request.user)
        return exports.download(exports.as_xlsx(rows), "claims", "xlsx")

    def touched(self, obj: Claim):
        row = Claim.objects.filter(pk=obj.pk).values_list("place_id", "attributed_to_id").first()
        place, source = row or (obj.place_id, obj.attributed_to_id)
        return Touched(sources={source}, claims={(obj.pk, place)})

    @admin.display(description=_("grade"))
    def grade(self, obj: Claim) -> str:
        """Source reliability and claim credibility, Admiralty style: 'B2'."""
        return _shown(obj).grade

    # Not sortable: sorted by its report's date, a redacted row would sit between the dates
    # of the visible rows around it, and so give its hidden report's date away.
    @admin.display(description=_("report"))
    def report_link(self, obj: Claim) -> str:
        shown = _shown(obj)
        if shown.hidden:
            return shown.report_title
        url = reverse("admin:tracker_report_change", args=[obj.report_id])
        return format_html('<a href="{}">{}</a>', url, obj.report)


def _shown(obj: Claim) -> visibility.ClaimShown:
    """The row as its reader may read it, made once for the row's three columns."""
    shown = getattr(obj, "_shown", None)
    if shown is None:
        shown = obj._shown = visibility.shown(obj, sees=obj.show_confidential)
    return shown


def _on_visible_claims(action):
    def narrowed(modeladmin, request, queryset):
        return action(modeladmin, request, visibility.claims(request.user, queryset))

    return narrowed


# --------------------------------------------------------------------------------------------
# Watches
# --------------------------------------------------------------------------------------------


@admin.register(Watch)
class WatchAdmin(ChecksOnChangeMixin, TrackerAdmin):
    list_display = ["place", "obligation", "max_evidence_age_days"]
    list_filter = ["obligation"]
    list_select_related = ["place", "obligation"]
    search_fields = [
        "place__name",
        "place__name_ko",
        "place__aliases",
        "obligation__code",
        "obligation__short_name",
        "obligation__short_name_ko",
    ]
    autocomplete_fields = ["place", "obligation"]

    def touched(self, obj: Watch):
        place_id = Watch.objects.filter(pk=obj.pk).values_list("place_id", flat=True).first()
        return Touched(places={place_id, obj.place_id})
