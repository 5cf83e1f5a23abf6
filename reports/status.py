"""The compliance status of each (country, obligation) pair, as the checks keep it
(``tracker.models.PairStatus``; the rule is ``tracker.rules.status_of``, docs/design.md §4),
with its reason said for the reader.

One ``status_matrix`` call runs a fixed number of queries, however many countries.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tracker import rules, selectors, text, visibility
from tracker.models import Claim, Obligation, PairStatus, Place

from .templatetags.compliance import flag_kind_label

VIOLATING, COMPLYING, PARTIAL = rules.VIOLATING, rules.COMPLYING, rules.PARTIAL_STATUS
CONTESTED, STALE, UNKNOWN = rules.CONTESTED, rules.STALE_STATUS, rules.UNKNOWN
STATUSES = rules.STATUSES


@dataclass
class StatusCell:
    country_id: int
    obligation_id: int
    status: str
    facts: dict  # the reason, as the checks stored it
    claims: int = 0
    flag_ids: tuple[int, ...] = ()
    newest_as_of: datetime.date | None = None
    reason: str = ""  # said for the reader (``status_matrix``)


@dataclass
class StatusMatrix:
    countries: list[Place]
    obligations: list[Obligation]
    cells: dict[tuple[int, int], StatusCell]
    today: datetime.date
    place_ids: set[int] = field(default_factory=set)  # the countries and every place inside

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
    user=None,
    sees: bool | None = None,
    places: bool = False,
) -> StatusMatrix:
    """The status of every (country, obligation) pair asked for (default: all), as the checks
    keep it (a pair never checked is ``unknown``), each reason said for ``user`` (or a reader
    who ``sees`` confidential material) in the active language. With ``places``, the ids of
    every place inside the countries too (one query more)."""
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
    kept = PairStatus.objects.all()
    if countries is not None:
        kept = kept.filter(country__in=[c.pk for c in country_list])
    if obligations is not None:
        kept = kept.filter(obligation__in=[o.pk for o in obligation_list])
    stored = {(s.country_id, s.obligation_id): s for s in kept}
    cells = {}
    for country in country_list:
        for obligation in obligation_list:
            row = stored.get((country.pk, obligation.pk))
            if row is None:
                cells[country.pk, obligation.pk] = StatusCell(
                    country.pk,
                    obligation.pk,
                    UNKNOWN,
                    {"code": "unknown", "since": obligation.effective_from.isoformat()},
                )
            else:
                cells[country.pk, obligation.pk] = StatusCell(
                    country.pk,
                    obligation.pk,
                    row.status,
                    row.reason,
                    row.claims,
                    tuple(row.flag_ids),
                    row.newest_as_of,
                )
    StatusText(cells.values(), user, sees=sees).say()
    place_ids = _places_inside(country_list) if places else set()
    return StatusMatrix(country_list, obligation_list, cells, today, place_ids)


def _places_inside(countries: list[Place]) -> set[int]:
    if not countries:
        return set()
    paths = Q()
    for country in countries:
        paths |= Q(path__startswith=country.path)
    ids = {c.pk for c in countries}
    return {
        pk
        for pk, path in Place.objects.filter(paths).values_list("pk", "path")
        if selectors.top_id_of(path) in ids
    }


class StatusText:
    """Says the reasons of some status cells for one reader (the claims they name read in one
    query), in the active language."""

    def __init__(self, cells: Iterable[StatusCell], user=None, *, sees: bool | None = None):
        self.cells = list(cells)
        self.sees = visibility.sees_confidential(user) if sees is None else sees
        self._dates: dict = {}
        ids = {
            c.facts["claim"]["claim"] for c in self.cells if isinstance(c.facts.get("claim"), dict)
        }
        self.claims = (
            Claim.objects.select_related(*visibility.CLAIM_RELATED).in_bulk(ids) if ids else {}
        )

    def date(self, value) -> str:
        """``text.date``, once per day said (a thousand cells name a few hundred days)."""
        said = self._dates.get(value)
        if said is None:
            said = self._dates[value] = text.date(value)
        return said

    def say(self) -> None:
        for cell in self.cells:
            cell.reason = self.reason(cell)

    def reason(self, cell: StatusCell) -> str:
        facts = cell.facts
        code = facts.get("code")
        if code == "contested":
            flags = facts["flags"]
            listed = ", ".join(
                _("%(kind)s #%(id)s") % {"kind": flag_kind_label(kind), "id": pk}
                for pk, kind in flags[:3]
            )
            if len(flags) > 3:
                listed = _("%(listed)s and %(more)s more") % {
                    "listed": listed,
                    "more": len(flags) - 3,
                }
            return _("contested: open %(listed)s") % {"listed": listed}
        if code == "stale":
            if facts.get("newest"):
                return _("stale: newest evidence %(date)s; open staleness flag #%(id)s") % {
                    "date": self.date(facts["newest"]),
                    "id": facts["flag"],
                }
            return _("stale: no evidence; open staleness flag #%(id)s") % {"id": facts["flag"]}
        if code == "overdue":
            return _("violating: report due %(date)s not logged (flag #%(id)s)") % {
                "date": self.date(facts.get("due_on")),
                "id": facts["flag"],
            }
        if code == "report_logged":
            figure = facts["claim"]
            claim = self.claims.get(figure["claim"])
            ref = (
                visibility.shown(claim, sees=self.sees).ref
                if claim is not None
                else f"#{figure['claim']}"
            )
            return _("complying: report logged (claim %(ref)s, as of %(date)s)") % {
                "ref": ref,
                "date": self.date(figure["as_of"]),
            }
        if code == "weighed":
            sentence = ngettext(
                "%(status)s: %(claims)s claim from %(sources)s independent source(s) since "
                "%(since)s, newest %(newest)s",
                "%(status)s: %(claims)s claims from %(sources)s independent source(s) since "
                "%(since)s, newest %(newest)s",
                facts["claims"],
            ) % {
                "status": PairStatus.Value(cell.status).label,
                "claims": facts["claims"],
                "sources": facts["sources"],
                "since": self.date(facts["since"]),
                "newest": self.date(facts["newest"]),
            }
            if facts.get("weak"):
                sentence += _(" (%(weak)s weakly graded, counted half)") % {"weak": facts["weak"]}
            weights = {s: Fraction(w) for s, w in facts.get("weights", {}).items()}
            others = [
                _("%(weight)s %(status)s")
                % {"weight": f"{float(w):g}", "status": PairStatus.Value(s).label}
                for s, w in weights.items()
                if s != cell.status and w
            ]
            if others:
                sentence += _("; against %(others)s (weighted %(weight)s)") % {
                    "others": _(" and ").join(others),
                    "weight": f"{float(weights.get(cell.status, 0)):g}",
                }
            return sentence
        since = self.date(facts.get("since"))
        if facts.get("evidence"):
            return _("unknown: no stance since %(since)s") % {"since": since}
        return _("unknown: no evidence with a stance since %(since)s") % {"since": since}
