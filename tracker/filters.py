"""The filters of the claim and flag pages (and, later, of the API): django-filter sets."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

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


@extend_schema_field(OpenApiTypes.STR)
class IsoCodeFilter(django_filters.ModelChoiceFilter):
    """A country by its ISO code (in the API's schema: a string)."""


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.ModelChoiceFilter):
    """A row by its id, for a filter that is no field of the model (in the schema: a number)."""


class ClaimFilter(django_filters.FilterSet):
    country = IsoCodeFilter(
        queryset=_countries,
        to_field_name="iso_code",
        method="inside",
        label=_("Country (and everything inside it)"),
    )
    place = django_filters.ModelChoiceFilter(
        queryset=_places,
        method="inside",
        label=_("Place (and inside)"),
    )
    obligation = django_filters.ModelChoiceFilter(
        queryset=Obligation.objects.order_by("code"), to_field_name="code", label=_("Obligation")
    )
    stance = django_filters.ChoiceFilter(choices=Stance.choices, label=_("Stance"))
    measure = django_filters.ChoiceFilter(choices=Measure.choices, label=_("Measure"))
    source = django_filters.ModelChoiceFilter(
        queryset=lambda request: sources(request.user).order_by("name"),
        field_name="attributed_to",
        label=_("Claim made by"),
    )
    source_kind = django_filters.ChoiceFilter(
        choices=SourceKind.choices, field_name="attributed_to__kind", label=_("Kind of source")
    )
    reliability = django_filters.ChoiceFilter(
        choices=Reliability.choices,
        field_name="attributed_to__reliability",
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

    def search(self, queryset, name, value):
        """Claims whose place (by any of its names, or its ancestors' in either language),
        obligation (code or short name), source (any of its names) or summary holds
        ``value``."""
        words = (
            Q(place__name_path__icontains=value)
            | Q(place__name_path_ko__icontains=value)
            | Q(place__aliases__icontains=value)
            | Q(obligation__code__icontains=value)
            | Q(obligation__short_name__icontains=value)
            | Q(obligation__short_name_ko__icontains=value)
        )
        named = (
            Q(attributed_to__name__icontains=value)
            | Q(attributed_to__aliases__icontains=value)
            | Q(summary__icontains=value)
        )
        if not sees_confidential(self.request.user):
            # A hidden name (any of a hidden source's names) or summary must not be found by
            # searching for it.
            named &= ~restricted_claim_q()
        return queryset.filter(words | named)


class FlagFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=FlagKind.choices, label=_("Kind"))
    status = django_filters.ChoiceFilter(choices=FlagStatus.choices, label=_("Status"))
    country = django_filters.ModelChoiceFilter(
        queryset=_countries, to_field_name="iso_code", field_name="country", label=_("Country")
    )
    obligation = django_filters.ModelChoiceFilter(
        queryset=Obligation.objects.order_by("code"),
        to_field_name="code",
        field_name="obligations",
        label=_("Obligation"),
    )
    # A flag stores facts, not sentences: it is found by what they name.
    place = django_filters.ModelChoiceFilter(
        queryset=Place.objects.order_by("name_path"), method="inside", label=_("Place (and inside)")
    )
    source = IdFilter(
        queryset=lambda request: sources(request.user).order_by("name"),
        method="resting_on_source",
        label=_("Source of a claim it rests on"),
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
