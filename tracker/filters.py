"""The filters of the claim and flag pages (and, later, of the API): django-filter sets."""

from __future__ import annotations

import django_filters
from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from . import search
from .models import (
    Claim,
    Flag,
    FlagClaim,
    FlagKind,
    FlagStatus,
    Measure,
    Obligation,
    Place,
    Reliability,
    SourceKind,
    Stance,
    reads_korean,
)
from .visibility import claims, restricted_claim_q, sees_confidential, sources


def _countries(request):
    """The countries, by name in the reader's language."""
    return Place.objects.countries().order_by("name_ko" if reads_korean() else "name", "name")


def _places(request):
    """Every place, by its path in the reader's language."""
    return Place.objects.order_by("name_path_ko" if reads_korean() else "name_path", "pk")


class QuickSelect(forms.Select):
    """A drop-down written out here, as Django's would be: Django renders each option with a
    template of its own, 0.5 ms apiece, and the claim page's countries and sources are 700
    options (a third of the page's time at a million claims)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        out = [format_html('<select name="{}"{}>', widget["name"], flatatt(widget["attrs"]))]
        for group, options, _index in widget["optgroups"]:
            if group:
                out.append(format_html('<optgroup label="{}">', group))
            out.extend(
                format_html(
                    '<option value="{}"{}>{}</option>',
                    option["value"],
                    flatatt(option["attrs"]),
                    option["label"],
                )
                for option in options
            )
            if group:
                out.append("</optgroup>")
        out.append("</select>")
        return mark_safe("".join(out))  # noqa: S308 (every part escaped by format_html)


@extend_schema_field(OpenApiTypes.STR)
class IsoCodeFilter(django_filters.ModelChoiceFilter):
    """A country by its ISO code (in the API's schema: a string)."""


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.ModelChoiceFilter):
    """A row by its id, for a filter that is no field of the model (in the schema: a number)."""


def _place_by_name() -> django_filters.CharFilter:
    """The rows (claims, flags) about a place named so (any of its names), or inside one."""

    def inside_named(queryset, name, value):
        value = value.strip()
        return queryset.filter(place__in=places_named(value)) if value else queryset

    return django_filters.CharFilter(
        method=inside_named,
        label=_("Place, by name (and inside)"),
        help_text=_("Any of its names, in English or Korean: China, 랴오닝, Primorsky Krai."),
    )


class ClaimFilter(django_filters.FilterSet):
    country = IsoCodeFilter(
        queryset=_countries,
        to_field_name="iso_code",
        method="inside",
        label=_("Country (and everything inside it)"),
        widget=QuickSelect,
    )
    # By its id (the API, links); the claim page's form has it hidden and offers the place
    # by name (``place_name``): a drop-down of every place was 3,194 options, 600 ms a page.
    place = django_filters.ModelChoiceFilter(
        queryset=_places,
        method="inside",
        label=_("Place (and inside)"),
    )
    place_name = _place_by_name()
    obligation = django_filters.ModelChoiceFilter(
        queryset=Obligation.objects.order_by("code"), to_field_name="code", label=_("Obligation")
    )
    stance = django_filters.ChoiceFilter(choices=Stance.choices, label=_("Stance"))
    measure = django_filters.ChoiceFilter(choices=Measure.choices, label=_("Measure"))
    source = django_filters.ModelChoiceFilter(
        queryset=lambda request: sources(request.user).order_by("name"),
        field_name="attributed_to",
        method="about_source",
        label=_("Claim made by"),
        widget=QuickSelect,
    )
    source_kind = django_filters.ChoiceFilter(
        choices=SourceKind.choices,
        field_name="attributed_to__kind",
        method="about_source",
        label=_("Kind of source"),
    )
    reliability = django_filters.ChoiceFilter(
        choices=Reliability.choices,
        field_name="attributed_to__reliability",
        method="about_source",
        label=_("Reliability of source"),
    )
    as_of = django_filters.DateFromToRangeFilter(
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
        label=_("As of (from – to)"),
    )
    q = django_filters.CharFilter(method="search", label=_("Text"))
    sort = django_filters.OrderingFilter(
        fields=(("as_of", "as_of"), ("place__name_path", "place"), ("count_low", "count")),
        field_labels={
            "as_of": _("As of, oldest first"),
            "-as_of": _("As of, newest first"),
            "place__name_path": _("Place, A to Z"),
            "-place": _("Place, Z to A"),
            "count_low": _("Count, smallest first"),
            "-count": _("Count, largest first"),
        },
        label=_("Sort"),
    )

    class Meta:
        model = Claim
        fields: list[str] = []

    def inside(self, queryset, name, value):
        return queryset.inside(value) if value else queryset

    def about_source(self, queryset, name, value):
        """Claims whose source (``name``: it, its kind, its grade) is ``value``. A restricted
        claim's source is hidden from whoever may not see it: no filter on the source finds
        it for them, or the filter would name the source that the row hides."""
        if value in (None, ""):
            return queryset
        queryset = queryset.filter(**{name: value})
        if sees_confidential(self.request.user):
            return queryset
        return queryset.exclude(restricted_claim_q())

    def search(self, queryset, name, value):
        """Claims whose place (by any of its names, or its ancestors' in either language),
        obligation (code or short name), source (any of its names), report, summary or
        reference holds ``value`` (``tracker.search``): a hidden name, title, summary or
        reference is never found by who may not see it."""
        return search.claims(queryset, value, sees=sees_confidential(self.request.user))


class ClaimPageFilter(ClaimFilter):
    """The claim page's form: the place by name; by id only from a link (hidden)."""

    place = django_filters.ModelChoiceFilter(
        queryset=_places, method="inside", widget=forms.HiddenInput
    )


def places_named(value: str) -> list[int]:
    """The ids of the places one of whose names (or an ancestor's) holds ``value``, and of
    the places inside them (3,194 places: read whole, by their paths)."""
    named = Place.objects.filter(search.place_named_q(value)).values_list("path", flat=True)
    prefixes = tuple(named)
    if not prefixes:
        return []
    return [pk for pk, path in Place.objects.values_list("pk", "path") if path.startswith(prefixes)]


class FlagFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=FlagKind.choices, label=_("Kind"))
    status = django_filters.ChoiceFilter(choices=FlagStatus.choices, label=_("Status"))
    country = django_filters.ModelChoiceFilter(
        queryset=_countries,
        to_field_name="iso_code",
        field_name="country",
        label=_("Country"),
        widget=QuickSelect,
    )
    obligation = django_filters.ModelChoiceFilter(
        queryset=Obligation.objects.order_by("code"),
        to_field_name="code",
        field_name="obligations",
        label=_("Obligation"),
    )
    # A flag stores facts, not sentences: it is found by what they name. The place by its id
    # (the API, links) or by name, as on the claim page.
    place = django_filters.ModelChoiceFilter(
        queryset=Place.objects.order_by("name_path"), method="inside", label=_("Place (and inside)")
    )
    place_name = _place_by_name()
    source = IdFilter(
        queryset=lambda request: sources(request.user).order_by("name"),
        method="resting_on_source",
        label=_("Source of a claim it rests on"),
        widget=QuickSelect,
    )
    claim = django_filters.NumberFilter(
        method="resting_on_claim", label=_("Claim it rests on (id)")
    )
    sort = django_filters.OrderingFilter(
        fields=(("last_seen", "last_seen"), ("severity", "severity"), ("kind", "kind")),
        field_labels={
            "last_seen": _("Last seen, oldest first"),
            "-last_seen": _("Last seen, newest first"),
            "severity": _("Severity, lowest first"),
            "-severity": _("Severity, highest first"),
            "kind": _("Kind, A to Z"),
            "-kind": _("Kind, Z to A"),
        },
        label=_("Sort"),
    )

    class Meta:
        model = Flag
        fields: list[str] = []

    def inside(self, queryset, name, value):
        return queryset.filter(place__path__startswith=value.path) if value else queryset

    def resting_on_source(self, queryset, name, value):
        """Flags resting on a claim made by ``value`` that the user may open: a restricted
        claim's source is hidden from whoever may not see it, so it finds nothing there."""
        if not value:
            return queryset
        visible = claims(self.request.user).filter(attributed_to=value)
        return queryset.filter(pk__in=FlagClaim.objects.filter(claim__in=visible).values("flag"))

    def resting_on_claim(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(pk__in=FlagClaim.objects.filter(claim_id=value).values("flag"))


class FlagPageFilter(FlagFilter):
    """The flag page's form: the place by name; by id only from a link (hidden), as on the
    claim page (a drop-down of every place is thousands of options)."""

    place = django_filters.ModelChoiceFilter(
        queryset=Place.objects.order_by("name_path"), method="inside", widget=forms.HiddenInput
    )
