"""What keeps the pages fast at a million claims (issue 32), held by tests: exports stream in
chunks from a server-side cursor with the redaction kept, the free-text search is served by
trigram indexes on PostgreSQL (a no-op migration on SQLite) and keeps the visibility rule,
the claim page offers places by name, the admin's counts are estimated only when large."""

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from openpyxl import load_workbook

from tests.factories import ClaimFactory, PlaceFactory, ReportFactory, SourceFactory, country
from tracker import exports, search, selectors
from tracker.models import Claim, Place

pytestmark = pytest.mark.django_db

TRIGRAM_INDEXES = {"claim_summary_trgm", "claim_external_id_trgm", "report_title_trgm"}


@pytest.fixture
def viewer_client(viewer):
    """Clients of their own (the ``client`` fixture is one client, whoever logged in last)."""
    client = Client()
    client.force_login(viewer)
    return client


@pytest.fixture
def trusted_client(trusted_editor):
    client = Client()
    client.force_login(trusted_editor)
    return client


@pytest.fixture
def claims():
    """Five plain claims in China with Korean summaries, and one by a confidential source."""
    plain = [ClaimFactory(summary=f"노동자 파견 보고 {i}", external_id=f"KR-{i}") for i in range(5)]
    informant = SourceFactory(name="Canary Informant", confidential=True, aliases="제보자을")
    hidden = ClaimFactory(
        attributed_to=informant, summary="비밀 노동자 증언", external_id="SECRET-1"
    )
    return plain, hidden


def streamed(response) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)  # read whole, the response closes itself


def test_the_csv_export_streams_in_chunks_and_redacts(viewer_client, claims, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 2)
    response = viewer_client.get("/claims/", {"country": "CN", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    chunks = list(response.streaming_content)
    assert len(chunks) >= 3  # 7 lines (the header and 6 claims), 2 a chunk
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert len(rows) == 1 + 6
    text = b"".join(chunks).decode("utf-8-sig")
    assert "Canary" not in text and "SECRET-1" not in text and "비밀" not in text
    assert text.count("confidential source") >= 1
    assert "노동자 파견 보고 0" in text and "KR-4" in text


def test_the_xlsx_export_is_streamed_from_a_file_and_redacts(viewer_client, trusted_client, claims):
    def sheet(client) -> str:
        response = client.get("/claims/", {"format": "xlsx"})
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        book = load_workbook(io.BytesIO(streamed(response)), read_only=True)
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        assert len(rows) == 1 + 6
        return repr(rows)

    assert "Canary" not in sheet(viewer_client) and "SECRET-1" not in sheet(viewer_client)
    assert "Canary Informant" in sheet(trusted_client) and "SECRET-1" in sheet(trusted_client)


def test_the_admin_export_actions_stream_too(viewer_client, claims):
    ids = list(Claim.objects.values_list("pk", flat=True))
    for action in ("export_csv", "export_xlsx"):
        response = viewer_client.post(
            "/admin/tracker/claim/", {"action": action, "_selected_action": ids}
        )
        assert response.status_code == 200
        assert b"Canary" not in streamed(response)


def test_an_abandoned_download_ends_its_transaction(viewer, claims, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 1)
    depth = len(connection.atomic_blocks)
    chunks = exports.as_csv(exports.claim_export_rows(Claim.objects.all(), viewer))
    next(chunks), next(chunks)  # the header, the first claim
    # Reading, in the export's transaction on PostgreSQL (its server-side cursor needs one);
    # none on SQLite, where a transaction would hold the write lock for the download.
    opened = 1 if connection.vendor == "postgresql" else 0
    assert len(connection.atomic_blocks) == depth + opened
    chunks.close()  # the client went away: the server closes the response
    assert len(connection.atomic_blocks) == depth


# --- search -------------------------------------------------------------------------------------


def found(client, url: str, term: str) -> set[int]:
    response = client.get(url, {"q": term})
    assert response.status_code == 200
    if "admin" in url:
        return {claim.pk for claim in response.context["cl"].result_list}
    return {shown.claim.pk for shown in response.context["rows"]}


@pytest.mark.parametrize("url", ["/claims/", "/admin/tracker/claim/"])
def test_search_finds_a_korean_summary_and_alias_but_never_hidden_text(
    url, claims, viewer_client, trusted_client
):
    plain, hidden = claims
    china = country("CN")
    china.aliases = "중화인민공화국"
    china.save()
    for client in (viewer_client, trusted_client):
        assert {c.pk for c in plain} <= found(client, url, "노동자 파견")
        assert {c.pk for c in plain} <= found(client, url, "중화인민")
        assert found(client, url, "KR-3") == {plain[3].pk}
    # The hidden claim is found by its place (shown redacted), never by its hidden text.
    for term in ("비밀", "SECRET-1", "제보자을", "Canary"):
        assert hidden.pk not in found(viewer_client, url, term), term
        assert hidden.pk in found(trusted_client, url, term), term
    assert hidden.pk in found(viewer_client, url, "중화인민")


@pytest.mark.parametrize("url", ["/claims/", "/admin/tracker/claim/"])
def test_search_finds_a_claim_by_the_reference_the_system_gives_it(
    url, viewer_client, trusted_client
):
    unnamed = ClaimFactory(external_id=None)
    named = ClaimFactory(external_id="ABC")
    secret = ClaimFactory(external_id=None, report=ReportFactory(confidential=True))
    for client in (viewer_client, trusted_client):
        assert found(client, url, unnamed.reference) == {unnamed.pk}
        assert found(client, url, unnamed.reference.lower()) == {unnamed.pk}
        # A claim with a reference of its own is not named by the system's.
        assert found(client, url, f"C-{named.pk:06d}") == set()
    assert found(viewer_client, url, secret.reference) == set()  # a hidden reference
    assert found(trusted_client, url, secret.reference) == {secret.pk}


def test_search_by_a_reports_title_keeps_the_reports_visibility(viewer_client, trusted_client):
    secret = ReportFactory(title="Closed hearing notes", confidential=True)
    claim = ClaimFactory(report=secret)
    public = ClaimFactory(report=ReportFactory(title="Open hearing notes"))
    for url in ("/claims/", "/admin/tracker/claim/"):
        assert found(viewer_client, url, "hearing notes") == {public.pk}
        assert found(trusted_client, url, "hearing notes") == {public.pk, claim.pk}


def test_many_matching_reports_are_searched_by_a_subquery(monkeypatch, claims):
    monkeypatch.setattr(search, "MANY_REPORTS", 2)
    assert search.claims(Claim.objects.all(), "Report", sees=True).count() == 6


@pytest.mark.postgres
def test_the_trigram_indexes_serve_the_search_on_postgresql(claims):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%%_trgm'")
        assert {name for (name,) in cursor.fetchall()} == TRIGRAM_INDEXES
        # On a handful of rows the planner may prefer any plan: with scans of a whole table or
        # of an ordered index ruled out, a trigram index is the one way left to the rows.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        searched = Claim.objects.filter(summary__icontains="노동자").order_by()
        sql, params = searched.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "claim_summary_trgm" in plan, plan


@pytest.mark.embedded
def test_the_trigram_migration_does_nothing_on_sqlite():
    with connection.cursor() as cursor:
        names = set(connection.introspection.get_constraints(cursor, "tracker_claim"))
        names |= set(connection.introspection.get_constraints(cursor, "tracker_report"))
    assert not names & TRIGRAM_INDEXES


# --- the claim page's place, the counts --------------------------------------------------------


def test_the_claim_page_offers_the_place_by_name_not_every_place(viewer_client):
    liaoning = PlaceFactory(name="Liaoning", name_ko="랴오닝성", parent=country("CN"))
    dalian = PlaceFactory(name="Dalian", parent=liaoning)
    inside = ClaimFactory(place=dalian)
    ClaimFactory(place=country("RU"))
    page = viewer_client.get("/claims/")
    html = page.content.decode()
    assert html.count("<option") < 1000  # the countries, sources and choices, not 3,000 places
    assert 'name="place_name"' in html and 'type="hidden" name="place"' in html
    for term in ("Liaoning", "랴오닝"):
        rows = viewer_client.get("/claims/", {"place_name": term}).context["rows"]
        assert [shown.claim.pk for shown in rows] == [inside.pk]
    # A link by the place's id still filters (the API's parameter too).
    rows = viewer_client.get("/claims/", {"place": liaoning.pk}).context["rows"]
    assert [shown.claim.pk for shown in rows] == [inside.pk]


def test_a_count_is_exact_when_small_and_a_table_estimate_is_one_query(django_assert_num_queries):
    ClaimFactory.create_batch(3)
    with django_assert_num_queries(1):
        assert selectors.estimated_count(Claim.objects.all()) == 3
    with django_assert_num_queries(1):
        assert selectors.estimated_count(Claim.objects.filter(count_low=1000)) == 3
    assert not selectors.EstimatedCountPaginator(Claim.objects.all(), 10).estimated


def test_the_countries_with_claims_are_found_through_their_places():
    region = PlaceFactory(name="Primorsky Krai", parent=country("RU"))
    ClaimFactory(place=region)
    ClaimFactory(place=country("CN"))
    ids = selectors.countries_with_claims()
    assert ids == {country("RU").pk, country("CN").pk}
    assert Place.objects.get(pk=region.pk).pk not in ids
