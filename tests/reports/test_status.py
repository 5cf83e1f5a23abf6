"""The status of a (country, obligation) pair: kept by the checks with the facts of its reason
(tracker.rules.status_of), said for each reader when read (reports.status)."""

import datetime

import pytest
from django.utils import translation

from reports.status import status_matrix
from tests.factories import (
    ClaimFactory,
    PlaceFactory,
    ReportFactory,
    SourceFactory,
    country,
    obligation,
)
from tracker import checks, services
from tracker.models import Flag, PairStatus, Place, Source

pytestmark = pytest.mark.django_db

SOON_AFTER = datetime.date(2020, 3, 1)  # the evidence below is recent then
OP8 = "UNSCR2397-OP8"


def cell(iso="CN", code=OP8, today=SOON_AFTER, *, sees=False):
    """The pair's status once the country is checked as of ``today``, said in English."""
    checks.sweep(today=today, keys=[iso])
    with translation.override("en"):
        matrix = status_matrix(
            countries=[country(iso)], obligations=[obligation(code)], today=today, sees=sees
        )
    return matrix.cell(country(iso).pk, obligation(code).pk)


def violating(**kwargs):
    defaults = {"place": country("CN"), "obligation": obligation(OP8), "stance": "violating",
                "measure": "", "count_low": None, "count_high": None}  # fmt: skip
    return ClaimFactory(**{**defaults, **kwargs})


def test_a_pair_never_checked_is_unknown_since_the_obligation_took_effect():
    with translation.override("en"):
        matrix = status_matrix(countries=[country("CN")], obligations=[obligation(OP8)])
    result = matrix.cell(country("CN").pk, obligation(OP8).pk)
    assert result.status == "unknown"
    assert result.reason == "unknown: no evidence with a stance since 22 December 2017"


def test_unknown_after_a_check_without_evidence():
    result = cell()
    assert result.status == "unknown"
    assert result.reason == "unknown: no evidence with a stance since 22 December 2019"


def test_violating_counts_claims_and_independent_sources_since_the_deadline():
    ngo = SourceFactory()
    violating(as_of=datetime.date(2019, 12, 23), attributed_to=ngo)
    violating(as_of=datetime.date(2020, 1, 22), attributed_to=ngo)
    violating(as_of=datetime.date(2020, 1, 10))
    violating(as_of=datetime.date(2019, 6, 1))  # before the deadline: not evidence of breach
    result = cell()
    assert result.status == "violating"
    assert result.reason == (
        "violating: 3 claims from 2 independent source(s) since 22 December 2019, newest "
        "22 January 2020"
    )
    assert result.newest_as_of == datetime.date(2020, 1, 22)
    assert result.claims == 3


def test_a_claim_inside_the_country_counts_for_it():
    liaoning = PlaceFactory(name="Liaoning", parent=country("CN"))
    violating(place=liaoning, as_of=datetime.date(2020, 2, 1))
    assert cell().status == "violating"


def test_complying_evidence_outweighs_weakly_graded_violations():
    # One source throughout: its claims never contest one another (a stance conflict needs
    # two sources), so the weighing decides.
    ngo = SourceFactory()
    violating(as_of=datetime.date(2020, 1, 5), attributed_to=ngo, credibility=6)
    violating(as_of=datetime.date(2020, 1, 6), attributed_to=ngo, credibility=5)
    for day, credibility in ((7, 6), (8, 2), (9, 2)):
        violating(as_of=datetime.date(2020, 1, day), stance="complying", attributed_to=ngo,
                  credibility=credibility)  # fmt: skip
    result = cell()
    assert result.status == "complying"
    assert result.reason == (
        "complying: 3 claims from 1 independent source(s) since 22 December 2019, newest "
        "9 January 2020 (1 weakly graded, counted half); against 1 violating (weighted 2.5)"
    )


def test_a_tie_goes_to_violating_and_partial_is_its_own_status():
    ngo = SourceFactory()
    violating(as_of=datetime.date(2020, 1, 5), attributed_to=ngo)
    violating(as_of=datetime.date(2020, 1, 6), stance="complying", attributed_to=ngo)
    assert cell().status == "violating"
    violating(place=country("RU"), as_of=datetime.date(2020, 1, 6), stance="partial")
    assert cell("RU").reason.startswith("partial: 1 claim from 1 independent source(s)")


def test_a_reason_is_said_in_korean_for_a_reader_of_korean():
    """The same stored facts, said in Korean: the catalogue's words, Korean dates, and the
    number of claims and sources in Korean order."""
    ngo = SourceFactory()
    violating(as_of=datetime.date(2019, 12, 23), attributed_to=ngo)
    violating(as_of=datetime.date(2020, 1, 22), attributed_to=ngo)
    violating(as_of=datetime.date(2020, 1, 10))
    today = datetime.date(2020, 4, 1)  # the final report is overdue then
    checks.sweep(today=today, keys=["CN"])
    final = obligation("UNSCR2397-OP8-FINAL")
    with translation.override("ko"):
        matrix = status_matrix(
            countries=[country("CN")], obligations=[obligation(OP8), final], today=today
        )
    assert matrix.cell(country("CN").pk, obligation(OP8).pk).reason == (
        "위반: 2019년 12월 22일 이후 독립 출처 2곳의 주장 3건, 가장 최근 2020년 1월 22일"
    )
    overdue = Flag.objects.get(kind="overdue_report", obligations=final)
    assert matrix.cell(country("CN").pk, final.pk).reason == (
        f"위반: 2020년 3월 22일 마감 보고서 미등록 (플래그 #{overdue.pk})"
    )


def test_contested_by_an_open_conflict_flag_whatever_the_evidence():
    violating(as_of=datetime.date(2020, 1, 5))
    for low in (50_000, 90_000):
        ClaimFactory(place=country("CN"), count_low=low, as_of=datetime.date(2020, 1, 5))
    result = cell()
    conflict = Flag.objects.get(kind="count_conflict")
    assert result.status == "contested"
    assert result.reason == f"contested: open count conflict #{conflict.pk}"
    assert result.flag_ids == (conflict.pk,)


def test_dismissing_the_conflict_makes_the_status_follow_the_evidence_again(editor):
    violating(as_of=datetime.date(2020, 1, 5))
    for low in (50_000, 90_000):
        ClaimFactory(place=country("CN"), count_low=low, as_of=datetime.date(2020, 1, 5))
    assert cell().status == "contested"
    conflict = Flag.objects.get(kind="count_conflict")
    services.flags_dismiss(flag_ids=[conflict.pk], user=editor, reason="Two definitions.")
    assert cell().status == "violating"


def test_a_count_conflict_does_not_contest_a_reporting_obligation():
    for low in (50_000, 90_000):
        ClaimFactory(place=country("CN"), count_low=low, as_of=datetime.date(2020, 1, 5))
    assert cell(code="UNSCR2397-OP8-FINAL").status != "contested"


def test_stale_by_an_open_staleness_flag():
    violating(as_of=datetime.date(2020, 1, 5))
    result = cell(today=datetime.date(2021, 1, 5))
    stale = Flag.objects.get(kind="stale", obligations__code=OP8)
    assert (
        result.reason == f"stale: newest evidence 5 January 2020; open staleness flag #{stale.pk}"
    )


def test_reporting_obligation_overdue_is_violating():
    violating(as_of=datetime.date(2020, 1, 5))
    result = cell(code="UNSCR2397-OP8-FINAL", today=datetime.date(2020, 4, 1))
    overdue = Flag.objects.get(kind="overdue_report", obligations__code="UNSCR2397-OP8-FINAL")
    assert result.reason == f"violating: report due 22 March 2020 not logged (flag #{overdue.pk})"


def test_reporting_obligation_with_the_states_report_is_complying():
    prc = SourceFactory(kind=Source.Kind.SELF_REPORT, country=country("CN"), name="PRC")
    violating(
        attributed_to=prc,
        obligation=obligation("UNSCR2397-OP8-FINAL"),
        stance="complying",
        as_of=datetime.date(2020, 3, 20),
        external_id="PRC-1",
    )
    assert cell(code="UNSCR2397-OP8-FINAL", today=datetime.date(2020, 4, 1)).reason == (
        "complying: report logged (claim PRC-1, as of 20 March 2020)"
    )


def test_a_states_confidential_report_is_named_by_number_not_by_its_reference():
    """A state's report it asked not to be published: the status says it is logged, but the
    monitor's own reference for it (which may say whose it is) stays with who may see it,
    as it is when read: the same stored status names it for the trusted."""
    prc = SourceFactory(kind=Source.Kind.SELF_REPORT, country=country("CN"), name="PRC")
    claim = violating(
        attributed_to=prc,
        report=ReportFactory(confidential=True),
        obligation=obligation("UNSCR2397-OP8-FINAL"),
        stance="complying",
        as_of=datetime.date(2020, 3, 20),
        external_id="PRC-UNPUBLISHED-1",
    )
    today = datetime.date(2020, 4, 1)
    assert cell(code="UNSCR2397-OP8-FINAL", today=today).reason == (
        f"complying: report logged (claim #{claim.pk}, as of 20 March 2020)"
    )
    assert "PRC-UNPUBLISHED-1" in cell(code="UNSCR2397-OP8-FINAL", today=today, sees=True).reason


def test_new_work_permits_after_the_ban_are_violating_evidence():
    ClaimFactory(
        place=country("RU"),
        measure="new_work_permits",
        count_low=300,
        count_high=300,
        period_start=datetime.date(2018, 1, 1),
        as_of=datetime.date(2018, 6, 30),
    )
    assert cell("RU", "UNSCR2375-OP17", today=datetime.date(2018, 7, 1)).status == "violating"


def test_a_targeted_check_keeps_the_status_a_whole_check_keeps():
    violating(as_of=datetime.date(2020, 1, 5))
    checks.sweep(today=SOON_AFTER, keys=["CN"])
    claim = violating(as_of=datetime.date(2020, 2, 5), stance="complying")
    services.checks_request_for(claims={(claim.pk, claim.place_id)})
    assert checks.partition_check("CN", today=SOON_AFTER).targeted

    def kept():
        return {
            (o, status, repr(reason), claims)
            for o, status, reason, claims in PairStatus.objects.values_list(
                "obligation", "status", "reason", "claims"
            )
        }

    targeted = kept()
    checks.partition_check("CN", today=SOON_AFTER, whole=True)
    assert kept() == targeted


@pytest.mark.parametrize("n", [1, 50])
def test_the_matrix_runs_the_same_queries_for_1_and_50_countries(django_assert_num_queries, n):
    countries = list(Place.objects.countries().order_by("iso_code")[:n])
    for c in countries:
        violating(place=c, as_of=datetime.date(2020, 1, 5))
    checks.sweep(today=SOON_AFTER, keys=[c.iso_code for c in countries])
    # The obligations, the kept statuses (the countries are given): the reasons name no claim.
    with django_assert_num_queries(2):
        matrix = status_matrix(countries=countries, today=SOON_AFTER, sees=False)
    assert len(matrix.cells) == n * 5
