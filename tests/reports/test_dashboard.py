"""The dashboard: attention first, every member state on request, the world map and its
legend, the open flags by kind and severity, in a constant number of queries."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from reports import worldmap
from reports.dashboard import dashboard_for, default_map_obligation
from reports.status import status_matrix
from tests.factories import ClaimFactory, country, obligation
from tracker import checks
from tracker.models import Flag, Place, Watch

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2019, 2, 1)  # before any report was due: no overdue flags
CAP = "UNSCR2371-OP11"


def flag(iso: str, kind: str = "count_conflict", severity: int = 2) -> Flag:
    """An open flag (made after any sweep: the checks resolve one they do not find)."""
    now = timezone.now()
    return Flag.objects.create(
        kind=kind,
        severity=severity,
        place=country(iso),
        country=country(iso),
        fingerprint=f"{iso}-{kind}-{severity}-{Flag.objects.count()}",
        first_seen=now,
        last_seen=now,
    )


def evidence(iso: str, stance: str = "complying"):
    ClaimFactory(place=country(iso), obligation=obligation(CAP), stance=stance,
                 measure="", count_low=None, count_high=None,
                 as_of=datetime.date(2019, 1, 10))  # fmt: skip


def names(rows) -> list[str]:
    return [row.country.iso_code for row in rows]


def test_a_country_with_a_flag_comes_before_one_with_evidence_only(viewer):
    evidence("AO")  # Angola: evidence only, first by name
    evidence("MN")  # Mongolia: evidence and a watch
    Watch.objects.create(place=country("MN"), obligation=obligation(CAP))
    checks.sweep(today=TODAY, keys=["AO", "ZW", "MN"])
    flag("ZW")  # Zimbabwe: an open flag, last by name (the sweep would resolve it)
    board = dashboard_for(user=viewer, today=TODAY)
    listed = names(board.attention)
    assert listed.index("ZW") < listed.index("MN") < listed.index("AO")
    assert board.everyone is None  # the 193 are not rendered by default
    assert board.quiet == Place.objects.countries().count() - len(listed)


def test_violations_rank_a_country_before_watches_and_evidence(viewer):
    evidence("AO")
    evidence("VN", stance="violating")
    evidence("MN")
    Watch.objects.create(place=country("MN"), obligation=obligation(CAP))
    checks.sweep(today=TODAY, keys=["AO", "VN", "MN"])
    listed = names(dashboard_for(user=viewer, today=TODAY).attention)
    assert listed.index("VN") < listed.index("MN") < listed.index("AO")


def test_the_page_hides_the_quiet_member_states_and_shows_them_on_request(viewer_client):
    flag("ZW")
    page = viewer_client.get("/").content.decode()
    assert "/countries/ZW/" in page
    assert 'href="/countries/FR/">France</a></th>' not in page
    assert "?all=1" in page
    everyone = viewer_client.get("/", {"all": "1"}).content.decode()
    assert 'href="/countries/FR/">France</a></th>' in everyone
    assert everyone.count('<th scope="row">') >= 193


def test_the_open_flags_are_counted_by_kind_and_severity_with_links(viewer_client):
    flag("ZW", "count_conflict", 3)
    flag("ZW", "count_conflict", 2)
    flag("CN", "stale", 1)
    board = viewer_client.get("/").context["board"]
    lines = {line.kind: line.by_severity for line in board.flags}
    assert lines == {"count_conflict": [1, 1, 0], "stale": [0, 0, 1]}  # high, medium, low
    assert board.flags_total == 3
    page = viewer_client.get("/").content.decode()
    assert "/flags/?kind=count_conflict&amp;status=open" in page


def test_cells_say_their_reason_and_obligations_their_short_name_in_korean(viewer_client):
    evidence("ZW", stance="violating")
    checks.sweep(today=TODAY, keys=["ZW"])
    page = viewer_client.get("/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "2019년 12월 22일까지 송환" in page  # the repatriation's short name
    assert '<span class="code">UNSCR2397-OP8</span>' in page
    assert re.search(r'<td class="cell violating">.*?위반: ', page)
    assert "짐바브웨" in page


def test_the_map_colours_a_country_by_the_status_of_the_chosen_obligation(viewer_client):
    evidence("VN", stance="violating")
    checks.sweep(today=TODAY, keys=["VN"])
    page = viewer_client.get("/", {"obligation": CAP}).content.decode()
    svg = page[page.index('<svg class="worldmap"') :]
    assert re.search(r'<a href="/countries/VN/"><g class="map-violating"><title>Vietnam: ', svg)
    assert '<a href="/countries/FR/"><g class="map-unknown">' in svg
    assert '<g class="map-none"><title>Taiwan: not a UN member state</title>' in svg
    # Hong Kong in China's colour, named with it.
    assert "<title>Hong Kong SAR China (China): unknown" in svg
    assert 'aria-label="Map legend"' in page and 'class="chip violating"' in page
    default = viewer_client.get("/", {"obligation": "nonsense"}).context["board"]
    assert default.map_obligation.code == "UNSCR2397-OP8"


def test_the_map_shows_the_repatriation_deadline_by_default():
    matrix = status_matrix(today=TODAY)
    assert default_map_obligation(matrix).code == "UNSCR2397-OP8"


def test_the_map_names_countries_in_korean(viewer_client):
    with translation.override("ko"):
        svg = worldmap.world_map(
            {"CN": worldmap.Area("violating", "중국", "위반", "/countries/CN/")}, label="지도"
        )
    assert "<title>중국: 위반" in svg and "<title>홍콩(중국 특별행정구) (중국)" in svg


def test_the_map_draws_most_member_states_and_lists_the_others(viewer_client):
    members = set(Place.objects.countries().values_list("iso_code", flat=True))
    drawn = worldmap.drawn_codes() & members
    assert len(drawn) >= 165
    board = viewer_client.get("/").context["board"]
    assert {c.iso_code for c in board.not_drawn} == members - drawn


def test_the_dashboard_runs_the_same_queries_for_few_and_many_countries(viewer_client):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert viewer_client.get("/").status_code == 200
        return len(queries)

    flag("ZW")
    viewer_client.get("/")  # the permission and content-type caches
    few = count()
    many = ["CN", "RU", "AO", "VN", "MN", "FR"]
    for iso in many:
        evidence(iso, stance="violating")
        Watch.objects.create(place=country(iso), obligation=obligation(CAP))
    checks.sweep(today=TODAY, keys=many)
    for iso in many:
        flag(iso)
    assert count() == few


def test_every_member_state_is_listed_in_the_readers_alphabetical_order(viewer):
    with translation.override("ko"):
        board = dashboard_for(user=viewer, today=TODAY, show_all=True)
    listed = [row.country.name_ko for row in board.everyone]
    assert len(listed) == 193 and listed == sorted(listed)
    assert listed[0] == "가나"  # Ghana
