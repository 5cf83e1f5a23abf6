"""The compliance status of each (country, obligation) pair, with its reason in one line.

Precedence, first that applies:

1. ``contested``: an open or acknowledged conflict flag — a stance conflict on the obligation,
   or, for cap and deadline obligations (judged by counts), a count or scope conflict in the
   country;
2. ``stale``: an open or acknowledged staleness flag on the pair;
3. for a reporting obligation: ``violating`` when an overdue-report flag is open,
   ``complying`` when the state's own report concerning it is logged;
4. the weighted stance of the evidence dated on or after the obligation took effect (for a
   deadline: on or after the deadline): each claim counts 1, or ½ when its source is graded
   D–F or the claim's credibility is 5–6; the stance with the most weight wins, ties going to
   ``violating``, then ``partial``, then ``complying`` (a monitor would rather look twice);
5. ``unknown``: no evidence with a stance.

One ``status_matrix`` call runs a fixed number of queries, however many countries.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

from django.db.models import Q
from django.utils import timezone

from tracker import rules, selectors
from tracker.models import ACTIVE_FLAG_STATUSES, Claim, Flag, Obligation, Place

VIOLATING, COMPLYING, PARTIAL = "violating", "complying", "partial"
CONTESTED, STALE, UNKNOWN = "contested", "stale", "unknown"
STATUSES = (VIOLATING, PARTIAL, CONTESTED, STALE, COMPLYING, UNKNOWN)
WEAK_WEIGHT = Fraction(1, 2)
# Ties go to the first of these.
STANCE_ORDER = (VIOLATING, PARTIAL, COMPLYING)
CONFLICT_LABELS = {
    rules.STANCE_CONFLICT: "stance conflict",
    rules.COUNT_CONFLICT: "count conflict",
    rules.SCOPE_CONFLICT: "scope conflict",
}


@dataclass(frozen=True)
class StatusCell:
    country_id: int
    obligation_id: int
    status: str
    reason: str
    claim_ids: tuple[int, ...] = ()
    flag_ids: tuple[int, ...] = ()
    newest_as_of: datetime.date | None = None


@dataclass
class StatusMatrix:
    countries: list[Place]
    obligations: list[Obligation]
    cells: dict[tuple[int, int], StatusCell]
    today: datetime.date
    place_ids: set[int]  # the countries and every place inside them

    def cell(self, country_id: int, obligation_id: int) -> StatusCell:
        return self.cells[country_id, obligation_id]

    def __iter__(self) -> Iterator[tuple[Place, list[StatusCell]]]:
        for country in self.countries:
            yield country, [self.cell(country.pk, o.pk) for o in self.obligations]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for cell in self.cells.values():
            out[cell.status] += 1
        return out

    def as_dict(self) -> dict[str, str]:
        """``{"CN UNSCR2397-OP8": "violating", ...}``: what a summary keeps to compare with."""
        iso = {c.pk: c.iso_code for c in self.countries}
        code = {o.pk: o.code for o in self.obligations}
        return {f"{iso[c]} {code[o]}": cell.status for (c, o), cell in sorted(self.cells.items())}


def status_matrix(
    *,
    countries: Iterable[Place] | None = None,
    obligations: Iterable[Obligation] | None = None,
    today: datetime.date | None = None,
) -> StatusMatrix:
    """The status of every (country, obligation) pair asked for (default: all)."""
    today = today or timezone.localdate()
    country_list = (
        list(Place.objects.countries().order_by("name"))
        if countries is None
        else sorted(countries, key=lambda c: c.name)
    )
    obligation_list = (
        list(Obligation.objects.select_related("resolution").order_by("effective_from", "code"))
        if obligations is None
        else sorted(obligations, key=lambda o: (o.effective_from, o.code))
    )
    country_ids = {c.pk for c in country_list}
    # The places inside the countries asked for, and the country each lies in.
    country_of = {}
    paths = Q()
    for country in country_list:
        paths |= Q(path__startswith=country.path)
    if country_list:
        for pk, path in Place.objects.filter(paths).values_list("pk", "path"):
            top = selectors.top_id_of(path)
            if top in country_ids:
                country_of[pk] = top
    obligation_rows = {o.pk: _obligation_row(o) for o in obligation_list}
    claims = _claim_rows(
        Claim.objects.filter(as_of__lte=today, place_id__in=list(country_of)).filter(
            Q(obligation_id__in=list(obligation_rows))
            | Q(measure=rules.NEW_WORK_PERMITS, count_low__gt=0)
        ),
        restricted_reports=selectors.confidentiality_now()[1],
    )
    evidence: dict[tuple[int, int], list[rules.Evidence]] = defaultdict(list)
    for item in rules.evidence(claims, obligation_rows):
        if item.obligation_id in obligation_rows:
            evidence[country_of[item.claim.place_id], item.obligation_id].append(item)
    flags: dict[int, list[tuple[int, str, int | None]]] = defaultdict(list)
    for pk, kind, obligation_id, country_id in (
        Flag.objects.filter(country_id__in=country_ids, status__in=ACTIVE_FLAG_STATUSES)
        .order_by("pk")
        .values_list("pk", "kind", "obligations", "country_id")
    ):
        flags[country_id].append((pk, kind, obligation_id))

    cells = {}
    for country in country_list:
        for obligation in obligation_list:
            cells[country.pk, obligation.pk] = _status(
                country.pk,
                obligation_rows[obligation.pk],
                evidence.get((country.pk, obligation.pk), []),
                flags.get(country.pk, []),
            )
    return StatusMatrix(country_list, obligation_list, cells, today, set(country_of))


def _claim_rows(queryset, *, restricted_reports: frozenset[int]) -> list[rules.ClaimRow]:
    """The claims as the rules' rows, with only what a status reads (no names: a status
    names no source). A restricted claim is "#id", as in the flags: the monitor's own
    reference may say whose it is (a state's report it asked not to be published)."""
    ClaimRow = rules.ClaimRow
    return [
        ClaimRow(
            pk,
            rules.claim_ref(
                pk, external_id, restricted := confidential or report_id in restricted_reports
            ),
            source_id,
            "",
            kind,
            None,
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
        )
        for (
            pk,
            external_id,
            source_id,
            kind,
            reliability,
            confidential,
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
        ) in queryset.values_list(
            "id",
            "external_id",
            "attributed_to_id",
            "attributed_to__kind",
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
        ).order_by("as_of", "id")
    ]


def _obligation_row(o: Obligation) -> rules.ObligationRow:
    return rules.ObligationRow(
        o.pk, o.code, o.kind, o.resolution_id, o.effective_from, o.due_on, o.max_evidence_age_days
    )


def _status(
    country_id: int,
    obligation: rules.ObligationRow,
    evidence: list[rules.Evidence],
    flags: list[tuple[int, str, int | None]],
) -> StatusCell:
    def cell(status: str, reason: str, items=(), flag_ids=()) -> StatusCell:
        newest = max((i.claim.as_of for i in items), default=None)
        ids = tuple(sorted({i.claim.id for i in items}))
        return StatusCell(
            country_id, obligation.id, status, f"{status}: {reason}", ids, tuple(flag_ids), newest
        )

    counted = obligation.kind in (rules.CAP, rules.DEADLINE)
    conflicts = [
        (pk, kind)
        for pk, kind, obligation_id in flags
        if (kind == rules.STANCE_CONFLICT and obligation_id == obligation.id)
        or (counted and kind in (rules.COUNT_CONFLICT, rules.SCOPE_CONFLICT))
    ]
    if conflicts:
        listed = ", ".join(f"{CONFLICT_LABELS[kind]} #{pk}" for pk, kind in conflicts[:3])
        more = f" and {len(conflicts) - 3} more" if len(conflicts) > 3 else ""
        return cell(CONTESTED, f"open {listed}{more}", evidence, [pk for pk, _ in conflicts])
    stale = [pk for pk, kind, o in flags if kind == rules.STALE and o == obligation.id]
    if stale:
        newest = max((i.claim.as_of for i in evidence), default=None)
        since = f"newest evidence {newest:%Y-%m-%d}" if newest else "no evidence"
        return cell(STALE, f"{since}; open staleness flag #{stale[0]}", evidence, stale)

    if obligation.kind == rules.REPORTING:
        overdue = [
            pk for pk, kind, o in flags if kind == rules.OVERDUE_REPORT and o == obligation.id
        ]
        if overdue:
            due = f"{obligation.due_on:%Y-%m-%d}" if obligation.due_on else "its due date"
            return cell(VIOLATING, f"report due {due} not logged (flag #{overdue[0]})", (), overdue)
        own = [i for i in evidence if i.claim.source_kind == rules.SELF_REPORT]
        if own:
            newest = max(own, key=lambda i: (i.claim.as_of, i.claim.id)).claim
            return cell(COMPLYING, f"report logged (claim {newest.ref}, as of {newest.as_of})", own)

    since = obligation.effective_from
    if obligation.kind == rules.DEADLINE and obligation.due_on is not None:
        since = obligation.due_on
    relevant = [i for i in evidence if i.claim.as_of >= since and i.stance in STANCE_ORDER]
    if not relevant:
        what = "no evidence with a stance" if not evidence else "no stance"
        return cell(UNKNOWN, f"{what} since {since:%Y-%m-%d}", evidence)
    weight: dict[str, Fraction] = dict.fromkeys(STANCE_ORDER, Fraction(0))
    for item in relevant:
        weight[item.stance] += WEAK_WEIGHT if item.claim.is_weak else 1
    status = max(STANCE_ORDER, key=lambda s: (weight[s], -STANCE_ORDER.index(s)))
    backing = [i for i in relevant if i.stance == status]
    sources = len({i.claim.source_id for i in backing})
    newest = max(i.claim.as_of for i in backing)
    reason = (
        f"{len(backing)} claim{'s' if len(backing) != 1 else ''} from {sources} independent "
        f"source{'s' if sources != 1 else ''} since {since:%Y-%m-%d}, newest {newest:%Y-%m-%d}"
    )
    weak = sum(1 for i in backing if i.claim.is_weak)
    if weak:
        reason += f" ({weak} weakly graded, counted half)"
    others = [f"{_fmt(weight[s])} {s}" for s in STANCE_ORDER if s != status and weight[s]]
    if others:
        reason += f"; against {' and '.join(others)} (weighted {_fmt(weight[status])})"
    return cell(status, reason, backing)


def _fmt(value: Fraction) -> str:
    return f"{float(value):g}"
