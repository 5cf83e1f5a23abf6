"""A flag said for its reader (tracker.flags.render): every kind, for a reader with and
without the permission to see confidential material, and the three failures of stored,
regex-patched sentences that rendering at read time removes (issue 28)."""

import datetime

import pytest
from django.utils import translation

from tests.factories import (
    ClaimFactory,
    PlaceFactory,
    ReportFactory,
    SourceFactory,
    WatchFactory,
    country,
    obligation,
)
from tracker import checks
from tracker.flags.render import FlagText
from tracker.models import Claim, Flag

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 24)
D = datetime.date


def said(flag, *, sees: bool, language: str = "en") -> str:
    with translation.override(language):
        return FlagText([flag], sees=sees).sentence(flag)


def resolution(flag, *, sees: bool, language: str = "en") -> str:
    with translation.override(language):
        return FlagText([flag], sees=sees).resolution(flag)


def flag_of(kind: str, **filters) -> Flag:
    return Flag.objects.get(kind=kind, **filters)


@pytest.fixture
def informant():
    return SourceFactory(name="Informant K", confidential=True)


# --- every kind, in English, for both readers -----------------------------------------------------


def test_a_count_conflict_of_two_sources_says_who_says_what(informant):
    ClaimFactory(place=country("CN"), count_low=50_000, attributed_to=SourceFactory(name="KINU"))
    ClaimFactory(place=country("CN"), count_low=70_000, count_high=80_000, attributed_to=informant)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = flag_of("count_conflict")
    assert said(flag, sees=True) == (
        "KINU says 50,000 workers in China (as of 1 December 2019) but Informant K says "
        "70,000–80,000 (as of 1 December 2019)."
    )
    assert said(flag, sees=False) == (
        "KINU says 50,000 workers in China (as of 1 December 2019) but a confidential source "
        "says 70,000–80,000 (as of 1 December 2019)."
    )


def test_a_count_conflict_of_several_sources_gives_the_range_and_its_ends():
    kuwait = country("KW")
    for name, low, day in [("Manpower authority", 6064, D(2017, 7, 10)),
                           ("AP officials", 2500, D(2017, 8, 1)),
                           ("Residence affairs", 1800, D(2017, 8, 20)),
                           ("Reuters source", 3000, D(2017, 9, 15))]:  # fmt: skip
        ClaimFactory(place=kuwait, count_low=low, as_of=day, attributed_to=SourceFactory(name=name))
    checks.sweep(today=TODAY, keys=["KW"])
    assert said(flag_of("count_conflict"), sees=False) == (
        "4 sources disagree about the number of workers in Kuwait between 10 July 2017 and "
        "15 September 2017: from 1,800 (Residence affairs, as of 20 August 2017) to 6,064 "
        "(Manpower authority, as of 10 July 2017)."
    )


def test_a_scope_conflict_says_the_part_cannot_hold_more_than_the_whole(informant):
    northeast = PlaceFactory(name="Northeast China", parent=country("CN"))
    ClaimFactory(place=northeast, count_low=60_000, attributed_to=informant)
    ClaimFactory(place=country("CN"), count_low=50_000, attributed_to=SourceFactory(name="KINU"))
    checks.sweep(today=TODAY, keys=["CN"])
    flag = flag_of("scope_conflict")
    assert said(flag, sees=False) == (
        "a confidential source says 60,000 workers in Northeast China (as of 1 December 2019) "
        "but KINU says 50,000 in all of China (as of 1 December 2019): the part cannot hold "
        "more than the whole."
    )
    assert said(flag, sees=True).startswith("Informant K says 60,000")


def test_a_stance_conflict_names_the_obligation_and_where_it_is_violated(informant):
    op8 = obligation("UNSCR2397-OP8")
    state = SourceFactory(name="China's foreign ministry", kind="government", country=country("CN"))
    ClaimFactory(place=country("CN"), obligation=op8, stance="complying", attributed_to=state,
                 measure="", count_low=None, count_high=None, as_of=D(2019, 12, 23))  # fmt: skip
    ClaimFactory(place=PlaceFactory(name="Dandong", parent=country("CN"), kind="city"),
                 obligation=op8, stance="violating", attributed_to=informant, measure="",
                 count_low=None, count_high=None, as_of=D(2020, 1, 10))  # fmt: skip
    checks.sweep(today=TODAY, keys=["CN"])
    assert said(flag_of("stance_conflict"), sees=False) == (
        "China's foreign ministry says China is complying with UNSCR2397-OP8 (as of 23 December "
        "2019) but a confidential source says it is violating it in Dandong (as of 10 January "
        "2020)."
    )


def test_a_cap_signal_names_the_rise_and_every_obligation_it_bears_on():
    northeast = PlaceFactory(name="Northeast China", parent=country("CN"))
    ClaimFactory(place=northeast, count_low=20_000, as_of=D(2017, 10, 1),
                 attributed_to=SourceFactory(name="Asan Institute"))  # fmt: skip
    ClaimFactory(place=northeast, count_low=60_000, as_of=D(2019, 12, 23),
                 attributed_to=SourceFactory(name="NKDB"))  # fmt: skip
    checks.sweep(today=TODAY, keys=["CN"])
    assert said(flag_of("cap_signal"), sees=False) == (
        "The number of workers in Northeast China rose from 20,000 (Asan Institute, as of 1 "
        "October 2017) to 60,000 (NKDB, as of 23 December 2019), a rise of 200%, under "
        "UNSCR2371-OP11 and UNSCR2375-OP17."
    )


def test_staleness_and_overdue_reports_say_since_when():
    for code in ("UNSCR2397-OP8", "UNSCR2397-OP8-FINAL"):
        WatchFactory(place=country("QA"), obligation=obligation(code))
    checks.sweep(today=TODAY, keys=["QA"])
    stale = flag_of("stale", obligations__code="UNSCR2397-OP8")
    assert said(stale, sees=False) == (
        "No evidence on Qatar for UNSCR2397-OP8 since it took effect on 22 December 2017, "
        "3,259 days before 24 November 2026 (the maximum age is 180 days). The deadline of 22 "
        "December 2019 has passed with no claim on Qatar since."
    )
    overdue = flag_of("overdue_report", obligations__code="UNSCR2397-OP8-FINAL")
    assert said(overdue, sees=False) == (
        "Qatar's report under UNSCR2397-OP8-FINAL was due on 22 March 2020: no self-report from "
        "Qatar concerning it is logged (2,438 days overdue on 24 November 2026)."
    )


# --- the failures of stored, patched sentences ----------------------------------------------------


def test_a_confidential_source_named_like_a_place_leaves_the_place_named():
    """A regex concealing the source "China" turned "50,000 workers in China" into "in a
    confidential source"."""
    named_china = SourceFactory(name="China", confidential=True)
    ClaimFactory(place=country("CN"), count_low=50_000, attributed_to=named_china)
    ClaimFactory(place=country("CN"), count_low=90_000, attributed_to=SourceFactory(name="KITA"))
    checks.sweep(today=TODAY, keys=["CN"])
    assert said(flag_of("count_conflict"), sees=False) == (
        "a confidential source says 50,000 workers in China (as of 1 December 2019) but KITA "
        "says 90,000 (as of 1 December 2019)."
    )


def test_a_source_made_confidential_then_public_again_is_named_again_even_when_resolved():
    nkdb = SourceFactory(name="NKDB")
    a = ClaimFactory(place=country("CN"), count_low=50_000, attributed_to=nkdb)
    ClaimFactory(place=country("CN"), count_low=90_000)
    checks.sweep(today=TODAY, keys=["CN"])
    Claim.objects.filter(pk=a.pk).update(count_low=85_000, count_high=85_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = flag_of("count_conflict")
    assert flag.status == Flag.Status.RESOLVED
    nkdb.confidential = True
    nkdb.save()
    assert "NKDB" not in said(flag, sees=False)
    nkdb.confidential = False
    nkdb.save()
    assert said(flag, sees=False).startswith("NKDB says 50,000")


def test_a_reason_names_a_claim_by_number_once_it_moves_into_a_confidential_report():
    """A resolution reason kept naming "NKDB-INTERVIEW-17" after the claim moved into a
    confidential report."""
    claim = ClaimFactory(place=country("CN"), count_low=50_000, external_id="NKDB-INTERVIEW-17")
    other = ClaimFactory(place=country("CN"), count_low=90_000)
    checks.sweep(today=TODAY, keys=["CN"])
    Claim.objects.filter(pk=other.pk).update(count_low=52_000, count_high=52_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = flag_of("count_conflict")
    assert "NKDB-INTERVIEW-17" in resolution(flag, sees=False)
    claim.report = ReportFactory(confidential=True)
    claim.save()
    text = resolution(flag, sees=False)
    assert "NKDB-INTERVIEW-17" not in text and f"#{claim.pk}" in text
    assert "NKDB-INTERVIEW-17" in resolution(flag, sees=True)


# --- every kind, in Korean, for both readers ------------------------------------------------------
# The same cases said for a reader of Korean: the catalogue's sentences, places by their Korean
# names, figures grouped and dates written as Korean readers write them ("2019년 12월 1일"), and
# a source hidden from the reader named "비공개 출처" (confidential source).

BOTH = pytest.mark.parametrize("sees", [True, False], ids=["sees", "does-not-see"])


def korean(flag, *, sees: bool) -> str:
    return said(flag, sees=sees, language="ko")


def test_in_korean_a_count_conflict_of_two_sources_says_who_says_what(informant):
    ClaimFactory(place=country("CN"), count_low=50_000, attributed_to=SourceFactory(name="KINU"))
    ClaimFactory(place=country("CN"), count_low=70_000, count_high=80_000, attributed_to=informant)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = flag_of("count_conflict")
    assert korean(flag, sees=True) == (
        "KINU에 따르면 중국의 노동자 수는 50,000(2019년 12월 1일 기준)이지만, Informant K에 "
        "따르면 70,000~80,000(2019년 12월 1일 기준)입니다."
    )
    assert korean(flag, sees=False) == (
        "KINU에 따르면 중국의 노동자 수는 50,000(2019년 12월 1일 기준)이지만, 비공개 출처에 "
        "따르면 70,000~80,000(2019년 12월 1일 기준)입니다."
    )


@BOTH
def test_in_korean_a_count_conflict_of_several_sources_gives_the_range_and_its_ends(sees):
    kuwait = country("KW")
    for name, low, day in [("Manpower authority", 6064, D(2017, 7, 10)),
                           ("AP officials", 2500, D(2017, 8, 1)),
                           ("Residence affairs", 1800, D(2017, 8, 20)),
                           ("Reuters source", 3000, D(2017, 9, 15))]:  # fmt: skip
        ClaimFactory(place=kuwait, count_low=low, as_of=day, attributed_to=SourceFactory(name=name))
    checks.sweep(today=TODAY, keys=["KW"])
    assert korean(flag_of("count_conflict"), sees=sees) == (
        "2017년 7월 10일부터 2017년 9월 15일까지 쿠웨이트의 노동자 수를 두고 출처 4곳의 수치가 "
        "엇갈립니다. 가장 낮게는 1,800(Residence affairs, 2017년 8월 20일 기준), 가장 높게는 "
        "6,064(Manpower authority, 2017년 7월 10일 기준)입니다."
    )


def test_in_korean_a_scope_conflict_says_the_part_cannot_hold_more_than_the_whole(informant):
    northeast = PlaceFactory(name="Northeast China", name_ko="중국 동북부", parent=country("CN"))
    ClaimFactory(place=northeast, count_low=60_000, attributed_to=informant)
    ClaimFactory(place=country("CN"), count_low=50_000, attributed_to=SourceFactory(name="KINU"))
    checks.sweep(today=TODAY, keys=["CN"])
    flag = flag_of("scope_conflict")
    assert korean(flag, sees=False) == (
        "비공개 출처에 따르면 중국 동북부의 노동자 수는 60,000(2019년 12월 1일 기준)이지만, "
        "KINU에 따르면 중국 전체의 노동자 수는 50,000(2019년 12월 1일 기준)입니다. 부분이 "
        "전체보다 많을 수는 없습니다."
    )
    assert korean(flag, sees=True).startswith("Informant K에 따르면 중국 동북부의 노동자 수는")


def test_in_korean_a_stance_conflict_names_the_obligation_and_where_it_is_violated(informant):
    op8 = obligation("UNSCR2397-OP8")
    state = SourceFactory(name="China's foreign ministry", kind="government", country=country("CN"))
    ClaimFactory(place=country("CN"), obligation=op8, stance="complying", attributed_to=state,
                 measure="", count_low=None, count_high=None, as_of=D(2019, 12, 23))  # fmt: skip
    dandong = PlaceFactory(name="Dandong", name_ko="단둥", parent=country("CN"), kind="city")
    ClaimFactory(place=dandong, obligation=op8, stance="violating", attributed_to=informant,
                 measure="", count_low=None, count_high=None, as_of=D(2020, 1, 10))  # fmt: skip
    checks.sweep(today=TODAY, keys=["CN"])
    flag = flag_of("stance_conflict")
    assert korean(flag, sees=False) == (
        "China's foreign ministry에 따르면 중국에서 UNSCR2397-OP8 의무가 이행되고 "
        "있지만(2019년 12월 23일 기준), 비공개 출처에 따르면 단둥에서 이 의무가 위반되고 "
        "있습니다(2020년 1월 10일 기준)."
    )
    assert "Informant K에 따르면 단둥에서" in korean(flag, sees=True)


@BOTH
def test_in_korean_a_cap_signal_names_the_rise_and_every_obligation_it_bears_on(sees):
    northeast = PlaceFactory(name="Northeast China", name_ko="중국 동북부", parent=country("CN"))
    ClaimFactory(place=northeast, count_low=20_000, as_of=D(2017, 10, 1),
                 attributed_to=SourceFactory(name="Asan Institute"))  # fmt: skip
    ClaimFactory(place=northeast, count_low=60_000, as_of=D(2019, 12, 23),
                 attributed_to=SourceFactory(name="NKDB"))  # fmt: skip
    checks.sweep(today=TODAY, keys=["CN"])
    assert korean(flag_of("cap_signal"), sees=sees) == (
        "UNSCR2371-OP11 및 UNSCR2375-OP17 발효 이후 중국 동북부의 노동자 수가 20,000(Asan "
        "Institute, 2017년 10월 1일 기준)에서 60,000(NKDB, 2019년 12월 23일 기준)까지 200% "
        "증가했습니다."
    )


@BOTH
def test_in_korean_staleness_and_overdue_reports_say_since_when(sees):
    for code in ("UNSCR2397-OP8", "UNSCR2397-OP8-FINAL"):
        WatchFactory(place=country("QA"), obligation=obligation(code))
    checks.sweep(today=TODAY, keys=["QA"])
    stale = flag_of("stale", obligations__code="UNSCR2397-OP8")
    assert korean(stale, sees=sees) == (
        "UNSCR2397-OP8 발효일(2017년 12월 22일) 이후 카타르에 관한 증거가 없습니다. 2026년 11월 "
        "24일 현재 3,259일이 지났습니다(증거 유효 기간 180일). 기한(2019년 12월 22일)이 지났지만 "
        "그 뒤로 카타르에 관한 주장이 없습니다."
    )
    overdue = flag_of("overdue_report", obligations__code="UNSCR2397-OP8-FINAL")
    assert korean(overdue, sees=sees) == (
        "카타르의 UNSCR2397-OP8-FINAL 보고 마감일은 2020년 3월 22일이었지만, 이 의무에 관한 "
        "카타르의 자체 보고는 등록되지 않았습니다(2026년 11월 24일 현재 마감 후 2,438일 경과)."
    )


def test_in_korean_staleness_names_the_newest_claims_source_as_the_reader_may_see_it(informant):
    ClaimFactory(place=country("CN"), obligation=obligation("UNSCR2397-OP8"), stance="violating",
                 attributed_to=informant, measure="", count_low=None, count_high=None,
                 as_of=D(2020, 1, 10))  # fmt: skip
    checks.sweep(today=TODAY, keys=["CN"])
    stale = flag_of("stale", obligations__code="UNSCR2397-OP8")
    sentence = (
        "중국의 UNSCR2397-OP8에 관한 가장 최근 증거는 {}의 주장(2020년 1월 10일 기준)으로, "
        "2026년 11월 24일 현재 2,510일이 지났습니다(증거 유효 기간 180일)."
    )
    assert korean(stale, sees=True) == sentence.format("Informant K")
    assert korean(stale, sees=False) == sentence.format("비공개 출처")


def test_in_korean_a_reason_and_the_timeline_name_claims_as_the_reader_may_see_them():
    claim = ClaimFactory(place=country("CN"), count_low=50_000, external_id="NKDB-INTERVIEW-17")
    other = ClaimFactory(place=country("CN"), count_low=90_000)
    checks.sweep(today=TODAY, keys=["CN"])
    Claim.objects.filter(pk=other.pk).update(count_low=52_000, count_high=52_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = flag_of("count_conflict")

    def reason(first: str) -> str:
        return f"주장 {first}, #{other.pk}의 수치 차이가 이제 허용 오차(10%) 이내입니다."

    assert resolution(flag, sees=False, language="ko") == reason("NKDB-INTERVIEW-17")
    claim.report = ReportFactory(confidential=True)
    claim.save()
    assert resolution(flag, sees=False, language="ko") == reason(f"#{claim.pk}")
    assert resolution(flag, sees=True, language="ko") == reason("NKDB-INTERVIEW-17")
    events = list(flag.events.order_by("pk"))
    with translation.override("ko"):
        notes = [FlagText([flag], sees=False, events=events).event(e, flag) for e in events]
    assert notes[-1] == reason(f"#{claim.pk}")  # the timeline's "resolved" step
