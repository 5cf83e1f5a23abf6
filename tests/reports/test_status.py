"""The status of a (country, obligation) pair, each with its one-line reason."""

import datetime

import pytest
from django.utils import timezone

from reports.status import status_matrix
from tests.factories import (
    ClaimFactory,
    PlaceFactory,
    ReportFactory,
    SourceFactory,
    country,
    obligation,
)
from tracker.models import Flag, Source

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 24)
OP8 = "UNSCR2397-OP8"


def cell(iso="CN", code=OP8, today=TODAY):
    matrix = status_matrix(countries=[country(iso)], obligations=[obligation(code)], today=today)
    return matrix.cell(country(iso).pk, obligation(code).pk)


def flag(kind, iso="CN", code=None, status="open"):
    now = timezone.now()
    made = Flag.objects.create(
        kind=kind,
        place=country(iso),
        country=country(iso),
        fingerprint=f"{kind}-{iso}-{code}-{status}",
        first_seen=now,
        last_seen=now,
        status=status,
    )
    if code:
        made.obligations.add(obligation(code))
    return made


def violating(**kwargs):
    defaults = {"place": country("CN"), "obligation": obligation(OP8), "stance": "violating",
                "measure": "", "count_low": None, "count_high": None}  # fmt: skip
    return ClaimFactory(**{**defaults, **kwargs})


def test_unknown_without_evidence():
    result = cell()
    assert result.status == "unknown"
    assert result.reason == "unknown: no evidence with a stance since 2019-12-22"


def test_violating_counts_claims_and_independent_sources_since_the_deadline():
    ngo = SourceFactory()
    violating(as_of=datetime.date(2019, 12, 23), attributed_to=ngo)
    violating(as_of=datetime.date(2020, 1, 22), attributed_to=ngo)
    violating(as_of=datetime.date(2020, 1, 10))
    violating(as_of=datetime.date(2019, 6, 1))  # before the deadline: not evidence of breach
    result = cell()
    assert result.status == "violating"
    assert result.reason == (
        "violating: 3 claims from 2 independent sources since 2019-12-22, newest 2020-01-22"
    )
    assert result.newest_as_of == datetime.date(2020, 1, 22)
    assert len(result.claim_ids) == 3


def test_a_claim_inside_the_country_counts_for_it():
    liaoning = PlaceFactory(name="Liaoning", parent=country("CN"))
    violating(place=liaoning, as_of=datetime.date(2020, 2, 1))
    assert cell().status == "violating"


def test_complying_evidence_outweighs_weakly_graded_violations():
    weak = SourceFactory(reliability="E")
    violating(as_of=datetime.date(2020, 1, 5), attributed_to=weak)
    violating(as_of=datetime.date(2020, 1, 6), credibility=6)
    violating(as_of=datetime.date(2020, 1, 7), stance="complying")
    violating(as_of=datetime.date(2020, 1, 8), stance="complying")
    result = cell()
    assert result.status == "complying"
    assert result.reason == (
        "complying: 2 claims from 2 independent sources since 2019-12-22, newest 2020-01-08; "
        "against 1 violating (weighted 2)"
    )


def test_a_tie_goes_to_violating():
    violating(as_of=datetime.date(2020, 1, 5))
    violating(as_of=datetime.date(2020, 1, 6), stance="complying")
    assert cell().status == "violating"


def test_partial():
    violating(as_of=datetime.date(2020, 3, 1), stance="partial")
    assert cell().reason.startswith("partial: 1 claim from 1 independent source since 2019-12-22")


def test_contested_by_an_open_conflict_flag_whatever_the_evidence():
    violating(as_of=datetime.date(2020, 1, 5))
    conflict = flag("count_conflict")
    result = cell()
    assert result.status == "contested"
    assert result.reason == f"contested: open count conflict #{conflict.pk}"
    assert result.flag_ids == (conflict.pk,)


def test_a_dismissed_conflict_does_not_contest():
    violating(as_of=datetime.date(2020, 1, 5))
    flag("count_conflict", status="dismissed")
    assert cell().status == "violating"


def test_a_count_conflict_does_not_contest_a_reporting_obligation():
    flag("count_conflict")
    assert cell(code="UNSCR2397-OP8-FINAL").status != "contested"


def test_stale_by_an_open_staleness_flag():
    violating(as_of=datetime.date(2020, 1, 5))
    stale = flag("stale", code=OP8)
    assert cell().reason == f"stale: newest evidence 2020-01-05; open staleness flag #{stale.pk}"


def test_reporting_obligation_overdue_is_violating():
    overdue = flag("overdue_report", code="UNSCR2397-OP8-FINAL")
    assert cell(code="UNSCR2397-OP8-FINAL").reason == (
        f"violating: report due 2020-03-22 not logged (flag #{overdue.pk})"
    )


def test_reporting_obligation_with_the_states_report_is_complying():
    prc = SourceFactory(kind=Source.Kind.SELF_REPORT, country=country("CN"), name="PRC")
    violating(
        attributed_to=prc,
        obligation=obligation("UNSCR2397-OP8-FINAL"),
        stance="complying",
        as_of=datetime.date(2020, 3, 20),
        external_id="PRC-1",
    )
    assert cell(code="UNSCR2397-OP8-FINAL").reason == (
        "complying: report logged (claim PRC-1, as of 2020-03-20)"
    )


def test_a_states_confidential_report_is_named_by_number_not_by_its_reference():
    """A state's report it asked not to be published: the status says it is logged, but the
    monitor's own reference for it (which may say whose it is) stays with who may see it."""
    prc = SourceFactory(kind=Source.Kind.SELF_REPORT, country=country("CN"), name="PRC")
    claim = violating(
        attributed_to=prc,
        report=ReportFactory(confidential=True),
        obligation=obligation("UNSCR2397-OP8-FINAL"),
        stance="complying",
        as_of=datetime.date(2020, 3, 20),
        external_id="PRC-UNPUBLISHED-1",
    )
    assert cell(code="UNSCR2397-OP8-FINAL").reason == (
        f"complying: report logged (claim #{claim.pk}, as of 2020-03-20)"
    )


def test_new_work_permits_after_the_ban_are_violating_evidence():
    ClaimFactory(
        place=country("RU"),
        measure="new_work_permits",
        count_low=300,
        count_high=300,
        period_start=datetime.date(2018, 1, 1),
        as_of=datetime.date(2018, 6, 30),
    )
    assert cell("RU", "UNSCR2375-OP17").status == "violating"


@pytest.mark.parametrize("n", [1, 50])
def test_the_matrix_runs_the_same_queries_for_1_and_50_countries(django_assert_num_queries, n):
    from tracker.models import Place

    countries = list(Place.objects.countries().order_by("iso_code")[:n])
    for c in countries:
        violating(place=c, as_of=datetime.date(2020, 1, 5))
    # obligations, places, the restricted reports (for claims' references), claims, flags
    with django_assert_num_queries(5):
        matrix = status_matrix(countries=countries, today=TODAY)
    assert len(matrix.cells) == n * 5
