"""The JSON API: read and filter, cursor pages, tokens, redaction, editor writes."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import (
    ClaimFactory,
    PlaceFactory,
    ReportFactory,
    SourceFactory,
    UserFactory,
    country,
)
from tracker import checks
from tracker.models import CheckRequest, Claim, Source

pytestmark = pytest.mark.django_db

ENDPOINTS = ["resolutions", "obligations", "places", "sources", "reports", "claims", "flags",
             "status"]  # fmt: skip


@pytest.fixture
def demo(db):
    call_command("loaddemo", stdout=io.StringIO())
    checks.sweep(today=datetime.date(2026, 11, 24))


@pytest.fixture
def api(viewer):
    client = APIClient()
    client.force_authenticate(viewer)
    return client


@pytest.fixture
def editor_api(editor):
    client = APIClient()
    client.force_authenticate(editor)
    return client


@pytest.mark.parametrize("name", ENDPOINTS)
def test_every_endpoint_answers_a_viewer_and_refuses_anonymous(api, demo, name):
    assert api.get(f"/api/{name}/").status_code == 200
    assert APIClient().get(f"/api/{name}/").status_code in (401, 403)


@pytest.mark.parametrize("name", ENDPOINTS)
def test_staff_outside_the_groups_read_nothing(name):
    client = APIClient()
    client.force_authenticate(UserFactory(username="outsider"))
    assert client.get(f"/api/{name}/").status_code == 403


def test_a_token_authenticates(viewer, demo):
    token = Token.objects.create(user=viewer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/claims/").status_code == 200


def test_claims_filter_like_the_pages(api, demo):
    data = api.get("/api/claims/", {"country": "CN", "measure": "workers"}).json()
    assert data["results"]
    assert all(c["place_name"].startswith("China") for c in data["results"])
    bad = api.get("/api/claims/", {"country": "XX"})
    assert bad.status_code == 400
    assert "country" in bad.json()


def test_cursor_pages(api):
    place = PlaceFactory()
    for _ in range(5):
        ClaimFactory(place=place)
    first = api.get("/api/claims/", {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = api.get(first["next"]).json()
    assert {c["id"] for c in first["results"]}.isdisjoint({c["id"] for c in second["results"]})


def test_a_confidential_source_is_never_named(api, trusted_editor):
    informant = SourceFactory(name="Canary Informant 7", confidential=True)
    ClaimFactory(attributed_to=informant, place=country("CN"), count_low=50_000)
    ClaimFactory(place=country("CN"), count_low=90_000)
    checks.sweep(today=datetime.date(2026, 11, 24), keys=["CN"])
    for name in ("claims", "flags", "sources", "reports"):
        assert b"Canary" not in api.get(f"/api/{name}/").content, name
    trusted = APIClient()
    trusted.force_authenticate(trusted_editor)
    assert b"Canary" in trusted.get("/api/claims/").content


@pytest.mark.parametrize("by", ["source", "report", "publisher"])
def test_a_restricted_claim_is_listed_as_the_pages_and_exports_show_it(api, by):
    """Source, report, publisher and publication date replaced, reference and summary blank,
    no id of its source or report: ids would let a reader group the claims of one informant,
    or of one confidential report, and count where they were made."""
    if by == "source":
        claim = ClaimFactory(attributed_to=SourceFactory(confidential=True), external_id="K-1")
    elif by == "report":
        claim = ClaimFactory(report=ReportFactory(confidential=True), external_id="K-1")
    else:
        publisher = SourceFactory(confidential=True)
        claim = ClaimFactory(report=ReportFactory(publisher=publisher), external_id="K-1")
    claim.summary = "K says so"
    claim.save()
    [data] = api.get("/api/claims/").json()["results"]
    shown = {key: data[key] for key in ("attributed_to", "report", "external_id", "summary",
                                        "source_name", "report_title", "publisher_name",
                                        "published_on")}  # fmt: skip
    assert shown == {
        "attributed_to": None,
        "report": None,
        "external_id": None,
        "summary": "",
        "source_name": "confidential source",
        "report_title": "confidential report",
        "publisher_name": "confidential source",
        "published_on": None,
    }
    assert data["id"] == claim.pk and data["count_low"] == claim.count_low


def test_a_claim_shows_its_publisher_and_publication_date(api):
    claim = ClaimFactory(report=ReportFactory(publisher=SourceFactory(name="RFA")))
    data = api.get(f"/api/claims/{claim.pk}/").json()
    assert (data["publisher_name"], data["published_on"]) == ("RFA", "2019-12-23")
    assert data["obligation_code"] is None  # a pure count: present, empty


@pytest.mark.parametrize("method", ["get", "patch", "put"])
def test_a_restricted_claim_does_not_exist_by_its_id(editor_api, method):
    """Opened or changed by its id, a restricted claim answers as a claim that does not exist,
    for an Editor without the permission."""
    claim = ClaimFactory(attributed_to=SourceFactory(confidential=True), count_low=5_000)
    body = {"count_low": 7_000, "count_high": 7_000} if method != "get" else None
    hidden = getattr(editor_api, method)(f"/api/claims/{claim.pk}/", body, format="json")
    missing = getattr(editor_api, method)("/api/claims/999999/", body, format="json")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    claim.refresh_from_db()
    assert claim.count_low == 5_000


def test_a_trusted_editor_changes_a_hidden_claim(trusted_editor):
    client = APIClient()
    client.force_authenticate(trusted_editor)
    claim = ClaimFactory(attributed_to=SourceFactory(confidential=True), count_low=5_000)
    response = client.patch(
        f"/api/claims/{claim.pk}/", {"count_low": 7_000, "count_high": 7_000}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["attributed_to"] == claim.attributed_to_id


def claim_body(**overrides):
    report = ClaimFactory().report
    body = {
        "report": report.pk,
        "attributed_to": SourceFactory().pk,
        "place": country("CN").pk,
        "stance": "violating",
        "measure": "workers",
        "count_low": 60000,
        "count_high": 60000,
        "as_of": "2019-12-23",
        "credibility": 2,
        "external_id": "API-1",
    }
    return {**body, **overrides}


def test_an_editor_writes_a_claim_and_its_check_is_requested(
    editor_api, monkeypatch, django_capture_on_commit_callbacks
):
    from tracker import tasks

    sent = []
    monkeypatch.setattr(tasks.check_partition, "delay", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_api.post("/api/claims/", claim_body(), format="json")
    assert response.status_code == 201, response.json()
    assert Claim.objects.filter(external_id="API-1").exists()
    assert ("CN",) in sent


@pytest.mark.parametrize("moved", ["place", "source"])
def test_an_editor_moving_a_claim_rechecks_where_it_was(editor_api, moved):
    """From China to Russia: both are checked. From Russia's self-report source to KITA,
    about China: Russia's overdue reports are checked again, as China is."""
    if moved == "place":
        claim = ClaimFactory(place=country("CN"))
        change = {"place": country("RU").pk}
    else:
        russia = SourceFactory(kind="self_report", country=country("RU"))
        claim = ClaimFactory(attributed_to=russia, place=country("CN"))
        change = {"attributed_to": SourceFactory(name="KITA").pk}
    CheckRequest.objects.all().delete()
    response = editor_api.patch(f"/api/claims/{claim.pk}/", change, format="json")
    assert response.status_code == 200, response.json()
    assert set(CheckRequest.objects.values_list("key", flat=True)) == {"CN", "RU"}


def test_an_api_write_lands_whole_or_not_at_all(editor_api, monkeypatch):
    """The save and the checks it requests are one transaction: a request that fails leaves
    the claim as it was."""
    from tracker import services

    claim = ClaimFactory(count_low=1_000)

    def broken(**kwargs):
        raise RuntimeError("the outbox is unavailable")

    monkeypatch.setattr(services, "checks_request_for", broken)
    with pytest.raises(RuntimeError):
        editor_api.patch(f"/api/claims/{claim.pk}/", {"count_low": 2_000, "count_high": 2_000})
    claim.refresh_from_db()
    assert claim.count_low == 1_000


def test_a_bad_claim_gets_the_admins_message(editor_api):
    response = editor_api.post(
        "/api/claims/", claim_body(count_low=80000, count_high=70000), format="json"
    )
    assert response.status_code == 400
    assert response.json()["count_high"] == [
        "The upper bound (70,000) is below the lower bound (80,000)."
    ]
    assert not Claim.objects.filter(external_id="API-1").exists()


def test_a_viewer_cannot_write(api):
    assert api.post("/api/claims/", claim_body(), format="json").status_code == 403
    assert not Claim.objects.filter(external_id="API-1").exists()


def test_an_editor_cannot_attribute_to_a_source_they_may_not_see(editor_api):
    hidden = SourceFactory(confidential=True)
    response = editor_api.post("/api/claims/", claim_body(attributed_to=hidden.pk), format="json")
    assert response.status_code == 400
    assert Source.objects.filter(pk=hidden.pk).exists()


def test_an_editor_cannot_put_a_claim_into_a_report_they_may_not_see(editor_api):
    hidden = ReportFactory(confidential=True)
    response = editor_api.post("/api/claims/", claim_body(report=hidden.pk), format="json")
    assert response.status_code == 400
    assert response.json()["report"] == ["No such report."]


def test_status_for_one_country_and_obligation(api, demo):
    rows = api.get("/api/status/", {"country": "cn", "obligation": "UNSCR2397-OP8"}).json()
    assert len(rows) == 1
    assert rows[0]["status"] == "contested"
    assert rows[0]["reason"].startswith("contested: open count conflict #")
    assert api.get("/api/status/", {"country": "XX"}).status_code == 400


def test_the_claim_list_runs_the_same_queries_for_few_and_many(api):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            api.get("/api/claims/")
        return len(queries)

    place = PlaceFactory()
    ClaimFactory(place=place)
    api.get("/api/claims/")  # warm the permission cache
    few = count()
    for _ in range(20):
        ClaimFactory(place=place)
    assert count() == few


def test_the_schema_is_openapi_and_has_a_page(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    assert "/api/claims/" in schema.json()["paths"]
    assert api.get("/api/docs/").status_code == 200
    assert APIClient().get("/api/schema/").status_code in (401, 403)


def test_a_write_with_a_token_is_in_the_history_with_who_made_it(editor):
    client = APIClient()
    token = Token.objects.create(user=editor)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post("/api/claims/", claim_body(), format="json")
    assert response.status_code == 201, response.json()
    version = Claim.objects.get(external_id="API-1").history.get()
    assert (version.history_type, version.history_user) == ("+", editor)


@pytest.fixture
def hidden_and_visible():
    """A confidential source, a confidential report, a report by a confidential publisher, and
    a public source and report beside them."""
    return {
        "hidden_source": SourceFactory(name="Hidden informant", confidential=True),
        "hidden_report": ReportFactory(title="Hidden report", confidential=True),
        "hidden_publisher": ReportFactory(
            title="Bulletin of a hidden publisher",
            publisher=SourceFactory(name="Hidden press", confidential=True),
        ),
        "claim": ClaimFactory(
            attributed_to=SourceFactory(name="Public NGO"),
            report=ReportFactory(title="Public article"),
        ),
    }


HIDDEN_NAMES = [b"Hidden informant", b"Hidden report", b"Bulletin of a hidden publisher",
                b"Hidden press"]  # fmt: skip


def browsable_pages(planted) -> list[str]:
    claim = planted["claim"]
    return [
        "/api/claims/",
        f"/api/claims/{claim.pk}/",
        "/api/claims/999999/",
        "/api/reports/",
        f"/api/reports/{claim.report_id}/",
        "/api/reports/999999/",
    ]


def test_the_browsable_forms_offer_an_editor_only_what_they_may_see(
    editor_client, hidden_and_visible
):
    for url in browsable_pages(hidden_and_visible):
        page = editor_client.get(url, HTTP_ACCEPT="text/html")
        assert page.status_code in (200, 404), url
        assert b"<form" in page.content and b"Public NGO" in page.content, url
        assert not [name for name in HIDDEN_NAMES if name in page.content], url


def test_the_browsable_forms_offer_a_trusted_editor_everything(trusted_client, hidden_and_visible):
    page = trusted_client.get("/api/claims/", HTTP_ACCEPT="text/html")
    assert all(name in page.content for name in HIDDEN_NAMES)


@pytest.mark.parametrize(
    ("endpoint", "field", "hidden"),
    [
        ("claims", "attributed_to", "hidden_source"),
        ("claims", "report", "hidden_report"),
        ("claims", "report", "hidden_publisher"),
        ("reports", "publisher", "hidden_source"),
    ],
)
def test_a_hidden_id_is_refused_as_one_that_does_not_exist(
    editor_api, hidden_and_visible, endpoint, field, hidden
):
    if endpoint == "claims":
        body = claim_body()
    else:
        body = {"title": "T", "publisher": SourceFactory().pk, "published_on": "2019-12-23"}
    answers = [
        editor_api.post(f"/api/{endpoint}/", {**body, field: pk}, format="json")
        for pk in (hidden_and_visible[hidden].pk, 999_999)
    ]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()
    assert list(answers[0].json()) == [field]


def test_an_id_is_a_whole_number(editor_api):
    response = editor_api.post("/api/claims/", claim_body(report=1.5), format="json")
    assert response.status_code == 400
    assert "report" in response.json()


def test_every_relation_the_api_takes_is_narrowed_to_what_the_user_may_see():
    """Every writable relation of every endpoint of the router, so a new one is covered."""
    from rest_framework import relations

    from tracker.api.serializers import VisibleRelatedField
    from tracker.api.urls import router

    checked = []
    for _prefix, viewset, _basename in router.registry:
        serializer = viewset.serializer_class()
        for name, field in serializer.fields.items():
            field = getattr(field, "child_relation", field)
            if isinstance(field, relations.RelatedField) and not field.read_only:
                assert isinstance(field, VisibleRelatedField), (viewset.__name__, name)
                checked.append(name)
    assert {"report", "attributed_to", "publisher"} <= set(checked)


@pytest.mark.parametrize("size", ["abc", "1.5", "0", "-3", "", " 5", "+5", "5_0", "٣"])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_a_400(api, size):
    response = api.get("/api/sources/", {"page_size": size})
    assert response.status_code == 400
    assert list(response.json()) == ["page_size"]


@pytest.mark.parametrize(("size", "given"), [("2", 2), ("007", 7), ("501", 500), ("9" * 5000, 500)])
def test_a_page_size_gives_that_many_results_at_most_500(api, size, given):
    Source.objects.bulk_create(Source(name=f"S{n}", kind="ngo") for n in range(600))
    response = api.get("/api/sources/", {"page_size": size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == given


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "C\x00N"}, "country"),
        ({"obligation": "UNSCR0-OP0"}, "obligation"),
        ({"obligation": "\x00"}, "obligation"),
    ],
)
def test_status_refuses_a_country_or_obligation_that_is_not_there(api, query, field):
    response = api.get("/api/status/", query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize(
    "path", ["claims/-1.35e-119/", "claims/-1/", "claims/a/b/", "claims/1/more/", "nothing/"]
)
def test_a_path_no_endpoint_matches_is_the_apis_own_json_404(api, path):
    """Not Django's HTML page: a client of the API reads every answer as JSON."""
    for client, status in ((api, 404), (APIClient(), 403)):
        response = client.get(f"/api/{path}")
        assert response.status_code in (status, 404)
        assert response["Content-Type"] == "application/json"
        assert list(response.json()) == ["detail"]


@pytest.mark.parametrize(
    ("value", "format", "status"),
    [
        (True, "json", 201),
        (False, "json", 201),
        ("false", "json", 400),
        ("true", "multipart", 201),
        (0, "json", 400),
        (1, "json", 400),
        ("0", "multipart", 400),
        ("yes", "json", 400),
        (None, "json", 400),
    ],
)
def test_a_boolean_is_true_or_false(editor_api, value, format, status):
    """schemathesis sent confidential=0 in a form and it was read as false. In JSON a boolean
    is a JSON boolean; in a form, the words (what the browsable API's checkbox sends)."""
    body = {"title": "T", "publisher": SourceFactory().pk, "published_on": "2019-12-23"}
    response = editor_api.post("/api/reports/", {**body, "confidential": value}, format=format)
    assert response.status_code == status, response.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("summary", 0),
        ("external_id", 7),
        ("count_low", "60000"),
        ("credibility", "2"),
        ("report", "1"),
        ("attributed_to", True),
        ("stance", 1),
        ("as_of", 20191223),
    ],
)
def test_a_json_value_must_be_of_its_type(editor_api, field, value):
    """schemathesis sent "summary": 0 and "title": 0, and DRF took them as "0"."""
    response = editor_api.post("/api/claims/", claim_body(**{field: value}), format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_form_is_read_as_text(editor_api):
    """The browsable API's forms send only text: numbers and ids in them are read."""
    body = {key: str(value) for key, value in claim_body().items()}
    response = editor_api.post("/api/claims/", body, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["count_low"] == 60000
