"""The reference data in both languages (design section 6, item 6): resolutions, obligations
(short names and summaries written in both), the member states' CLDR names; shown in the
reader's language wherever a country or obligation is shown."""

import babel
import pytest
from django.utils import translation

from tests.factories import ClaimFactory, PlaceFactory, country, obligation
from tracker.models import Obligation, Place, Resolution

pytestmark = pytest.mark.django_db


def test_every_member_state_has_cldrs_korean_name():
    cldr = babel.Locale("ko").territories
    countries = Place.objects.filter(kind="country")
    assert countries.count() == 193
    assert all(c.name_ko == cldr[c.iso_code] for c in countries)
    assert {
        c.iso_code: c.name_ko for c in countries.filter(iso_code__in=["CN", "KP", "KR", "RU"])
    } == {
        "CN": "중국",
        "KP": "북한",
        "KR": "대한민국",
        "RU": "러시아",
    }
    assert all(c.name_path_ko == c.name_ko for c in countries)
    assert Place.objects.get(kind="world").name_ko == "세계"


def test_every_obligation_has_its_short_name_and_summary_in_both_languages():
    names = {o.code: (o.short_name, o.short_name_ko) for o in Obligation.objects.all()}
    assert names == {
        "UNSCR2371-OP11": ("cap on work authorisations", "노동허가 상한"),
        "UNSCR2375-OP17": ("ban on new work authorisations", "신규 노동허가 금지"),
        "UNSCR2397-OP8": ("repatriation by 22 December 2019", "2019년 12월 22일까지 송환"),
        "UNSCR2397-OP8-MIDTERM": ("mid-term report to the 1718 Committee", "1718 위원회 중간 보고"),
        "UNSCR2397-OP8-FINAL": ("final report to the 1718 Committee", "1718 위원회 최종 보고"),
    }
    for ob in Obligation.objects.all():
        ob.full_clean()
        assert len(ob.summary_ko) > 30
        assert bool(ob.exceptions_ko) == bool(ob.exceptions)
    assert "난민법" in obligation("UNSCR2397-OP8").exceptions_ko
    assert set(Resolution.objects.values_list("title_ko", flat=True)) == {
        "비확산/조선민주주의인민공화국"
    }


def test_names_follow_the_readers_language():
    ob = obligation("UNSCR2375-OP17")
    china = country("CN")
    with translation.override("en"):
        assert (ob.name, str(ob), str(china), china.local_name) == (
            "ban on new work authorisations",
            "UNSCR2375-OP17",  # as monitors cite it; the pages show the name beside it
            "China",
            "China",
        )
        assert ob.local_summary == ob.summary
    with translation.override("ko"):
        assert (ob.name, str(ob), str(china), china.local_name) == (
            "신규 노동허가 금지",
            "UNSCR2375-OP17 · 신규 노동허가 금지",
            "중국",
            "중국",
        )
        assert ob.local_summary == ob.summary_ko


def test_a_place_without_a_korean_name_reads_its_english_one_inside_korean_ancestors():
    region = PlaceFactory(name="Northeast China", parent=country("CN"))
    province = PlaceFactory(name="Liaoning", kind=Place.Kind.PROVINCE, parent=region)
    province.refresh_from_db()
    assert province.name_path_ko == "중국 > Northeast China > Liaoning"
    region.name_ko = "중국 동북 지역"
    region.save()
    province.refresh_from_db()
    assert province.name_path_ko == "중국 > 중국 동북 지역 > Liaoning"
    assert province.name_path == "China > Northeast China > Liaoning"
    china = country("CN")
    china.name_ko = "중화인민공화국"
    china.save()
    province.refresh_from_db()
    assert province.name_path_ko == "중화인민공화국 > 중국 동북 지역 > Liaoning"
    with translation.override("ko"):
        assert str(province) == "중화인민공화국 > 중국 동북 지역 > Liaoning"


def test_the_demo_places_have_korean_names():
    import io

    from django.core.management import call_command

    call_command("loaddemo", stdout=io.StringIO())
    liaoning = Place.objects.get(name="Liaoning")
    assert liaoning.name_path_ko == "중국 > 중국 동북 지역 > 랴오닝성"


def test_the_pages_show_countries_and_obligations_in_the_readers_language(viewer_client):
    ClaimFactory(place=country("CN"), obligation=obligation("UNSCR2375-OP17"), stance="violating")
    korean = {"HTTP_ACCEPT_LANGUAGE": "ko"}
    page = viewer_client.get("/claims/", **korean).content.decode()
    assert "· 중국 ·" in page  # the claim's place
    assert '<td title="UNSCR2375-OP17">신규 노동허가 금지</td>' in page
    assert '<option value="CN">중국</option>' in page  # the country filter
    page = viewer_client.get("/?all=1", **korean).content.decode()
    assert (
        '<th scope="col">2019년 12월 22일까지 송환<br><span class="code">UNSCR2397-OP8</span></th>'
        in page
    )
    assert ">대한민국</a>" in page
    page = viewer_client.get("/countries/KR/", **korean).content.decode()
    assert "<h1>대한민국 (KR)</h1>" in page
    page = viewer_client.get("/claims/").content.decode()
    assert '<td title="UNSCR2375-OP17">ban on new work authorisations</td>' in page


def test_the_admin_finds_an_obligation_by_its_name_in_either_language(editor_client):
    for term in ["repatriation", "송환", "UNSCR2397-OP8"]:
        page = editor_client.get("/admin/tracker/obligation/", {"q": term})
        codes = {o.code for o in page.context["cl"].result_list}
        assert "UNSCR2397-OP8" in codes, term
    page = editor_client.get("/admin/tracker/place/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "아프가니스탄" in page  # the Korean name column


def test_the_api_gives_the_korean_names_beside_the_english_ones(viewer_client):
    china = viewer_client.get(f"/api/places/{country('CN').pk}/").json()
    assert (china["name"], china["name_ko"], china["name_path_ko"]) == ("China", "중국", "중국")
    ob = viewer_client.get(f"/api/obligations/{obligation('UNSCR2375-OP17').pk}/").json()
    assert (ob["short_name"], ob["short_name_ko"]) == (
        "ban on new work authorisations",
        "신규 노동허가 금지",
    )
    assert ob["summary_ko"].startswith("각국은")
