"""Lists run the same number of queries for 1 row and for 21: no query per row on any page,
API list or admin changelist."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import ClaimFactory, PlaceFactory, SourceFactory, country
from tracker.models import Flag

pytestmark = pytest.mark.django_db

LISTS = [
    "/",
    "/?all=1",
    "/claims/",
    "/claims/?country=CN",
    "/claims/?q=Counted",
    "/claims/?place_name=China",
    "/claims/?format=csv",
    "/claims/?country=CN&format=xlsx",
    "/flags/",
    "/api/claims/",
    "/api/reports/",
    "/api/sources/",
    "/api/flags/",
    "/api/places/",
    "/admin/tracker/claim/",
    "/admin/tracker/claim/?q=Counted",
    "/admin/tracker/claim/?country=CN",
    "/admin/tracker/report/",
    "/admin/tracker/source/",
    "/admin/tracker/flag/",
]


def add_rows(n: int, start: int) -> None:
    """n claims, each with its own report, sources and place, and a flag resting on it and a
    confidential source's claim."""
    now = timezone.now()
    for i in range(start, start + n):
        place = PlaceFactory(parent=country("CN"))
        claim = ClaimFactory(place=place, attributed_to=SourceFactory(name=f"Counted source {i}"))
        hidden = ClaimFactory(place=place, attributed_to=SourceFactory(confidential=True))
        flag = Flag.objects.create(
            kind="count_conflict",
            place=place,
            country=country("CN"),
            fingerprint=f"f{i}",
            first_seen=now,
            last_seen=now,
        )
        flag.claims.add(claim, hidden)


def read(response):
    """Read a response whole: a streamed export closes itself (its file, its cursor) at its
    end, as the test client closes any other response (closing one again would close the
    database connection under the test)."""
    if response.streaming:
        b"".join(response.streaming_content)
    return response


@pytest.mark.parametrize("url", LISTS)
def test_a_list_runs_the_same_queries_for_one_row_and_many(viewer_client, url):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = read(viewer_client.get(url))  # an export's queries run as it is read
        assert response.status_code == 200
        return len(queries)

    add_rows(1, 0)
    read(viewer_client.get(url))  # the permission and content-type caches
    one = count()
    add_rows(20, 1)
    assert count() == one
