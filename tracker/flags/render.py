"""A flag's facts said for one reader, when read (docs/design.md §3.5).

A flag stores what it found (``Flag.facts``, ``Flag.resolution``, ``FlagEvent.data``): ids,
figures and dates. ``FlagText`` says it in the active language (Django's translation: the
caller activates the reader's) with what the reader may see *now*: a claim restricted now is
named by ``#id`` and its source as "confidential source" (``visibility.ClaimShown``); the
same claim is named again once it is public again. Nothing stored is ever rewritten.

Build one ``FlagText`` for the flags a page, export, email or API response shows: it reads
the claims, places and obligations they name in a constant number of queries, then renders
without touching the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from fractions import Fraction

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import text, visibility
from ..models import Claim, Flag, FlagEvent, FlagKind, FlagObligation, Measure, Obligation, Place

# Where a kind's facts name claims (each a figure: {"claim", "low", "high", "as_of"}).
NAMED: dict[str, tuple[str, ...]] = {
    FlagKind.COUNT_CONFLICT: ("low", "high"),
    FlagKind.SCOPE_CONFLICT: ("part", "whole"),
    FlagKind.STANCE_CONFLICT: ("complying_newest", "violating_newest"),
    FlagKind.CAP_SIGNAL: ("earlier", "later"),
    FlagKind.STALE: ("newest",),
    FlagKind.OVERDUE_REPORT: (),
}


def _figure_ids(facts: dict | None, keys: Iterable[str]) -> set[int]:
    facts = facts or {}
    return {facts[k]["claim"] for k in keys if isinstance(facts.get(k), dict)}


def _resolution_ids(resolution: dict | None) -> set[int]:
    resolution = resolution or {}
    ids = set(resolution.get("claims") or ())
    if isinstance(resolution.get("claim"), dict):
        ids.add(resolution["claim"]["claim"])
    return ids


class FlagText:
    """Says flags for one reader. ``flags`` and ``events``: those it will be asked about."""

    def __init__(
        self,
        flags: Sequence[Flag],
        user=None,
        *,
        sees: bool | None = None,
        events: Sequence[FlagEvent] = (),
        claim_ids: Iterable[int] = (),
    ) -> None:
        """``claim_ids``: more claims the caller will name (``refs``), read with the others."""
        self.sees = visibility.sees_confidential(user) if sees is None else sees
        claim_ids = set(claim_ids)
        place_ids: set[int] = set()
        for flag in flags:
            claim_ids |= _figure_ids(flag.facts, NAMED.get(flag.kind, ()))
            claim_ids |= _resolution_ids(flag.resolution)
            if not flag.facts:  # a flag from before facts: named by its claims
                claim_ids.update(flag.claim_ids)
            place_ids.add(flag.place_id)
            place_ids.update(_places_in(flag))
        for event in events:
            claim_ids.update(event.data.get("joined", ()), event.data.get("left", ()))
            claim_ids |= _resolution_ids(event.data.get("resolution"))
            place_ids.update((event.data.get("resolution") or {}).get("places", ()))
        self.claims = (
            {
                c.pk: c
                for c in Claim.objects.filter(pk__in=claim_ids).select_related(
                    *visibility.CLAIM_RELATED
                )
            }
            if claim_ids
            else {}
        )
        self.places = Place.objects.in_bulk(place_ids) if place_ids else {}
        self.obligations = {o.pk: o for o in Obligation.objects.all()}
        self.flag_obligations: dict[int, list[int]] = defaultdict(list)
        ids = [flag.pk for flag in flags]
        if ids:
            for flag_id, obligation_id in (
                FlagObligation.objects.filter(flag_id__in=ids)
                .order_by("obligation__effective_from", "obligation_id")
                .values_list("flag_id", "obligation_id")
            ):
                self.flag_obligations[flag_id].append(obligation_id)

    # --- names, as this reader may read them ----------------------------------------------

    def source(self, claim_id: int) -> str:
        """Who made the claim, as a sentence names them: "a confidential source" when hidden
        from this reader."""
        claim = self.claims.get(claim_id)
        if claim is None:
            return _("the source of a deleted claim")
        shown = visibility.shown(claim, sees=self.sees)
        return _("a confidential source") if shown.hidden else shown.source_name

    def ref(self, claim_id: int) -> str:
        claim = self.claims.get(claim_id)
        if claim is None:
            return f"#{claim_id}"
        return visibility.shown(claim, sees=self.sees).ref

    def refs(self, claim_ids: Iterable[int]) -> str:
        return ", ".join(self.ref(pk) for pk in claim_ids)

    def place(self, place_id: int | None) -> str:
        place = self.places.get(place_id)
        if place is None:
            return _("a place since deleted")
        if place.kind == Place.Kind.WORLD:
            return _("the world")
        return place.local_name  # its Korean name for a reader of Korean

    def obligation(self, obligation_id: int | None) -> str:
        obligation = self.obligations.get(obligation_id) if obligation_id is not None else None
        return obligation.code if obligation is not None else _("an obligation since deleted")

    def obligations_of(self, flag: Flag) -> list[int]:
        return self.flag_obligations.get(flag.pk, [])

    @staticmethod
    def measure(flag: Flag) -> str:
        return str(Measure(flag.measure).label) if flag.measure else ""

    # --- the sentence -----------------------------------------------------------------------

    def sentence(self, flag: Flag) -> str:
        """What the flag found, in one or two sentences."""
        facts = flag.facts or {}
        if not facts:
            return self._legacy(flag)
        return getattr(self, f"_{flag.kind}")(flag, facts)

    def _legacy(self, flag: Flag) -> str:
        return _("%(kind)s about %(place)s, resting on %(claims)s.") % {
            "kind": flag.get_kind_display(),
            "place": self.place(flag.place_id),
            "claims": self.refs(flag.claim_ids) or _("no claim"),
        }

    def _count_conflict(self, flag: Flag, facts: dict) -> str:
        low, high = facts["low"], facts["high"]
        values = {
            "measure": self.measure(flag),
            "place": self.place(flag.place_id),
            "low_source": self.source(low["claim"]),
            "low": text.count(low["low"], low["high"]),
            "low_date": text.date(low["as_of"]),
            "high_source": self.source(high["claim"]),
            "high": text.count(high["low"], high["high"]),
            "high_date": text.date(high["as_of"]),
            "n": text.number(facts["sources"]),
            "first": text.date(facts["first"]),
            "last": text.date(facts["last"]),
        }
        if facts["sources"] <= 2 and len(flag.claim_ids) <= 2:
            return (
                _(
                    "%(low_source)s says %(low)s %(measure)s in %(place)s (as of %(low_date)s) "
                    "but %(high_source)s says %(high)s (as of %(high_date)s)."
                )
                % values
            )
        return (
            _(
                "%(n)s sources disagree about the number of %(measure)s in %(place)s between "
                "%(first)s and %(last)s: from %(low)s (%(low_source)s, as of %(low_date)s) to "
                "%(high)s (%(high_source)s, as of %(high_date)s)."
            )
            % values
        )

    def _scope_conflict(self, flag: Flag, facts: dict) -> str:
        part, whole = facts["part"], facts["whole"]
        whole_place = self.places.get(facts["whole_place"])
        values = {
            "part_source": self.source(part["claim"]),
            "part": text.count(part["low"], part["high"]),
            "measure": self.measure(flag),
            "place": self.place(flag.place_id),
            "part_date": text.date(part["as_of"]),
            "whole_source": self.source(whole["claim"]),
            "whole": text.count(whole["low"], whole["high"]),
            "whole_place": self.place(facts["whole_place"]),
            "whole_date": text.date(whole["as_of"]),
        }
        if whole_place is not None and whole_place.kind == Place.Kind.WORLD:
            return (
                _(
                    "%(part_source)s says %(part)s %(measure)s in %(place)s (as of "
                    "%(part_date)s) but %(whole_source)s says %(whole)s in the whole world (as "
                    "of %(whole_date)s): the part cannot hold more than the whole."
                )
                % values
            )
        return (
            _(
                "%(part_source)s says %(part)s %(measure)s in %(place)s (as of %(part_date)s) "
                "but %(whole_source)s says %(whole)s in all of %(whole_place)s (as of "
                "%(whole_date)s): the part cannot hold more than the whole."
            )
            % values
        )

    def _stance_conflict(self, flag: Flag, facts: dict) -> str:
        complying, violating = facts["complying_newest"], facts["violating_newest"]
        obligations = self.obligations_of(flag)
        violating_claim = self.claims.get(violating["claim"])
        values = {
            "complying_source": self.source(complying["claim"]),
            "place": self.place(flag.place_id),
            "obligation": self.obligation(obligations[0] if obligations else None),
            "complying_date": text.date(complying["as_of"]),
            "violating_source": self.source(violating["claim"]),
            "violating_date": text.date(violating["as_of"]),
            "violating_place": self.place(
                violating_claim.place_id if violating_claim else flag.place_id
            ),
            "n": text.number(len(flag.claim_ids)),
        }
        elsewhere = violating_claim is not None and violating_claim.place_id != flag.place_id
        derived = violating["claim"] in facts.get("derived", ())
        if derived:
            sentence = _(
                "%(complying_source)s says %(place)s is complying with %(obligation)s (as of "
                "%(complying_date)s) but %(violating_source)s reports new work permits granted "
                "in %(violating_place)s (as of %(violating_date)s)."
            )
        elif elsewhere:
            sentence = _(
                "%(complying_source)s says %(place)s is complying with %(obligation)s (as of "
                "%(complying_date)s) but %(violating_source)s says it is violating it in "
                "%(violating_place)s (as of %(violating_date)s)."
            )
        else:
            sentence = _(
                "%(complying_source)s says %(place)s is complying with %(obligation)s (as of "
                "%(complying_date)s) but %(violating_source)s says it is violating it (as of "
                "%(violating_date)s)."
            )
        sentence %= values
        if len(flag.claim_ids) > 2:
            sentence += " " + _("%(n)s claims in all.") % values
        return sentence

    def _cap_signal(self, flag: Flag, facts: dict) -> str:
        earlier, later = facts["earlier"], facts["later"]
        obligations = [self.obligation(pk) for pk in self.obligations_of(flag)]
        values = {
            "measure": self.measure(flag),
            "place": self.place(flag.place_id),
            "earlier": text.count(earlier["low"], earlier["high"]),
            "earlier_source": self.source(earlier["claim"]),
            "earlier_date": text.date(earlier["as_of"]),
            "later": text.count(later["low"], later["high"]),
            "later_source": self.source(later["claim"]),
            "later_date": text.date(later["as_of"]),
            "obligations": _(" and ").join(obligations) if obligations else "",
        }
        if facts.get("rise"):
            values["rise"] = text.percent(Fraction(facts["rise"]) - 1)
            return (
                _(
                    "The number of %(measure)s in %(place)s rose from %(earlier)s "
                    "(%(earlier_source)s, as of %(earlier_date)s) to %(later)s "
                    "(%(later_source)s, as of %(later_date)s), a rise of %(rise)s, under "
                    "%(obligations)s."
                )
                % values
            )
        return (
            _(
                "The number of %(measure)s in %(place)s rose from %(earlier)s "
                "(%(earlier_source)s, as of %(earlier_date)s) to %(later)s (%(later_source)s, "
                "as of %(later_date)s), under %(obligations)s."
            )
            % values
        )

    def _stale(self, flag: Flag, facts: dict) -> str:
        obligations = self.obligations_of(flag)
        newest = facts.get("newest")
        values = {
            "country": self.place(flag.place_id),
            "obligation": self.obligation(obligations[0] if obligations else None),
            "since": text.date(facts["since"]),
            "age": text.days(facts["age_days"]),
            "today": text.date(facts["today"]),
            "max_age": text.days(facts["max_age_days"]),
            "deadline": text.date(facts.get("deadline")),
        }
        if newest is None:
            sentence = _(
                "No evidence on %(country)s for %(obligation)s since it took effect on "
                "%(since)s, %(age)s before %(today)s (the maximum age is %(max_age)s)."
            )
        else:
            values["source"] = self.source(newest["claim"])
            sentence = _(
                "The newest evidence on %(country)s for %(obligation)s is a claim by "
                "%(source)s as of %(since)s, %(age)s before %(today)s (the maximum age is "
                "%(max_age)s)."
            )
        sentence %= values
        if facts.get("deadline_missed"):
            sentence += " " + (
                _("The deadline of %(deadline)s has passed with no claim on %(country)s since.")
                % values
            )
        return sentence

    def _overdue_report(self, flag: Flag, facts: dict) -> str:
        obligations = self.obligations_of(flag)
        return _(
            "%(country)s's report under %(obligation)s was due on %(due)s: no self-report "
            "from %(country)s concerning it is logged (%(days)s overdue on %(today)s)."
        ) % {
            "country": self.place(flag.place_id),
            "obligation": self.obligation(obligations[0] if obligations else None),
            "due": text.date(facts["due_on"]),
            "days": text.days(facts["days_overdue"]),
            "today": text.date(facts["today"]),
        }

    # --- why it was resolved, and the timeline --------------------------------------------

    def resolution(self, flag: Flag) -> str:
        """Why the checks resolved it ('' when they did not)."""
        return self.reason(flag.resolution, flag) if flag.resolution else ""

    def reason(self, resolution: dict, flag: Flag) -> str:
        code = resolution.get("code")
        claims = resolution.get("claims") or []
        obligations = self.obligations_of(flag)
        obligation = self.obligation(obligations[0] if obligations else None)
        if code == "claims_gone":
            return ngettext(
                "Claim %(refs)s is no longer among the evidence read: deleted, moved out, "
                "dated later, or no longer a claim the check compares.",
                "Claims %(refs)s are no longer among the evidence read: deleted, moved out, "
                "dated later, or no longer claims the check compares.",
                len(claims),
            ) % {"refs": self.refs(claims)}
        if code == "moved":
            return " ".join(
                _("Claim %(ref)s is now about %(place)s.")
                % {"ref": self.ref(pk), "place": self.place(place_id)}
                for pk, place_id in zip(claims, resolution.get("places", []), strict=False)
            )
        if code == "measures_differ":
            return _("Claims %(refs)s no longer count the same thing.") % {
                "refs": self.refs(claims)
            }
        if code == "same_source":
            return _("Claims %(refs)s are now attributed to the same source.") % {
                "refs": self.refs(claims)
            }
        if code == "apart":
            return _(
                "Claims %(refs)s are now %(days)s apart, beyond the %(window)s comparison window."
            ) % {
                "refs": self.refs(claims),
                "days": text.days(resolution["days"]),
                "window": text.days(resolution["window_days"]),
            }
        if code == "within_tolerance":
            return _(
                "The counts of %(refs)s no longer differ beyond the %(tolerance)s tolerance."
            ) % {
                "refs": self.refs(claims),
                "tolerance": text.percent(Fraction(resolution["tolerance"])),
            }
        if code == "not_opposed":
            return _(
                "Claims %(refs)s no longer say complying and violating about the same "
                "obligation and place."
            ) % {"refs": self.refs(claims)}
        if code == "merged":
            return _("Its claims are now part of flag #%(into)s.") % {"into": resolution["into"]}
        if code == "not_monitored":
            return _(
                "%(obligation)s is no longer monitored here: no watch names it and no claim "
                "concerns it."
            ) % {"obligation": obligation}
        if code == "fresh_evidence":
            claim = resolution["claim"]
            return _(
                "The newest evidence, claim %(ref)s by %(source)s as of %(date)s, is recent enough."
            ) % {
                "ref": self.ref(claim["claim"]),
                "source": self.source(claim["claim"]),
                "date": text.date(claim["as_of"]),
            }
        if code == "self_report":
            claim = resolution["claim"]
            return _("Self-report logged: claim %(ref)s, as of %(date)s.") % {
                "ref": self.ref(claim["claim"]),
                "date": text.date(claim["as_of"]),
            }
        if code == "not_due":
            return _("%(obligation)s does not need evidence yet.") % {"obligation": obligation}
        return _("The condition no longer holds with the current evidence.")

    def event(self, event: FlagEvent, flag: Flag) -> str:
        """What an event of the timeline says, besides its action: the claims that joined or
        left, the reason it was resolved, or the monitor's own note."""
        data = event.data or {}
        parts = []
        if data.get("joined"):
            parts.append(
                ngettext("Claim %(refs)s joined.", "Claims %(refs)s joined.", len(data["joined"]))
                % {"refs": self.refs(data["joined"])}
            )
        if data.get("left"):
            parts.append(
                ngettext("Claim %(refs)s left.", "Claims %(refs)s left.", len(data["left"]))
                % {"refs": self.refs(data["left"])}
            )
        if data.get("resolution"):
            parts.append(self.reason(data["resolution"], flag))
        if event.note:
            parts.append(event.note)
        return " ".join(parts)


def _places_in(flag: Flag) -> set[int]:
    facts = flag.facts or {}
    ids = set(facts.get("violating_places") or ())
    if facts.get("whole_place"):
        ids.add(facts["whole_place"])
    ids.update((flag.resolution or {}).get("places") or ())
    return ids
