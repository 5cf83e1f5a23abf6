"""What the dashboard shows, built in a fixed number of queries and said for one reader: the
open flags by kind and severity, the countries that need attention first, a world map of one
obligation's statuses, the deadlines, and (on request) every member state.

Order (docs/design.md §7, decision on the dashboard): a country with open flags before one
without, then by its violations, its watches, and the obligations it has evidence on; a
country with none of these is not listed until the reader asks for all 193.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils.translation import gettext as _

from tracker.models import Flag, FlagKind, Obligation, Place, Severity, Watch

from .status import STATUSES, UNKNOWN, VIOLATING, StatusCell, StatusMatrix, status_matrix
from .templatetags.compliance import flag_kind_label, severity_label
from .worldmap import Area, country_url, drawn_codes, world_map

SEVERITIES = sorted(Severity.values, reverse=True)  # high first


@dataclass
class CountryRow:
    country: Place
    cells: list[tuple[StatusCell, Obligation]]
    flags: int = 0
    violations: int = 0
    watches: int = 0
    evidence: int = 0

    @property
    def needs_attention(self) -> bool:
        return bool(self.flags or self.violations or self.watches or self.evidence)

    def rank(self) -> tuple:
        return (-self.flags, -self.violations, -self.watches, -self.evidence, self.name)

    @property
    def name(self) -> str:
        """The name the reader reads, which orders the rows (Hangul sorts 가나다 by code point)."""
        return self.country.local_name


@dataclass
class FlagLine:
    kind: str
    label: str
    by_severity: list[int]
    total: int


@dataclass
class Dashboard:
    today: datetime.date
    obligations: list[Obligation]
    attention: list[CountryRow]
    everyone: list[CountryRow] | None  # every member state, when asked for
    quiet: int  # member states listed only on request
    flags: list[FlagLine]
    severities: list[tuple[int, str]]
    flags_total: int
    deadlines: list[tuple[Obligation, int]]
    map_obligation: Obligation | None
    map_svg: str
    map_legend: list[tuple[str, int]] = field(default_factory=list)  # (status, countries)
    statuses: tuple[str, ...] = STATUSES
    not_drawn: list[Place] = field(default_factory=list)


def default_map_obligation(matrix: StatusMatrix) -> Obligation | None:
    """The obligation the map shows unless the reader picks one: the repatriation deadline
    (kind deadline; among several, the one with most evidence), else the obligation with most
    countries whose status is known."""
    known = Counter(cell.obligation_id for cell in matrix.cells.values() if cell.status != UNKNOWN)
    deadlines = [o for o in matrix.obligations if o.kind == Obligation.Kind.DEADLINE]
    candidates = deadlines or matrix.obligations
    if not candidates:
        return None
    return max(candidates, key=lambda o: (known[o.pk], -candidates.index(o)))


def dashboard_for(
    *,
    user,
    today: datetime.date,
    show_all: bool = False,
    obligation_code: str | None = None,
) -> Dashboard:
    """The dashboard as ``user`` reads it in the active language. Queries: the matrix's
    (countries, obligations, kept statuses, the claims its reasons name), the open flags by
    kind and severity, the active flags by country, the watches by country."""
    matrix = status_matrix(today=today, user=user)
    obligations = matrix.obligations

    # Open flags (not yet acknowledged) by kind and severity: what nobody has looked at.
    counts = {
        (row["kind"], row["severity"]): row["n"]
        for row in Flag.objects.open().order_by().values("kind", "severity").annotate(n=Count("id"))
    }
    flags = []
    for kind in FlagKind.values:
        by_severity = [counts.get((kind, s), 0) for s in SEVERITIES]
        if sum(by_severity):
            flags.append(FlagLine(kind, flag_kind_label(kind), by_severity, sum(by_severity)))
    flags.sort(key=lambda line: [-n for n in line.by_severity])

    # Open or acknowledged flags rank a country: both still need someone's attention.
    flagged = dict(
        Flag.objects.active()
        .filter(country__isnull=False)
        .order_by()
        .values("country_id")
        .annotate(n=Count("id"))
        .values_list("country_id", "n")
    )
    watched = Counter(Watch.objects.values_list("place_id", flat=True))

    rows = []
    for country, cells in matrix:
        rows.append(
            CountryRow(
                country,
                list(zip(cells, obligations, strict=True)),
                flags=flagged.get(country.pk, 0),
                violations=sum(1 for c in cells if c.status == VIOLATING),
                watches=watched.get(country.pk, 0),
                evidence=sum(1 for c in cells if c.status != UNKNOWN),
            )
        )
    attention = sorted((r for r in rows if r.needs_attention), key=CountryRow.rank)

    chosen = next((o for o in obligations if o.code == obligation_code), None)
    chosen = chosen or default_map_obligation(matrix)
    areas: dict[str, Area] = {}
    map_counts: Counter[str] = Counter()
    if chosen is not None:
        for country in matrix.countries:
            cell = matrix.cell(country.pk, chosen.pk)
            map_counts[cell.status] += 1
            iso = country.iso_code or ""  # countries always have one
            areas[iso] = Area(cell.status, country.local_name, cell.reason, country_url(iso))
    label = (
        _("World map of the status of %(obligation)s") % {"obligation": chosen.name}
        if chosen
        else ""
    )
    drawn = drawn_codes()
    return Dashboard(
        today=today,
        obligations=obligations,
        attention=attention,
        everyone=sorted(rows, key=lambda row: row.name) if show_all else None,
        quiet=len(rows) - len(attention),
        flags=flags,
        severities=[(s, severity_label(s)) for s in SEVERITIES],
        flags_total=sum(line.total for line in flags),
        deadlines=[(o, (o.due_on - today).days) for o in obligations if o.due_on is not None],
        map_obligation=chosen,
        map_svg=world_map(areas, label=label) if chosen else "",
        map_legend=[(s, map_counts[s]) for s in STATUSES],
        not_drawn=[c for c in matrix.countries if c.iso_code not in drawn],
    )
