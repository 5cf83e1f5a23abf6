"""The checks of DESIGN.md §3 as plain functions over plain rows.

Nothing here touches the database: ``selectors.partition_load`` reads one partition (a country
and the places inside it, or the world-level places) into the frozen rows below, ``run_rules``
turns them into ``Finding`` objects, and ``services.flags_write`` stores those as flags.

Every rule is a sort-and-sweep over claims already in ``as_of`` order: claims are grouped by the
key the rule compares on (place and measure, obligation and place ...), and each group is swept
once with a sliding window of the comparison width. Monotonic deques keep the window's smallest
upper bound and largest lower bound, so a claim is compared one by one with its neighbours only
when a disagreement is certain to be found: the cost is linear in the number of claims plus the
number of findings.

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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from heapq import merge
from operator import attrgetter
from typing import NamedTuple

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
CONFIDENTIAL_SOURCE = "a confidential source"
MEASURE_LABELS = {
    "workers": "workers",
    "work_permits": "work permits",
    "new_work_permits": "new work permits",
    "visas_issued": "visas issued",
    "entries": "entries",
    "repatriated": "repatriated",
}
WEAK_RELIABILITY = frozenset("DEF")
WEAK_CREDIBILITY = frozenset({5, 6})


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


class ClaimRow(NamedTuple):
    """One claim with what the rules need of its source, report and place.

    A named tuple rather than a frozen dataclass: a sweep builds one per claim (a million at
    1M claims), and a tuple is built about eight times faster."""

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
    day: int  # as_of.toordinal(), for cheap window arithmetic

    def who(self, *, public: bool) -> str:
        return CONFIDENTIAL_SOURCE if public and self.restricted else self.source_name

    def count(self) -> str:
        return format_count(self.low, self.high)

    @property
    def is_weak(self) -> bool:
        return self.reliability in WEAK_RELIABILITY or self.credibility in WEAK_CREDIBILITY


class PlaceRow(NamedTuple):
    """A place as the rules see it: a named tuple, built for each of a sweep's 3,000 places
    in a fraction of a frozen dataclass's time."""

    id: int
    name: str
    name_path: str
    kind: str
    ancestor_ids: tuple[int, ...]  # from the world down to the parent

    def label(self) -> str:
        return "the world" if self.kind == WORLD else self.name

    def whole(self) -> str:
        """How a scope explanation names this place as the whole: 'all of China'."""
        return "the whole world" if self.kind == WORLD else f"all of {self.name}"


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

    @cached_property  # read by every rule of every partition: a Fraction is slow to build
    def tolerance_fraction(self) -> Fraction:
        return Fraction(str(self.tolerance))

    @property
    def tolerance_label(self) -> str:
        return f"{self.tolerance * 100:g}%"


@dataclass(frozen=True)
class Focus:
    """What a targeted check is about: the claims a save touched (saved, moved or deleted),
    and the places they were or are at.

    Every rule but two is a relation between two claims, so a change to a claim can only make
    or unmake findings that rest on it: a targeted check loads those claims, the claims that
    can make a pair with one (within the comparison window, at the same place, above it or
    inside it), the pairs the cap signals of the places touched rest on (found by the
    database), and the newest evidence per obligation (staleness), and judges only the
    findings in ``in_scope``. The result is the full check's, for less.
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
    scope_flags: Sequence[tuple] = ()

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
    def stock_bounds(self) -> dict[tuple[int, str], tuple[int, float]]:
        """The largest lower bound and the smallest upper bound (``_top``, ``_bottom``) of
        each stock group of two claims or more, once per check: count conflicts and cap
        signals pass over a group where no claim may lie above another (most groups)."""
        return {
            key: (_top(group), _bottom(group))
            for key, group in self.stock_groups.items()
            if len(group) > 1
        }


PAIR_KINDS = frozenset({COUNT_CONFLICT, SCOPE_CONFLICT, STANCE_CONFLICT})


def in_scope(focus: Focus | None, kind: str, place_id: int, claim_ids: Iterable[int]) -> bool:
    """Whether a targeted check on ``focus`` judges a finding (or a flag) of this shape: pairs
    that rest on a focus claim, cap signals of the places touched, and every staleness and
    overdue-report finding (recomputed whole from the newest evidence)."""
    if focus is None:
        return True
    if kind in PAIR_KINDS:
        return not focus.claim_ids.isdisjoint(claim_ids)
    if kind == CAP_SIGNAL:
        return place_id in focus.place_ids
    return True


@dataclass(frozen=True, slots=True)
class Finding:
    """A flag as a rule found it; ``services.flags_write`` makes or refreshes the row."""

    kind: str
    obligation_id: int | None
    place_id: int
    claim_ids: tuple[int, ...]  # sorted
    severity: int
    explanation: str  # with every name
    explanation_public: str  # confidential sources named "a confidential source"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.kind, self.obligation_id, self.place_id, self.claim_ids)


def fingerprint(
    kind: str, obligation_id: int | None, place_id: int, claim_ids: Iterable[int]
) -> str:
    """kind + obligation + place + the sorted claim ids, hashed to a fixed width."""
    ids = ",".join(str(i) for i in sorted(claim_ids))
    key = f"{kind}|{obligation_id if obligation_id is not None else '-'}|{place_id}|{ids}"
    return hashlib.sha256(key.encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def claim_ref(pk: int, external_id: str | None, restricted: bool) -> str:
    """How a sentence names a claim: the monitor's own reference, else "#id"; always "#id" for
    a claim restricted from its reader, since the reference may name whoever made it (as its
    summary may). The rules' sentences are shared by every reader: "#id" for any restricted
    claim."""
    return f"#{pk}" if restricted or not external_id else external_id


def format_count(low: int | None, high: int | None) -> str:
    """'60,000', '70,000–80,000', 'at least 2,000', or '' when there is no count."""
    if low is None:
        return ""
    if high is None:
        return f"at least {low:,}"
    if high == low:
        return f"{low:,}"
    return f"{low:,}–{high:,}"


def _date(day: datetime.date) -> str:
    return day.isoformat()


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n:,} days"


def _both(build, claims: Iterable[ClaimRow | None]) -> tuple[str, str]:
    """A sentence with every name, and the same sentence for readers without the permission
    (the same string, built once, when none of its ``claims`` is restricted)."""
    full = build(public=False)
    restricted = any(claim is not None and claim.restricted for claim in claims)
    return full, build(public=True) if restricted else full


def _severity(base: int, claims: Iterable[ClaimRow]) -> int:
    """The rule's base severity, one grade lower when any claim rests on weak grading
    (source reliability D–F or credibility 5–6), never below LOW."""
    return max(LOW, base - 1) if any(c.is_weak for c in claims) else base


# --------------------------------------------------------------------------------------------
# Evidence about obligations
# --------------------------------------------------------------------------------------------


class Evidence(NamedTuple):
    """A claim read as evidence about one obligation, with the stance it counts for."""

    claim: ClaimRow
    obligation_id: int
    stance: str


def evidence(claims: Iterable[ClaimRow], obligations: Mapping[int, ObligationRow]):
    """Each claim as evidence about its obligation, plus DESIGN.md §2's rule: new work
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


def _judged(partition: Partition, first: ClaimRow, second: ClaimRow) -> bool:
    """Whether a pair is judged by this check: always, or, in a targeted check, when it rests
    on a focus claim (the others are out of scope: no need to build their sentences)."""
    focus = partition.focus
    return focus is None or first.id in focus.claim_ids or second.id in focus.claim_ids


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
_low, _high = attrgetter("low"), attrgetter("high")
in_day_order = attrgetter("day", "id")  # the order claims are read in


# --------------------------------------------------------------------------------------------
# The rules
# --------------------------------------------------------------------------------------------


def count_conflicts(partition: Partition, settings: CheckSettings) -> Iterator[Finding]:
    """Two comparable claims of one stock measure about one place whose ranges do not overlap
    beyond the tolerance."""
    tol, width = settings.tolerance_fraction, settings.window_days
    for (place_id, measure), group in partition.stock_groups.items():
        if partition.focus is not None:
            yield from _count_conflicts_of_focus(partition, place_id, group, tol, width)
            continue
        if not _may_disagree(partition, (place_id, measure), tol):
            continue  # every two of its claims agree, however far apart
        for start, end in _count_runs(group, width, tol):
            window = _Window(tol)
            for claim in group[start:end]:
                window.drop_before(claim.day - width)
                for other in window.below(claim):
                    if other.source_id != claim.source_id:
                        yield _count_conflict(partition, place_id, low=other, high=claim)
                for other in window.above(claim):
                    if other.source_id != claim.source_id:
                        yield _count_conflict(partition, place_id, low=claim, high=other)
                window.push(claim)


def _count_conflicts_of_focus(
    partition: Partition, place_id: int, group: list[ClaimRow], tol: Fraction, width: int
) -> Iterator[Finding]:
    """A targeted check's count conflicts in one group: the sweep's pairs (two claims at most
    ``width`` days apart, one above the other) that rest on a focus claim, found from the
    focus claims alone instead of passing the whole group through a window."""
    focus_ids = partition.focus.claim_ids
    days = [c.day for c in group]
    for claim in group:
        if claim.id not in focus_ids:
            continue
        for other in group[
            bisect_left(days, claim.day - width) : bisect_right(days, claim.day + width)
        ]:
            if other.source_id == claim.source_id or (
                other.id in focus_ids and other.id < claim.id
            ):
                continue  # same source; or a pair of two focus claims, judged once
            if _above(claim, other, tol):
                yield _count_conflict(partition, place_id, low=other, high=claim)
            elif _above(other, claim, tol):
                yield _count_conflict(partition, place_id, low=claim, high=other)


def _count_conflict(partition: Partition, place_id: int, *, low: ClaimRow, high: ClaimRow):
    place = partition.place(place_id).label()
    measure = MEASURE_LABELS[low.measure]

    def build(public: bool) -> str:
        return (
            f"{low.who(public=public)} says {low.count()} {measure} in {place} "
            f"(as of {_date(low.as_of)}) but {high.who(public=public)} says {high.count()} "
            f"(as of {_date(high.as_of)})."
        )

    return Finding(
        COUNT_CONFLICT,
        None,
        place_id,
        tuple(sorted((low.id, high.id))),
        _severity(MEDIUM, (low, high)),
        *_both(build, (low, high)),
    )


def scope_conflicts(partition: Partition, settings: CheckSettings) -> Iterator[Finding]:
    """A claim about a place whose lower bound exceeds, beyond the tolerance, the upper bound
    of a comparable claim of the same measure about one of its ancestors: a part holding more
    than the whole.

    Swept per (ancestor, measure): the claims inside the ancestor pass in day order while the
    ancestor's own claims within ``window_days`` either side form the window.
    """
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

    if partition.focus is not None:
        inside: dict[tuple[int, str], list[ClaimRow]] = defaultdict(list)
        for (place_id, measure), group in groups.items():
            for ancestor_id in places[place_id].ancestor_ids:
                if (ancestor_id, measure) in own:
                    inside[ancestor_id, measure].extend(group)
        for key, parts in inside.items():
            parts.sort(key=_day)
            yield from _scope_conflicts_of_focus(partition, parts, own[key], tol, width)
        return

    # The parts inside each ancestor with claims of its own about the measure (no whole, no
    # pair) are swept together, in day order, against its wholes: one window of wholes per
    # ancestor, not one per place inside it (China's wholes entered the window again for each of
    # its 285 places: a consistent 1M sweep took 49 s where its places hold counts near the
    # whole's). Groups where no part lies above any whole, whenever, are left out first, and the
    # blocks where none can are passed over.
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
    for key, part_groups in groups_inside.items():
        wholes = own[key]
        parts = part_groups[0] if len(part_groups) == 1 else list(merge(*part_groups, key=_day))
        bottom = {block.number: block.bottom for block in _blocks(wholes, width)}
        for start, end in _scope_runs(_blocks(parts, width), bottom, tol):
            window = _Window(tol)
            entered = bisect_left(wholes, parts[start].day - width, key=_day)
            for part in parts[start:end]:
                while entered < len(wholes) and wholes[entered].day <= part.day + width:
                    window.push(wholes[entered])
                    entered += 1
                window.drop_before(part.day - width)
                for whole in window.below(part):
                    if whole.source_id != part.source_id:
                        yield _scope_conflict(partition, part=part, whole=whole)


def _scope_conflicts_of_focus(
    partition: Partition, parts: list[ClaimRow], wholes: list[ClaimRow], tol: Fraction, width: int
) -> Iterator[Finding]:
    """A targeted check's scope conflicts under one (ancestor, measure): the sweep's pairs (a
    part and a whole at most ``width`` days apart, the part above the whole) that rest on a
    focus claim, found from the focus claims alone."""
    focus_ids = partition.focus.claim_ids
    pairs: set[tuple[int, int]] = set()
    for mine, theirs, mine_is_part in ((parts, wholes, True), (wholes, parts, False)):
        days = [c.day for c in theirs]
        for claim in mine:
            if claim.id not in focus_ids:
                continue
            start, end = bisect_left(days, claim.day - width), bisect_right(days, claim.day + width)
            for other in theirs[start:end]:
                part, whole = (claim, other) if mine_is_part else (other, claim)
                if (
                    part.source_id != whole.source_id
                    and (part.id, whole.id) not in pairs
                    and _above(part, whole, tol)
                ):
                    pairs.add((part.id, whole.id))
                    yield _scope_conflict(partition, part=part, whole=whole)


def _scope_conflict(partition: Partition, *, part: ClaimRow, whole: ClaimRow) -> Finding:
    part_place = partition.place(part.place_id).label()
    whole_place = partition.place(whole.place_id).whole()
    measure = MEASURE_LABELS[part.measure]

    def build(public: bool) -> str:
        return (
            f"{part.who(public=public)} says {part.count()} {measure} in {part_place} "
            f"(as of {_date(part.as_of)}) but {whole.who(public=public)} says {whole.count()} "
            f"in {whole_place} (as of {_date(whole.as_of)}): the part cannot hold more than "
            "the whole."
        )

    return Finding(
        SCOPE_CONFLICT,
        None,
        part.place_id,
        tuple(sorted((part.id, whole.id))),
        _severity(MEDIUM, (part, whole)),
        *_both(build, (part, whole)),
    )


def stance_conflicts(partition: Partition, settings: CheckSettings) -> Iterator[Finding]:
    """For one obligation, a comparable claim says ``complying`` at a place while another says
    ``violating`` at that place or inside it. The flag is about the complying claim's place."""
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
            candidates = complying[key]
            start = bisect_left(days[key], claim.day - width)
            stop = bisect_right(days[key], claim.day + width)
            for other in candidates[start:stop]:
                if other.source_id != claim.source_id and _judged(partition, claim, other):
                    yield _stance_conflict(
                        partition, item.obligation_id, complying=other, violating=claim
                    )


def _stance_conflict(
    partition: Partition, obligation_id: int, *, complying: ClaimRow, violating: ClaimRow
) -> Finding:
    code = partition.obligations[obligation_id].code
    at = partition.place(complying.place_id).label()
    where = (
        ""
        if violating.place_id == complying.place_id
        else f" in {partition.place(violating.place_id).label()}"
    )
    derived = (
        f" ({violating.count()} new work permits from {_date(violating.period_start)})"
        if violating.measure == NEW_WORK_PERMITS and violating.period_start
        else ""
    )

    def build(public: bool) -> str:
        return (
            f"{complying.who(public=public)} says {at} is complying with {code} "
            f"(as of {_date(complying.as_of)}) but {violating.who(public=public)} says it is "
            f"violating it{where}{derived} (as of {_date(violating.as_of)})."
        )

    return Finding(
        STANCE_CONFLICT,
        obligation_id,
        complying.place_id,
        tuple(sorted((complying.id, violating.id))),
        _severity(HIGH, (complying, violating)),
        *_both(build, (complying, violating)),
    )


def cap_signals(partition: Partition, settings: CheckSettings) -> Iterator[Finding]:
    """For each cap or prohibition, place and stock measure: the strongest growth from an
    earlier count dated on or after the obligation took effect to a later count, when it
    exceeds the tolerance. One flag per (obligation, place, measure), naming the pair.

    A single pass per group keeps the smallest upper bound seen on earlier days; the best pair
    maximises later.low / earlier.high.
    """
    tol = settings.tolerance_fraction
    d, nd = tol.denominator, tol.numerator + tol.denominator
    caps = [o for o in partition.obligations.values() if o.kind in (CAP, PROHIBITION)]
    if not caps:
        return
    for (place_id, measure), group in partition.stock_groups.items():
        if not _may_disagree(partition, (place_id, measure), tol):
            continue  # no count lies above another beyond the tolerance, whenever
        for obligation in caps:
            baseline: ClaimRow | None = None  # smallest upper bound on an earlier day
            same_day: ClaimRow | None = None  # smallest upper bound on the current day
            current_day = None
            best: tuple[ClaimRow, ClaimRow] | None = None
            start = bisect_left(group, obligation.effective_from.toordinal(), key=_day)
            for claim in group[start:]:
                if claim.day != current_day:
                    if same_day is not None and (baseline is None or same_day.high < baseline.high):
                        baseline = same_day
                    same_day, current_day = None, claim.day
                if (
                    baseline is not None
                    and claim.low * d > baseline.high * nd  # above it beyond the tolerance
                    and (best is None or _growth(claim, baseline) > _growth(*best))
                ):
                    best = (claim, baseline)
                if claim.high is not None and (same_day is None or claim.high < same_day.high):
                    same_day = claim
            if best is not None:
                yield _cap_signal(
                    partition, obligation, place_id, later=best[0], earlier=best[1], tol=tol
                )


def _growth(later: ClaimRow, earlier: ClaimRow) -> Fraction | float:
    """later.low / earlier.high; any rise from zero outranks every ratio."""
    return Fraction(later.low, earlier.high) if earlier.high else math.inf


def _cap_signal(
    partition: Partition,
    obligation: ObligationRow,
    place_id: int,
    *,
    later: ClaimRow,
    earlier: ClaimRow,
    tol: Fraction,
) -> Finding:
    place = partition.place(place_id).label()
    measure = MEASURE_LABELS[later.measure]
    # From zero, any count is a rise, and no percentage says it.
    rise = (
        f", a rise of {_percent_beyond((later.low - earlier.high) / Fraction(earlier.high), tol)}"
        if earlier.high
        else ""
    )

    def build(public: bool) -> str:
        return (
            f"{measure.capitalize()} in {place} rose from {earlier.count()} "
            f"({earlier.who(public=public)}, as of {_date(earlier.as_of)}) to {later.count()} "
            f"({later.who(public=public)}, as of {_date(later.as_of)}){rise}, "
            f"after {obligation.code} took effect on {_date(obligation.effective_from)}."
        )

    return Finding(
        CAP_SIGNAL,
        obligation.id,
        place_id,
        tuple(sorted((earlier.id, later.id))),
        _severity(HIGH, (earlier, later)),
        *_both(build, (earlier, later)),
    )


def _percent_beyond(rise: Fraction, tol: Fraction) -> str:
    """``rise`` as a percentage, whole, or with the decimals it takes to read as beyond the
    tolerance it exceeds (a rise of 10.45% over a 10% tolerance is "10.4%", not "10%")."""
    for digits in range(10):  # a rise is beyond the tolerance: some rounding shows it
        shown = round(rise * 100, digits)
        if shown > tol * 100:
            break
    return f"{float(shown):.{digits}f}%"


def monitored_obligations(partition: Partition) -> set[int]:
    """The obligations a country is monitored for: those a watch names, and every obligation
    of a resolution that any claim in the country concerns (DESIGN.md §3)."""
    if partition.country is None:
        return set()
    obligations = partition.obligations
    resolutions = {
        obligations[item.obligation_id].resolution_id for item in partition.claim_evidence
    }
    by_resolution = {o.id for o in obligations.values() if o.resolution_id in resolutions}
    return by_resolution | set(partition.watches)


def newest_evidence(partition: Partition) -> dict[int, ClaimRow]:
    """The newest claim about the country (or inside it) for each obligation."""
    newest: dict[int, ClaimRow] = {}
    for item in partition.claim_evidence:
        current = newest.get(item.obligation_id)
        if current is None or (item.claim.day, item.claim.id) > (current.day, current.id):
            newest[item.obligation_id] = item.claim
    return newest


def stale_evidence(partition: Partition, settings: CheckSettings) -> Iterator[Finding]:
    """A monitored (country, cap / prohibition / deadline) pair whose newest claim is older than
    the maximum evidence age, or, once a deadline has passed, whose every claim predates it."""
    country, today = partition.country, partition.today
    if country is None:
        return
    newest = partition.newest
    for obligation_id in sorted(partition.monitored):
        obligation = partition.obligations[obligation_id]
        if obligation.kind not in (CAP, PROHIBITION, DEADLINE) or today < obligation.effective_from:
            continue
        max_age = partition.watches.get(obligation_id) or obligation.max_evidence_age_days
        claim = newest.get(obligation_id)
        since = claim.as_of if claim else obligation.effective_from
        age = (today - since).days
        aged = age > max_age
        deadline_missed = (
            obligation.kind == DEADLINE
            and obligation.due_on is not None
            and today > obligation.due_on
            and since < obligation.due_on
        )
        if aged or deadline_missed:
            yield _stale(partition, obligation, claim, age=age, max_age=max_age)


def _stale(
    partition: Partition, obligation: ObligationRow, claim: ClaimRow | None, *, age: int, max_age
) -> Finding:
    country, today, code = partition.country.name, partition.today, obligation.code
    due = obligation.due_on
    deadline_missed = obligation.kind == DEADLINE and due and today > due

    def build(public: bool) -> str:
        if claim is None:
            text = (
                f"No evidence on {country} for {code} since it took effect on "
                f"{_date(obligation.effective_from)}, {_days(age)} before {_date(today)}"
            )
        else:
            text = (
                f"The newest evidence on {country} for {code} is {claim.who(public=public)}'s "
                f"claim as of {_date(claim.as_of)}, {_days(age)} before {_date(today)}"
            )
        text += f" (the maximum age is {_days(max_age)})."
        if deadline_missed and (claim is None or claim.as_of < due):
            text += f" The deadline of {_date(due)} has passed with no claim on {country} since."
        return text

    severity = MEDIUM if deadline_missed and (claim is None or claim.as_of < due) else LOW
    return Finding(
        STALE,
        obligation.id,
        partition.country.id,
        (claim.id,) if claim else (),
        severity,
        *_both(build, (claim,)),
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
            days = (today - obligation.due_on).days
            text = (
                f"{country.name}'s report under {obligation.code} was due on "
                f"{_date(obligation.due_on)}: no self-report from {country.name} concerning it "
                f"is logged ({_days(days)} overdue on {_date(today)})."
            )
            yield Finding(OVERDUE_REPORT, obligation_id, country.id, (), MEDIUM, text, text)


RULES = {
    COUNT_CONFLICT: count_conflicts,
    SCOPE_CONFLICT: scope_conflicts,
    STANCE_CONFLICT: stance_conflicts,
    CAP_SIGNAL: cap_signals,
    STALE: stale_evidence,
    OVERDUE_REPORT: overdue_reports,
}


def run_rules(partition: Partition, settings: CheckSettings) -> dict[str, Finding]:
    """Every finding of every rule, by fingerprint (a pair found twice counts once)."""
    found: dict[str, Finding] = {}
    focus = partition.focus
    for rule in RULES.values():
        for finding in rule(partition, settings):
            if in_scope(focus, finding.kind, finding.place_id, finding.claim_ids):
                found.setdefault(finding.fingerprint, finding)
    return found


# --------------------------------------------------------------------------------------------
# Why a flag no longer holds
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagRow:
    """What the resolution reasons need of an existing flag."""

    id: int
    kind: str
    obligation_id: int | None
    place_id: int
    claim_ids: tuple[int, ...]


def successors(found: Iterable[Finding]) -> dict[tuple[str, int | None, int], list[Finding]]:
    """The findings of each subject (kind, obligation, place), in order: what may have
    replaced a flag of that subject (``resolution_reason``)."""
    by_subject: dict[tuple[str, int | None, int], list[Finding]] = {}
    for finding in found:
        key = (finding.kind, finding.obligation_id, finding.place_id)
        by_subject.setdefault(key, []).append(finding)
    return by_subject


def resolution_reason(
    flag: FlagRow,
    partition: Partition,
    settings: CheckSettings,
    successors: Mapping[tuple[str, int | None, int], list[Finding]],
) -> str:
    """One sentence saying why ``flag`` is no longer found in ``partition``; ``successors``
    are the check's findings by subject (``successors``). Each lookup is a dict's: a check
    that resolves thousands of flags once rebuilt the claims and scanned the findings for each
    (2,000 flags of China at 1M claims: 41 s)."""
    claims = partition.claims_by_id
    gone = [i for i in flag.claim_ids if i not in claims]
    if gone:
        refs = ", ".join(f"#{i}" for i in gone)
        where = partition.country.name if partition.country else "the world-level places"
        # A claim about a wider place (the world) is read only as a complying claim or a count
        # with an upper bound: one edited into something else is not read either.
        return (
            f"Claim {refs} is no longer among the evidence read for {where} on "
            f"{_date(partition.today)}: deleted, moved out, dated later, or, about a wider "
            "place, no longer a complying claim or a count with an upper bound."
        )
    rested = [claims[i] for i in flag.claim_ids]
    found = successors.get((flag.kind, flag.obligation_id, flag.place_id), [])
    if flag.kind in (STALE, OVERDUE_REPORT):
        return _reason_for_absence(flag, partition, found[0] if found else None)
    if flag.kind in (COUNT_CONFLICT, CAP_SIGNAL):
        here = partition.place(flag.place_id).label()
        moved = [c for c in rested if c.place_id != flag.place_id]
        if moved:
            return " ".join(
                f"Claim {c.ref} is now about {partition.place(c.place_id).label()}, not {here}."
                for c in moved
            )
    if flag.kind in (COUNT_CONFLICT, SCOPE_CONFLICT, CAP_SIGNAL):
        measures = {c.measure for c in rested}
        if len(measures) > 1:
            return (
                f"Claims {', '.join(c.ref for c in rested)} no longer count the same thing "
                f"({', '.join(MEASURE_LABELS.get(c.measure, 'no count') for c in rested)})."
            )
    if flag.kind == CAP_SIGNAL:
        # The place's signal for the same measure (a place has one per measure).
        for successor in found:
            if claims[successor.claim_ids[0]].measure == rested[0].measure:
                return (
                    f"A stronger or newer growth signal replaced it: {successor.explanation_public}"
                )
    if len(rested) == 2:
        first, second = rested
        if first.source_id == second.source_id:
            return f"Both claims are now attributed to the same source ({first.ref}, {second.ref})."
        apart = abs(first.day - second.day)
        if flag.kind != CAP_SIGNAL and apart > settings.window_days:
            return (
                f"Claims {first.ref} and {second.ref} are now {_days(apart)} apart, beyond the "
                f"{settings.window_days}-day comparison window."
            )
    if flag.kind in (COUNT_CONFLICT, SCOPE_CONFLICT, CAP_SIGNAL):
        return (
            f"The counts of {', '.join(c.ref for c in rested)} no longer differ beyond the "
            f"{settings.tolerance_label} tolerance for the same place and measure."
        )
    if flag.kind == STANCE_CONFLICT:
        return (
            f"Claims {', '.join(c.ref for c in rested)} no longer say complying and violating "
            "about the same obligation and place."
        )
    return "The condition no longer holds with the current evidence."


def _reason_for_absence(flag: FlagRow, partition: Partition, successor: Finding | None) -> str:
    obligation = partition.obligations.get(flag.obligation_id)
    code = obligation.code if obligation else "the obligation"
    if flag.obligation_id not in partition.monitored:
        return f"{code} is no longer monitored here: no watch names it and no claim concerns it."
    if flag.kind == STALE:
        if successor is not None:
            return (
                "Another claim is now the newest evidence, and it is stale too: "
                f"{successor.explanation_public}"
            )
        claim = partition.newest.get(flag.obligation_id)
        if claim is not None:
            return (
                f"The newest evidence, claim {claim.ref} by {claim.who(public=True)} as of "
                f"{_date(claim.as_of)}, is recent enough on {_date(partition.today)}."
            )
        return f"{code} no longer needs evidence on {_date(partition.today)}."
    # The state's own first self-report on it (a whole check also reads those of other
    # states placed in the country).
    report = min(
        (
            c
            for c in partition.state_claims
            if c.obligation_id == flag.obligation_id
            and c.source_kind == SELF_REPORT
            and c.source_country_id == partition.country.id
        ),
        key=in_day_order,
        default=None,
    )
    if report is not None:
        return f"Self-report logged: claim {report.ref}, as of {_date(report.as_of)}."
    return f"{code} is not yet due on {_date(partition.today)}."
