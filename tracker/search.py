"""Free-text search of claims, for the admin's claim list and the claim page (``?q=``), served
by indexes at a million claims.

A claim is found by the names of its place (any of them, its ancestors' included, in either
language), its obligation, the source that made it (any of its names), its report's title, its
summary or its reference (the monitor's, else the system's ``C-000123``). The small tables
(places, obligations, sources) are searched first, and the claims then found by the ids they
gave (``place_id = ANY(...)``: the claims' indexes on those columns); a report's title, the
summary and the reference are searched with PostgreSQL trigram indexes (migration 0030; SQLite
scans). PostgreSQL combines these conditions in one bitmap of the claims' indexes instead of
reading every claim joined to its place, source and report.

The visibility rule (``tracker.visibility``): for a reader without the permission, a restricted
claim is found only by its place and obligation, never by its source's names, its report's
title, its summary or its reference (what ``ClaimShown`` hides); a confidential source's names
find nothing.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import SYSTEM_REFERENCE, Obligation, Place, Report, Source, system_reference
from .visibility import hidden_report_q, hidden_source_q, restricted_claim_q

# Up to this many reports found by their title are named by their ids (an index condition).
MANY_REPORTS = 5000


def place_named_q(text: str) -> Q:
    """The places one of whose names, or one of whose ancestors' names (in either language),
    holds ``text``."""
    return (
        Q(name_path__icontains=text) | Q(name_path_ko__icontains=text) | Q(aliases__icontains=text)
    )


def claims_q(text: str, *, sees: bool) -> Q:
    """The condition on claims matching ``text`` (one term, as typed), read as ``sees`` says."""
    places = list(Place.objects.filter(place_named_q(text)).values_list("pk", flat=True))
    obligations = list(
        Obligation.objects.filter(
            Q(code__icontains=text)
            | Q(short_name__icontains=text)
            | Q(short_name_ko__icontains=text)
        ).values_list("pk", flat=True)
    )
    named = Source.objects.filter(Q(name__icontains=text) | Q(aliases__icontains=text))
    if not sees:
        named = named.exclude(hidden_source_q())
    sources = list(named.values_list("pk", flat=True))
    titled = Report.objects.filter(title__icontains=text)
    if not sees:
        titled = titled.exclude(hidden_report_q())
    reports = list(titled.values_list("pk", flat=True)[: MANY_REPORTS + 1])

    open_to_all = Q(pk__in=[])
    if places:
        open_to_all |= Q(place__in=places)
    if obligations:
        open_to_all |= Q(obligation__in=obligations)
    hideable = Q(summary__icontains=text) | Q(external_id__icontains=text)
    # The reference the system gives a claim without one of its own (``C-000123``), as the
    # exports and the admin show it.
    given = SYSTEM_REFERENCE.fullmatch(text.upper())
    if given and system_reference(int(given[1])) == text.upper():
        hideable |= Q(pk=int(given[1])) & (Q(external_id__isnull=True) | Q(external_id=""))
    if len(reports) > MANY_REPORTS:  # a word of most titles: a subquery, not a list of ids
        hideable |= Q(report__in=titled.values("pk"))
    elif reports:
        hideable |= Q(report__in=reports)
    if sources:
        hideable |= Q(attributed_to__in=sources)
    if not sees:
        hideable &= ~restricted_claim_q()
    return open_to_all | hideable


def claims(queryset: QuerySet, text: str, *, sees: bool) -> QuerySet:
    """``queryset``'s claims matching ``text``."""
    text = text.strip()
    return queryset.filter(claims_q(text, sees=sees)) if text else queryset
