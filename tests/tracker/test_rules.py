"""The rules of DESIGN.md §3 over plain rows: no database, no Django.

Each rule: a case that fires with its explanation, and the nearest cases that must not. The
sweeps are also checked against a brute-force, all-pairs reading of the same definitions on
random data (hypothesis), which is how we know the sliding windows miss nothing.
"""

import datetime
import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker import rules
from tracker.rules import ClaimRow, ObligationRow, Partition, PlaceRow

D = datetime.date
SETTINGS = rules.CheckSettings(window_days=180, tolerance=0.10)

WORLD = PlaceRow(1, "World", "World", "world", ())
CN = PlaceRow(2, "China", "China", "country", (1,))
NE = PlaceRow(10, "Northeast China", "China > Northeast China", "region", (1, 2))
LN = PlaceRow(11, "Liaoning", "China > Northeast China > Liaoning", "province", (1, 2, 10))
JL = PlaceRow(12, "Jilin", "China > Northeast China > Jilin", "province", (1, 2, 10))
PLACES = {p.id: p for p in (WORLD, CN, NE, LN, JL)}

OP11 = ObligationRow(11, "UNSCR2371-OP11", "cap", 2371, D(2017, 8, 5), None, 180)
OP17 = ObligationRow(17, "UNSCR2375-OP17", "prohibition", 2375, D(2017, 9, 11), None, 180)
ADOPTED = D(2017, 12, 22)
OP8 = ObligationRow(8, "UNSCR2397-OP8", "deadline", 2397, ADOPTED, D(2019, 12, 22), 180)
MID = ObligationRow(81, "UNSCR2397-OP8-MIDTERM", "reporting", 2397, ADOPTED, D(2019, 3, 22), 180)
FIN = ObligationRow(82, "UNSCR2397-OP8-FINAL", "reporting", 2397, ADOPTED, D(2020, 3, 22), 180)
OBLIGATIONS = {o.id: o for o in (OP11, OP17, OP8, MID, FIN)}

SOURCES = {1: "NKDB", 2: "KITA", 3: "KINU", 4: "Asan", 5: "China's government", 6: "Informant"}
_ids = itertools.count(1)


def claim(
    *,
    source=1,
    place=CN,
    measure="workers",
    low=None,
    high="same",
    as_of=D(2019, 12, 23),
    obligation=None,
    stance="unclear",
    period_start=None,
    kind="ngo",
    source_country=None,
    restricted=False,
    reliability="B",
    credibility=3,
    ref=None,
):
    pk = next(_ids)
    if low is None:
        measure, high = "", None
    elif high == "same":
        high = low
    return ClaimRow(
        pk,
        ref or f"C{pk}",
        source,
        SOURCES[source],
        kind,
        source_country,
        reliability,
        restricted,
        place.id,
        obligation.id if obligation else None,
        stance,
        measure,
        low,
        high,
        period_start,
        as_of,
        credibility,
        as_of.toordinal(),
    )


def partition(
    *claims, today=D(2020, 1, 10), ancestors=(), watches=None, country=CN, state=(), places=PLACES
):
    ordered = sorted(claims, key=lambda c: (c.day, c.id))
    return Partition(
        key="CN" if country else "WORLD",
        country=country,
        today=today,
        places=places,
        claims=ordered,
        ancestor_claims=sorted(ancestors, key=lambda c: (c.day, c.id)),
        state_claims=[*(c for c in ordered if c.source_kind == "self_report"), *state],
        obligations=OBLIGATIONS,
        watches=watches or {},
    )


def complying_state(as_of, obligation):
    return claim(source=5, place=CN, obligation=obligation, stance="complying", as_of=as_of)


def permits(source, low, period_start, as_of, **more):
    return claim(
        source=source,
        measure="new_work_permits",
        low=low,
        period_start=period_start,
        as_of=as_of,
        **more,
    )


def self_report(obligation, as_of, *, country=CN.id, ref=None):
    return claim(
        source=5,
        kind="self_report",
        source_country=country,
        obligation=obligation,
        stance="complying",
        as_of=as_of,
        ref=ref,
    )


def found(rule, part, settings=SETTINGS):
    return list(rule(part, settings))


# --- constants agree with the models ------------------------------------------------------------


def test_rule_constants_match_the_model_choices():
    from tracker.models import FlagKind, Measure, ObligationKind, Severity, SourceKind, Stance

    assert set(rules.FLAG_KINDS) == set(FlagKind.values)
    assert {Measure.WORKERS, Measure.WORK_PERMITS} == rules.STOCK_MEASURES
    assert set(rules.MEASURE_LABELS) == set(Measure.values)
    assert {rules.CAP, rules.PROHIBITION, rules.DEADLINE, rules.REPORTING} == set(
        ObligationKind.values
    )
    assert {rules.COMPLYING, rules.VIOLATING} < set(Stance.values)
    assert rules.SELF_REPORT in SourceKind.values
    assert tuple(Severity.values) == (rules.LOW, rules.MEDIUM, rules.HIGH)


def test_fingerprint_depends_on_the_set_of_claims_not_their_order():
    assert rules.fingerprint("stale", 8, 2, [3, 1]) == rules.fingerprint("stale", 8, 2, (1, 3))
    assert rules.fingerprint("stale", 8, 2, [1]) != rules.fingerprint("stale", 8, 2, [1, 3])
    assert rules.fingerprint("stale", None, 2, []) != rules.fingerprint("stale", 8, 2, [])


@pytest.mark.parametrize(
    ("low", "high", "text"),
    [(60000, 60000, "60,000"), (70000, 80000, "70,000–80,000"), (2000, None, "at least 2,000")],
)
def test_counts_read_as_monitors_write_them(low, high, text):
    assert rules.format_count(low, high) == text


# --- count_conflict -----------------------------------------------------------------------------


def test_count_conflict_fires_for_disjoint_ranges_and_explains_itself():
    kinu = claim(source=3, low=50000, as_of=D(2019, 12, 23))
    kita = claim(source=2, low=70000, high=80000, as_of=D(2019, 8, 31))
    [flag] = found(rules.count_conflicts, partition(kinu, kita))
    assert flag.kind == "count_conflict"
    assert flag.place_id == CN.id
    assert flag.claim_ids == tuple(sorted((kinu.id, kita.id)))
    assert flag.explanation == (
        "KINU says 50,000 workers in China (as of 2019-12-23) but KITA says 70,000–80,000 "
        "(as of 2019-08-31)."
    )
    assert flag.severity == rules.MEDIUM


@pytest.mark.parametrize(("other", "fires"), [(55000, False), (55001, True), (45455, False)])
def test_count_conflict_tolerance_is_ten_percent_of_the_lower_range(other, fires):
    first = claim(source=1, low=50000)
    second = claim(source=2, low=other)
    assert bool(found(rules.count_conflicts, partition(first, second))) is fires


def test_count_conflict_window_is_inclusive_of_its_last_day():
    first = claim(source=1, low=50000, as_of=D(2019, 1, 1))
    inside = claim(source=2, low=90000, as_of=D(2019, 1, 1) + datetime.timedelta(days=180))
    outside = claim(source=2, low=90000, as_of=D(2019, 1, 1) + datetime.timedelta(days=181))
    assert found(rules.count_conflicts, partition(first, inside))
    assert not found(rules.count_conflicts, partition(first, outside))


def test_count_conflict_never_compares_different_measures():
    workers = claim(source=1, low=50000, measure="workers")
    permits = claim(source=2, low=90000, measure="work_permits")
    assert not found(rules.count_conflicts, partition(workers, permits))


def test_count_conflict_never_compares_a_source_with_itself():
    first = claim(source=1, low=50000, as_of=D(2019, 6, 1))
    second = claim(source=1, low=90000, as_of=D(2019, 7, 1))
    assert not found(rules.count_conflicts, partition(first, second))


def test_count_conflict_ignores_flows_and_other_places():
    entries = claim(source=1, low=100, measure="entries")
    more_entries = claim(source=2, low=9000, measure="entries")
    here = claim(source=1, low=50000, place=CN)
    there = claim(source=2, low=90000, place=NE)
    assert not found(rules.count_conflicts, partition(entries, more_entries, here, there))


def test_open_ended_count_conflicts_only_from_below():
    at_least = claim(source=1, low=60000, high=None)
    assert found(rules.count_conflicts, partition(at_least, claim(source=2, low=50000)))
    assert not found(rules.count_conflicts, partition(at_least, claim(source=2, low=90000)))


def test_public_explanation_hides_a_confidential_source():
    secret = claim(source=6, low=50000, restricted=True)
    kita = claim(source=2, low=70000, high=80000)
    [flag] = found(rules.count_conflicts, partition(secret, kita))
    assert "Informant" in flag.explanation
    assert "Informant" not in flag.explanation_public
    assert flag.explanation_public.startswith("a confidential source says 50,000 workers")


def test_weak_grading_lowers_the_severity():
    weak = claim(source=1, low=50000, reliability="E")
    [flag] = found(rules.count_conflicts, partition(weak, claim(source=2, low=90000)))
    assert flag.severity == rules.LOW
    doubtful = claim(source=1, low=50000, credibility=5)
    [flag] = found(rules.count_conflicts, partition(doubtful, claim(source=2, low=90000)))
    assert flag.severity == rules.LOW


# --- scope_conflict -----------------------------------------------------------------------------


def test_scope_conflict_fires_when_a_part_exceeds_the_whole():
    nkdb = claim(source=1, place=NE, low=60000)
    kinu = claim(source=3, place=CN, low=50000)
    [flag] = found(rules.scope_conflicts, partition(nkdb, kinu))
    assert flag.place_id == NE.id
    assert flag.explanation == (
        "NKDB says 60,000 workers in Northeast China (as of 2019-12-23) but KINU says 50,000 in "
        "all of China (as of 2019-12-23): the part cannot hold more than the whole."
    )


def test_scope_conflict_reaches_every_ancestor_including_the_world():
    liaoning = claim(source=1, place=LN, low=120000)
    world = claim(source=3, place=WORLD, low=100000)
    part = partition(liaoning, ancestors=[world])
    [flag] = found(rules.scope_conflicts, part)
    assert "in all of the whole world" not in flag.explanation
    assert "in the whole world" in flag.explanation


@pytest.mark.parametrize(
    "whole",
    [
        dict(source=3, place=CN, low=55000),  # inside the tolerance
        dict(source=1, place=CN, low=50000),  # the same source
        dict(source=3, place=CN, low=50000, measure="work_permits"),  # another measure
        dict(source=3, place=CN, low=50000, as_of=D(2019, 6, 25)),  # 181 days earlier
        dict(source=3, place=CN, low=50000, high=None),  # "at least 50,000"
        dict(source=3, place=JL, low=50000),  # a sibling, not an ancestor
        dict(source=3, place=CN, low=70000),  # the whole is larger
    ],
)
def test_scope_conflict_nearest_cases_that_must_not_fire(whole):
    part = claim(source=1, place=NE, low=60000, as_of=D(2019, 12, 23))
    assert not found(rules.scope_conflicts, partition(part, claim(**whole)))


def test_scope_conflict_looks_both_ways_in_time():
    part = claim(source=1, place=NE, low=60000, as_of=D(2019, 12, 23))
    later = claim(source=3, place=CN, low=50000, as_of=D(2020, 6, 20))
    assert found(rules.scope_conflicts, partition(part, later, today=D(2020, 7, 1)))


def test_the_scope_sweep_enters_each_whole_once_however_many_places_lie_inside(monkeypatch):
    """The parts of every place inside China are swept together against China's counts: the
    sweep's work grows with the claims, not with the claims times the places (each of 40
    regions swept China's counts again before: 40 times the steps, 49 s for a 1M sweep)."""
    regions = [
        PlaceRow(100 + i, f"Region {i}", f"China > Region {i}", "region", (1, 2)) for i in range(40)
    ]
    start = D(2019, 1, 1)
    wholes = [
        claim(source=3, place=CN, low=1000, as_of=start + datetime.timedelta(days=day))
        for day in range(0, 720, 6)
    ]
    parts = [  # each region on days of its own
        claim(source=1, place=region, low=1200, as_of=start + datetime.timedelta(days=day + 7 * i))
        for i, region in enumerate(regions)
        for day in range(0, 720, 90)
    ]
    entered = []
    push = rules._Window.push
    monkeypatch.setattr(rules._Window, "push", lambda self, c: (entered.append(c), push(self, c)))
    places = {**PLACES, **{region.id: region for region in regions}}
    got = [
        flag.claim_ids
        for flag in found(rules.scope_conflicts, partition(*wholes, *parts, places=places))
    ]
    assert len(entered) == len(wholes)
    assert len(got) == len(set(got))
    assert set(got) == {
        tuple(sorted((p.id, w.id))) for p in parts for w in wholes if abs(p.day - w.day) <= 180
    }


# --- stance_conflict ----------------------------------------------------------------------------


def test_stance_conflict_fires_for_complying_at_a_place_and_violating_inside_it():
    state = claim(source=5, place=CN, obligation=OP8, stance="complying", as_of=D(2019, 12, 22))
    ngo = claim(source=1, place=LN, obligation=OP8, stance="violating", as_of=D(2020, 1, 5))
    [flag] = found(rules.stance_conflicts, partition(state, ngo))
    assert (flag.kind, flag.obligation_id, flag.place_id) == ("stance_conflict", OP8.id, CN.id)
    assert flag.explanation == (
        "China's government says China is complying with UNSCR2397-OP8 (as of 2019-12-22) but "
        "NKDB says it is violating it in Liaoning (as of 2020-01-05)."
    )
    assert flag.severity == rules.HIGH


def test_stance_conflict_complying_at_a_child_and_violating_at_the_parent_does_not_fire():
    child = claim(source=5, place=LN, obligation=OP8, stance="complying")
    parent = claim(source=1, place=CN, obligation=OP8, stance="violating")
    assert not found(rules.stance_conflicts, partition(child, parent))


@pytest.mark.parametrize(
    "violating",
    [
        dict(source=5, place=LN, obligation=OP8, stance="violating"),  # the same source
        dict(source=1, place=LN, obligation=OP11, stance="violating"),  # another obligation
        dict(source=1, place=LN, obligation=OP8, stance="partial"),  # not violating
        dict(source=1, place=LN, obligation=OP8, stance="violating", as_of=D(2020, 6, 21)),
    ],
)
def test_stance_conflict_nearest_cases_that_must_not_fire(violating):
    complying = claim(source=5, place=CN, obligation=OP8, stance="complying", as_of=D(2019, 12, 23))
    assert not found(
        rules.stance_conflicts, partition(complying, claim(**violating), today=D(2020, 7, 1))
    )


def test_new_work_permits_after_a_prohibition_are_violating_whatever_was_typed():
    complying = complying_state(D(2018, 12, 31), OP17)
    # "complying" typed in wrongly: the numbers say otherwise.
    granted = permits(1, 124, D(2018, 1, 1), D(2018, 12, 31), obligation=OP17, stance="complying")
    [flag] = found(rules.stance_conflicts, partition(complying, granted))
    assert "(124 new work permits from 2018-01-01)" in flag.explanation


def test_new_work_permits_count_for_the_prohibition_even_without_an_obligation():
    complying = complying_state(D(2018, 12, 31), OP17)
    granted = permits(1, 124, D(2018, 1, 1), D(2018, 12, 31))
    assert found(rules.stance_conflicts, partition(complying, granted))


def test_new_work_permits_granted_before_the_prohibition_are_not_violating():
    complying = complying_state(D(2017, 12, 31), OP17)
    before = permits(1, 124, D(2017, 1, 1), D(2017, 12, 31))
    none_granted = permits(2, 0, D(2017, 10, 1), D(2017, 12, 31))
    assert not found(rules.stance_conflicts, partition(complying, before, none_granted))


def test_stance_conflict_with_a_world_level_complying_claim_is_about_the_world():
    world = claim(source=3, place=WORLD, obligation=OP8, stance="complying")
    china = claim(source=1, place=NE, obligation=OP8, stance="violating")
    [flag] = found(rules.stance_conflicts, partition(china, ancestors=[world]))
    assert flag.place_id == WORLD.id
    assert "says the world is complying" in flag.explanation
    assert "violating it in Northeast China" in flag.explanation


# --- cap_signal ---------------------------------------------------------------------------------


def test_cap_signal_fires_for_growth_after_the_cap_took_effect():
    asan = claim(source=4, place=NE, low=20000, as_of=D(2017, 8, 7), obligation=OP11)
    nkdb = claim(source=1, place=NE, low=60000, as_of=D(2019, 12, 23), obligation=OP8)
    flags = found(rules.cap_signals, partition(asan, nkdb))
    # 2375 took effect on 2017-09-11, after the earlier count: only the 2371 cap fires.
    assert [(f.obligation_id, f.place_id) for f in flags] == [(OP11.id, NE.id)]
    assert flags[0].explanation == (
        "Workers in Northeast China rose from 20,000 (Asan, as of 2017-08-07) to 60,000 (NKDB, "
        "as of 2019-12-23), a rise of 200%, after UNSCR2371-OP11 took effect on 2017-08-05."
    )


def test_a_cap_signal_from_zero_gives_no_percentage():
    none = claim(source=4, place=NE, low=0, as_of=D(2018, 1, 1), obligation=OP11)
    some = claim(source=1, place=NE, low=500, as_of=D(2019, 1, 1), obligation=OP11)
    [flag] = [f for f in found(rules.cap_signals, partition(none, some)) if f.obligation_id == 11]
    assert flag.explanation == (
        "Workers in Northeast China rose from 0 (Asan, as of 2018-01-01) to 500 (NKDB, as of "
        "2019-01-01), after UNSCR2371-OP11 took effect on 2017-08-05."
    )


def test_a_cap_signal_just_beyond_the_tolerance_does_not_read_as_at_it():
    earlier = claim(source=4, place=NE, low=20000, as_of=D(2018, 1, 1), obligation=OP11)
    later = claim(source=1, place=NE, low=22090, as_of=D(2019, 1, 1), obligation=OP11)
    [flag] = [
        f for f in found(rules.cap_signals, partition(earlier, later)) if f.obligation_id == 11
    ]
    assert "a rise of 10.4%," in flag.explanation  # 10.45%: "10%" would read as within 10%
    later = claim(source=1, place=NE, low=22002, as_of=D(2019, 1, 1), obligation=OP11)
    [flag] = [
        f for f in found(rules.cap_signals, partition(earlier, later)) if f.obligation_id == 11
    ]
    assert "a rise of 10.01%," in flag.explanation
    later = claim(source=1, place=NE, low=22_000_200, as_of=D(2019, 1, 1), obligation=OP11)
    earlier = earlier._replace(low=20_000_000, high=20_000_000)
    [flag] = [
        f for f in found(rules.cap_signals, partition(earlier, later)) if f.obligation_id == 11
    ]
    assert "a rise of 10.001%," in flag.explanation


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        (dict(low=20000, as_of=D(2017, 8, 4)), dict(low=60000)),  # baseline before the cap
        (dict(low=20000, as_of=D(2018, 1, 1)), dict(low=22000)),  # inside the tolerance
        (dict(low=60000, as_of=D(2018, 1, 1)), dict(low=20000)),  # a fall
        (dict(low=20000, as_of=D(2018, 1, 1)), dict(low=60000, measure="work_permits")),
        (dict(low=20000, as_of=D(2019, 12, 23)), dict(low=60000)),  # the same day
        (dict(low=20000, as_of=D(2018, 1, 1), place=LN), dict(low=60000)),  # another place
    ],
)
def test_cap_signal_nearest_cases_that_must_not_fire(earlier, later):
    first = claim(**{"source": 4, "place": NE, **earlier})
    second = claim(**{"source": 1, "place": NE, "as_of": D(2019, 12, 23), **later})
    assert not found(rules.cap_signals, partition(first, second))


def test_cap_signal_names_the_strongest_growth_once_per_place():
    low = claim(source=4, place=NE, low=20000, as_of=D(2018, 1, 1))
    mid = claim(source=2, place=NE, low=30000, as_of=D(2018, 6, 1))
    high = claim(source=1, place=NE, low=60000, as_of=D(2019, 6, 1))
    flags = found(rules.cap_signals, partition(low, mid, high))
    assert {f.obligation_id for f in flags} == {OP11.id, OP17.id}
    assert all(f.claim_ids == tuple(sorted((low.id, high.id))) for f in flags)


# --- stale --------------------------------------------------------------------------------------


def test_stale_fires_when_the_newest_evidence_is_older_than_the_maximum_age():
    old = claim(obligation=OP8, stance="violating", as_of=D(2019, 12, 23), ref="RFA-1")
    [flag] = found(rules.stale_evidence, partition(old, today=D(2020, 6, 21)))
    assert (flag.kind, flag.obligation_id, flag.place_id, flag.claim_ids) == (
        "stale",
        OP8.id,
        CN.id,
        (old.id,),
    )
    assert flag.explanation == (
        "The newest evidence on China for UNSCR2397-OP8 is NKDB's claim as of 2019-12-23, "
        "181 days before 2020-06-21 (the maximum age is 180 days)."
    )
    assert not found(rules.stale_evidence, partition(old, today=D(2020, 6, 20)))


def test_evidence_inside_the_country_keeps_it_fresh():
    liaoning = claim(place=LN, obligation=OP8, stance="violating", as_of=D(2020, 1, 5))
    assert not found(rules.stale_evidence, partition(liaoning, today=D(2020, 3, 1)))


def test_a_watch_can_allow_older_evidence():
    old = claim(obligation=OP11, stance="unclear", as_of=D(2019, 1, 1))
    part = partition(old, today=D(2019, 10, 1), watches={OP11.id: 365})
    assert not found(rules.stale_evidence, part)


def test_a_watched_pair_with_no_evidence_is_stale_after_the_maximum_age():
    part = partition(today=D(2018, 2, 2), watches={OP11.id: None})
    [flag] = found(rules.stale_evidence, part)
    assert flag.claim_ids == ()
    assert flag.explanation.startswith(
        "No evidence on China for UNSCR2371-OP11 since it took effect on 2017-08-05, 181 days"
    )
    assert not found(rules.stale_evidence, partition(today=D(2018, 2, 1), watches={OP11.id: None}))


def test_after_a_deadline_evidence_from_before_it_is_stale_however_recent():
    before = claim(obligation=OP8, stance="complying", as_of=D(2019, 12, 1))
    [flag] = found(rules.stale_evidence, partition(before, today=D(2019, 12, 30)))
    assert flag.severity == rules.MEDIUM
    assert "The deadline of 2019-12-22 has passed with no claim on China since." in (
        flag.explanation
    )
    on_the_day = claim(obligation=OP8, stance="complying", as_of=D(2019, 12, 22))
    assert not found(rules.stale_evidence, partition(before, on_the_day, today=D(2019, 12, 30)))


def test_unmonitored_pairs_and_obligations_not_yet_in_force_are_not_stale():
    count_only = claim(low=50000, as_of=D(2016, 1, 1))  # a count concerns no obligation
    assert not found(rules.stale_evidence, partition(count_only, today=D(2026, 1, 1)))
    assert not found(rules.stale_evidence, partition(today=D(2017, 8, 1), watches={OP11.id: None}))


def test_a_claim_on_one_obligation_puts_its_whole_resolution_under_watch():
    deadline = claim(obligation=OP8, stance="violating", as_of=D(2020, 1, 5))
    assert rules.monitored_obligations(partition(deadline)) == {OP8.id, MID.id, FIN.id}


# --- overdue_report -----------------------------------------------------------------------------


def test_overdue_report_fires_once_the_due_date_has_passed_without_a_self_report():
    evidence = claim(obligation=OP8, stance="violating", as_of=D(2019, 12, 23))
    flags = found(rules.overdue_reports, partition(evidence, today=D(2020, 3, 23)))
    assert [(f.kind, f.obligation_id) for f in flags] == [
        ("overdue_report", MID.id),
        ("overdue_report", FIN.id),
    ]
    assert flags[1].explanation == (
        "China's report under UNSCR2397-OP8-FINAL was due on 2020-03-22: no self-report from "
        "China concerning it is logged (1 day overdue on 2020-03-23)."
    )
    assert len(found(rules.overdue_reports, partition(evidence, today=D(2020, 3, 22)))) == 1


def test_a_self_report_from_the_state_clears_its_overdue_report():
    evidence = claim(obligation=OP8, stance="violating", as_of=D(2019, 12, 23))
    report = self_report(MID, D(2019, 3, 1))
    flags = found(rules.overdue_reports, partition(evidence, report, today=D(2020, 4, 1)))
    assert [f.obligation_id for f in flags] == [FIN.id]


def test_a_self_report_from_another_state_does_not_count():
    evidence = claim(obligation=OP8, stance="violating", as_of=D(2019, 12, 23))
    foreign = self_report(MID, D(2019, 3, 1), country=99)
    flags = found(rules.overdue_reports, partition(evidence, foreign, today=D(2020, 4, 1)))
    assert {f.obligation_id for f in flags} == {MID.id, FIN.id}


def test_world_level_places_have_no_stale_or_overdue_flags():
    world = claim(place=WORLD, obligation=OP8, stance="violating", as_of=D(2018, 1, 1))
    part = partition(world, country=None, today=D(2026, 1, 1))
    assert not found(rules.stale_evidence, part)
    assert not found(rules.overdue_reports, part)


# --- why a flag no longer holds ------------------------------------------------------------------


def _reason(flag_kind, claims_before, part, obligation=None, place=CN):
    obligation_id = obligation.id if obligation else None
    flag = rules.FlagRow(1, flag_kind, obligation_id, place.id, tuple(c.id for c in claims_before))
    found = rules.run_rules(part, SETTINGS)
    return rules.resolution_reason(flag, part, SETTINGS, rules.successors(found.values()))


def test_resolution_reasons_say_what_changed():
    a = claim(source=3, low=50000, as_of=D(2019, 12, 23), ref="A")
    b = claim(source=2, low=70000, as_of=D(2019, 8, 31), ref="B")
    assert "Claim #" in _reason("count_conflict", [a, b], partition(a))
    closer = claim(source=2, low=52000, as_of=D(2019, 8, 31), ref="B2")
    assert "no longer differ beyond the 10% tolerance" in _reason(
        "count_conflict", [a, closer], partition(a, closer)
    )
    far = claim(source=2, low=90000, as_of=D(2019, 1, 1), ref="B3")
    assert "356 days apart, beyond the 180-day comparison window" in _reason(
        "count_conflict", [a, far], partition(a, far)
    )
    same = claim(source=3, low=90000, as_of=D(2019, 12, 1), ref="B4")
    assert "the same source" in _reason("count_conflict", [a, same], partition(a, same))


def test_a_reason_says_a_claim_moved_to_another_place_or_measure():
    a = claim(source=3, low=50000, ref="A")
    b = claim(source=2, low=70000, ref="B")
    moved = b._replace(place_id=LN.id)
    assert _reason("count_conflict", [a, b], partition(a, moved)) == (
        "Claim B is now about Liaoning, not China."
    )
    recounted = b._replace(measure="work_permits")
    assert _reason("count_conflict", [a, b], partition(a, recounted)) == (
        "Claims A, B no longer count the same thing (workers, work permits)."
    )


def test_a_cap_signal_is_replaced_only_by_a_signal_of_the_same_measure():
    earlier = claim(source=4, place=NE, low=20000, as_of=D(2017, 8, 7), obligation=OP11)
    later = claim(source=1, place=NE, low=60000, as_of=D(2019, 12, 23), obligation=OP11, ref="L")
    permits = [
        claim(source=4, place=NE, measure="work_permits", low=1000, as_of=D(2017, 8, 7)),
        claim(source=1, place=NE, measure="work_permits", low=3000, as_of=D(2019, 12, 23)),
    ]
    corrected = later._replace(low=21000, high=21000)
    part = partition(earlier, corrected, *permits)
    reason = _reason("cap_signal", [earlier, later], part, obligation=OP11, place=NE)
    assert reason.startswith("The counts of C")  # the work permits' signal did not replace it
    stronger = claim(source=2, place=NE, low=90000, as_of=D(2020, 1, 2), obligation=OP11)
    part = partition(earlier, corrected, *permits, stronger)
    reason = _reason("cap_signal", [earlier, later], part, obligation=OP11, place=NE)
    assert reason.startswith("A stronger or newer growth signal replaced it: Workers in")


def test_a_stale_flag_replaced_by_older_evidence_does_not_call_it_newer():
    old = claim(obligation=OP8, stance="violating", as_of=D(2018, 1, 1), ref="OLD")
    reason = _reason("stale", [], partition(old, today=D(2020, 1, 10)), obligation=OP8)
    assert reason.startswith("Another claim is now the newest evidence, and it is stale too: ")


def test_stale_and_overdue_resolution_reasons_name_the_new_evidence():
    fresh = claim(obligation=OP8, stance="violating", as_of=D(2020, 1, 5), ref="NEW-1")
    reason = _reason("stale", [], partition(fresh, today=D(2020, 1, 10)), obligation=OP8)
    assert reason == (
        "The newest evidence, claim NEW-1 by NKDB as of 2020-01-05, is recent enough on 2020-01-10."
    )
    report = self_report(MID, D(2019, 3, 1), ref="R")
    reason = _reason("overdue_report", [], partition(fresh, report), obligation=MID)
    assert reason == "Self-report logged: claim R, as of 2019-03-01."
    assert "no longer monitored" in _reason("stale", [], partition(), obligation=OP11)


def test_an_overdue_reason_names_the_states_own_first_self_report():
    # Another state's self-report placed in China comes first in a whole check's rows; the
    # state's own are placed outside it, the later one read first.
    theirs = self_report(MID, D(2019, 1, 1), country=999, ref="RU")
    later = self_report(MID, D(2019, 6, 1), ref="CN-2")
    first = self_report(MID, D(2019, 3, 1), ref="CN-1")
    part = partition(theirs, state=(later, first))
    reason = _reason("overdue_report", [], part, obligation=MID)
    assert reason == "Self-report logged: claim CN-1, as of 2019-03-01."


def test_a_window_of_zero_days_compares_the_same_day_only():
    same = [claim(source=1, low=10), claim(source=2, low=100)]
    next_day = claim(source=3, low=1000, as_of=D(2019, 12, 24))
    found = rules.count_conflicts(partition(*same, next_day), rules.CheckSettings(0, 0.1))
    assert [f.claim_ids for f in found] == [tuple(sorted(c.id for c in same))]


# --- the sweeps equal the definitions, on random data ---------------------------------------------

CLAIMS = st.builds(
    lambda source, place, measure, low, spread, days, obligation, stance: claim(
        source=source,
        place=place,
        measure=measure,
        low=low,
        high=None if spread is None else low + spread,
        as_of=D(2018, 1, 1) + datetime.timedelta(days=days),
        obligation=obligation,
        stance=stance,
    ),
    source=st.integers(1, 3),
    place=st.sampled_from([CN, NE, LN, JL]),
    measure=st.sampled_from(["workers", "work_permits"]),
    low=st.integers(0, 120),
    spread=st.one_of(st.none(), st.integers(0, 30)),
    days=st.integers(0, 720),
    obligation=st.sampled_from([None, OP8, OP11]),
    stance=st.sampled_from(["complying", "violating", "unclear"]),
)
SMALL = rules.CheckSettings(window_days=90, tolerance=0.10)
# Evidence as it usually is: most counts agree within the tolerance, a few do not. The sweeps
# pass over the blocks of days where nothing can conflict, so these cases have long stretches
# to pass over and conflicts just across a block's edge.
AGREEING = CLAIMS.map(lambda c: c._replace(low=100 + c.low % 5, high=100 + c.low % 5 + c.id % 4))
MOSTLY_AGREEING = st.one_of(
    AGREEING, AGREEING, AGREEING.map(lambda c: c._replace(high=None)), CLAIMS
)


def _apart(upper, lower):
    tol = Fraction(1, 10)
    return lower.high is not None and upper.low - lower.high > tol * lower.high


def _comparable(a, b):
    return a.source_id != b.source_id and abs(a.day - b.day) <= SMALL.window_days


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.lists(CLAIMS, max_size=40), st.lists(MOSTLY_AGREEING, max_size=80)))
def test_count_conflicts_equal_all_pairs(claims):
    expected = {
        tuple(sorted((a.id, b.id)))
        for a, b in itertools.combinations(claims, 2)
        if _comparable(a, b)
        and (a.place_id, a.measure) == (b.place_id, b.measure)
        and (_apart(a, b) or _apart(b, a))
    }
    got = [f.claim_ids for f in rules.count_conflicts(partition(*claims), SMALL)]
    assert len(got) == len(set(got))
    assert set(got) == expected


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(st.lists(CLAIMS, max_size=40), st.lists(MOSTLY_AGREEING, max_size=80)),
    st.lists(st.one_of(CLAIMS, MOSTLY_AGREEING), max_size=10),
)
def test_scope_conflicts_equal_all_pairs(claims, world):
    """With counts about the world too (the ancestor of every country: read apart from the
    partition's claims), whose parts are every claim of the partition together."""
    world = [c._replace(place_id=WORLD.id) for c in world]
    expected = {
        tuple(sorted((part.id, whole.id)))
        for part, whole in itertools.permutations([*claims, *world], 2)
        if _comparable(part, whole)
        and part.measure == whole.measure
        and whole.place_id in PLACES[part.place_id].ancestor_ids
        and _apart(part, whole)
    }
    got = [f.claim_ids for f in rules.scope_conflicts(partition(*claims, ancestors=world), SMALL)]
    assert len(got) == len(set(got))
    assert set(got) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(CLAIMS, max_size=40))
def test_stance_conflicts_equal_all_pairs(claims):
    expected = {
        (ok.obligation_id, ok.place_id, tuple(sorted((ok.id, bad.id))))
        for ok, bad in itertools.permutations(claims, 2)
        if _comparable(ok, bad)
        and ok.obligation_id is not None
        and ok.obligation_id == bad.obligation_id
        and (ok.stance, bad.stance) == ("complying", "violating")
        and (bad.place_id == ok.place_id or ok.place_id in PLACES[bad.place_id].ancestor_ids)
    }
    got = [
        (f.obligation_id, f.place_id, f.claim_ids)
        for f in rules.stance_conflicts(partition(*claims), SMALL)
    ]
    assert len(got) == len(set(got))
    assert set(got) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(CLAIMS, max_size=40))
def test_cap_signals_find_the_strongest_growth(claims):
    by_id = {c.id: c for c in claims}
    expected = {}
    for obligation in (OP11, OP17):
        for a, b in itertools.permutations(claims, 2):
            if (
                (a.place_id, a.measure) == (b.place_id, b.measure)
                and obligation.effective_from <= a.as_of < b.as_of
                and _apart(b, a)
            ):
                key = (obligation.id, a.place_id, a.measure)
                expected[key] = max(expected.get(key, 0), rules._growth(b, a))
    got = {}
    for flag in rules.cap_signals(partition(*claims), SMALL):
        earlier, later = sorted((by_id[i] for i in flag.claim_ids), key=lambda c: c.day)
        got[flag.obligation_id, flag.place_id, later.measure] = rules._growth(later, earlier)
    assert got == expected


@settings(max_examples=500, deadline=None)
@given(
    low=st.integers(0, 10**7),
    high=st.integers(0, 10**7),
    tolerance=st.fractions(min_value=0, max_value=3, max_denominator=1000),
)
def test_the_windows_bisection_bounds_agree_with_the_pairwise_comparison(low, high, tolerance):
    upper = claim(low=low, high=None)
    lower = claim(low=0, high=high)
    expected = rules._above(upper, lower, tolerance)
    assert (high <= rules.highest_below(low, tolerance)) is expected
    assert (low >= rules.lowest_above(high, tolerance)) is expected


def _focused(claims, chosen):
    """The partition of ``claims`` as a targeted check on the ``chosen`` ones sees it."""
    import dataclasses

    focus = rules.Focus(
        claim_ids=frozenset(c.id for c in chosen), place_ids=frozenset(c.place_id for c in chosen)
    )
    return dataclasses.replace(partition(*claims), focus=focus)


@settings(max_examples=200, deadline=None)
@given(st.lists(CLAIMS, min_size=1, max_size=40), st.data())
def test_a_targeted_check_finds_exactly_the_count_conflicts_on_its_focus(claims, data):
    chosen = data.draw(st.lists(st.sampled_from(claims), max_size=3))
    ids = {c.id for c in chosen}
    expected = {
        f.claim_ids
        for f in rules.count_conflicts(partition(*claims), SMALL)
        if ids & set(f.claim_ids)
    }
    got = [f.claim_ids for f in rules.count_conflicts(_focused(claims, chosen), SMALL)]
    assert len(got) == len(set(got))
    assert set(got) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(CLAIMS, min_size=1, max_size=40), st.data())
def test_a_targeted_check_finds_exactly_the_scope_conflicts_on_its_focus(claims, data):
    chosen = data.draw(st.lists(st.sampled_from(claims), max_size=3))
    ids = {c.id for c in chosen}
    whole = {f.claim_ids: f for f in rules.scope_conflicts(partition(*claims), SMALL)}
    expected = {pair for pair in whole if ids & set(pair)}
    got = {f.claim_ids: f for f in rules.scope_conflicts(_focused(claims, chosen), SMALL)}
    assert set(got) == expected
    assert all(got[pair].explanation == whole[pair].explanation for pair in got)


@pytest.mark.parametrize("focus_on", ["earlier", "later"])
@pytest.mark.parametrize("days", [180, 181])
def test_a_targeted_check_keeps_the_windows_last_day(focus_on, days):
    """The window's edges, from either claim of the pair: 180 days apart is compared, 181 not,
    for count conflicts (same place) and scope conflicts (a part and its whole)."""
    start = D(2019, 1, 1)
    later_day = start + datetime.timedelta(days=days)
    pairs = {
        rules.count_conflicts: (
            claim(source=1, low=50000, as_of=start),
            claim(source=2, low=90000, as_of=later_day),
        ),
        rules.scope_conflicts: (
            claim(source=1, place=CN, low=50000, as_of=start),
            claim(source=2, place=NE, low=90000, as_of=later_day),
        ),
    }
    for rule, (earlier, later) in pairs.items():
        chosen = earlier if focus_on == "earlier" else later
        whole = found(rule, partition(earlier, later))
        targeted = found(rule, _focused([earlier, later], [chosen]))
        assert [f.claim_ids for f in targeted] == [f.claim_ids for f in whole]
        assert bool(targeted) is (days == 180), rule.__name__
