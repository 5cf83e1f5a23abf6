"""Reads: what the checks, the admin and the pages load, as querysets or plain rows."""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, partial

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import BooleanField, Count, Q, Value
from django.db.models.expressions import RawSQL

from . import partialdates, rules
from .models import (
    CheckRequest,
    Claim,
    Flag,
    FlagObligation,
    Obligation,
    Place,
    Report,
    Source,
    Watch,
)

WORLD_KEY = "WORLD"
DAY = partialdates.DAY

# The columns of a claim that the rules read, in ClaimRow's order (``day`` and ``span`` are
# computed).
CLAIM_COLUMNS = (
    "id",
    "external_id",
    "attributed_to_id",
    "attributed_to__name",
    "attributed_to__kind",
    "attributed_to__country_id",
    "attributed_to__reliability",
    "attributed_to__confidential",
    "report_id",
    "place_id",
    "obligation_id",
    "stance",
    "measure",
    "count_low",
    "count_high",
    "period_start",
    "as_of",
    "credibility",
    "as_of_precision",
)


def partition_keys() -> list[str]:
    """Every partition: the ISO code of each country, then ``WORLD`` (the world itself and the
    places under it that lie in no country, such as Southeast Asia)."""
    codes = Place.objects.countries().order_by("iso_code").values_list("iso_code", flat=True)
    return [*codes, WORLD_KEY]


def partition_keys_for(place_ids: Iterable[int], source_ids: Iterable[int] = ()) -> set[str]:
    """The partitions of the given places, and of the states whose self-report sources are
    among ``source_ids``, in at most three queries."""
    return set(partition_key_by_place(place_ids).values()) | state_keys_of(source_ids)


def state_keys_of(source_ids: Iterable[int]) -> set[str]:
    """The states that the self-report sources among ``source_ids`` speak for."""
    source_ids = set(source_ids) - {None}
    if not source_ids:
        return set()
    return set(
        Source.objects.filter(pk__in=source_ids, kind=Source.Kind.SELF_REPORT)
        .exclude(country=None)
        .values_list("country__iso_code", flat=True)
    )


def claim_place_ids(*, source_id: int) -> set[int]:
    """The places where a source makes claims."""
    return set(Claim.objects.filter(attributed_to_id=source_id).values_list("place_id", flat=True))


def partition_key_by_place(place_ids: Iterable[int]) -> dict[int, str]:
    """The partition of each place, in two queries."""
    place_ids = set(place_ids) - {None}
    if not place_ids:
        return {}
    top_of = {
        pk: top_id_of(path)
        for pk, path in Place.objects.filter(pk__in=place_ids).values_list("pk", "path")
    }
    # The place right under the world is a country, or a world-level region (WORLD).
    key_of_top = {
        pk: iso_code if kind == Place.Kind.COUNTRY else WORLD_KEY
        for pk, kind, iso_code in Place.objects.filter(
            pk__in=set(top_of.values()) - {None}
        ).values_list("pk", "kind", "iso_code")
    }
    return {pk: WORLD_KEY if top is None else key_of_top[top] for pk, top in top_of.items()}


def among(model, name: str, values: Sequence) -> Q | RawSQL:
    """A filter: ``model``'s field ``name`` holds one of ``values``. On PostgreSQL the values
    go as one array parameter (``= ANY(%s)``); elsewhere as ``IN (...)``, one placeholder
    each. Thousands of placeholders take longer to build and parse than the query to run."""
    if connection.vendor != "postgresql":
        return Q(**{f"{name}__in": values})
    quote = connection.ops.quote_name
    column = f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(name).column)}"
    return RawSQL(f"{column} = ANY(%s)", [list(values)], output_field=BooleanField())  # noqa: S611 (quoted names; the values are one parameter)


def first_ids(querysets: Sequence) -> list[int | None]:
    """The id of the first row of each of ``querysets`` (each in its own order), or None where
    it has none: in one query where the database takes ordered, limited parts in a UNION
    (PostgreSQL), else one query each. A targeted check asks for a dozen such ids, and each
    query costs far more to build, send and plan than to read."""
    if (
        len(querysets) < 2
        or not connection.features.supports_slicing_ordering_in_compound
        # DISTINCT would add the ordering's columns to a part's, unlike the others'.
        or any(query.query.distinct for query in querysets)
    ):
        return [query.values_list("pk", flat=True).first() for query in querysets]
    parts = [
        query.annotate(nth=Value(i)).values_list("nth", "pk")[:1]
        for i, query in enumerate(querysets)
    ]
    found = dict(parts[0].union(*parts[1:], all=True))
    return [found.get(i) for i in range(len(querysets))]


def is_world_among(place_ids: Iterable[int]) -> bool:
    """Whether the world itself is one of the places."""
    return Place.objects.filter(pk__in=set(place_ids) - {None}, kind=Place.Kind.WORLD).exists()


def top_id_of(path: str) -> int | None:
    """The id right under the world in a path, or None for the world itself."""
    parts = path.strip("/").split("/")
    return int(parts[1]) if len(parts) > 1 else None


def confidentiality_now() -> tuple[frozenset[int], frozenset[int]]:
    """The confidential sources, and the reports a claim's readers may not see: confidential,
    or published by a confidential source. Few, and read through indexes in one query, so the
    claim queries need not join the reports; a sweep's batch asks again whether either
    changed since the sweep read them (``Shared.still_current``)."""
    secret = Source.objects.filter(confidential=True).order_by()
    reports = Report.objects.order_by().annotate(what=Value("report"))
    # Each part through its index (an OR, or a join, read every report).
    rows = (
        secret.annotate(what=Value("source"))
        .values_list("what", "pk")
        .union(
            reports.filter(confidential=True).values_list("what", "pk"),
            reports.filter(publisher__in=secret.values("pk")).values_list("what", "pk"),
            all=True,
        )
    )
    sources, restricted = set(), set()
    for what, pk in rows:
        (sources if what == "source" else restricted).add(pk)
    return frozenset(sources), frozenset(restricted)


def claim_rows(queryset, *, restricted_reports: frozenset[int]) -> list[rules.ClaimRow]:
    """Plain rows of the claims of ``queryset`` in (as_of, id) order, fetched at once: a
    server-side cursor let PostgreSQL choose a fast-start plan that walked every claim."""
    values = queryset.order_by("as_of", "id").values_list(*CLAIM_COLUMNS)
    # The named tuple's own constructor is a Python function with a parameter per field:
    # building the tuple and passing it to tuple.__new__ is three times faster.
    ClaimRow, new = rules.ClaimRow, tuple.__new__
    return [
        new(
            ClaimRow,
            (
                pk,
                rules.claim_ref(
                    pk,
                    external_id,
                    restricted := source_confidential or report_id in restricted_reports,
                ),
                source_id,
                source_name,
                source_kind,
                source_country_id,
                reliability,
                restricted,
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
                0 if precision == DAY else partialdates.span(as_of, precision),
                precision,
            ),
        )
        for (
            pk,
            external_id,
            source_id,
            source_name,
            source_kind,
            source_country_id,
            reliability,
            source_confidential,
            report_id,
            place_id,
            obligation_id,
            stance,
            measure,
            low,
            high,
            period_start,
            as_of,
            credibility,
            precision,
        ) in values
    ]


def place_rows(queryset) -> dict[int, rules.PlaceRow]:
    """Plain rows of the places of ``queryset``, by id, each with its ancestors' ids (from its
    path: "/1/2/10/" is place 10's, under 2 under 1)."""
    PlaceRow, new = rules.PlaceRow, tuple.__new__  # as claim_rows builds its tuples
    places = {}
    for pk, name, name_path, kind, path in queryset.values_list(
        "id", "name", "name_path", "kind", "path"
    ):
        ids = path.strip("/").split("/")[:-1]
        places[pk] = new(PlaceRow, (pk, name, name_path, kind, tuple(map(int, ids))))
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


@dataclass(frozen=True)
class CountryReads:
    """What a country's check reads besides its claims, for one country or for all of them
    (a sweep): by country id, its places (with the world), its watches, and the claims of its
    self-report sources placed outside it."""

    places: dict[int, dict[int, rules.PlaceRow]]
    watches: dict[int, dict[int, int | None]]
    reports_outside: dict[int, list[rules.ClaimRow]] | None  # None: not read

    @classmethod
    def load(
        cls,
        *,
        today: datetime.date,
        world_id: int,
        restricted_reports: frozenset[int],
        country: Place | None = None,
        with_reports: bool = True,
    ) -> CountryReads:
        """For ``country``, or for every country: three queries either way (two without the
        self-reports, which a targeted check reads its own way)."""
        if country is None:
            place_query, watches = Place.objects.all(), Watch.objects.all()
            reports = Claim.objects.filter(attributed_to__country__isnull=False)
        else:
            place_query = Place.objects.filter(Q(path__startswith=country.path) | Q(pk=world_id))
            watches = Watch.objects.filter(place=country)
            reports = Claim.objects.filter(attributed_to__country=country)
        everything = place_rows(place_query)
        places: dict[int, dict[int, rules.PlaceRow]] = {}
        for pk, place in everything.items():
            # The place right under the world: the country a place lies in, or itself.
            top = place.ancestor_ids[1] if len(place.ancestor_ids) > 1 else pk
            places.setdefault(top, {world_id: everything[world_id]})[pk] = place
        watches_of: dict[int, dict[int, int | None]] = defaultdict(dict)
        for place_id, obligation_id, max_age in watches.values_list(
            "place_id", "obligation_id", "max_evidence_age_days"
        ):
            watches_of[place_id][obligation_id] = max_age
        if not with_reports:
            return cls(places, watches_of, None)
        outside: dict[int, list[rules.ClaimRow]] = defaultdict(list)
        for claim in claim_rows(
            reports.filter(
                as_of__lte=today, attributed_to__kind=rules.SELF_REPORT, obligation__isnull=False
            ),
            restricted_reports=restricted_reports,
        ):
            inside = places.get(claim.source_country_id, {})
            if claim.place_id == world_id or claim.place_id not in inside:
                outside[claim.source_country_id].append(claim)
        return cls(places, watches_of, outside)


@dataclass(frozen=True)
class Shared:
    """What every partition's check reads the same: loaded once per sweep, and read again by
    a batch that finds a source or report made confidential since (``still_current``)."""

    world_id: int
    obligations: dict[int, rules.ObligationRow]
    restricted_reports: frozenset[int]
    world_claims: list[rules.ClaimRow]  # the world's own stock counts and complying claims
    today: datetime.date
    secret_sources: frozenset[int]  # the confidential sources when it was read
    # For a sweep (``for_sweep``): every country's id, and its ``CountryReads``; and the
    # check requests pending before it read them, the only ones its batches serve.
    country_ids: dict[str, int] | None = None
    countries: CountryReads | None = None
    requests_seen: frozenset[int] | None = None

    @classmethod
    def load(cls, today: datetime.date) -> Shared:
        world_id = Place.objects.get(kind=Place.Kind.WORLD).pk
        secret, restricted = confidentiality_now()
        world_claims = _world_claims(world_id, today, restricted)
        return cls(world_id, obligation_rows(), restricted, world_claims, today, secret)

    def still_current(self) -> Shared:
        """The same as it stands now, for a batch of a sweep that holds the links' lock
        (``services.links_lock``), the sweep having read it before: read again whole if a
        source or report was made confidential since (its claims are then read as
        restricted); else with the world's claims read again (a few hundred): one deleted
        since must not be linked to a flag, and one edited or made restricted since (moved
        into a report that was restricted already, say) must be judged, and named, as it
        is now."""
        if confidentiality_now() != (self.secret_sources, self.restricted_reports):
            if self.countries is not None:
                return Shared.for_sweep(self.today)
            return Shared.load(self.today)
        world_claims = _world_claims(self.world_id, self.today, self.restricted_reports)
        return (
            self if world_claims == self.world_claims else replace(self, world_claims=world_claims)
        )

    @classmethod
    def for_sweep(cls, today: datetime.date) -> Shared:
        """``load``, and every country's ``CountryReads``: four queries for the whole sweep
        instead of four per country. First, the check requests pending: what they stand for
        was committed before these reads, so a batch may serve them. One written later may
        be about a place, watch or self-report read here (a batch reads only the claims of
        its countries again), and is left to the check its save asked for."""
        requests_seen = frozenset(CheckRequest.objects.values_list("id", flat=True))
        shared = cls.load(today)
        countries = CountryReads.load(
            today=today, world_id=shared.world_id, restricted_reports=shared.restricted_reports
        )
        country_ids = dict(Place.objects.countries().values_list("iso_code", "pk"))
        return replace(
            shared, country_ids=country_ids, countries=countries, requests_seen=requests_seen
        )


def _world_claims(
    world_id: int, today: datetime.date, restricted_reports: frozenset[int]
) -> list[rules.ClaimRow]:
    """The world's own claims that the countries' checks read: its stock counts with an upper
    bound (scope conflicts) and its complying claims (stance conflicts)."""
    return claim_rows(
        Claim.objects.filter(as_of__lte=today, place_id=world_id).filter(
            Q(measure__in=rules.STOCK_MEASURES, count_high__isnull=False)
            | Q(stance=rules.COMPLYING, obligation__isnull=False)
        ),
        restricted_reports=restricted_reports,
    )


def partition_load(
    key: str,
    *,
    today: datetime.date,
    focus: rules.Focus | None = None,
    settings: rules.CheckSettings | None = None,
    shared: Shared | None = None,
    claims: list[rules.ClaimRow] | None = None,
) -> rules.Partition:
    """Everything one partition's checks read, in a handful of queries (a whole check: the
    same number whatever its size; none of its own when a sweep gives its ``claims``, read
    for several countries at once by ``country_claims``):

    1. the country (or the world) and the places the partition holds;
    2. the partition's claims as of ``today``, with their sources and reports;
    3. for a country, the world's own stock counts and complying claims (scope, stance);
    4. for a country, claims its own self-report sources placed outside it (overdue reports);
    5. the obligations, and the country's watches.

    With a ``focus`` (a country's targeted check after a save), step 2 loads only what the
    findings in the focus's scope rest on (``_focused_claims``), and step 4 one self-report
    per reporting obligation.
    """
    shared = shared or Shared.load(today)
    world_id = shared.world_id
    # Built only when used: a sweep gives each partition its claims, and a queryset costs a
    # tenth of a millisecond to build, 194 times.
    in_time = partial(Claim.objects.filter, as_of__lte=today)
    rows = partial(claim_rows, restricted_reports=shared.restricted_reports)
    obligations = shared.obligations
    if key == WORLD_KEY:
        regions = list(
            Place.objects.filter(parent_id=world_id)
            .exclude(kind=Place.Kind.COUNTRY)
            .values_list("path", flat=True)
        )
        inside = Q(pk=world_id)
        for path in regions:
            inside |= Q(path__startswith=path)
        places = place_rows(Place.objects.filter(inside))
        claims = rows(in_time(place_id__in=list(places)))
        return rules.Partition(
            key=key,
            country=None,
            today=today,
            places=places,
            claims=claims,
            obligations=obligations,
        )

    country_id = (shared.country_ids or {}).get(key)
    reads = shared.countries
    if country_id is None or reads is None:
        country = Place.objects.countries().get(iso_code=key)
        country_id = country.pk
        reads = CountryReads.load(
            today=today,
            world_id=world_id,
            restricted_reports=shared.restricted_reports,
            country=country,
            with_reports=focus is None,
        )
    places, watches = reads.places[country_id], reads.watches.get(country_id, {})

    # By the ids of its places, not a join on their paths: the planner then reads the claims
    # of each place from an index instead of scanning every claim once per country.
    # (As one array on PostgreSQL: a targeted check runs a dozen queries on them, and a large
    # country's places as placeholders cost more to build and parse than to read.)
    def inside():
        return in_time().filter(among(Claim, "place_id", [pk for pk in places if pk != world_id]))

    if focus is None:
        claims = rows(inside()) if claims is None else claims
    else:
        claims = _focused_claims(inside(), rows, places, obligations, focus, shared.world_claims)
    ancestor_claims = shared.world_claims
    if focus is None:
        outside = reads.reports_outside.get(country_id, [])
        state_claims = [c for c in claims if c.source_kind == rules.SELF_REPORT] + outside
    else:  # what overdue reports read: per reporting obligation, one self-report is enough
        own_reports = in_time(
            attributed_to__kind=rules.SELF_REPORT, attributed_to__country=country_id
        ).order_by("as_of", "id")
        state_claims = rows(
            Claim.objects.filter(
                pk__in=[
                    pk
                    for o in obligations.values()
                    if o.kind == rules.REPORTING
                    and (
                        pk := own_reports.filter(obligation_id=o.id)
                        .values_list("pk", flat=True)
                        .first()
                    )
                ]
            )
        )
    partition = rules.Partition(
        key=key,
        country=places[country_id],
        today=today,
        places=places,
        claims=claims,
        ancestor_claims=ancestor_claims,
        state_claims=state_claims,
        obligations=obligations,
        watches=watches,
        focus=focus,
    )
    if focus is None:
        return partition
    return replace(partition, scope_flags=flag_rows(partition))


def country_claims(
    keys: Iterable[str], *, today: datetime.date, shared: Shared
) -> dict[str, list[rules.ClaimRow]]:
    """The claims of the countries among ``keys``, for their whole checks in a sweep, in one
    query: each country's in (as_of, id) order, as ``partition_load`` reads them."""
    reads, world_id = shared.countries, shared.world_id
    if reads is None or shared.country_ids is None:
        return {}
    countries = {key: shared.country_ids[key] for key in keys if key in shared.country_ids}
    country_of = {
        pk: country_id
        for country_id in countries.values()
        for pk in reads.places[country_id]
        if pk != world_id
    }
    of_country: dict[int, list[rules.ClaimRow]] = {pk: [] for pk in countries.values()}
    for claim in claim_rows(
        Claim.objects.filter(among(Claim, "place_id", list(country_of)), as_of__lte=today),
        restricted_reports=shared.restricted_reports,
    ):
        of_country[country_of[claim.place_id]].append(claim)
    return {key: of_country[country_id] for key, country_id in countries.items()}


def claim_counts(keys: Iterable[str], *, shared: Shared) -> dict[str, int]:
    """The claims of each partition among ``keys`` (of every date), from one count of their
    places' claims; a sweep's ``shared``. A key that is no partition counts 0."""
    keys = set(keys)
    counts = dict.fromkeys(keys, 0)
    if shared.countries is None or shared.country_ids is None:
        return counts
    # Every place in a country, with its partition's key; the others are WORLD's.
    partition_of = {
        place_id: key
        for key, country_id in shared.country_ids.items()
        for place_id in shared.countries.places.get(country_id, ())
        if place_id != shared.world_id
    }
    every = {pk for places in shared.countries.places.values() for pk in places}
    wanted = {place_id for place_id, key in partition_of.items() if key in keys}
    if WORLD_KEY in keys:
        wanted |= {place_id for place_id in every if place_id not in partition_of}
    counted = Claim.objects.order_by().values_list("place_id").annotate(count=Count("pk"))
    if 2 * len(wanted) < len(every):
        # A few partitions: their places' claims, through the place index. Most of them (a
        # first sweep): one scan counting every place's, faster than sending and matching
        # every place id.
        counted = counted.filter(among(Claim, "place_id", list(wanted)))
    for place_id, count in counted:
        if place_id in wanted:
            counts[partition_of.get(place_id, WORLD_KEY)] += count
    return counts


def _focused_claims(
    inside,
    rows,
    places: dict[int, rules.PlaceRow],
    obligations: dict[int, rules.ObligationRow],
    focus: rules.Focus,
    world_claims: Sequence[rules.ClaimRow],
) -> list[rules.ClaimRow]:
    """The claims of a country that the situations in ``focus``'s scope rest on, whole
    (``rules.in_scope``; docs/design.md §3.6):

    1. every claim at a touched place, above it in the country and inside it: the counts and
       rises there, the scope conflicts where it is the part or the whole, the stance
       conflicts at it;
    2. where a place above a touched one (the world included) holds complying claims, the
       violating evidence about those obligations anywhere inside it: a stance conflict there
       reaches every place inside it;
    3. per obligation, the newest claim, and the newest new-work-permit grants (staleness,
       and which obligations are monitored).
    """
    own = {pk for pk, place in places.items() if place.kind != rules.WORLD}
    touched = focus.place_ids & own  # none for a self-report placed outside the country
    above = {a for pk in touched for a in places[pk].ancestor_ids}
    near = set(touched | (above & own))
    near.update(pk for pk in own if not touched.isdisjoint(places[pk].ancestor_ids))
    # Each part is its own query, through its own index: ORed with the country's list of
    # places, the planner reads every claim of the country instead.
    read = {c.id: c for c in rows(inside.filter(among(Claim, "place_id", sorted(near))))}
    complying_above: dict[int, set[int]] = defaultdict(set)  # place -> obligations
    for claim in (*read.values(), *world_claims):
        if claim.place_id in above and claim.stance == rules.COMPLYING and claim.obligation_id:
            complying_above[claim.place_id].add(claim.obligation_id)
    if complying_above:
        wanted = set().union(*complying_above.values())
        places_inside = sorted(
            pk
            for pk in own
            if not complying_above.keys().isdisjoint((*places[pk].ancestor_ids, pk))
        )
        violating = Q(stance=rules.VIOLATING, obligation_id__in=wanted)
        if any(obligations[o].kind == rules.PROHIBITION for o in wanted if o in obligations):
            violating |= Q(measure=rules.NEW_WORK_PERMITS, count_low__gt=0)
        for c in rows(inside.filter(among(Claim, "place_id", places_inside)).filter(violating)):
            read[c.id] = c
    newest = []
    for obligation in obligations.values():
        newest.append(inside.filter(obligation_id=obligation.id))
        if obligation.kind == rules.PROHIBITION:
            newest.append(
                inside.filter(
                    measure=rules.NEW_WORK_PERMITS,
                    count_low__gt=0,
                    period_start__gte=obligation.effective_from,
                )
            )
    # The newest claim is the one whose interval ends last (rules.newest_evidence): within one
    # precision, the one that starts last; across them, one of the three is it.
    ids = set(
        first_ids(
            [
                part.order_by("-as_of", "-id")
                for claims in newest
                for part in (
                    claims,
                    claims.filter(as_of_precision=partialdates.MONTH),
                    claims.filter(as_of_precision=partialdates.YEAR),
                )
            ]
        )
    ) - {None}
    for c in rows(inside.filter(pk__in=ids - read.keys())):
        read[c.id] = c
    return sorted(read.values(), key=rules.in_day_order)


def _as_date(value) -> datetime.date:
    """A date from a raw query (SQLite returns the text)."""
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


# The columns of a flag that the engine reads, in ``rules.FlagRow``'s order (without its
# obligations, read apart for cap signals: the only kind whose obligations change).
FLAG_COLUMNS = (
    "id",
    "fingerprint",
    "kind",
    "subject",
    "status",
    "country_id",
    "place_id",
    "claim_ids",
    "severity",
    "facts",
)
# Rows of a whole partition's flags are read this many at a time (a server-side cursor on
# PostgreSQL), not all held by the client library at once.
FLAG_CHUNK = 10_000


def flag_values(flags) -> list[rules.FlagRow]:
    """``flags`` as ``rules.FlagRow``s with their obligations: a cap signal's read from its
    links, the others' from their subject ("obligation/place")."""
    found = [
        rules.FlagRow(
            id=pk,
            fingerprint=fingerprint,
            kind=kind,
            subject=subject,
            status=status,
            country_id=country_id,
            place_id=place_id,
            claim_ids=tuple(claim_ids),
            severity=severity,
            facts=facts,
            obligation_ids=_subject_obligation(kind, subject),
        )
        for (
            pk,
            fingerprint,
            kind,
            subject,
            status,
            country_id,
            place_id,
            claim_ids,
            severity,
            facts,
        ) in flags.values_list(*FLAG_COLUMNS).iterator(chunk_size=FLAG_CHUNK)
    ]
    caps = [row.id for row in found if row.kind == rules.CAP_SIGNAL]
    if not caps:
        return found
    obligations: dict[int, list[int]] = defaultdict(list)
    for flag_id, obligation_id in (
        FlagObligation.objects.filter(among(FlagObligation, "flag_id", caps))
        .order_by("obligation_id")
        .values_list("flag_id", "obligation_id")
    ):
        obligations[flag_id].append(obligation_id)
    return [
        replace(row, obligation_ids=tuple(obligations[row.id]))
        if row.kind == rules.CAP_SIGNAL
        else row
        for row in found
    ]


def _subject_obligation(kind: str, subject: str) -> tuple[int, ...]:
    if kind in (rules.STANCE_CONFLICT, rules.STALE, rules.OVERDUE_REPORT) and subject:
        return (int(subject.split("/", 1)[0]),)
    return ()


def flag_rows_of(country_ids: Iterable[int | None]) -> dict[int | None, list[rules.FlagRow]]:
    """Every flag of whole partitions, whatever its status, by country (None: WORLD's), in
    one query (and one for the cap signals' obligations)."""
    country_ids = set(country_ids)
    wanted = Q(country_id__in=country_ids - {None})
    if None in country_ids:
        wanted |= Q(country_id__isnull=True)
    rows: dict[int | None, list[rules.FlagRow]] = defaultdict(list)
    for row in flag_values(Flag.objects.filter(wanted).order_by()):
        rows[row.country_id].append(row)
    return rows


def flag_rows(partition: rules.Partition) -> list[rules.FlagRow]:
    """The flags of a partition in a targeted check's scope (``rules.in_scope``): its
    staleness and overdue flags, and those about the touched places, above them or inside
    them (the scope says which of those)."""
    country_id = partition.country.id if partition.country else None
    places = partition.places
    near = set(partition.touched_or_above)
    near.update(pk for pk in places if not partition.touched.isdisjoint(places[pk].ancestor_ids))
    flags = Flag.objects.filter(country_id=country_id).order_by()
    # Separate queries, each through its own index, rather than one OR.
    rows = {
        row.id: row
        for query in (
            flags.filter(kind__in=(rules.STALE, rules.OVERDUE_REPORT)),
            flags.filter(among(Flag, "place_id", sorted(near))),
        )
        for row in flag_values(query)
    }
    return [
        row
        for row in rows.values()
        if rules.in_scope(partition.focus, partition, row.kind, row.subject, row.place_id)
    ]


def country_evidence(partition: rules.Partition) -> list[rules.Evidence]:
    """Every claim about the partition's country or inside it, as of its day, read as evidence
    about the obligations (what its statuses weigh): the partition's own claims when it was
    read whole, else read now (a targeted check reads a part of them)."""
    if partition.focus is None:
        return list(partition.claim_evidence)
    own = [pk for pk, place in partition.places.items() if place.kind != rules.WORLD]
    claims = claim_rows(
        Claim.objects.filter(among(Claim, "place_id", own), as_of__lte=partition.today).filter(
            Q(obligation__isnull=False) | Q(measure=rules.NEW_WORK_PERMITS, count_low__gt=0)
        ),
        restricted_reports=confidentiality_now()[1],
    )
    return rules.evidence(claims, partition.obligations)


def active_flags_of(country_ids: Iterable[int]) -> dict[int, list[rules.ActiveFlag]]:
    """The open and acknowledged flags of each country, with their obligations (one query)."""
    rows: dict[int, dict[int, tuple[str, list[int]]]] = defaultdict(dict)
    for pk, kind, country_id, obligation_id in (
        Flag.objects.active()
        .filter(country_id__in=list(country_ids))
        .order_by("pk")
        .values_list("pk", "kind", "country_id", "obligations")
    ):
        _, obligations = rows[country_id].setdefault(pk, (kind, []))
        if obligation_id is not None:
            obligations.append(obligation_id)
    return {
        country_id: [rules.ActiveFlag(pk, kind, tuple(o)) for pk, (kind, o) in flags.items()]
        for country_id, flags in rows.items()
    }


# --- the lists' counts and filters at a million claims (issue 32) -------------------------------


def countries_with_claims() -> set[int]:
    """The ids of the countries with a claim about them or a place inside them: the places
    with a claim (one probe of the claims' place index each, a few thousand), mapped to their
    countries by their paths."""
    from django.db.models import Exists, OuterRef

    with_claims = Place.objects.filter(Exists(Claim.objects.filter(place=OuterRef("pk"))))
    return {
        top
        for path in with_claims.values_list("path", flat=True)
        if (top := top_id_of(path)) is not None
    }


# Above this many rows, a list shows its count as an estimate (PostgreSQL): counting up to it
# reads that many rows at most (10 ms here), counting a million 0.1-0.5 s.
EXACT_COUNT_UP_TO = 1_000


def estimated_count(queryset) -> int:
    """The number of rows of ``queryset``: exact up to ``EXACT_COUNT_UP_TO``
    and on SQLite; above it on PostgreSQL an estimate, the table's ``reltuples`` for a
    queryset without conditions (kept by ANALYZE; one query), else the rows the planner
    expects (EXPLAIN, after a count that stopped at the bound; two queries)."""
    if connection.vendor != "postgresql":
        return queryset.count()
    query = queryset.query
    if not query.where and not query.distinct and not query.combinator:
        # The table's estimate if it is large, else (small, or never analysed) its count.
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT CASE WHEN reltuples > %s THEN reltuples::bigint "  # noqa: S608
                f"ELSE (SELECT count(*) FROM ({sql}) AS counted) END "
                f"FROM pg_class WHERE oid = %s::regclass",
                [EXACT_COUNT_UP_TO, *params, queryset.model._meta.db_table],
            )
            return int(cursor.fetchone()[0])
    exact = queryset.order_by()[: EXACT_COUNT_UP_TO + 1].count()
    if exact <= EXACT_COUNT_UP_TO:
        return exact
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return max(int(plan[0]["Plan"]["Plan Rows"]), exact)


class EstimatedCountPaginator(Paginator):
    """A paginator whose count is ``estimated_count``; ``estimated`` says whether it may be an
    estimate (the page links then stop at the estimate's last page; a page past the real
    end shows empty)."""

    @cached_property
    def count(self) -> int:
        return estimated_count(self.object_list)

    @cached_property
    def estimated(self) -> bool:
        return self.count > EXACT_COUNT_UP_TO and connection.vendor == "postgresql"
