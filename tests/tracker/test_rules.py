"""The rules of docs/design.md §3 over plain rows: no database, no Django.

Each rule: a case that fires with its facts, and the nearest cases that must not; the cases
of issue 28 with their real figures. The sweeps are also checked against a brute-force,
all-pairs reading of the same definitions on random data (hypothesis), which is how we know
the sliding windows miss no edge and the components join the right claims.
"""

import datetime
import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker import rules
from tracker.partialdates import PartialDate, iso
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
    precision="day",
):
    """A claim row; ``as_of`` is a day, or, with ``precision``, the month or year holding it
    (stored as its first day, as the loader reads it)."""
    pk = next(_ids)
    given = PartialDate.parse(iso(as_of, precision))
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
        given.first,
        credibility,
        given.first.toordinal(),
        given.span,
        precision,
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
    assert {rules.CAP, rules.PROHIBITION, rules.DEADLINE, rules.REPORTING} == set(
        ObligationKind.values
    )
    assert {rules.COMPLYING, rules.VIOLATING} < set(Stance.values)
    assert rules.SELF_REPORT in SourceKind.values
    assert tuple(Severity.values) == (rules.LOW, rules.MEDIUM, rules.HIGH)
    assert set(FlagKind.values) == rules.KEYED_KINDS | rules.CONFLICT_KINDS


def test_a_conflicts_fingerprint_is_its_subject_and_claims_a_keyed_kinds_its_subject_alone():
    assert rules.fingerprint("count_conflict", "2/workers", [3, 1]) == rules.fingerprint(
        "count_conflict", "2/workers", (1, 3)
    )
    a = claim(source=1, low=1000, as_of=D(2018, 1, 1))
    b = claim(source=2, low=9000, as_of=D(2019, 12, 1))
    [cap] = found(rules.cap_signals, partition(a, b))
    assert cap.fingerprint == rules.fingerprint("cap_signal", cap.subject, ())


def facts_claims(finding, *keys):
    return [finding.facts[k]["claim"] for k in keys]


# --- count conflicts: situations, not pairs -----------------------------------------------------

KUWAIT = PlaceRow(20, "Kuwait", "Kuwait", "country", (1,))


def test_four_sources_disagreeing_about_kuwait_in_2017_are_one_count_conflict():
    """Kuwait, July-September 2017: the manpower authority's 6,064, officials' ~2,500 (AP),
    the residence affairs department's 1,800 and a Reuters source's ~3,000: six pairs
    disagree beyond 10%, one situation."""
    sources = {1: 6064, 2: 2500, 3: 1800, 4: 3000}
    days = {1: D(2017, 7, 10), 2: D(2017, 8, 1), 3: D(2017, 8, 20), 4: D(2017, 9, 15)}
    claims = [claim(source=s, place=KUWAIT, low=n, as_of=days[s]) for s, n in sources.items()]
    part = partition(*claims, places={**PLACES, KUWAIT.id: KUWAIT})
    [conflict] = found(rules.count_conflicts, part)
    assert conflict.claim_ids == tuple(sorted(c.id for c in claims))
    assert conflict.subject == f"{KUWAIT.id}/workers" and conflict.measure == "workers"
    assert facts_claims(conflict, "low", "high") == [claims[2].id, claims[0].id]
    assert conflict.facts["low"] == {"claim": claims[2].id, "low": 1800, "high": 1800,
                                     "as_of": "2017-08-20"}  # fmt: skip
    assert (conflict.facts["first"], conflict.facts["last"]) == ("2017-07-10", "2017-09-15")
    assert conflict.facts["sources"] == 4 and conflict.facts["tolerance"] == "1/10"
    assert conflict.severity == rules.MEDIUM


def test_russia_winter_2019_2020_conflicts_where_sources_describe_one_moment_only():
    """After the repatriation deadline (22 December 2019): the foreign ministry's ~1,000 (23
    January) and the US's ~30,000 (24 January) conflict, and so does a paper's 1,000 the same
    week; the final report's 511 (10 March) is progress from January's figures, not a
    contradiction."""
    ministry = claim(source=1, low=1000, as_of=D(2020, 1, 23))
    united_states = claim(source=2, low=30000, as_of=D(2020, 1, 24))
    paper = claim(source=3, low=1000, as_of=D(2020, 1, 27))
    final_report = claim(source=5, low=511, as_of=D(2020, 3, 10))
    part = partition(ministry, united_states, paper, final_report, today=D(2020, 6, 1))
    [conflict] = found(rules.count_conflicts, part)
    assert conflict.claim_ids == tuple(sorted((ministry.id, united_states.id, paper.id)))


def test_after_the_deadline_a_lower_figure_within_a_month_still_conflicts():
    first = claim(source=1, low=5000, as_of=D(2020, 2, 1))
    same_moment = claim(source=2, low=500, as_of=D(2020, 2, 20))
    assert found(rules.count_conflicts, partition(first, same_moment, today=D(2020, 6, 1)))


def test_before_the_deadline_a_later_lower_figure_is_a_conflict_and_higher_always_is():
    high_first = claim(source=1, low=30000, as_of=D(2019, 10, 1))
    lower = claim(source=2, low=1000, as_of=D(2019, 11, 20))
    assert found(rules.count_conflicts, partition(high_first, lower))
    low_first = claim(source=1, low=1000, as_of=D(2020, 1, 23))
    higher = claim(source=2, low=30000, as_of=D(2020, 3, 10))
    assert found(rules.count_conflicts, partition(low_first, higher, today=D(2020, 6, 1)))


def test_two_disagreements_far_apart_in_time_are_two_situations():
    early = [claim(source=1, low=20000, as_of=D(2017, 8, 1)),
             claim(source=2, low=40000, as_of=D(2017, 9, 1))]  # fmt: skip
    late = [claim(source=1, low=50000, as_of=D(2019, 12, 1)),
            claim(source=2, low=75000, as_of=D(2019, 12, 20))]  # fmt: skip
    conflicts = found(rules.count_conflicts, partition(*early, *late))
    assert sorted(c.claim_ids for c in conflicts) == [
        tuple(sorted(c.id for c in early)),
        tuple(sorted(c.id for c in late)),
    ]


@pytest.mark.parametrize(("other", "fires"), [(54999, False), (55001, True)])
def test_count_conflict_tolerance_is_ten_percent_of_the_lower_range(other, fires):
    a, b = claim(source=1, low=50000), claim(source=2, low=other)
    assert bool(found(rules.count_conflicts, partition(a, b))) is fires


def test_count_conflict_window_is_inclusive_of_its_last_day():
    a = claim(source=1, low=50000, as_of=D(2019, 1, 1))
    inside = claim(source=2, low=90000, as_of=D(2019, 1, 1) + datetime.timedelta(days=180))
    outside = claim(source=2, low=90000, as_of=D(2019, 1, 1) + datetime.timedelta(days=181))
    assert found(rules.count_conflicts, partition(a, inside))
    assert not found(rules.count_conflicts, partition(a, outside))


def test_count_conflict_never_compares_different_measures_sources_places_or_flows():
    base = claim(source=1, low=50000)
    for other in (
        claim(source=2, low=90000, measure="work_permits"),
        claim(source=1, low=90000),
        claim(source=2, low=90000, place=NE),
        claim(source=2, low=90000, measure="entries"),
    ):
        assert not found(rules.count_conflicts, partition(base, other))


def test_open_ended_counts_conflict_only_from_below():
    at_least = claim(source=1, low=2000, high=None)
    assert found(rules.count_conflicts, partition(at_least, claim(source=2, low=1000)))
    assert not found(rules.count_conflicts, partition(at_least, claim(source=2, low=90000)))


def test_a_situation_of_weakly_graded_claims_only_is_of_lower_severity():
    weak = claim(source=1, low=1000, reliability="E")
    strong = claim(source=2, low=9000)
    [conflict] = found(rules.count_conflicts, partition(weak, strong))
    assert conflict.severity == rules.LOW
    third = claim(source=3, low=1000)  # a well-graded disagreement with ``strong`` too
    [conflict] = found(rules.count_conflicts, partition(weak, strong, third))
    assert conflict.severity == rules.MEDIUM


# --- scope conflicts ------------------------------------------------------------------------------


def test_scope_conflict_fires_when_a_part_exceeds_the_whole():
    part = claim(source=1, place=NE, low=60000)
    whole = claim(source=3, place=CN, low=50000)
    [conflict] = found(rules.scope_conflicts, partition(part, whole))
    assert conflict.subject == f"{NE.id}/{CN.id}/workers" and conflict.place_id == NE.id
    assert conflict.facts["whole_place"] == CN.id
    assert facts_claims(conflict, "part", "whole") == [part.id, whole.id]


def test_scope_conflict_reaches_every_ancestor_including_the_world():
    part = claim(source=1, place=LN, low=60000)
    region = claim(source=2, place=NE, low=50000)
    world = claim(source=3, place=WORLD, low=40000)
    conflicts = found(rules.scope_conflicts, partition(part, region, ancestors=[world]))
    assert {c.subject for c in conflicts} == {
        f"{LN.id}/{NE.id}/workers",
        f"{LN.id}/{WORLD.id}/workers",
        f"{NE.id}/{WORLD.id}/workers",
    }


def test_several_wholes_against_one_part_are_one_scope_conflict():
    part = claim(source=1, place=NE, low=60000)
    wholes = [claim(source=s, place=CN, low=50000) for s in (2, 3)]
    [conflict] = found(rules.scope_conflicts, partition(part, *wholes))
    assert conflict.claim_ids == tuple(sorted([part.id, *(w.id for w in wholes)]))


@pytest.mark.parametrize("whole", [54999, None])
def test_scope_conflict_nearest_cases_that_must_not_fire(whole):
    part = claim(source=1, place=NE, low=60000)
    other = claim(source=3, place=CN, low=whole or 50000, high=None if whole is None else whole)
    assert not found(rules.scope_conflicts, partition(part, other))


# --- stance conflicts -----------------------------------------------------------------------------


def test_stance_conflict_fires_for_complying_at_a_place_and_violating_inside_it():
    state = complying_state(D(2019, 12, 23), OP8)
    ngo = claim(source=1, place=LN, obligation=OP8, stance="violating", as_of=D(2019, 12, 30))
    [conflict] = found(rules.stance_conflicts, partition(state, ngo))
    assert conflict.subject == f"{OP8.id}/{CN.id}" and conflict.obligation_ids == (OP8.id,)
    assert conflict.facts["complying"] == [state.id] and conflict.facts["violating"] == [ngo.id]
    assert conflict.facts["violating_places"] == [LN.id]
    assert conflict.severity == rules.HIGH


def test_several_violating_reports_against_one_state_report_are_one_stance_conflict():
    state = complying_state(D(2019, 12, 23), OP8)
    ngos = [claim(source=s, place=p, obligation=OP8, stance="violating") for s, p in
            ((1, LN), (2, JL), (3, CN))]  # fmt: skip
    [conflict] = found(rules.stance_conflicts, partition(state, *ngos))
    assert len(conflict.claim_ids) == 4


def test_stance_conflict_complying_at_a_child_and_violating_at_the_parent_does_not_fire():
    child = claim(source=5, place=LN, obligation=OP8, stance="complying")
    parent = claim(source=1, place=CN, obligation=OP8, stance="violating")
    assert not found(rules.stance_conflicts, partition(child, parent))


def test_new_work_permits_after_a_prohibition_are_violating_whatever_was_typed():
    state = complying_state(D(2018, 6, 1), OP17)
    grants = permits(2, 124, D(2017, 10, 1), D(2018, 1, 31))
    [conflict] = found(rules.stance_conflicts, partition(state, grants, today=D(2018, 7, 1)))
    assert conflict.facts["derived"] == [grants.id]


def test_new_work_permits_granted_before_the_prohibition_are_not_violating():
    state = complying_state(D(2018, 1, 31), OP17)
    grants = permits(2, 124, D(2017, 1, 1), D(2018, 1, 31))
    assert not found(rules.stance_conflicts, partition(state, grants))


def test_stance_conflict_with_a_world_level_complying_claim_is_about_the_world():
    world = claim(source=5, place=WORLD, obligation=OP8, stance="complying")
    ngo = claim(source=1, place=LN, obligation=OP8, stance="violating")
    [conflict] = found(rules.stance_conflicts, partition(ngo, ancestors=[world]))
    assert conflict.place_id == WORLD.id


# --- cap signals: growth over time ----------------------------------------------------------------


def test_one_rise_after_the_cap_and_the_ban_is_one_signal_naming_both():
    earlier = claim(source=4, place=NE, low=20000, as_of=D(2017, 10, 1))
    later = claim(source=1, place=NE, low=60000, as_of=D(2019, 12, 23))
    [signal] = found(rules.cap_signals, partition(earlier, later))
    assert signal.obligation_ids == (OP11.id, OP17.id)
    assert signal.subject == f"{NE.id}/workers"
    assert facts_claims(signal, "earlier", "later") == [earlier.id, later.id]
    assert signal.facts["rise"] == "3"


def test_a_rise_from_a_count_before_the_ban_names_only_the_cap_in_force():
    earlier = claim(source=4, place=NE, low=20000, as_of=D(2017, 8, 20))
    later = claim(source=1, place=NE, low=60000, as_of=D(2019, 12, 23))
    [signal] = found(rules.cap_signals, partition(earlier, later))
    assert signal.obligation_ids == (OP11.id,)


@pytest.mark.parametrize(
    ("earlier", "later", "gap_days"),
    [
        (1190, 5000, 42),  # Mongolia: the ministry's 1,190, RFA's 5,000 six weeks later
        (10000, 12000, 31),  # Primorsky Krai: the governor's 10,000, the ambassador's 12,000
        (1000, 30000, 24),  # Russia: 1,000, then the US's 30,000 weeks later
    ],
)
def test_figures_close_in_time_are_a_disagreement_not_a_rise(earlier, later, gap_days):
    first = claim(source=1, low=earlier, as_of=D(2019, 12, 31))
    second = claim(source=2, low=later, as_of=D(2019, 12, 31) + datetime.timedelta(gap_days))
    part = partition(first, second, today=D(2020, 6, 1))
    assert not found(rules.cap_signals, part)
    assert found(rules.count_conflicts, part)


def test_a_rise_needs_more_than_the_comparison_window_between_its_counts():
    first = claim(source=1, low=1000, as_of=D(2018, 1, 1))
    at_window = claim(source=1, low=5000, as_of=D(2018, 1, 1) + datetime.timedelta(180))
    beyond = claim(source=1, low=5000, as_of=D(2018, 1, 1) + datetime.timedelta(181))
    assert not found(rules.cap_signals, partition(first, at_window))
    assert found(rules.cap_signals, partition(first, beyond))


def test_a_cap_signal_from_zero_has_no_ratio():
    zero = claim(source=1, low=0, as_of=D(2018, 1, 1))
    some = claim(source=2, low=40, as_of=D(2019, 1, 1))
    [signal] = found(rules.cap_signals, partition(zero, some))
    assert signal.facts["rise"] is None


def test_cap_signal_names_the_strongest_rise_once_per_place_and_measure():
    counts = [
        claim(source=1, low=10000, as_of=D(2018, 1, 1)),
        claim(source=2, low=5000, as_of=D(2018, 2, 1)),
        claim(source=3, low=15000, as_of=D(2018, 12, 1)),
        claim(source=1, low=30000, as_of=D(2019, 6, 1)),
    ]
    [signal] = found(rules.cap_signals, partition(*counts))
    assert facts_claims(signal, "earlier", "later") == [counts[1].id, counts[3].id]


def test_no_cap_signal_before_the_cap_nor_without_growth_beyond_the_tolerance():
    before = claim(source=1, low=1000, as_of=D(2017, 1, 1))
    after = claim(source=2, low=9000, as_of=D(2018, 1, 1))
    assert not found(rules.cap_signals, partition(before, after))
    flat = claim(source=1, low=1000, as_of=D(2018, 1, 1))
    within = claim(source=2, low=1100, as_of=D(2019, 1, 1))
    assert not found(rules.cap_signals, partition(flat, within))


# --- staleness and overdue reports ---------------------------------------------------------------


def test_stale_fires_when_the_newest_evidence_is_older_than_the_maximum_age():
    old = claim(source=1, obligation=OP11, stance="violating", as_of=D(2018, 1, 1))
    [stale] = found(rules.stale_evidence, partition(old, today=D(2019, 1, 1)))
    assert stale.subject == f"{OP11.id}/{CN.id}" and stale.claim_ids == (old.id,)
    assert stale.facts["newest"]["claim"] == old.id
    assert (stale.facts["age_days"], stale.facts["max_age_days"]) == (365, 180)
    assert stale.severity == rules.LOW


def test_evidence_inside_the_country_keeps_it_fresh_and_a_watch_can_allow_older():
    recent = claim(source=1, place=LN, obligation=OP11, stance="violating", as_of=D(2018, 12, 1))
    assert not [
        f for f in found(rules.stale_evidence, partition(recent, today=D(2019, 1, 1)))
        if f.obligation_ids == (OP11.id,)
    ]  # fmt: skip
    old = claim(source=1, obligation=OP11, stance="violating", as_of=D(2018, 1, 1))
    part = partition(old, today=D(2019, 1, 1), watches={OP11.id: 400})
    assert not [f for f in found(rules.stale_evidence, part) if f.obligation_ids == (OP11.id,)]


def test_after_a_deadline_evidence_from_before_it_is_stale_however_recent():
    before = claim(source=1, obligation=OP8, stance="violating", as_of=D(2019, 12, 20))
    [stale] = [
        f for f in found(rules.stale_evidence, partition(before, today=D(2019, 12, 30)))
        if f.obligation_ids == (OP8.id,)
    ]  # fmt: skip
    assert stale.facts["deadline_missed"] and stale.facts["deadline"] == "2019-12-22"
    assert stale.severity == rules.MEDIUM


def test_a_watched_pair_with_no_evidence_is_stale_and_names_no_claim():
    part = partition(today=D(2019, 1, 1), watches={OP11.id: None})
    [stale] = found(rules.stale_evidence, part)
    assert stale.claim_ids == () and stale.facts["newest"] is None
    assert stale.facts["since"] == "2017-08-05"


def test_overdue_report_fires_once_the_due_date_has_passed_without_a_self_report():
    ngo = claim(source=1, obligation=OP8, stance="violating", as_of=D(2019, 12, 30))
    overdue = found(rules.overdue_reports, partition(ngo, today=D(2020, 4, 1)))
    assert {f.obligation_ids for f in overdue} == {(MID.id,), (FIN.id,)}
    final = next(f for f in overdue if f.obligation_ids == (FIN.id,))
    assert final.facts == {"due_on": "2020-03-22", "today": "2020-04-01", "days_overdue": 10}


def test_a_self_report_from_the_state_clears_its_overdue_report_and_another_states_does_not():
    ngo = claim(source=1, obligation=OP8, stance="violating", as_of=D(2019, 12, 30))
    own = self_report(FIN, D(2020, 3, 1))
    other = self_report(MID, D(2019, 3, 1), country=99)
    overdue = found(rules.overdue_reports, partition(ngo, own, other, today=D(2020, 4, 1)))
    assert [f.obligation_ids for f in overdue] == [(MID.id,)]


def test_world_level_places_have_no_stale_or_overdue_flags():
    old = claim(source=1, place=WORLD, obligation=OP11, stance="violating", as_of=D(2017, 9, 1))
    part = partition(old, today=D(2020, 4, 1), country=None)
    assert not found(rules.stale_evidence, part) and not found(rules.overdue_reports, part)


# --- why a flag no longer holds ------------------------------------------------------------------


def _flag(kind, claims, *, place=CN, obligation=None, subject=""):
    return rules.FlagRow(
        id=1,
        fingerprint="f",
        kind=kind,
        subject=subject,
        status="open",
        country_id=CN.id,
        place_id=place.id,
        claim_ids=tuple(c.id for c in claims),
        severity=2,
        facts={},
        obligation_ids=(obligation.id,) if obligation else (),
    )


def test_resolutions_say_what_changed_as_facts():
    a, b = claim(source=1, low=1000), claim(source=2, low=1050)
    part = partition(a, b)
    flag = _flag("count_conflict", [a, b])
    assert rules.resolution(flag, part, SETTINGS) == {
        "code": "within_tolerance", "claims": [a.id, b.id], "tolerance": "1/10"
    }  # fmt: skip
    gone = _flag("count_conflict", [a, claim(source=2, low=9)])
    assert rules.resolution(gone, part, SETTINGS)["code"] == "claims_gone"
    moved = claim(source=2, low=9000, place=NE)
    assert rules.resolution(_flag("count_conflict", [a, moved]), partition(a, moved), SETTINGS) == {
        "code": "moved", "claims": [moved.id], "places": [NE.id]
    }  # fmt: skip
    same = claim(source=1, low=9000)
    reason = rules.resolution(_flag("count_conflict", [a, same]), partition(a, same), SETTINGS)
    assert reason["code"] == "same_source"


def test_stale_and_overdue_resolutions_name_the_new_evidence():
    fresh = claim(source=1, obligation=OP11, stance="violating", as_of=D(2019, 12, 1))
    reason = rules.resolution(
        _flag("stale", [], obligation=OP11), partition(fresh, today=D(2020, 1, 1)), SETTINGS
    )
    assert reason == {"code": "fresh_evidence", "claim": rules.figure(fresh)}
    ngo = claim(source=1, obligation=OP8, stance="violating", as_of=D(2019, 12, 30))
    own = self_report(FIN, D(2020, 3, 1))
    reason = rules.resolution(
        _flag("overdue_report", [], obligation=FIN),
        partition(ngo, own, today=D(2020, 4, 1)),
        SETTINGS,
    )
    assert reason == {"code": "self_report", "claim": rules.figure(own)}
    assert rules.resolution(_flag("stale", [], obligation=OP11), partition(), SETTINGS) == {
        "code": "not_monitored"
    }


# --- dates at their precision: a claim covers an interval (docs/design.md §3.1, §7.18) ------


@pytest.mark.parametrize(("day", "fires"), [(D(2018, 3, 29), True), (D(2018, 3, 30), False)])
def test_a_month_claim_is_compared_with_a_day_claim_from_the_months_end(day, fires):
    """ "September 2017" ends on 30 September: a day 180 days later is within the window,
    though 209 days lie between its first day and that day."""
    month = claim(source=1, low=5000, as_of=D(2017, 9, 1), precision="month")
    other = claim(source=2, low=7000, as_of=day)
    conflicts = found(rules.count_conflicts, partition(month, other, today=D(2018, 6, 1)))
    assert bool(conflicts) is fires
    if fires:
        assert conflicts[0].facts["low"]["as_of"] == "2017-09"
        assert (conflicts[0].facts["first"], conflicts[0].facts["last"]) == (
            "2017-09",
            day.isoformat(),
        )


def test_a_day_inside_a_month_claim_is_the_same_moment():
    """A count dated "February 2020" and one of 25 February overlap: after the deadline the
    lower later one is still a disagreement, not progress."""
    month = claim(source=1, low=5000, as_of=D(2020, 2, 1), precision="month")
    day = claim(source=2, low=500, as_of=D(2020, 2, 25))
    assert found(rules.count_conflicts, partition(month, day, today=D(2020, 6, 1)))


@pytest.mark.parametrize(
    ("as_of", "precision", "progress"),
    [
        (D(2019, 1, 1), "year", False),  # "2019" reaches back before the deadline
        (D(2019, 12, 1), "month", False),  # so does "December 2019"
        (D(2020, 1, 1), "month", True),  # "January 2020" lies wholly after it
        (D(2019, 12, 23), "day", True),
    ],
)
def test_only_a_claim_wholly_after_the_deadline_makes_a_later_lower_count_progress(
    as_of, precision, progress
):
    earlier = claim(source=1, low=30000, as_of=as_of, precision=precision)
    later = claim(source=2, low=1000, as_of=D(2020, 4, 1))
    conflicts = found(rules.count_conflicts, partition(earlier, later, today=D(2020, 6, 1)))
    assert bool(conflicts) is not progress


@pytest.mark.parametrize(
    ("as_of", "precision", "missed"),
    [
        (D(2019, 1, 1), "year", True),
        (D(2019, 12, 1), "month", True),
        (D(2020, 1, 1), "month", False),
        (D(2020, 1, 1), "year", False),
        (D(2019, 12, 22), "day", False),
    ],
)
def test_a_deadline_is_met_only_by_evidence_lying_wholly_on_or_after_it(as_of, precision, missed):
    """A claim dated "2019" or "December 2019" does not say how things stood after the
    deadline of 22 December 2019."""
    evidence = claim(source=1, obligation=OP8, stance="complying", as_of=as_of, precision=precision)
    stale = [
        f
        for f in found(rules.stale_evidence, partition(evidence, today=D(2020, 1, 10)))
        if f.obligation_ids == (OP8.id,)
    ]
    assert bool(stale) is missed
    if missed:
        assert stale[0].facts["deadline_missed"] and stale[0].facts["since"] == iso(
            as_of, precision
        )


def test_a_deadline_is_met_by_a_day_after_it_even_when_a_year_claim_ends_later():
    """The newest claim ("2019", ending 31 December) lies partly before the deadline, but a
    day claim of 23 December 2019 lies after it: the deadline is not missed."""
    year = claim(
        source=1, obligation=OP8, stance="violating", as_of=D(2019, 1, 1), precision="year"
    )
    after = claim(source=2, obligation=OP8, stance="violating", as_of=D(2019, 12, 23))
    part = partition(year, after, today=D(2020, 1, 10))
    assert part.newest[OP8.id] == year
    assert not [f for f in found(rules.stale_evidence, part) if f.obligation_ids == (OP8.id,)]


@pytest.mark.parametrize(("today", "stale"), [(D(2023, 6, 29), False), (D(2023, 6, 30), True)])
@pytest.mark.parametrize(
    ("as_of", "precision"), [(D(2022, 1, 1), "year"), (D(2022, 12, 31), "day")]
)
def test_a_year_claim_grows_stale_from_its_end_as_a_day_claim_of_its_last_day(
    today, stale, as_of, precision
):
    """ "2022" is as fresh as 31 December 2022: 180 days later it is not stale yet."""
    evidence = claim(
        source=1, obligation=OP11, stance="violating", as_of=as_of, precision=precision
    )
    found_stale = [
        f
        for f in found(rules.stale_evidence, partition(evidence, today=today))
        if f.obligation_ids == (OP11.id,)
    ]
    assert bool(found_stale) is stale
    if stale:
        assert found_stale[0].facts["age_days"] == 181
        assert found_stale[0].facts["since"] == iso(as_of, precision)


def test_a_year_claim_of_the_current_year_is_not_older_than_today():
    evidence = claim(
        source=1, obligation=OP11, stance="violating", as_of=D(2026, 1, 1), precision="year"
    )
    part = partition(evidence, today=D(2026, 3, 1), watches={OP11.id: 1})
    assert not [f for f in found(rules.stale_evidence, part) if f.obligation_ids == (OP11.id,)]


def test_counts_whose_intervals_overlap_are_not_a_rise_but_may_disagree():
    """ "2018" and 20 December 2018 overlap: neither is earlier, so no rise, whatever their
    first days; they are compared as a disagreement."""
    year = claim(source=1, low=1000, as_of=D(2018, 1, 1), precision="year")
    day = claim(source=2, low=9000, as_of=D(2018, 12, 20))
    part = partition(year, day, today=D(2019, 6, 1))
    assert not found(rules.cap_signals, part)
    [conflict] = found(rules.count_conflicts, part)
    assert conflict.claim_ids == tuple(sorted((year.id, day.id)))


@pytest.mark.parametrize(("day", "rise"), [(D(2019, 6, 29), False), (D(2019, 6, 30), True)])
def test_a_rise_from_a_year_claim_counts_the_window_from_its_end(day, rise):
    """A rise needs more than the window (180 days) from the end of "2018" (31 December)."""
    year = claim(source=1, low=1000, as_of=D(2018, 1, 1), precision="year")
    later = claim(source=2, low=9000, as_of=day)
    signals = found(rules.cap_signals, partition(year, later, today=D(2019, 12, 1)))
    assert bool(signals) is rise
    if rise:
        assert signals[0].facts["earlier"]["as_of"] == "2018"


def test_a_rise_needs_its_earlier_count_wholly_after_the_cap():
    """ "2017" reaches back before the cap of 5 August 2017: not a baseline for a rise."""
    year = claim(source=1, low=1000, as_of=D(2017, 1, 1), precision="year")
    later = claim(source=2, low=9000, as_of=D(2018, 12, 1))
    assert not found(rules.cap_signals, partition(year, later, today=D(2019, 1, 1)))


def test_a_year_claim_and_a_day_claim_far_from_its_first_day_are_one_stance_situation():
    complying = claim(
        source=5, obligation=OP8, stance="complying", as_of=D(2020, 1, 1), precision="year"
    )
    violating = claim(source=1, obligation=OP8, stance="violating", as_of=D(2021, 6, 29))
    [conflict] = found(rules.stance_conflicts, partition(complying, violating, today=D(2021, 7, 1)))
    assert conflict.facts["complying_newest"]["as_of"] == "2020"


def test_a_window_of_zero_days_compares_the_same_day_only():
    same = [claim(source=1, low=10), claim(source=2, low=100)]
    next_day = claim(source=3, low=1000, as_of=D(2019, 12, 24))
    found_ = rules.count_conflicts(partition(*same, next_day), rules.CheckSettings(0, 0.1))
    assert [f.claim_ids for f in found_] == [tuple(sorted(c.id for c in same))]


# --- the sweeps equal the definitions, on random data ---------------------------------------------

CLAIMS = st.builds(
    lambda source, place, measure, low, spread, days, obligation, stance, precision: claim(
        source=source,
        place=place,
        measure=measure,
        low=low,
        high=None if spread is None else low + spread,
        as_of=D(2019, 6, 1) + datetime.timedelta(days=days),
        obligation=obligation,
        stance=stance,
        precision=precision,
    ),
    source=st.integers(1, 3),
    place=st.sampled_from([CN, NE, LN, JL]),
    measure=st.sampled_from(["workers", "work_permits"]),
    low=st.integers(0, 120),
    spread=st.one_of(st.none(), st.integers(0, 30)),
    days=st.integers(0, 720),  # either side of the deadline of 22 December 2019
    obligation=st.sampled_from([None, OP8, OP11]),
    stance=st.sampled_from(["complying", "violating", "unclear"]),
    # Most evidence gives a day; some a month or a year (compared by their intervals).
    precision=st.sampled_from(["day", "day", "day", "month", "year"]),
)
SMALL = rules.CheckSettings(window_days=90, tolerance=0.10, same_moment_days=20)
# Evidence as it usually is: most counts agree within the tolerance, a few do not. The sweeps
# pass over the blocks of days where nothing can conflict, so these cases have long stretches
# to pass over and conflicts just across a block's edge.
AGREEING = CLAIMS.map(lambda c: c._replace(low=100 + c.low % 5, high=100 + c.low % 5 + c.id % 4))
MOSTLY_AGREEING = st.one_of(
    AGREEING, AGREEING, AGREEING.map(lambda c: c._replace(high=None)), CLAIMS
)
DEADLINE = OP8.due_on.toordinal()


def _apart(upper, lower):
    tol = Fraction(1, 10)
    return lower.high is not None and upper.low - lower.high > tol * lower.high


def _last(c):
    return PartialDate(c.as_of, c.precision).last.toordinal()


def _distance(a, b):
    """Days between two claims' intervals, 0 when they overlap."""
    return max(0, b.day - _last(a), a.day - _last(b))


def _comparable(a, b):
    return a.source_id != b.source_id and _distance(a, b) <= SMALL.window_days


def _progress(a, b):
    """The later of two claims is lower, the earlier wholly after the deadline, the later
    starting more than a moment after the earlier ends."""
    earlier, later = sorted((a, b), key=lambda c: (c.day, c.id))
    return (
        earlier.day > DEADLINE
        and later.day - _last(earlier) > SMALL.same_moment_days
        and _apart(earlier, later)
    )


def _components(edges):
    """Connected components of ``edges`` (pairs of ids), brute force: merge until stable."""
    groups = [set(edge) for edge in edges]
    merged = True
    while merged:
        merged = False
        for i, j in itertools.combinations(range(len(groups)), 2):
            if groups[i] & groups[j]:
                groups[i] |= groups.pop(j)
                merged = True
                break
    return {tuple(sorted(g)) for g in groups}


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.lists(CLAIMS, max_size=40), st.lists(MOSTLY_AGREEING, max_size=80)))
def test_count_conflicts_are_the_components_of_all_disagreeing_pairs(claims):
    by_subject: dict = {}
    for a, b in itertools.combinations(claims, 2):
        if (
            _comparable(a, b)
            and (a.place_id, a.measure) == (b.place_id, b.measure)
            and (_apart(a, b) or _apart(b, a))
            and not _progress(a, b)
        ):
            by_subject.setdefault((a.place_id, a.measure), []).append((a.id, b.id))
    expected = {c for edges in by_subject.values() for c in _components(edges)}
    got = [f.claim_ids for f in rules.count_conflicts(partition(*claims), SMALL)]
    assert len(got) == len(set(got))
    assert set(got) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(CLAIMS, max_size=40), st.lists(CLAIMS, max_size=5))
def test_scope_conflicts_are_the_components_of_all_part_whole_pairs(claims, world):
    world = [c._replace(place_id=WORLD.id) for c in world if c.high is not None]
    by_subject: dict = {}
    for part in claims:
        for whole in [*claims, *world]:
            if (
                whole.place_id in PLACES[part.place_id].ancestor_ids
                and part.measure == whole.measure
                and _comparable(part, whole)
                and _apart(part, whole)
            ):
                key = (part.place_id, whole.place_id, part.measure)
                by_subject.setdefault(key, []).append((part.id, whole.id))
    expected = {(k, c) for k, edges in by_subject.items() for c in _components(edges)}
    part = partition(*claims, ancestors=world)
    got = {
        (tuple(int(x) if x.isdigit() else x for x in f.subject.split("/")), f.claim_ids)
        for f in rules.scope_conflicts(part, SMALL)
    }
    assert got == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(CLAIMS, max_size=40))
def test_stance_conflicts_are_the_components_of_all_opposed_pairs(claims):
    by_subject: dict = {}
    for complying in claims:
        for violating in claims:
            if (
                complying.stance == "complying"
                and violating.stance == "violating"
                and complying.obligation_id is not None
                and complying.obligation_id == violating.obligation_id
                and complying.place_id
                in (violating.place_id, *PLACES[violating.place_id].ancestor_ids)
                and _comparable(complying, violating)
            ):
                key = (complying.obligation_id, complying.place_id)
                by_subject.setdefault(key, []).append((complying.id, violating.id))
    expected = {(k, c) for k, edges in by_subject.items() for c in _components(edges)}
    got = {
        (tuple(map(int, f.subject.split("/"))), f.claim_ids)
        for f in rules.stance_conflicts(partition(*claims), SMALL)
    }
    assert got == expected


def _later(c):
    """``c`` about a year later (a month or a year moved by a year: still its first day)."""
    if c.precision == "day":
        as_of = c.as_of + datetime.timedelta(400)
    else:
        as_of = c.as_of.replace(year=c.as_of.year + 1)
    given = PartialDate(as_of, c.precision)
    return c._replace(as_of=as_of, day=as_of.toordinal(), span=given.span)


@settings(max_examples=150, deadline=None)
@given(st.lists(CLAIMS, max_size=40))
def test_cap_signals_find_the_strongest_rise_over_more_than_the_window(claims):
    claims = [_later(c) for c in claims]
    groups: dict = {}
    for c in sorted(claims, key=lambda c: (c.day, c.id)):
        groups.setdefault((c.place_id, c.measure), []).append(c)
    expected = {}
    for (place_id, measure), group in groups.items():
        best = None
        for later in group:
            for earlier in group:
                if (
                    later.day - _last(earlier) > SMALL.window_days
                    and earlier.as_of >= OP11.effective_from
                    and earlier.high is not None
                    and _apart(later, earlier)
                ):
                    rise = Fraction(later.low, earlier.high) if earlier.high else float("inf")
                    if best is None or rise > best[0]:
                        best = (rise, earlier, later)
        if best is not None:
            expected[f"{place_id}/{measure}"] = best[0]
    got = {
        f.subject: (Fraction(f.facts["rise"]) if f.facts["rise"] else float("inf"))
        for f in rules.cap_signals(partition(*claims, today=D(2030, 1, 1)), SMALL)
    }
    assert got == expected


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


def _in_scope_by_definition(finding, chosen):
    """docs/design.md §3.6, read directly: which subjects a change at these places touches."""
    touched = {c.place_id for c in chosen}
    if finding.kind in (rules.STALE, rules.OVERDUE_REPORT):
        return True
    if finding.kind == rules.SCOPE_CONFLICT:
        part, whole, _ = finding.subject.split("/")
        return int(part) in touched or int(whole) in touched
    if finding.kind == rules.STANCE_CONFLICT:
        above = {a for pk in touched for a in PLACES[pk].ancestor_ids}
        return finding.place_id in touched | above
    return finding.place_id in touched


@settings(max_examples=150, deadline=None)
@given(st.lists(CLAIMS, min_size=1, max_size=40), st.data())
def test_a_targeted_check_judges_exactly_the_subjects_its_places_belong_to(claims, data):
    chosen = data.draw(st.lists(st.sampled_from(claims), max_size=3))
    whole = rules.run_rules(partition(*claims), SMALL)
    expected = [f for f in whole if _in_scope_by_definition(f, chosen)]
    assert rules.run_rules(_focused(claims, chosen), SMALL) == expected
