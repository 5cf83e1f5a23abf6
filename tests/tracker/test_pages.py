"""The pages: dashboard, claims, flags, a country; filters, permissions, redaction."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ClaimFactory, PlaceFactory, SourceFactory, UserFactory, country
from tracker import checks

pytestmark = pytest.mark.django_db

PAGES = ["/", "/claims/", "/flags/", "/countries/CN/", "/countries/CN/chart.png"]


@pytest.fixture
def demo(db):
    call_command("loaddemo", stdout=io.StringIO())
    checks.sweep(today=datetime.date(2026, 11, 24))


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_users_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", PAGES)
def test_staff_outside_the_groups_are_refused(client, url):
    client.force_login(UserFactory(username="outsider"))
    assert client.get(url).status_code == 403


def test_the_dashboard_shows_the_status_matrix_deadlines_and_flags(viewer_client, demo):
    page = viewer_client.get("/").content.decode()
    assert "final report to the 1718 Committee</strong>" in page
    assert "UNSCR2397-OP8-FINAL</span>: due 2020-03-22, passed" in page
    assert "/claims/?country=CN&amp;obligation=UNSCR2397-OP8" in page
    assert 'class="cell contested"' in page  # China's counts disagree
    assert "contested: open count conflict #" in page  # the reason, not a tooltip
    assert '<a href="/flags/?kind=count_conflict&amp;status=open">Count conflict</a>' in page


def test_the_country_filter_includes_the_places_inside(viewer_client, demo):
    rows = viewer_client.get("/claims/", {"country": "CN"}).context["rows"]
    places = {shown.claim.place.name_path for shown in rows}
    assert "China > Northeast China" in places and "China" in places
    assert all(p.startswith("China") for p in places)


@pytest.mark.parametrize("bad", [{"country": "XX"}, {"as_of_after": "yesterday"}])
def test_an_invalid_filter_says_so_and_lists_nothing(viewer_client, demo, bad):
    page = viewer_client.get("/claims/", bad)
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 0
    assert "The filters are not valid" in page.content.decode()


def test_filters_combine(viewer_client, demo):
    rows = viewer_client.get(
        "/claims/", {"country": "CN", "measure": "workers", "as_of_after": "2019-12-01"}
    ).context["rows"]
    assert rows and all(
        s.claim.measure == "workers" and s.claim.as_of >= datetime.date(2019, 12, 1) for s in rows
    )


def test_searching_a_hidden_name_finds_nothing_and_it_is_never_shown(viewer_client, demo):
    informant = SourceFactory(name="Canary Informant 7", confidential=True)
    ClaimFactory(attributed_to=informant, place=country("CN"))
    assert viewer_client.get("/claims/", {"q": "Canary"}).context["page"].paginator.count == 0
    listing = viewer_client.get("/claims/", {"country": "CN"}).content.decode()
    assert "Canary" not in listing and "confidential source" in listing
    export = viewer_client.get("/claims/", {"country": "CN", "format": "csv"})
    assert b"Canary" not in b"".join(export.streaming_content)


def test_the_filtered_set_exports_as_csv(viewer_client, demo):
    response = viewer_client.get("/claims/", {"country": "RU", "format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert ",RU," in text and ",CN," not in text


@pytest.mark.parametrize("page", ["/claims/", "/flags/"])
def test_an_export_in_an_unknown_format_is_refused_clearly(viewer_client, page):
    response = viewer_client.get(page, {"format": "pdf"})
    assert response.status_code == 400
    assert "There is no export as “pdf”: ask for csv or xlsx." in response.content.decode()


def test_flags_filter_by_kind_and_country(viewer_client, demo):
    rows = viewer_client.get("/flags/", {"kind": "stale", "country": "RU"}).context["rows"]
    assert rows and all(f.kind == "stale" and f.country.iso_code == "RU" for f, *_ in rows)
    bad = viewer_client.get("/flags/", {"status": "sleeping"})
    assert bad.context["page"].paginator.count == 0


def test_flags_filter_by_a_place_named_in_either_language(viewer_client, demo):
    def places(**params) -> set[str]:
        rows = viewer_client.get("/flags/", params).context["rows"]
        return {f.country.iso_code for f, *_ in rows if f.country}

    assert places(place_name="China") == {"CN"}
    assert places(place_name="중국") == {"CN"}
    assert places(place_name="nowhere at all") == set()
    page = viewer_client.get("/flags/").content.decode()
    # The place is asked by name; by id only from a link: no drop-down of every place.
    assert 'name="place_name"' in page and '<input type="hidden" name="place"' in page
    assert '<select name="place"' not in page


def test_the_country_page_and_its_chart(viewer_client, demo):
    page = viewer_client.get("/countries/cn/").content.decode()
    assert "China (CN)" in page and "contested: open count conflict" in page
    chart = viewer_client.get("/countries/CN/chart.png")
    assert chart["Content-Type"] == "image/png"
    assert viewer_client.get("/countries/XX/").status_code == 404


def test_the_claim_list_runs_the_same_queries_for_few_and_many(viewer_client):
    def count() -> int:
        viewer_client.get("/claims/")
        with CaptureQueriesContext(connection) as queries:
            viewer_client.get("/claims/")
        return len(queries)

    place = PlaceFactory()
    ClaimFactory(place=place)
    few = count()
    for _ in range(30):
        ClaimFactory(place=place)
    assert count() == few


@pytest.mark.parametrize("url", ["/", "/claims/", "/flags/", "/summaries/"])
def test_the_pages_carry_the_sites_name_and_a_way_to_log_out(viewer_client, url):
    page = viewer_client.get(url).content.decode()
    assert "Sanctions-deadline compliance tracker" in page
    assert "Django administration" not in page
    assert 'action="/admin/logout/"' in page
    assert '<div class="breadcrumbs">' in page


def test_a_summary_in_the_archive_is_shown_without_the_emails_own_document(viewer_client):
    import datetime

    from reports import sending
    from reports.models import Subscription

    subscription = Subscription.objects.create(name="Weekly", addresses="a@example.org")
    summary = sending.summary_create(
        subscription=subscription,
        period_start=datetime.date(2019, 12, 16),
        period_end=datetime.date(2019, 12, 22),
        enqueue=False,
    )
    page = viewer_client.get(f"/summaries/{summary.pk}/").content.decode()
    body = page.split('<div class="summary-body">', 1)[1]
    assert "<html" not in body and "<style" not in body and "<body" not in body
    assert "Weekly: 16 December 2019 to 22 December 2019" in body
    assert "tracker/pages.css" in page
