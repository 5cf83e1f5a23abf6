"""Reads: what the checks, the admin and the pages load, as querysets or plain rows."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Q

from . import rules
from .models import Claim, Obligation, Place, Source, Watch

WORLD_KEY = "WORLD"

# The columns of a claim that the rules read, in ClaimRow's order (before ``day``).
CLAIM_COLUMNS = (
    "id",
    "external_id",
    "attributed_to_id",
    "attributed_to__name",
    "attributed_to__kind",
    "attributed_to__country_id",
    "attributed_to__reliability",
    "attributed_to__confidential",
    "report__confidential",
    "report__publisher__confidential",
    "place_id",
    "obligation_id",
    "stance",
    "measure",
    "count_low",
    "count_high",
    "period_start",
    "as_of",
    "credibility",
)


def partition_keys() -> list[str]:
    """Every partition: the ISO code of each country, then ``WORLD`` (the world itself and the
    places under it that lie in no country, such as Southeast Asia)."""
    codes = Place.objects.countries().order_by("iso_code").values_list("iso_code", flat=True)
    return [*codes, WORLD_KEY]


def partition_keys_for(place_ids: Iterable[int], source_ids: Iterable[int] = ()) -> set[str]:
    """The partitions of the given places, and of the states whose self-report sources are
    among ``source_ids``, in at most three queries."""
    keys = _partition_keys_for_places(set(place_ids) - {None})
    source_ids = set(source_ids) - {None}
    if source_ids:
        keys |= set(
            Source.objects.filter(pk__in=source_ids, kind=Source.Kind.SELF_REPORT)
            .exclude(country=None)
            .values_list("country__iso_code", flat=True)
        )
    return keys


def claim_place_ids(*, source_id: int) -> set[int]:
    """The places where a source makes claims."""
    return set(Claim.objects.filter(attributed_to_id=source_id).values_list("place_id", flat=True))


def _partition_keys_for_places(place_ids: set[int]) -> set[str]:
    if not place_ids:
        return set()
    paths = Place.objects.filter(pk__in=place_ids).values_list("path", flat=True)
    top_ids = {_top_id_of(path) for path in paths}
    keys = {WORLD_KEY} if None in top_ids else set()
    top_ids.discard(None)
    # The place right under the world is a country, or a world-level region (WORLD).
    for kind, iso_code in Place.objects.filter(pk__in=top_ids).values_list("kind", "iso_code"):
        keys.add(iso_code if kind == Place.Kind.COUNTRY else WORLD_KEY)
    return keys


def _top_id_of(path: str) -> int | None:
    """The id right under the world in a path, or None for the world itself."""
    parts = path.strip("/").split("/")
    return int(parts[1]) if len(parts) > 1 else None


def claim_rows(queryset) -> list[rules.ClaimRow]:
    """Plain rows of the claims of ``queryset`` in (as_of, id) order."""
    rows = []
    append = rows.append
    ClaimRow = rules.ClaimRow
    for (
        pk,
        external_id,
        source_id,
        source_name,
        source_kind,
        source_country_id,
        reliability,
        source_confidential,
        report_confidential,
        publisher_confidential,
        place_id,
        obligation_id,
        stance,
        measure,
        low,
        high,
        period_start,
        as_of,
        credibility,
    ) in queryset.order_by("as_of", "id").values_list(*CLAIM_COLUMNS).iterator(chunk_size=5000):
        append(
            ClaimRow(
                pk,
                external_id or f"#{pk}",
                source_id,
                source_name,
                source_kind,
                source_country_id,
                reliability,
                source_confidential or report_confidential or publisher_confidential,
                place_id,
                obligation_id,
                stance,
                measure,
                low,
                high,
                period_start,
                as_of,
                credibility,
                as_of.toordinal(),
            )
        )
    return rows


def place_rows(queryset) -> dict[int, rules.PlaceRow]:
    places = {}
    for pk, name, name_path, kind, path in queryset.values_list(
        "id", "name", "name_path", "kind", "path"
    ):
        ids = tuple(int(p) for p in path.strip("/").split("/") if p)
        places[pk] = rules.PlaceRow(pk, name, name_path, kind, ids[:-1])
    return places


def obligation_rows() -> dict[int, rules.ObligationRow]:
    return {
        o.id: rules.ObligationRow(
            o.id,
            o.code,
            o.kind,
            o.resolution_id,
            o.effective_from,
            o.due_on,
            o.max_evidence_age_days,
        )
        for o in Obligation.objects.all()
    }


def partition_load(key: str, *, today: datetime.date) -> rules.Partition:
    """Everything one partition's checks read, in a fixed handful of queries:

    1. the country (or the world) and the places the partition holds;
    2. the partition's claims as of ``today``, with their sources and reports;
    3. for a country, the world's own stock counts and complying claims (scope, stance);
    4. for a country, claims its own self-report sources placed outside it (overdue reports);
    5. the obligations, and the country's watches.
    """
    world = Place.objects.get(kind=Place.Kind.WORLD)
    in_time = Claim.objects.filter(as_of__lte=today)
    if key == WORLD_KEY:
        regions = list(
            Place.objects.filter(parent=world)
            .exclude(kind=Place.Kind.COUNTRY)
            .values_list("path", flat=True)
        )
        inside = Q(pk=world.pk)
        for path in regions:
            inside |= Q(path__startswith=path)
        places = place_rows(Place.objects.filter(inside))
        claims = claim_rows(in_time.filter(place__in=Place.objects.filter(inside)))
        return rules.Partition(
            key=key,
            country=None,
            today=today,
            places=places,
            claims=claims,
            obligations=obligation_rows(),
        )

    country = Place.objects.countries().get(iso_code=key)
    places = place_rows(Place.objects.filter(Q(path__startswith=country.path) | Q(pk=world.pk)))
    claims = claim_rows(in_time.filter(place__path__startswith=country.path))
    ancestor_claims = claim_rows(
        in_time.filter(place=world).filter(
            Q(measure__in=rules.STOCK_MEASURES, count_high__isnull=False)
            | Q(stance=rules.COMPLYING, obligation__isnull=False)
        )
    )
    state_sources = Q(attributed_to__kind=rules.SELF_REPORT, attributed_to__country=country)
    state_claims = [c for c in claims if c.source_kind == rules.SELF_REPORT] + claim_rows(
        in_time.filter(state_sources, obligation__isnull=False).exclude(
            place__path__startswith=country.path
        )
    )
    watches = dict(
        Watch.objects.filter(place=country).values_list("obligation_id", "max_evidence_age_days")
    )
    return rules.Partition(
        key=key,
        country=places[country.pk],
        today=today,
        places=places,
        claims=claims,
        ancestor_claims=ancestor_claims,
        state_claims=state_claims,
        obligations=obligation_rows(),
        watches=watches,
    )
