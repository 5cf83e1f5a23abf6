"""A targeted check (after a save) must leave exactly the flags a whole check leaves.

Random evidence about China and its provinces, then random edits (a claim added, recounted,
redated, moved, restanced, deleted); after each edit the targeted check runs, and a whole check
right after it must change nothing.
"""

import datetime
import random

import pytest

from tests.factories import (
    ClaimFactory,
    PlaceFactory,
    ReportFactory,
    SourceFactory,
    UserFactory,
    country,
    obligation,
    world,
)
from tracker import checks, selectors, services
from tracker.models import CheckRequest, Claim, Flag, PairStatus, Source

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 24)
CODES = ["UNSCR2397-OP8", "UNSCR2371-OP11", "UNSCR2375-OP17", "UNSCR2397-OP8-FINAL", None]


@pytest.fixture
def world_of_china():
    china = country("CN")
    northeast = PlaceFactory(name="Northeast China", parent=china)
    places = [
        china,
        northeast,
        PlaceFactory(name="Liaoning", parent=northeast),
        PlaceFactory(name="Jilin", parent=northeast),
        PlaceFactory(name="Fujian", parent=china),
    ]
    sources = [SourceFactory(reliability=r) for r in "ABCE"]
    sources.append(SourceFactory(kind=Source.Kind.SELF_REPORT, country=china, name="PRC"))
    return places, sources, ReportFactory()


def random_claim_fields(rng: random.Random, places, sources) -> dict:
    measure = rng.choice(["workers", "workers", "work_permits", "new_work_permits", ""])
    fields = {
        "place": rng.choice(places),
        "attributed_to": rng.choice(sources),
        "as_of": datetime.date(2018, 6, 1) + datetime.timedelta(days=rng.randrange(900)),
        "stance": rng.choice(["complying", "violating", "partial", "unclear"]),
        "credibility": rng.choice([1, 2, 3, 6]),
        "measure": measure,
        "count_low": None,
        "count_high": None,
        "period_start": None,
    }
    # Some evidence is dated to a month or a year (compared as the interval it covers).
    precision = rng.choice(["day", "day", "day", "day", "month", "year"])
    if precision != "day":
        day = fields["as_of"]
        fields["as_of"] = (
            day.replace(day=1) if precision == "month" else day.replace(month=1, day=1)
        )
        fields["as_of_precision"] = precision
    code = rng.choice(CODES)
    fields["obligation"] = obligation(code) if code else None
    if measure in ("workers", "work_permits"):
        low = rng.choice([20_000, 45_000, 50_000, 54_000, 60_000, 80_000])
        fields["count_low"] = low
        fields["count_high"] = rng.choice([low, low + 5_000, None])
    elif measure == "new_work_permits":
        fields["count_low"] = fields["count_high"] = rng.choice([0, 300])
        fields["period_start"] = fields["as_of"] - datetime.timedelta(days=60)
    return fields


def active_flags() -> dict[str, tuple]:
    """Every flag as the checks left it: its facts, claims, obligations and resolution."""
    return {
        f.fingerprint: (
            f.kind,
            f.status,
            f.severity,
            f.subject,
            repr(f.facts),
            repr(f.resolution),
            tuple(f.claim_ids),
            tuple(sorted(f.claims.values_list("pk", flat=True))),
            tuple(sorted(f.obligations.values_list("pk", flat=True))),
        )
        for f in Flag.objects.all()
    }


def kept_statuses() -> set[tuple]:
    """Every status the checks keep, with the facts of its reason."""
    return {
        (country, obligation, status, repr(reason), claims, newest, tuple(flags))
        for country, obligation, status, reason, claims, newest, flags in (
            PairStatus.objects.values_list(
                "country", "obligation", "status", "reason", "claims", "newest_as_of", "flag_ids"
            )
        )
    }


def edit(rng: random.Random, places, sources, report) -> str:
    """One random change through the same request path the admin uses."""
    claims = list(Claim.objects.order_by("pk"))
    op = rng.choice(["add", "add", "recount", "redate", "move", "restance", "delete"])
    if op == "add" or not claims:
        claim = Claim.objects.create(report=report, **random_claim_fields(rng, places, sources))
        services.checks_request_for(
            claims={(claim.pk, claim.place_id)}, source_ids={claim.attributed_to_id}
        )
        return f"add #{claim.pk}"
    claim = rng.choice(claims)
    before = {(claim.pk, claim.place_id)}
    sources_touched = {claim.attributed_to_id}
    if op == "delete":
        claim.delete()
        services.checks_request_for(claims=before, source_ids=sources_touched)
        return "delete"
    if op == "recount" and claim.count_low is not None and claim.measure:
        claim.count_low = claim.count_high = rng.choice([30_000, 52_000, 90_000])
    elif op == "redate":
        claim.as_of = datetime.date(2018, 6, 1) + datetime.timedelta(days=rng.randrange(900))
        if claim.period_start:
            claim.period_start = claim.as_of - datetime.timedelta(days=60)
    elif op == "move":
        claim.place = rng.choice(places)
    else:
        claim.stance = rng.choice(["complying", "violating"])
    claim.save()
    services.checks_request_for(
        claims=before | {(claim.pk, claim.place_id)},
        source_ids=sources_touched | {claim.attributed_to_id},
    )
    return f"{op} #{claim.pk}"


@pytest.mark.parametrize("seed", range(10))
def test_a_targeted_check_leaves_the_flags_a_whole_check_leaves(world_of_china, seed):
    places, sources, report = world_of_china
    rng = random.Random(seed)
    for _ in range(60):
        Claim.objects.create(report=report, **random_claim_fields(rng, places, sources))
    checks.partition_check("CN", today=TODAY, whole=True)
    assert Flag.objects.exists()

    for step in range(8):
        what = edit(rng, places, sources, report)
        outcome = checks.partition_check("CN", today=TODAY)
        assert outcome.targeted, what
        assert not CheckRequest.objects.filter(key="CN").exists()
        after_targeted = active_flags()
        statuses = kept_statuses()
        checks.partition_check("CN", today=TODAY, whole=True)
        assert active_flags() == after_targeted, f"seed {seed}, step {step}: {what}"
        assert kept_statuses() == statuses, f"seed {seed}, step {step}: {what}"


def test_a_targeted_check_reads_only_the_subjects_it_judges(world_of_china):
    """A save at Liaoning judges Liaoning's situations whole, and those above it: the claims
    of other provinces are read only as violating evidence under a place that holds
    complying claims (and the newest per obligation)."""
    places, sources, report = world_of_china
    rng = random.Random(7)
    elsewhere = [places[3], places[4]]  # Jilin, Fujian
    for _ in range(300):
        Claim.objects.create(report=report, **random_claim_fields(rng, elsewhere, sources))
    checks.partition_check("CN", today=TODAY, whole=True)
    fields = random_claim_fields(rng, places, sources)
    fields.update(place=places[2], as_of=datetime.date(2025, 3, 1))  # Liaoning
    claim = Claim.objects.create(report=report, **fields)
    services.checks_request_for(claims={(claim.pk, claim.place_id)})
    outcome = checks.partition_check("CN", today=TODAY)
    assert outcome.targeted
    assert outcome.claims < 301 / 2


def test_a_request_for_the_whole_country_is_not_narrowed(world_of_china):
    places, sources, report = world_of_china
    claim = Claim.objects.create(
        report=report, **random_claim_fields(random.Random(1), places, sources)
    )
    services.checks_request_for(claims={(claim.pk, claim.place_id)})
    services.checks_request_for(place_ids={places[0].pk})  # a place renamed, say
    assert not checks.partition_check("CN", today=TODAY).targeted


# The partners a targeted check reads for a saved claim: right at the edges of the tolerance and
# of the window, a pair is found (the partner is read) or not found (either way, the same flags
# as a whole check).
D = datetime.date(2021, 3, 1)
B = datetime.date(2019, 6, 1)  # before the repatriation deadline
WINDOW = datetime.timedelta(days=180)


def _counts(low, high=..., **fields):
    return {"measure": "workers", "count_low": low, "count_high": low if high is ... else high}


@pytest.mark.parametrize(
    ("partner", "saved", "kind"),
    [
        # The saved count lies above the partner by just more than 10%, 180 days later.
        ((0, D, _counts(50_000)), (0, D + WINDOW, _counts(55_001)), "count_conflict"),
        # Exactly 10% above: no conflict; 181 days later: out of the window.
        ((0, D, _counts(50_000)), (0, D + WINDOW, _counts(55_000)), None),
        ((0, D, _counts(50_000)), (0, D + WINDOW + datetime.timedelta(1), _counts(55_001)), None),
        # The partner lies above the saved count, 180 days earlier: before the repatriation
        # deadline, a conflict; after it, progress (docs/design.md §3.1).
        ((0, B - WINDOW, _counts(55_001)), (0, B, _counts(50_000)), "count_conflict"),
        ((0, B - WINDOW, _counts(55_001, None)), (0, B, _counts(45_000, 50_000)), "count_conflict"),
        ((0, D - WINDOW, _counts(55_001)), (0, D, _counts(50_000)), None),
        # A province above a whole saved for the country; the country saved under a province.
        ((2, D, _counts(55_001)), (0, D + WINDOW, _counts(50_000)), "scope_conflict"),
        ((0, D, _counts(50_000)), (2, D - WINDOW, _counts(55_001)), "scope_conflict"),
        ((2, D, _counts(55_000)), (0, D, _counts(50_000)), None),
        # New work permits granted in a province after the prohibition, whatever their stance,
        # against the country said to comply with it.
        (
            (2, D, {"measure": "new_work_permits", "count_low": 300, "count_high": 300,
                    "period_start": D - datetime.timedelta(days=60), "stance": "unclear"}),
            (0, D + WINDOW, {"obligation": "UNSCR2375-OP17", "stance": "complying"}),
            "stance_conflict",
        ),
        # Violating in a province, saved, against complying at the country.
        (
            (0, D, {"obligation": "UNSCR2371-OP11", "stance": "complying"}),
            (3, D - WINDOW, {"obligation": "UNSCR2371-OP11", "stance": "violating"}),
            "stance_conflict",
        ),
    ],
)  # fmt: skip
def test_a_targeted_check_reads_the_partners_at_the_edges(world_of_china, partner, saved, kind):
    places, sources, report = world_of_china

    def make(spec, source):
        where, as_of, fields = spec
        fields = {"stance": "unclear", **fields}
        if "obligation" in fields:
            fields["obligation"] = obligation(fields["obligation"])
        return Claim.objects.create(
            report=report, place=places[where], attributed_to=source, as_of=as_of, **fields
        )

    # Newer evidence far from both, in another province: the partner is not read as the newest
    # claim of its obligation or the newest grant of permits (staleness reads those anyway).
    later = datetime.date(2026, 1, 1)
    for code in ("UNSCR2371-OP11", "UNSCR2375-OP17"):
        make((4, later, {"obligation": code}), sources[2])
    make((4, later, {**_counts(300), "measure": "new_work_permits", "period_start": D}), sources[2])
    first = make(partner, sources[0])
    checks.partition_check("CN", today=TODAY, whole=True)
    claim = make(saved, sources[1])
    services.checks_request_for(claims={(claim.pk, claim.place_id)})
    assert checks.partition_check("CN", today=TODAY).targeted
    pairs = Flag.objects.active().exclude(kind="cap_signal")  # growth is judged whole
    paired = {f.kind for f in pairs.filter(claims=claim).filter(claims=first)}
    assert paired == ({kind} if kind else set())
    after_targeted = active_flags()
    checks.partition_check("CN", today=TODAY, whole=True)
    assert active_flags() == after_targeted


def test_a_self_report_placed_outside_its_country_checks_the_country(world_of_china):
    # Its state's partition gets a request with no place of its own to judge (found by a
    # reviewer: the cap read failed on an empty list of places, and the request stayed).
    _, sources, report = world_of_china
    prc = sources[-1]
    checks.partition_check("CN", today=TODAY, whole=True)
    claim = Claim.objects.create(
        report=report,
        place=country("RU"),
        attributed_to=prc,
        as_of=datetime.date(2019, 4, 1),
        stance="complying",
        obligation=obligation("UNSCR2397-OP8-FINAL"),
    )
    assert "CN" in services.checks_request_for(
        claims={(claim.pk, claim.place_id)}, source_ids={prc.pk}
    )
    assert checks.partition_check("CN", today=TODAY).targeted
    assert not CheckRequest.objects.filter(key="CN").exists()
    after_targeted = active_flags()
    checks.partition_check("CN", today=TODAY, whole=True)
    assert active_flags() == after_targeted


def test_a_claim_about_the_world_checks_every_country_whole(world_of_china):
    # The world's counts are the whole every country's counts are compared with.
    places, sources, report = world_of_china
    checks.partition_check("CN", today=TODAY, whole=True)
    claim = Claim.objects.create(
        report=report,
        place=world(),
        attributed_to=sources[0],
        as_of=datetime.date(2019, 6, 1),
        measure="workers",
        count_low=1_000,
        count_high=1_000,
    )
    Claim.objects.create(
        report=report,
        place=places[0],
        attributed_to=sources[1],
        as_of=datetime.date(2019, 6, 1),
        measure="workers",
        count_low=50_000,
        count_high=50_000,
    )
    keys = services.checks_request_for(claims={(claim.pk, claim.place_id)})
    assert keys == set(selectors.partition_keys())
    assert not checks.partition_check("CN", today=TODAY).targeted
    assert Flag.objects.active().filter(kind="scope_conflict", claims=claim).count() == 1


def test_a_change_touching_the_worlds_claims_without_naming_them_checks_every_country():
    """A source's grading changed, say: its claims about the world are compared with every
    country's, and the flags they make are the countries'."""
    keys = services.checks_request_for(place_ids={world().pk}, source_ids=set())
    assert keys == set(selectors.partition_keys())


# Cap signals: a targeted check judges each (place, measure) group at the places touched, read
# whole. Few days and few counts make ties on both everywhere; days further apart than the
# window make rises of most pairs.
CAP_DAYS = [  # further apart than the comparison window, bar the first two
    datetime.date(2017, 7, 1),  # before both caps took effect
    datetime.date(2017, 9, 1),  # between them
    datetime.date(2018, 3, 1),
    datetime.date(2018, 9, 1),
    datetime.date(2019, 3, 15),
    datetime.date(2019, 10, 1),
    datetime.date(2020, 5, 1),
]
CAP_COUNTS = [0, 1_000, 1_000, 1_050, 1_100, 1_500, 2_000, 3_000]


def random_count_fields(rng: random.Random, places, sources) -> dict:
    low = rng.choice(CAP_COUNTS)
    return {
        "place": rng.choice(places),
        "attributed_to": rng.choice(sources),
        "as_of": rng.choice(CAP_DAYS),
        "stance": "unclear",
        "credibility": rng.choice([1, 2, 6]),
        "measure": rng.choice(["workers"] * 5 + ["work_permits"]),
        "count_low": low,
        "count_high": rng.choice([low, low, low + 100, None]),
        "period_start": None,
        "obligation": None,
    }


def count_edit(rng: random.Random, places, sources, report, user) -> str:
    """One random change to the counts, through the request path the admin uses."""
    claims = list(Claim.objects.order_by("pk"))
    op = rng.choice(["add", "add", "add", "up", "down", "redate", "move", "delete", "flag"])
    fields = random_count_fields(rng, places, sources)
    adding = op in ("add", "flag") or not claims
    flags = list(Flag.objects.filter(kind="cap_signal").exclude(status="resolved").order_by("pk"))
    if op == "flag" and flags:
        # A monitor dismisses or re-opens a cap flag (no check is requested), then a claim is
        # added at its place: the targeted check must not trust the flag blindly. (A flag
        # re-opened at a place no check touches stays open until one does, targeted or not.)
        flag = rng.choice(flags)
        if flag.status == Flag.Status.DISMISSED:
            services.flags_reopen(flag_ids=[flag.pk], user=user)
        else:
            services.flags_dismiss(flag_ids=[flag.pk], user=user, reason="seen")
        fields["place"] = flag.place
        op = f"{flag.status} flag #{flag.pk} changed by a monitor, then add"
    elif op == "flag":
        op = "add"
    if adding:
        claim = Claim.objects.create(report=report, **fields)
        services.checks_request_for(claims={(claim.pk, claim.place_id)})
        return f"{op} #{claim.pk}"
    claim = rng.choice(claims)
    before = {(claim.pk, claim.place_id)}
    if op == "delete":
        claim.delete()
        services.checks_request_for(claims=before)
        return f"delete #{claim.pk}"
    if op in ("up", "down"):
        step = rng.choice([50, 100, 500, 1_000])
        low = max(0, claim.count_low + (step if op == "up" else -step))
        claim.count_low = low
        claim.count_high = rng.choice([low, low + 100, None])
    elif op == "redate":
        claim.as_of = rng.choice(CAP_DAYS)
    else:
        claim.place = rng.choice(places)
    claim.save()
    services.checks_request_for(claims=before | {(claim.pk, claim.place_id)})
    return f"{op} #{claim.pk}"


@pytest.mark.parametrize("seed", range(8))
def test_a_targeted_check_leaves_the_cap_signals_a_whole_check_leaves(world_of_china, seed):
    places, sources, report = world_of_china
    places = places[:2]  # China, Northeast China: groups of a dozen claims and more
    user = UserFactory()
    rng = random.Random(seed)
    for _ in range(40):
        Claim.objects.create(report=report, **random_count_fields(rng, places, sources))
    checks.partition_check("CN", today=TODAY, whole=True)
    assert Flag.objects.filter(kind="cap_signal").exists()

    for step in range(40):
        what = count_edit(rng, places, sources, report, user)
        outcome = checks.partition_check("CN", today=TODAY)
        # A monitor's step asks for a whole check of the country (its statuses read the
        # active flags); a save alone, for a targeted one.
        assert outcome.targeted or "changed by a monitor" in what, what
        after_targeted = active_flags()
        checks.partition_check("CN", today=TODAY, whole=True)
        assert active_flags() == after_targeted, f"seed {seed}, step {step}: {what}"


def test_a_new_baseline_moves_the_rise_and_keeps_its_flag(world_of_china):
    """One cap signal per place and measure: a save that makes another rise the strongest
    moves the same flag to it (an event says which claims joined and left)."""
    places, sources, report = world_of_china
    china = places[0]

    def count(as_of, low, source=0):
        return Claim.objects.create(
            report=report,
            place=china,
            attributed_to=sources[source],
            as_of=as_of,
            stance="unclear",
            measure="workers",
            count_low=low,
            count_high=low,
        )

    baseline = count(datetime.date(2018, 1, 1), 1_000)
    later = count(datetime.date(2019, 6, 1), 2_100, source=1)
    checks.partition_check("CN", today=TODAY, whole=True)
    (stored,) = Flag.objects.active().filter(kind="cap_signal")
    assert set(stored.claims.all()) == {baseline, later}
    assert set(stored.obligations.values_list("code", flat=True)) == {
        "UNSCR2371-OP11",
        "UNSCR2375-OP17",
    }

    lower = count(datetime.date(2018, 9, 1), 500)  # a new baseline: 4.2 times, to 2019
    services.checks_request_for(claims={(lower.pk, lower.place_id)})
    assert checks.partition_check("CN", today=TODAY).targeted
    (flag,) = Flag.objects.active().filter(kind="cap_signal")
    assert flag.pk == stored.pk
    assert set(flag.claims.all()) == {lower, later}
    assert flag.events.last().data == {"joined": [lower.pk], "left": [baseline.pk]}
    after_targeted = active_flags()
    checks.partition_check("CN", today=TODAY, whole=True)
    assert active_flags() == after_targeted


def test_first_ids_gives_each_querys_first_row_in_its_own_order_or_none():
    a = ClaimFactory(as_of=datetime.date(2019, 1, 1), count_low=10)
    b = ClaimFactory(as_of=datetime.date(2019, 6, 1), count_low=20)
    claims = Claim.objects.filter(pk__in=[a.pk, b.pk])
    queries = [
        claims.order_by("-as_of"),
        claims.none(),
        claims.order_by("as_of"),
        claims.filter(count_low=20).order_by("as_of"),
        claims.filter(count_low=30),
    ]
    assert selectors.first_ids(queries) == [b.pk, None, a.pk, b.pk, None]
    assert selectors.first_ids(queries[:1]) == [b.pk]
    assert selectors.first_ids([]) == []


def test_first_ids_of_distinct_queries_is_each_querys_first_row():
    a = ClaimFactory(as_of=datetime.date(2019, 1, 1))
    b = ClaimFactory(as_of=datetime.date(2019, 6, 1))
    claims = Claim.objects.filter(pk__in=[a.pk, b.pk]).distinct()
    assert selectors.first_ids([claims.order_by("-as_of"), claims.order_by("as_of")]) == [
        b.pk,
        a.pk,
    ]
