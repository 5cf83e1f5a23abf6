"""One flag as its page shows it to one reader (``/flags/<id>/``): read in a constant number
of queries whatever the claims it rests on, then said for the reader (``FlagText``), so that
the template touches no database.

Flags are always visible to whoever may read flags (docs/confidentiality.md): what the rule
hides is the material they rest on. A claim restricted for the reader is listed redacted
(``visibility.ClaimShown``), without a link to it or to its report; the sentence and the
timeline name it ``#id`` and its source "a confidential source".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch
from django.urls import reverse

from .. import services, visibility
from ..models import Claim, Flag, FlagEvent, Obligation
from .render import FlagText


@dataclass(frozen=True)
class ClaimRow:
    """A claim the flag rests on; ``shown`` is None for a claim deleted since."""

    claim_id: int
    shown: visibility.ClaimShown | None
    url: str  # its admin page, for a claim the reader may open; else ''


@dataclass(frozen=True)
class EventRow:
    event: FlagEvent
    said: str  # the claims that joined or left, the reason, the monitor's note


@dataclass(frozen=True)
class FlagPage:
    flag: Flag
    sentence: str
    resolution: str
    obligations: list[Obligation]
    claims: list[ClaimRow]
    events: list[EventRow]
    # The actions (``services.FLAG_ACTIONS``' names) this reader may take now.
    actions: list[str]


def flag_page(*, flag_id: int, user) -> FlagPage:
    """The flag ``flag_id`` for ``user``'s page; ``Flag.DoesNotExist`` if there is none."""
    flag = (
        Flag.objects.select_related("place", "country", "status_changed_by")
        .prefetch_related(
            Prefetch(
                "claims",
                queryset=Claim.objects.select_related(*visibility.CLAIM_RELATED),
            ),
            Prefetch("events", queryset=FlagEvent.objects.select_related("actor")),
        )
        .get(pk=flag_id)
    )
    events = list(flag.events.all())
    said = FlagText([flag], user, events=events)
    present = {claim.pk: claim for claim in flag.claims.all()}
    rows = []
    for claim_id in dict.fromkeys([*flag.claim_ids, *present]):  # stored order, then any other
        claim = present.get(claim_id)
        if claim is None:
            rows.append(ClaimRow(claim_id, None, ""))
            continue
        shown = visibility.shown(claim, sees=said.sees)
        url = "" if shown.hidden else reverse("admin:tracker_claim_change", args=[claim.pk])
        rows.append(ClaimRow(claim_id, shown, url))
    # The oldest evidence first, as the sentence reads it; deleted claims last.
    rows.sort(key=lambda r: (r.shown is None, r.shown.claim.as_of if r.shown else None, r.claim_id))
    may_act = user.has_perm("tracker.change_flag")
    return FlagPage(
        flag=flag,
        sentence=said.sentence(flag),
        resolution=said.resolution(flag),
        obligations=[o for pk in said.obligations_of(flag) if (o := said.obligations.get(pk))],
        claims=rows,
        events=[EventRow(event, said.event(event, flag)) for event in events],
        actions=services.flag_actions_allowed(flag.status) if may_act else [],
    )
