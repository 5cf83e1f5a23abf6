"""The checks of docs/design.md §3 as plain functions over plain rows.

Nothing here touches the database: ``selectors.partition_load`` reads one partition (a country
and the places inside it, or the world-level places) into the frozen rows below, ``run_rules``
turns them into ``Finding`` objects, and ``services.flags_write`` stores those as flags. A
finding is facts (ids, figures, dates), never a sentence: ``tracker.flags.render`` says it
for each reader.

A conflict rule finds *edges* (two claims that disagree) by a sort-and-sweep over claims
already in ``as_of`` order: claims are grouped by the key the rule compares on (place and
measure, obligation and place ...), and each group is swept once with a sliding window of the
comparison width, kept sorted by bounds so that a claim is compared one by one with its
neighbours only when a disagreement is certain. The edges of one subject are then joined into
*situations*, their connected components (``components``): one finding each. The cost is
linear in the number of claims plus the number of edges.

Counts compare by the ``tolerance``: a range B lies *above* a range A when B's lower bound
exceeds A's upper bound by more than ``tolerance`` × A's upper bound (integer arithmetic on the
tolerance as a fraction, so "exactly 10% apart" is inside a 10% tolerance on every platform).
"""

from __future__ import annotations

import datetime
import hashlib
import math
from bisect import bisect_left, bisect_right, insort
from collections import defaultdict, deque
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from heapq import merge
from operator import attrgetter
from typing import NamedTuple, TypeVar

from .partialdates import DAY, iso

# The values of tracker.models' choices, repeated as plain strings so this module has no
# Django import; tests/tracker/test_rules.py checks that both agree.
STOCK_MEASURES = frozenset({"workers", "work_permits"})
NEW_WORK_PERMITS = "new_work_permits"
COMPLYING, VIOLATING = "complying", "violating"
SELF_REPORT = "self_report"
CAP, PROHIBITION, DEADLINE, REPORTING = "cap", "prohibition", "deadline", "reporting"
WORLD, COUNTRY = "world", "country"

COUNT_CONFLICT = "count_conflict"
SCOPE_CONFLICT = "scope_conflict"
STANCE_CONFLICT = "stance_conflict"
CAP_SIGNAL = "cap_signal"
STALE = "stale"
OVERDUE_REPORT = "overdue_report"
FLAG_KINDS = (COUNT_CONFLICT, SCOPE_CONFLICT, STANCE_CONFLICT, CAP_SIGNAL, STALE, OVERDUE_REPORT)

LOW, MEDIUM, HIGH = 1, 2, 3
K = TypeVar("K", bound=Hashable)  # a subject's key
# One flag per subject, for good (docs/design.md §3.3); the others are matched by their claims.
KEYED_KINDS = frozenset({CAP_SIGNAL, STALE, OVERDUE_REPORT})
CONFLICT_KINDS = frozenset({COUNT_CONFLICT, SCOPE_CONFLICT, STANCE_CONFLICT})
WEAK_RELIABILITY = frozenset("DEF")
WEAK_CREDIBILITY = frozenset({5, 6})


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


class ClaimRow(NamedTuple):
    """One claim with what the rules need of its source, report and place.

    A named tuple rather than a frozen dataclass: a sweep builds one per claim, and a tuple
    is built several times faster."""

    id: int
    ref: str  # the monitor's external_id, or "#<id>" (always, for a restricted claim)
    source_id: int
    source_name: str
    source_kind: str
    source_country_id: int | None
    reliability: str
    restricted: bool  # confidential source, confidential report or confidential publisher
    place_id: int
    obligation_id: int | None
    stance: str
    measure: str
    low: int | None
    high: int | None  # None: "at least low"
    period_start: datetime.date | None
    as_of: datetime.date
    credibility: int
    day: int  # as_of.toordinal(), for cheap window arithmetic: the interval's first day
    # A claim dated to a month or a year covers an interval (docs/design.md §3.1): ``as_of``
    # is its first day, ``span`` the days from it to its last day (0 for a day).
    span: int = 0
    precision: str = DAY

    @property
    def is_weak(self) -> bool:
        return self.reliability in WEAK_RELIABILITY or self.credibility in WEAK_CREDIBILITY

    @property
    def last(self) -> int:
        """The interval's last day (an ordinal): ``day`` for a claim dated to a day."""
        return self.day + self.span

    @property
    def given(self) -> str:
        """The as-of date as the source gave it, ISO 8601: '2019-12-23', '2017-09', '2022'."""
        return iso(self.as_of, self.precision)


def apart(a: ClaimRow, b: ClaimRow) -> int:
    """The days between two claims' intervals: 0 when they overlap (or touch), else from the
    end of the earlier to the start of the later (docs/design.md §3.1)."""
    return max(0, b.day - a.last, a.day - b.last)


def _reach(group: Sequence[ClaimRow]) -> int:
    """The longest span in a group: how much further than the window a claim's first day may
    lie from a comparable one's (0 when every claim is dated to a day)."""
    return max(map(_span, group), default=0)


class PlaceRow(NamedTuple):
    """A place as the rules see it: a named tuple, built for each of a sweep's 3,000 places
    in a fraction of a frozen dataclass's time."""

    id: int
    name: str
    name_path: str
    kind: str
    ancestor_ids: tuple[int, ...]  # from the world down to the parent


@dataclass(frozen=True, slots=True)
class ObligationRow:
    id: int
    code: str
    kind: str
    resolution_id: int
    effective_from: datetime.date
    due_on: datetime.date | None
    max_evidence_age_days: int


@dataclass(frozen=True)
class CheckSettings:
    window_days: int = 180
    tolerance: float = 0.10
    same_moment_days: int = 31

    @cached_property  # read by every rule of every partition: a Fraction is slow to build
    def tolerance_fraction(self) -> Fraction:
        return Fraction(str(self.tolerance))


@dataclass(frozen=True)
class Focus:
    """What a targeted check is about: the claims a save touched (saved, moved or deleted),
    and the places they were or are at.

    A change at a place can only change the situations of the subjects it belongs to: counts
    and rises at that place, scope conflicts where it is the part or the whole, stance
    conflicts at it or above it (``in_scope``), and the country's staleness and overdue
    reports. A targeted check loads every claim those subjects hold (a situation is judged
    whole) and the newest evidence per obligation, and judges only the findings in scope: the
    result is the full check's, for less.
    """

    claim_ids: frozenset[int]
    place_ids: frozenset[int]


@dataclass(frozen=True)
class Partition:
    """What one check reads: a country and the places inside it, or the world-level places.

    ``claims`` are about places of the partition, in ``(as_of, id)`` order, none after
    ``today``. ``ancestor_claims`` are the world's own claims that a country's claims are
    compared with (scope and stance); empty for the world partition. ``state_claims`` are
    claims made by the state's own self-report sources wherever they are placed.
    """

    key: str  # ISO code, or "WORLD"
    country: PlaceRow | None
    today: datetime.date
    places: Mapping[int, PlaceRow]
    claims: Sequence[ClaimRow]
    ancestor_claims: Sequence[ClaimRow] = ()
    state_claims: Sequence[ClaimRow] = ()
    obligations: Mapping[int, ObligationRow] = field(default_factory=dict)
    watches: Mapping[int, int | None] = field(default_factory=dict)  # obligation -> max age
    focus: Focus | None = None  # None: the whole partition
    # For a targeted check, the stored flags in its scope (read once, compared by the engine).
    scope_flags: Sequence[FlagRow] = ()

    def place(self, place_id: int) -> PlaceRow:
        return self.places[place_id]

    @cached_property
    def claim_evidence(self) -> tuple[Evidence, ...]:
        """``claims`` read as evidence about obligations (``evidence``): once per check, for
        the several rules that read it."""
        return tuple(evidence(self.claims, self.obligations))

    @cached_property
    def claims_by_id(self) -> dict[int, ClaimRow]:
        """The partition's claims and its ancestors', by id (what resolution reasons look up)."""
        return {c.id: c for c in (*self.claims, *self.ancestor_claims)}

    @cached_property
    def monitored(self) -> frozenset[int]:
        """``monitored_obligations``, once per check."""
        return frozenset(monitored_obligations(self))

    @cached_property
    def newest(self) -> dict[int, ClaimRow]:
        """``newest_evidence``, once per check."""
        return newest_evidence(self)

    @cached_property
    def stock_groups(self) -> dict[tuple[int, str], list[ClaimRow]]:
        """The stock counts (a number of workers or permits held) by (place, measure), each
        in day order: what count conflicts, scope conflicts and cap signals compare."""
        groups: dict[tuple[int, str], list[ClaimRow]] = defaultdict(list)
        for claim in self.claims:
            if claim.measure in STOCK_MEASURES and claim.low is not None:
                groups[claim.place_id, claim.measure].append(claim)
        return dict(groups)  # a lookup of a missing key must not add an empty group

    @cached_property
    def touched(self) -> frozenset[int]:
        """A targeted check's places of the partition that its focus touched."""
        return frozenset(self.focus.place_ids & self.places.keys()) if self.focus else frozenset()

    @cached_property
    def touched_or_above(self) -> frozenset[int]:
        """The touched places and their ancestors (stance subjects a change can reach)."""
        places = self.places
        return self.touched | {a for pk in self.touched for a in places[pk].ancestor_ids}

    @cached_property
    def stock_bounds(self) -> dict[tuple[int, str], tuple[int, float]]:
        """The largest lower bound and the smallest upper bound (``_top``, ``_bottom``) of
        each stock group of two claims or more, once per check: count conflicts and cap
        signals pass over a group where no claim may lie above another (most groups)."""
        return {
            key: (_top(group), _bottom(group))
            for key, group in self.stock_groups.items()
            if len(group) > 1
        }


def in_scope(
    focus: Focus | None, partition: Partition, kind: str, subject: str, place_id: int
) -> bool:
    """Whether a targeted check on ``focus`` judges a finding (or a flag) of this kind and
    subject: counts and rises at a touched place, scope conflicts whose part or whole is one,
    stance conflicts at a touched place or above it, and every staleness and overdue-report
    finding (recomputed whole from the newest evidence)."""
    if focus is None or kind in (STALE, OVERDUE_REPORT):
        return True
    if kind == SCOPE_CONFLICT:
        part, whole, _ = subject.split("/", 2)
        return int(part) in partition.touched or int(whole) in partition.touched
    if kind == STANCE_CONFLICT:
        return place_id in partition.touched_or_above
    return place_id in partition.touched


@dataclass(frozen=True, slots=True)
class Finding:
    """A situation as a rule found it (docs/design.md §3.2, §3.5); ``services.flags_write``
    makes or updates its flag."""

    kind: str
    subject: str  # the situation's subject, as a key: "place/measure", "obligation/place" ...
    place_id: int
    measure: str
    obligation_ids: tuple[int, ...]
    claim_ids: tuple[int, ...]  # sorted: every claim it rests on
    severity: int
    facts: dict

    @property
    def fingerprint(self) -> str:
        """The identity of a new flag: kind and subject, and for a conflict the claims it is
        opened on (docs/design.md §3.3)."""
        return fingerprint(
            self.kind, self.subject, () if self.kind in KEYED_KINDS else self.claim_ids
        )


def fingerprint(kind: str, subject: str, claim_ids: Iterable[int]) -> str:
    """kind + subject (+ the sorted claim ids), hashed to a fixed width."""
    ids = ",".join(str(i) for i in sorted(claim_ids))
    return hashlib.sha256(f"{kind}|{subject}|{ids}".encode()).hexdigest()


def claim_ref(pk: int, external_id: str | None, restricted: bool) -> str:
    """How a claim is named in a row: the monitor's own reference, else "#id"; always "#id"
    for a restricted claim (its reference may name whoever made it)."""
    return f"#{pk}" if restricted or not external_id else external_id


# --------------------------------------------------------------------------------------------
# Evidence about obligations
# --------------------------------------------------------------------------------------------


class Evidence(NamedTuple):
    """A claim read as evidence about one obligation, with the stance it counts for."""

    claim: ClaimRow
    obligation_id: int
    stance: str


def evidence(claims: Iterable[ClaimRow], obligations: Mapping[int, ObligationRow]):
    """Each claim as evidence about its obligation, plus the rule of docs/design.md §2: new work
    permits above zero over a period starting on or after a prohibition took effect are
    violating evidence for that prohibition, whatever stance was typed in."""
    prohibitions = [o for o in obligations.values() if o.kind == PROHIBITION]
    found: list[Evidence] = []
    append = found.append
    for claim in claims:
        if (
            claim.measure == NEW_WORK_PERMITS
            and claim.low is not None
            and claim.low > 0
            and claim.period_start is not None
        ):
            overridden = False
            for prohibition in prohibitions:
                if claim.period_start >= prohibition.effective_from:
                    overridden |= prohibition.id == claim.obligation_id
                    append(Evidence(claim, prohibition.id, VIOLATING))
            if overridden:
                continue
        if claim.obligation_id is not None:
            append(Evidence(claim, claim.obligation_id, claim.stance))
    return found


# --------------------------------------------------------------------------------------------
# Sliding windows
# --------------------------------------------------------------------------------------------


class _Window:
    """Claims whose day lies in a moving interval, kept sorted by upper bound and by lower
    bound, so that the claims a newcomer conflicts with are a run at one end of a list:
    O(log w) to find, plus the conflicts themselves. Claims enter and leave in day order.

    The tolerance n/d is held as integers: ``low`` lies above ``high`` beyond it when
    low * d > high * (n + d), so the usual answer, "no conflict", costs one multiplication."""

    __slots__ = ("by_high", "by_low", "d", "items", "nd", "tol")

    def __init__(self, tol: Fraction) -> None:
        self.items: deque[ClaimRow] = deque()
        self.by_high: list[tuple[int, int, ClaimRow]] = []  # claims with an upper bound
        self.by_low: list[tuple[int, int, ClaimRow]] = []
        self.tol, self.d, self.nd = tol, tol.denominator, tol.numerator + tol.denominator

    def push(self, claim: ClaimRow) -> None:
        self.items.append(claim)
        if claim.high is not None:
            insort(self.by_high, (claim.high, claim.id, claim))
        insort(self.by_low, (claim.low, claim.id, claim))

    def drop_before(self, day: int) -> None:
        items = self.items
        while items and items[0].day < day:
            gone = items.popleft()
            if gone.high is not None:
                del self.by_high[bisect_left(self.by_high, (gone.high, gone.id))]
            del self.by_low[bisect_left(self.by_low, (gone.low, gone.id))]

    def below(self, claim: ClaimRow) -> Sequence[ClaimRow]:
        """The claims ``claim`` lies above beyond the tolerance, smallest upper bound first:
        those whose upper bound is at most ``highest_below(claim.low)``, found by bisection."""
        by_high = self.by_high
        if not by_high or claim.low * self.d <= by_high[0][0] * self.nd:
            return ()
        end = bisect_left(by_high, (highest_below(claim.low, self.tol) + 1,))
        return [entry[2] for entry in by_high[:end]]

    def above(self, claim: ClaimRow) -> Sequence[ClaimRow]:
        """The claims lying above ``claim`` beyond the tolerance, largest lower bound first."""
        by_low, high = self.by_low, claim.high
        if high is None or not by_low or by_low[-1][0] * self.d <= high * self.nd:
            return ()
        start = bisect_left(by_low, (lowest_above(high, self.tol),))
        return [entry[2] for entry in reversed(by_low[start:])]


def highest_below(low: int, tol: Fraction) -> int:
    """The largest upper bound ``high`` that a lower bound ``low`` lies above beyond the
    tolerance, i.e. the largest integer with (low - high) * d > n * high (tol = n/d), which is
    high * (n + d) < low * d; -1 when there is none. ``_above`` in closed form."""
    n, d = tol.numerator, tol.denominator
    return (low * d - 1) // (n + d)


def lowest_above(high: int, tol: Fraction) -> int:
    """The smallest lower bound that lies above an upper bound ``high`` beyond the tolerance:
    the smallest integer ``low`` with low * d > high * (n + d)."""
    n, d = tol.numerator, tol.denominator
    return high * (n + d) // d + 1


def _above(upper: ClaimRow, lower: ClaimRow, tol: Fraction) -> bool:
    """True when ``upper``'s range lies above ``lower``'s by more than the tolerance."""
    high = lower.high
    if high is None:
        return False
    return (upper.low - high) * tol.denominator > tol.numerator * high


# Blocks: a group of claims in day order cut every ``width`` days (block b holds the days
# b * width to b * width + width - 1). Two claims at most ``width`` days apart lie in one block
# or in two neighbouring ones, so a block whose largest lower bound does not lie above the
# smallest upper bound it can be compared with holds no conflict, and is not swept. Most
# evidence agrees within the tolerance, so most blocks are passed over with a max() and a min()
# at C speed instead of one window step per claim.

_NO_HIGH = math.inf  # an open range ("at least low") has no upper bound to lie above


class _Block(NamedTuple):
    number: int
    start: int  # the block's claims are group[start:end]
    end: int
    top: int  # the largest lower bound
    bottom: float  # the smallest upper bound, _NO_HIGH when none


def _blocks(group: Sequence[ClaimRow], width: int) -> list[_Block]:
    """The non-empty blocks of a day-ordered group, in order (blocks of one day when the
    window is zero days: same-day comparisons only)."""
    width = max(width, 1)
    days = [c.day for c in group]
    lows = [c.low for c in group]
    highs = [_NO_HIGH if c.high is None else c.high for c in group]
    blocks = []
    start, count = 0, len(group)
    while start < count:
        number = days[start] // width
        end = bisect_left(days, (number + 1) * width, start)
        blocks.append(_Block(number, start, end, max(lows[start:end]), min(highs[start:end])))
        start = end
    return blocks


def _runs(included: list[bool], blocks: list[_Block]) -> Iterator[tuple[int, int]]:
    """The slices of the group covered by runs of included blocks with consecutive numbers."""
    run = None
    for keep, block in zip(included, blocks, strict=True):
        if keep and run is not None and run[2] == block.number - 1:
            run = (run[0], block.end, block.number)
            continue
        if run is not None:
            yield run[0], run[1]
        run = (block.start, block.end, block.number) if keep else None
    if run is not None:
        yield run[0], run[1]


def _count_runs(group: Sequence[ClaimRow], width: int, tol: Fraction):
    """The slices of a day-ordered group of comparable counts outside which no two claims at
    most ``width`` days apart conflict: a block is swept when a claim in it may lie above
    another in it or in a neighbouring block."""
    d, nd = tol.denominator, tol.numerator + tol.denominator
    blocks = _blocks(group, width)
    included = [block.top * d > block.bottom * nd for block in blocks]
    for i in range(len(blocks) - 1):
        first, second = blocks[i], blocks[i + 1]
        if second.number == first.number + 1 and (
            first.top * d > second.bottom * nd or second.top * d > first.bottom * nd
        ):
            included[i] = included[i + 1] = True
    return _runs(included, blocks)


def _scope_runs(blocks: list[_Block], bottom: Mapping[int, float], tol: Fraction):
    """The slices of a day-ordered group of parts (cut into ``blocks``) that may lie above a
    whole at most a block's width apart: a block of parts is swept when its largest lower
    bound lies above the smallest upper bound (``bottom``, by block) of the wholes in the same
    block or a neighbouring one."""
    d, nd = tol.denominator, tol.numerator + tol.denominator
    included = [
        block.top * d
        > min(
            bottom.get(block.number - 1, _NO_HIGH),
            bottom.get(block.number, _NO_HIGH),
            bottom.get(block.number + 1, _NO_HIGH),
        )
        * nd
        for block in blocks
    ]
    return _runs(included, blocks)


def _top(group: Sequence[ClaimRow]) -> int:
    """The largest lower bound of a group."""
    return max(map(_low, group))


def _bottom(group: Sequence[ClaimRow]) -> float:
    """The smallest upper bound of a group, _NO_HIGH when none has one."""
    return min((high for high in map(_high, group) if high is not None), default=_NO_HIGH)


def _may_lie_above(top: float, bottom: float, tol: Fraction) -> bool:
    """Whether a lower bound ``top`` lies above an upper bound ``bottom`` beyond ``tol``: the
    test that passes a whole group over before it is cut into blocks (most groups agree)."""
    return top * tol.denominator > bottom * (tol.numerator + tol.denominator)


def _may_disagree(partition: Partition, key: tuple[int, str], tol: Fraction) -> bool:
    """Whether a claim of the stock group ``key`` may lie above another beyond ``tol``."""
    bounds = partition.stock_bounds.get(key)
    return bounds is not None and _may_lie_above(*bounds, tol)


_day = attrgetter("day")
_span = attrgetter("span")
_last_day = attrgetter("last")
_low, _high = attrgetter("low"), attrgetter("high")
in_day_order = attrgetter("day", "id")  # the order claims are read in


# --------------------------------------------------------------------------------------------
# Edges: the pairs a rule compares (docs/design.md §3.1)
# --------------------------------------------------------------------------------------------


def _progress(earlier: ClaimRow, later: ClaimRow, deadline: int | None, moment: int) -> bool:
    """After the repatriation deadline a later, lower count is progress, not a contradiction,
    unless the two describe the same moment (``moment`` days apart or less). Intervals: the
    earlier one lies wholly after the deadline, and the later one starts more than ``moment``
    days after the earlier one ends (overlapping intervals are not ordered)."""
    return (
        deadline is not None
        and earlier.day > deadline
        and later.high is not None
        and earlier.low is not None
        and later.day - earlier.last > moment
        and later.high < earlier.low
    )


def deadline_day(obligations: Mapping[int, ObligationRow]) -> int | None:
    """The repatriation deadline (the earliest due date of a deadline obligation), as a day."""
    days = [o.due_on.toordinal() for o in obligations.values() if o.kind == DEADLINE and o.due_on]
    return min(days, default=None)


def count_edges(
    partition: Partition, settings: CheckSettings
) -> Iterator[tuple[tuple[int, str], ClaimRow, ClaimRow]]:
    """(subject, low, high): two comparable claims of one stock measure about one place whose
    ranges lie apart beyond the tolerance, ``high`` above ``low``; progress after the deadline
    left out."""
    tol, width = settings.tolerance_fraction, settings.window_days
    deadline, moment = deadline_day(partition.obligations), settings.same_moment_days
    for key, group in partition.stock_groups.items():
        if not _may_disagree(partition, key, tol):
            continue  # every two of its claims agree, however far apart
        # Claims dated to a month or a year: first days up to ``reach`` further apart than
        # the window may still be comparable; the distance between intervals decides.
        reach = _reach(group)
        for start, end in _count_runs(group, width + reach, tol):
            window = _Window(tol)
            for claim in group[start:end]:
                window.drop_before(claim.day - width - reach)
                for other in window.below(claim):  # earlier, lower: never progress
                    if other.source_id != claim.source_id and (
                        not reach or apart(other, claim) <= width
                    ):
                        yield key, other, claim
                for other in window.above(claim):  # earlier, higher
                    if (
                        other.source_id != claim.source_id
                        and (not reach or apart(other, claim) <= width)
                        and not _progress(other, claim, deadline, moment)
                    ):
                        yield key, claim, other
                window.push(claim)


def scope_edges(
    partition: Partition, settings: CheckSettings
) -> Iterator[tuple[tuple[int, int, str], ClaimRow, ClaimRow]]:
    """(subject, part, whole): a claim about a place whose lower bound exceeds, beyond the
    tolerance, the upper bound of a comparable claim of the same measure about one of its
    ancestors (a part holding more than the whole).

    Swept per (ancestor, measure): the claims inside the ancestor pass in day order while the
    ancestor's own claims within ``window_days`` either side form the window."""
    tol, width = settings.tolerance_fraction, settings.window_days
    groups = partition.stock_groups
    places = partition.places
    # The wholes: by (place, measure), the counts with an upper bound about a place that has
    # counts inside it, in day order.
    wanted = {
        ancestor_id for place_id, _ in groups for ancestor_id in places[place_id].ancestor_ids
    }
    own: dict[tuple[int, str], list[ClaimRow]] = defaultdict(list)
    for claim in partition.ancestor_claims:
        if claim.place_id in wanted and claim.measure in STOCK_MEASURES and claim.high is not None:
            own[claim.place_id, claim.measure].append(claim)
    mixed = set(own)
    for key, group in groups.items():
        if key[0] in wanted:
            own[key].extend(claim for claim in group if claim.high is not None)
    for key in mixed & groups.keys():  # the ancestors' claims come apart from the partition's
        own[key].sort(key=_day)
    own = {key: claims for key, claims in own.items() if claims}

    # The parts inside each ancestor with claims of its own about the measure are swept
    # together, in day order, against its wholes: one window of wholes per ancestor, not one
    # per place inside it (a whole would enter a window again for each place). Groups where
    # no part lies above any whole, whenever, are left out first, and the blocks where none
    # can are passed over.
    groups_inside: dict[tuple[int, str], list[Sequence[ClaimRow]]] = defaultdict(list)
    lowest = {key: _bottom(wholes) for key, wholes in own.items()}  # smallest upper bounds
    for (place_id, measure), parts in groups.items():
        top = None
        for ancestor_id in places[place_id].ancestor_ids:
            if (ancestor_id, measure) not in own:
                continue
            if top is None:
                top = _top(parts)
            if _may_lie_above(top, lowest[ancestor_id, measure], tol):
                groups_inside[ancestor_id, measure].append(parts)
    for (ancestor_id, measure), part_groups in groups_inside.items():
        wholes = own[ancestor_id, measure]
        parts = part_groups[0] if len(part_groups) == 1 else list(merge(*part_groups, key=_day))
        # As count_edges: intervals are compared by their distance (``apart``).
        reach = max(_reach(wholes), _reach(parts))
        bottom = {block.number: block.bottom for block in _blocks(wholes, width + reach)}
        for start, end in _scope_runs(_blocks(parts, width + reach), bottom, tol):
            window = _Window(tol)
            entered = bisect_left(wholes, parts[start].day - width - reach, key=_day)
            for part in parts[start:end]:
                while entered < len(wholes) and wholes[entered].day <= part.last + width:
                    window.push(wholes[entered])
                    entered += 1
                window.drop_before(part.day - width - reach)
                for whole in window.below(part):
                    if whole.source_id != part.source_id and (
                        not reach or apart(part, whole) <= width
                    ):
                        yield (part.place_id, ancestor_id, measure), part, whole


def stance_edges(
    partition: Partition, settings: CheckSettings
) -> Iterator[tuple[tuple[int, int], ClaimRow, ClaimRow]]:
    """(subject, complying, violating): for one obligation, a comparable claim says
    ``complying`` at a place while another says ``violating`` at that place or inside it.
    The subject is the obligation and the complying claim's place."""
    width = settings.window_days
    complying: dict[tuple[int, int], list[ClaimRow]] = defaultdict(list)
    obligations = partition.obligations
    for items in (evidence(partition.ancestor_claims, obligations), partition.claim_evidence):
        for item in items:
            if item.stance == COMPLYING:
                complying[item.obligation_id, item.claim.place_id].append(item.claim)
    if not complying:
        return
    days = {key: [c.day for c in claims] for key, claims in complying.items()}
    reaches = {key: _reach(claims) for key, claims in complying.items()}
    # (obligation, place) -> the keys of ``complying`` at that place or above it
    reach: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for item in partition.claim_evidence:
        if item.stance != VIOLATING:
            continue
        claim = item.claim
        keys = reach.get((item.obligation_id, claim.place_id))
        if keys is None:
            place = partition.place(claim.place_id)
            keys = reach[item.obligation_id, claim.place_id] = [
                (item.obligation_id, place_id)
                for place_id in (*place.ancestor_ids, claim.place_id)
                if (item.obligation_id, place_id) in complying
            ]
        for key in keys:
            further = reaches[key]
            start = bisect_left(days[key], claim.day - width - further)
            stop = bisect_right(days[key], claim.last + width)
            for other in complying[key][start:stop]:
                if other.source_id != claim.source_id and (
                    not (further or claim.span) or apart(other, claim) <= width
                ):
                    yield key, other, claim


# --------------------------------------------------------------------------------------------
# Situations: the connected components of a subject's edges (docs/design.md §3.2)
# --------------------------------------------------------------------------------------------


def components(
    edges: Iterable[tuple[K, ClaimRow, ClaimRow]],
) -> dict[K, list[list[tuple[ClaimRow, ClaimRow]]]]:
    """The edges of each subject, grouped into connected components (union-find over claim
    ids), each component's edges in the order found; subjects and components in the order
    their first edge was found."""
    by_subject: dict[K, list[tuple[ClaimRow, ClaimRow]]] = defaultdict(list)
    for subject, a, b in edges:
        by_subject[subject].append((a, b))
    found: dict[K, list[list[tuple[ClaimRow, ClaimRow]]]] = {}
    for subject, pairs in by_subject.items():
        parent: dict[int, int] = {}
        for a, b in pairs:
            ra, rb = _root(parent, a.id), _root(parent, b.id)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        grouped: dict[int, list[tuple[ClaimRow, ClaimRow]]] = {}
        for pair in pairs:
            grouped.setdefault(_root(parent, pair[0].id), []).append(pair)
        found[subject] = list(grouped.values())
    return found


def _root(parent: dict[int, int], x: int) -> int:
    """The representative of ``x``'s set in a union-find forest (with path halving)."""
    while parent.setdefault(x, x) != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def _claims_of(pairs: Iterable[tuple[ClaimRow, ClaimRow]]) -> list[ClaimRow]:
    """The distinct claims of some edges, in day order."""
    claims = {c.id: c for pair in pairs for c in pair}
    return sorted(claims.values(), key=in_day_order)


def _edge_severity(base: int, pairs: Iterable[tuple[ClaimRow, ClaimRow]]) -> int:
    """``base``, one grade lower when every edge has a weakly graded claim (reliability D–F
    or credibility 5–6), never below LOW: one well-graded disagreement is enough."""
    return base if any(not (a.is_weak or b.is_weak) for a, b in pairs) else max(LOW, base - 1)


def figure(claim: ClaimRow) -> dict:
    """A claim as a finding names it: its id, its figures and its date (JSON)."""
    return {
        "claim": claim.id,
        "low": claim.low,
        "high": claim.high,
        "as_of": claim.given,
    }


def _tolerance(settings: CheckSettings) -> str:
    return str(settings.tolerance_fraction)


def count_conflicts(partition: Partition, settings: CheckSettings) -> Iterator[Finding]:
    """One finding per connected component of a (place, stock measure)'s count edges."""
    for (place_id, measure), found in components(count_edges(partition, settings)).items():
        for pairs in found:
            claims = _claims_of(pairs)
            low = min(
                (c for c in claims if c.high is not None), key=lambda c: (c.high, c.day, c.id)
            )
            high = max(claims, key=lambda c: (c.low, -c.day, -c.id))
            yield Finding(
                kind=COUNT_CONFLICT,
                subject=f"{place_id}/{measure}",
                place_id=place_id,
                measure=measure,
                obligation_ids=(),
                claim_ids=tuple(sorted(c.id for c in claims)),
                severity=_edge_severity(MEDIUM, pairs),
                facts={
                    "low": figure(low),
                    "high": figure(high),
                    "first": claims[0].given,
                    "last": max(claims, key=_last_day).given,
                    "sources": len({c.source_id for c in claims}),
                    "tolerance": _tolerance(settings),
                },
            )


def scope_conflicts(partition: Partition, settings: CheckSettings) -> Iterator[Finding]:
    """One finding per connected component of a (part place, whole place, measure)'s edges."""
    for (part_id, whole_id, measure), found in components(scope_edges(partition, settings)).items():
        for pairs in found:
            parts = {a.id: a for a, _ in pairs}.values()
            wholes = {b.id: b for _, b in pairs}.values()
            part = max(parts, key=lambda c: (c.low, -c.day, -c.id))
            whole = min(wholes, key=lambda c: (c.high, c.day, c.id))
            claims = _claims_of(pairs)
            yield Finding(
                kind=SCOPE_CONFLICT,
                subject=f"{part_id}/{whole_id}/{measure}",
                place_id=part_id,
                measure=measure,
                obligation_ids=(),
                claim_ids=tuple(sorted(c.id for c in claims)),
                severity=_edge_severity(MEDIUM, pairs),
                facts={
                    "whole_place": whole_id,
                    "part": figure(part),
                    "whole": figure(whole),
                    "tolerance": _tolerance(settings),
                },
            )


def stance_conflicts(partition: Partition, settings: CheckSettings) -> Iterator[Finding]:
    """One finding per connected component of an (obligation, place)'s stance edges."""
    for (obligation_id, place_id), found in components(stance_edges(partition, settings)).items():
        for pairs in found:
            complying = sorted({a.id: a for a, _ in pairs}.values(), key=in_day_order)
            violating = sorted({b.id: b for _, b in pairs}.values(), key=in_day_order)
            # Violating only by the rule on new work permits (docs/design.md §2).
            derived = [
                c.id
                for c in violating
                if c.measure == NEW_WORK_PERMITS
                and (c.stance != VIOLATING or c.obligation_id != obligation_id)
            ]
            yield Finding(
                kind=STANCE_CONFLICT,
                subject=f"{obligation_id}/{place_id}",
                place_id=place_id,
                measure="",
                obligation_ids=(obligation_id,),
                claim_ids=tuple(sorted(c.id for c in (*complying, *violating))),
                severity=_edge_severity(HIGH, pairs),
                facts={
                    "complying": [c.id for c in complying],
                    "violating": [c.id for c in violating],
                    "violating_places": sorted({c.place_id for c in violating}),
                    "derived": derived,
                    "complying_newest": figure(complying[-1]),
                    "violating_newest": figure(violating[-1]),
                },
            )


def cap_signals(partition: Partition, settings: CheckSettings) -> Iterator[Finding]:
    """For each place and stock measure: the strongest rise from an earlier count, dated on or
    after a cap or ban took effect, to a later count more than the comparison window after it
    (closer counts are compared as a count conflict), beyond the tolerance. One finding per
    (place, measure), naming every cap or ban in force at the earlier count's date.

    One pass per group: a pointer keeps, among the counts at least ``window + 1`` days before
    the current one, the smallest upper bound (the first, on a tie); the best pair maximises
    later.low / earlier.high (a rise from zero outranks every ratio; on a tie, the first)."""
    tol = settings.tolerance_fraction
    d, nd = tol.denominator, tol.numerator + tol.denominator
    caps = sorted(
        (o for o in partition.obligations.values() if o.kind in (CAP, PROHIBITION)),
        key=lambda o: (o.effective_from, o.id),
    )
    if not caps:
        return
    first_effective = caps[0].effective_from.toordinal()
    gap = settings.window_days + 1
    for (place_id, measure), group in partition.stock_groups.items():
        if not _may_disagree(partition, (place_id, measure), tol):
            continue  # no count lies above another beyond the tolerance, whenever
        start = bisect_left(group, first_effective, key=_day)
        # The earlier count must end more than the window before the later one starts
        # (intervals that overlap are not ordered): candidates are taken in order of their
        # last day, which is their day unless some are dated to a month or a year.
        by_end = group if not _reach(group) else sorted(group[start:], key=_last_day)
        behind = start if by_end is group else 0
        baseline: ClaimRow | None = None
        best: tuple[ClaimRow, ClaimRow] | None = None
        for claim in group[start:]:
            while behind < len(by_end) and by_end[behind].last <= claim.day - gap:
                candidate = by_end[behind]
                if candidate.high is not None and (
                    baseline is None or candidate.high < baseline.high
                ):
                    baseline = candidate
                behind += 1
            if (
                baseline is not None
                and claim.low * d > baseline.high * nd  # above it beyond the tolerance
                and (best is None or _growth(claim, baseline) > _growth(*best))
            ):
                best = (claim, baseline)
        if best is None:
            continue
        later, earlier = best
        in_force = tuple(sorted(o.id for o in caps if o.effective_from <= earlier.as_of))
        yield Finding(
            kind=CAP_SIGNAL,
            subject=f"{place_id}/{measure}",
            place_id=place_id,
            measure=measure,
            obligation_ids=in_force,
            claim_ids=tuple(sorted((earlier.id, later.id))),
            severity=_edge_severity(HIGH, [(earlier, later)]),
            facts={
                "earlier": figure(earlier),
                "later": figure(later),
                "rise": str(Fraction(later.low, earlier.high)) if earlier.high else None,
                "tolerance": _tolerance(settings),
            },
        )


def _growth(later: ClaimRow, earlier: ClaimRow) -> Fraction | float:
    """later.low / earlier.high; any rise from zero outranks every ratio."""
    return Fraction(later.low, earlier.high) if earlier.high else math.inf


def monitored_obligations(partition: Partition) -> set[int]:
    """The obligations a country is monitored for: those a watch names, and every obligation
    of a resolution that any claim in the country concerns (docs/design.md §3.4)."""
    if partition.country is None:
        return set()
    obligations = partition.obligations
    resolutions = {
        obligations[item.obligation_id].resolution_id for item in partition.claim_evidence
    }
    by_resolution = {o.id for o in obligations.values() if o.resolution_id in resolutions}
    return by_resolution | set(partition.watches)


def newest_evidence(partition: Partition) -> dict[int, ClaimRow]:
    """The newest claim about the country (or inside it) for each obligation: the one whose
    interval ends last (then starts last; then the last entered)."""
    newest: dict[int, ClaimRow] = {}
    for item in partition.claim_evidence:
        claim = item.claim
        current = newest.get(item.obligation_id)
        if current is None or (claim.last, claim.day, claim.id) > (
            current.last,
            current.day,
            current.id,
        ):
            newest[item.obligation_id] = claim
    return newest


def latest_start(partition: Partition) -> dict[int, int]:
    """For each obligation, the latest first day of a claim about the country concerning it:
    whether any lies wholly on or after a deadline."""
    latest: dict[int, int] = {}
    for item in partition.claim_evidence:
        if item.claim.day > latest.get(item.obligation_id, -1):
            latest[item.obligation_id] = item.claim.day
    return latest


def stale_evidence(partition: Partition, settings: CheckSettings) -> Iterator[Finding]:
    """A monitored (country, cap / prohibition / deadline) pair whose newest claim is older than
    the maximum evidence age, or, once a deadline has passed, whose every claim predates it."""
    country, today = partition.country, partition.today
    if country is None:
        return
    newest, starts = partition.newest, None
    for obligation_id in sorted(partition.monitored):
        obligation = partition.obligations[obligation_id]
        if obligation.kind not in (CAP, PROHIBITION, DEADLINE) or today < obligation.effective_from:
            continue
        max_age = partition.watches.get(obligation_id) or obligation.max_evidence_age_days
        claim = newest.get(obligation_id)
        # Age counts from the end of the newest claim's interval: "2022" is as fresh as
        # 31 December 2022 (never fresher than today). A deadline is met by evidence only
        # when a claim lies wholly on or after it ("December 2019" does not: docs/design.md
        # §3.2).
        if claim is None:
            since, age = (
                obligation.effective_from.isoformat(),
                (today - obligation.effective_from).days,
            )
            first = obligation.effective_from.toordinal()
        else:
            since = claim.given
            age = max(0, today.toordinal() - claim.last)
            if starts is None:
                starts = latest_start(partition)
            first = starts[obligation_id]
        due = obligation.due_on
        missed = (
            obligation.kind == DEADLINE
            and due is not None
            and today > due
            and first < due.toordinal()
        )
        if age <= max_age and not missed:
            continue
        yield Finding(
            kind=STALE,
            subject=f"{obligation_id}/{country.id}",
            place_id=country.id,
            measure="",
            obligation_ids=(obligation_id,),
            claim_ids=(claim.id,) if claim else (),
            severity=MEDIUM if missed else LOW,
            facts={
                "newest": figure(claim) if claim else None,
                "since": since,
                "age_days": age,
                "max_age_days": max_age,
                "today": today.isoformat(),
                "deadline": due.isoformat() if obligation.kind == DEADLINE and due else None,
                "deadline_missed": missed,
            },
        )


def overdue_reports(partition: Partition, settings: CheckSettings) -> Iterator[Finding]:
    """A monitored reporting obligation whose due date has passed with no claim from the
    state's own self-report source concerning it."""
    country, today = partition.country, partition.today
    if country is None:
        return
    reported = {
        c.obligation_id
        for c in partition.state_claims
        if c.source_kind == SELF_REPORT and c.source_country_id == country.id
    }
    for obligation_id in sorted(partition.monitored):
        obligation = partition.obligations[obligation_id]
        if obligation.kind != REPORTING or obligation.due_on is None:
            continue
        if today > obligation.due_on and obligation_id not in reported:
            yield Finding(
                kind=OVERDUE_REPORT,
                subject=f"{obligation_id}/{country.id}",
                place_id=country.id,
                measure="",
                obligation_ids=(obligation_id,),
                claim_ids=(),
                severity=MEDIUM,
                facts={
                    "due_on": obligation.due_on.isoformat(),
                    "today": today.isoformat(),
                    "days_overdue": (today - obligation.due_on).days,
                },
            )


RULES = {
    COUNT_CONFLICT: count_conflicts,
    SCOPE_CONFLICT: scope_conflicts,
    STANCE_CONFLICT: stance_conflicts,
    CAP_SIGNAL: cap_signals,
    STALE: stale_evidence,
    OVERDUE_REPORT: overdue_reports,
}


def run_rules(partition: Partition, settings: CheckSettings) -> list[Finding]:
    """Every finding of every rule (a targeted check's: those in its scope), in rule order."""
    focus = partition.focus
    return [
        finding
        for rule in RULES.values()
        for finding in rule(partition, settings)
        if in_scope(focus, partition, finding.kind, finding.subject, finding.place_id)
    ]


# --------------------------------------------------------------------------------------------
# Why a flag no longer holds (docs/design.md §3.5: ``resolution``)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagRow:
    """What the engine reads of an existing flag."""

    id: int
    fingerprint: str
    kind: str
    subject: str
    status: str
    country_id: int | None
    place_id: int
    claim_ids: tuple[int, ...]
    severity: int
    facts: dict
    obligation_ids: tuple[int, ...] = ()


def resolution(flag: FlagRow, partition: Partition, settings: CheckSettings) -> dict:
    """Why ``flag`` is no longer found in ``partition``, as facts (``{"code": ...}``)."""
    claims = partition.claims_by_id
    gone = [i for i in flag.claim_ids if i not in claims]
    if flag.kind in (STALE, OVERDUE_REPORT):
        return _reason_for_absence(flag, partition)
    if gone:
        return {"code": "claims_gone", "claims": gone}
    rested = [claims[i] for i in flag.claim_ids]
    if flag.kind in (COUNT_CONFLICT, CAP_SIGNAL):
        moved = [c for c in rested if c.place_id != flag.place_id]
        if moved:
            return {
                "code": "moved",
                "claims": [c.id for c in moved],
                "places": [c.place_id for c in moved],
            }
    if flag.kind in (COUNT_CONFLICT, SCOPE_CONFLICT, CAP_SIGNAL) and (
        len({c.measure for c in rested}) > 1
    ):
        return {"code": "measures_differ", "claims": [c.id for c in rested]}
    if len({c.source_id for c in rested}) == 1 and flag.kind != CAP_SIGNAL:
        return {"code": "same_source", "claims": [c.id for c in rested]}
    if (
        len(rested) == 2
        and flag.kind != CAP_SIGNAL
        and (days := apart(*rested)) > settings.window_days
    ):
        return {
            "code": "apart",
            "claims": [c.id for c in rested],
            "days": days,
            "window_days": settings.window_days,
        }
    if flag.kind in (COUNT_CONFLICT, SCOPE_CONFLICT, CAP_SIGNAL):
        return {
            "code": "within_tolerance",
            "claims": [c.id for c in rested],
            "tolerance": _tolerance(settings),
        }
    if flag.kind == STANCE_CONFLICT:
        return {"code": "not_opposed", "claims": [c.id for c in rested]}
    return {"code": "other"}


def _reason_for_absence(flag: FlagRow, partition: Partition) -> dict:
    obligation_id = flag.obligation_ids[0] if flag.obligation_ids else None
    if obligation_id not in partition.monitored:
        return {"code": "not_monitored"}
    if flag.kind == STALE:
        claim = partition.newest.get(obligation_id)
        if claim is not None:
            return {"code": "fresh_evidence", "claim": figure(claim)}
        return {"code": "not_due"}
    # The state's own first self-report on it.
    report = min(
        (
            c
            for c in partition.state_claims
            if c.obligation_id == obligation_id
            and c.source_kind == SELF_REPORT
            and c.source_country_id == partition.country.id
        ),
        key=in_day_order,
        default=None,
    )
    if report is not None:
        return {"code": "self_report", "claim": figure(report)}
    return {"code": "not_due"}


# --------------------------------------------------------------------------------------------
# The status of each (country, obligation) pair (docs/design.md §4)
# --------------------------------------------------------------------------------------------

PARTIAL_STATUS, CONTESTED, STALE_STATUS, UNKNOWN = "partial", "contested", "stale", "unknown"
STATUSES = (VIOLATING, PARTIAL_STATUS, CONTESTED, STALE_STATUS, COMPLYING, UNKNOWN)
WEAK_WEIGHT = Fraction(1, 2)
STANCE_ORDER = (VIOLATING, PARTIAL_STATUS, COMPLYING)  # ties go to the first


class ActiveFlag(NamedTuple):
    """An open or acknowledged flag of a country, as a status reads it."""

    id: int
    kind: str
    obligation_ids: tuple[int, ...]


@dataclass(frozen=True)
class Status:
    """The status of a (country, obligation) pair with the facts of its reason (rendered for
    each reader when read, as a flag's are)."""

    country_id: int
    obligation_id: int
    status: str
    reason: dict
    claim_ids: tuple[int, ...] = ()
    flag_ids: tuple[int, ...] = ()
    newest_as_of: datetime.date | None = None


def status_of(
    country_id: int,
    obligation: ObligationRow,
    evidence: Sequence[Evidence],
    flags: Sequence[ActiveFlag],
) -> Status:
    """The status of one pair, first that applies:

    1. ``contested``: an active conflict flag: a stance conflict on the obligation, or, for
       cap and deadline obligations (judged by counts), a count or scope conflict;
    2. ``stale``: an active staleness flag on the pair;
    3. for a reporting obligation: ``violating`` when an overdue-report flag is active,
       ``complying`` when the state's own report concerning it is logged;
    4. the weighted stance of the evidence dated on or after the obligation took effect (for
       a deadline: on or after the deadline): each claim counts 1, or ½ when weakly graded;
       the stance with the most weight wins, ties going to ``violating``, then ``partial``,
       then ``complying`` (a monitor would rather look twice);
    5. ``unknown``: no evidence with a stance.
    """

    def made(status: str, reason: dict, items=(), flag_ids=()) -> Status:
        newest_claim = _newest(items)
        newest = newest_claim.as_of if newest_claim else None
        ids = tuple(sorted({i.claim.id for i in items}))
        return Status(country_id, obligation.id, status, reason, ids, tuple(flag_ids), newest)

    counted = obligation.kind in (CAP, DEADLINE)
    conflicts = [
        f
        for f in flags
        if (f.kind == STANCE_CONFLICT and obligation.id in f.obligation_ids)
        or (counted and f.kind in (COUNT_CONFLICT, SCOPE_CONFLICT))
    ]
    if conflicts:
        return made(
            CONTESTED,
            {"code": "contested", "flags": [[f.id, f.kind] for f in conflicts]},
            evidence,
            [f.id for f in conflicts],
        )
    stale = [f.id for f in flags if f.kind == STALE and obligation.id in f.obligation_ids]
    if stale:
        newest_claim = _newest(evidence)
        reason = {"code": "stale", "flag": stale[0], "newest": newest_claim and newest_claim.given}
        return made(STALE_STATUS, reason, evidence, stale)
    if obligation.kind == REPORTING:
        overdue = [
            f.id for f in flags if f.kind == OVERDUE_REPORT and obligation.id in f.obligation_ids
        ]
        if overdue:
            reason = {
                "code": "overdue",
                "flag": overdue[0],
                "due_on": obligation.due_on and obligation.due_on.isoformat(),
            }
            return made(VIOLATING, reason, (), overdue)
        own = [i for i in evidence if i.claim.source_kind == SELF_REPORT]
        if own:
            newest_own = _newest(own)
            return made(COMPLYING, {"code": "report_logged", "claim": figure(newest_own)}, own)
    since = obligation.effective_from
    if obligation.kind == DEADLINE and obligation.due_on is not None:
        since = obligation.due_on
    relevant = [i for i in evidence if i.claim.as_of >= since and i.stance in STANCE_ORDER]
    if not relevant:
        reason = {"code": "unknown", "since": since.isoformat(), "evidence": bool(evidence)}
        return made(UNKNOWN, reason, evidence)
    weight: dict[str, Fraction] = dict.fromkeys(STANCE_ORDER, Fraction(0))
    for item in relevant:
        weight[item.stance] += WEAK_WEIGHT if item.claim.is_weak else 1
    status = max(STANCE_ORDER, key=lambda s: (weight[s], -STANCE_ORDER.index(s)))
    backing = [i for i in relevant if i.stance == status]
    reason = {
        "code": "weighed",
        "since": since.isoformat(),
        "claims": len(backing),
        "sources": len({i.claim.source_id for i in backing}),
        "newest": _newest(backing).given,
        "weak": sum(1 for i in backing if i.claim.is_weak),
        "weights": {s: str(weight[s]) for s in STANCE_ORDER if weight[s]},
    }
    return made(status, reason, backing)


def _newest(items: Iterable[Evidence]) -> ClaimRow | None:
    """The claim of ``items`` whose interval ends last (then starts last; then the last
    entered), as ``newest_evidence`` chooses."""
    best = max(items, key=lambda i: (i.claim.last, i.claim.day, i.claim.id), default=None)
    return best.claim if best else None


def statuses(
    partition: Partition, evidence: Sequence[Evidence], flags: Sequence[ActiveFlag]
) -> list[Status]:
    """The status of the partition's country for every obligation, from the country's
    ``evidence`` (every claim about it or inside it, read as evidence) and its active flags
    once the check has written them."""
    if partition.country is None:
        return []
    by_obligation: dict[int, list[Evidence]] = defaultdict(list)
    for item in evidence:
        by_obligation[item.obligation_id].append(item)
    return [
        status_of(partition.country.id, obligation, by_obligation.get(obligation.id, []), flags)
        for obligation in partition.obligations.values()
    ]
