"""The filters of the claim and flag pages (and, later, of the API): django-filter sets."""

from __future__ import annotations

import django_filters
from django.db.models import Q
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
)
from .visibility import claims, restricted_claim_q, sees_confidential, sources


def _countries(request):
    return Place.objects.countries().order_by("name")


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
        label="Country (and everything inside it)",
    )
    place = django_filters.ModelChoiceFilter(
        queryset=Place.objects.order_by("name_path"), method="inside", label="Place (and inside)"
    )
    obligation = django_filters.ModelChoiceFilter(
        queryset=Obligation.objects.order_by("code"), to_field_name="code"
    )
    stance = django_filters.ChoiceFilter(choices=Stance.choices)
    measure = django_filters.ChoiceFilter(choices=Measure.choices)
    source = django_filters.ModelChoiceFilter(
        queryset=lambda request: sources(request.user).order_by("name"),
        field_name="attributed_to",
    )
    source_kind = django_filters.ChoiceFilter(
        choices=SourceKind.choices, field_name="attributed_to__kind"
    )
    reliability = django_filters.ChoiceFilter(
        choices=Reliability.choices, field_name="attributed_to__reliability"
    )
    as_of = django_filters.DateFromToRangeFilter(
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
        label="As of (from – to)",
    )
    q = django_filters.CharFilter(method="search", label="Text")
    sort = django_filters.OrderingFilter(
        fields=(("as_of", "as_of"), ("place__name_path", "place"), ("count_low", "count")),
    )

    class Meta:
        model = Claim
        fields: list[str] = []

    def inside(self, queryset, name, value):
        return queryset.inside(value) if value else queryset

    def search(self, queryset, name, value):
        words = Q(place__name_path__icontains=value) | Q(obligation__code__icontains=value)
        named = Q(attributed_to__name__icontains=value) | Q(summary__icontains=value)
        if not sees_confidential(self.request.user):
            # A hidden name or summary must not be found by searching for it.
            named &= ~restricted_claim_q()
        return queryset.filter(words | named)


class FlagFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=FlagKind.choices)
    status = django_filters.ChoiceFilter(choices=FlagStatus.choices)
    country = django_filters.ModelChoiceFilter(
        queryset=_countries, to_field_name="iso_code", field_name="country"
    )
    obligation = django_filters.ModelChoiceFilter(
        queryset=Obligation.objects.order_by("code"), to_field_name="code", field_name="obligations"
    )
    # A flag stores facts, not sentences: it is found by what they name.
    place = django_filters.ModelChoiceFilter(
        queryset=Place.objects.order_by("name_path"), method="inside", label="Place (and inside)"
    )
    source = IdFilter(
        queryset=lambda request: sources(request.user).order_by("name"),
        method="resting_on_source",
        label="Source of a claim it rests on",
    )
    claim = django_filters.NumberFilter(method="resting_on_claim", label="Claim it rests on (id)")
    sort = django_filters.OrderingFilter(
        fields=(("last_seen", "last_seen"), ("severity", "severity"), ("kind", "kind"))
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
