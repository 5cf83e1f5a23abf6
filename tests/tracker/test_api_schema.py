"""The OpenAPI schema at /api/schema/ says what the API answers: real answers of every endpoint
of the router (list and detail, as a Viewer, an Editor and a trusted Editor, with restricted
claims present), and its errors, validate against the schema of their operation and status.

OpenAPI 3.0's ``nullable`` is not JSON Schema: ``as_json_schema`` turns it into a choice with
null, as OpenAPI 3.1 writes it; the rest of a 3.0 schema object is JSON Schema draft 4.
"""

from __future__ import annotations

import datetime
import io
import re

import jsonschema
import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import (
    ClaimFactory,
    ReportFactory,
    SourceFactory,
    UserFactory,
    country,
)
from tracker import checks
from tracker.api.urls import router
from tracker.models import Claim, Flag

pytestmark = pytest.mark.django_db

SCHEMA_URL = "/api/schema/?format=json"
USERS = ["viewer", "editor", "trusted_editor"]


def as_json_schema(node):
    """An OpenAPI 3.0 schema object as JSON Schema: ``nullable: true`` becomes ``anyOf`` the
    schema or null (it also lets an ``enum`` or a ``$ref`` be null, as OpenAPI means)."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


class Schema:
    """The API's schema, and a validator of answers against it."""

    def __init__(self, document: dict):
        self.document = as_json_schema(document)
        self.components = self.document["components"]
        self.seen: set[tuple[str, str, str]] = set()

    def operation(self, path: str, method: str) -> tuple[str, dict]:
        for template, operations in self.document["paths"].items():
            pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, path) and method in operations:
                return template, operations[method]
        raise AssertionError(f"{method.upper()} {path} is not in the schema")

    def validate(self, response, method: str = "get") -> None:
        path = response.wsgi_request.path
        template, operation = self.operation(path, method)
        code = str(response.status_code)
        assert code in operation["responses"], (
            f"{method.upper()} {path} answered {code}, not documented: "
            f"{sorted(operation['responses'])}"
        )
        content = operation["responses"][code]["content"]
        assert response["Content-Type"].split(";")[0] in content, response["Content-Type"]
        body = content["application/json"]["schema"]
        jsonschema.validate(
            response.json(),
            {**body, "components": self.components},
            cls=jsonschema.Draft4Validator,
            format_checker=jsonschema.FormatChecker(),
        )
        self.seen.add((template, method, code))


@pytest.fixture
def evidence():
    """The demo's evidence swept for flags, and claims restricted each way."""
    call_command("loaddemo", stdout=io.StringIO())
    as_of = datetime.date(2019, 12, 23)
    ClaimFactory(
        place=country("CN"),
        count_low=90_000,
        attributed_to=SourceFactory(name="An informant", confidential=True),
        as_of=as_of,
        external_id="R-1",
        summary="says so",
    )
    ClaimFactory(
        place=country("CN"), report=ReportFactory(confidential=True), as_of=as_of, count_low=10
    )
    press = SourceFactory(name="A confidential press", confidential=True)
    ClaimFactory(place=country("RU"), report=ReportFactory(publisher=press), as_of=as_of)
    checks.sweep(today=datetime.date(2026, 11, 24))
    assert Flag.objects.filter(obligations=None).exists()  # a count conflict: no obligation
    assert Claim.objects.filter(obligation=None).exists()


@pytest.fixture
def schema(viewer) -> Schema:
    client = APIClient()
    client.force_authenticate(viewer)
    return Schema(client.get(SCHEMA_URL).json())


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("who", USERS)
def test_every_endpoint_answers_as_the_schema_says(request, evidence, schema, who):
    client = client_for(request.getfixturevalue(who))
    for prefix, viewset, _basename in router.registry:
        listed = client.get(f"/api/{prefix}/")
        schema.validate(listed)
        if not hasattr(viewset, "retrieve"):
            continue
        results = listed.json()["results"]
        assert results, prefix
        for item in results[:3] + results[-3:]:
            schema.validate(client.get(f"/api/{prefix}/{item['id']}/"))
        schema.validate(client.get(f"/api/{prefix}/999999/"))  # 404
        schema.validate(client.get(f"/api/{prefix}/", {"page_size": "many"}))  # 400
        schema.validate(client.get(f"/api/{prefix}/", {"cursor": "not-a-cursor"}))  # 404
    for restricted in Claim.objects.exclude(external_id__startswith="DEMO"):
        schema.validate(client.get(f"/api/claims/{restricted.pk}/"))  # 200 or 404
    schema.validate(client.get("/api/claims/", {"country": "XX"}))
    schema.validate(client.get("/api/flags/", {"sort": "nonsense"}))
    schema.validate(client.get("/api/status/", {"country": "CN"}))
    schema.validate(client.get("/api/status/", {"country": "XX"}))
    documented = {
        (template, method, code)
        for template, operations in schema.document["paths"].items()
        for method, operation in operations.items()
        if method == "get"
        for code in operation["responses"]
        if code != "403"
    }
    assert documented <= schema.seen, sorted(documented - schema.seen)


def test_a_user_outside_the_groups_is_refused_as_the_schema_says(evidence, schema):
    client = client_for(UserFactory(username="outsider"))
    for prefix, _viewset, _basename in router.registry:
        response = client.get(f"/api/{prefix}/")
        assert response.status_code == 403
        schema.validate(response)


def test_writes_answer_as_the_schema_says(evidence, schema, editor, viewer):
    client = client_for(editor)
    body = {
        "report": ReportFactory().pk,
        "attributed_to": SourceFactory().pk,
        "place": country("CN").pk,
        "measure": "workers",
        "count_low": 100,
        "as_of": "2019-12-23",
    }
    created = client.post("/api/claims/", body, format="json")
    schema.validate(created, "post")
    url = f"/api/claims/{created.json()['id']}/"
    schema.validate(client.patch(url, {"count_high": 200}, format="json"), "patch")
    schema.validate(client.put(url, {**body, "count_low": 300}, format="json"), "put")
    schema.validate(client.patch(url, {"count_high": 1}, format="json"), "patch")  # 400
    schema.validate(client.post("/api/claims/", "{", content_type="application/json"), "post")
    hidden = Claim.objects.get(external_id="R-1")
    schema.validate(client.patch(f"/api/claims/{hidden.pk}/", {}, format="json"), "patch")
    report = {"title": "T", "publisher": SourceFactory().pk, "published_on": "2019-12-23"}
    created = client.post("/api/reports/", report, format="json")
    schema.validate(created, "post")
    url = f"/api/reports/{created.json()['id']}/"
    schema.validate(client.patch(url, {"language": "not a code"}, format="json"), "patch")
    schema.validate(client_for(viewer).post("/api/reports/", report, format="json"), "post")


def test_the_schema_marks_what_a_redacted_claim_leaves_empty_as_nullable(schema):
    claim = schema.components["schemas"]["Claim"]
    request = schema.components["schemas"]["ClaimRequest"]
    for name in ("attributed_to", "report", "obligation", "external_id", "published_on"):
        assert {"type": "null"} in claim["properties"][name]["anyOf"], name
    for name in ("attributed_to", "report"):
        assert "anyOf" not in request["properties"][name], name
    assert set(claim["required"]) == set(claim["properties"])
    assert set(request["required"]) == {"report", "attributed_to", "place", "as_of"}
    assert "id" not in request["properties"]


def test_a_claims_dates_are_iso_8601_at_reduced_precision_in_the_schema_and_answers(
    evidence, schema, editor
):
    claim, request = (schema.components["schemas"][name] for name in ("Claim", "ClaimRequest"))
    for properties in (claim["properties"], request["properties"]):
        assert properties["as_of"]["pattern"] == r"^\d{4}(-\d{2}(-\d{2})?)?$"
        assert {"type": "null"} in properties["period_start"]["anyOf"]
    assert "reference" in claim["properties"] and "reference" not in request["properties"]
    client = client_for(editor)
    body = {"report": ReportFactory().pk, "attributed_to": SourceFactory().pk,
            "place": country("PL").pk, "measure": "new_work_permits", "count_low": 124,
            "period_start": "2017", "as_of": "2017-12"}  # fmt: skip
    created = client.post("/api/claims/", body, format="json")
    schema.validate(created, "post")
    assert (created.json()["period_start"], created.json()["as_of"]) == ("2017", "2017-12")
    for wrong in ("2017-12-1", 2017, "December 2017"):
        refused = client.post("/api/claims/", {**body, "as_of": wrong}, format="json")
        schema.validate(refused, "post")
        assert refused.status_code == 400 and list(refused.json()) == ["as_of"]


def test_the_schema_is_valid_openapi_generated_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s"))


def test_a_filter_given_empty_is_not_applied_as_the_schema_says(evidence, schema, viewer):
    """The browsable API's filter form sends every field, the empty ones too."""
    client = client_for(viewer)
    checked = []
    for template, operations in schema.document["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter["in"] != "query" or parameter["name"] in ("cursor", "page_size"):
                continue
            if parameter["schema"].get("type") != "array":  # else empty is an empty list
                jsonschema.validate("", parameter["schema"], cls=jsonschema.Draft4Validator)
            response = client.get(template, {parameter["name"]: ""})
            assert response.json() == client.get(template).json(), parameter["name"]
            checked.append(f"{template}?{parameter['name']}=")
    assert "/api/flags/?kind=" in checked and "/api/claims/?as_of_after=" in checked


def test_the_flag_actions_answer_as_the_schema_says(evidence, schema, editor, viewer):
    """Each action's answers: the flag (200), a missing reason (400), a Viewer (403), a flag
    that is not there (404), a status that does not allow it (409)."""
    client = client_for(editor)
    flag = Flag.objects.filter(status="open").first()
    for action, body in [
        ("acknowledge", {"note": "Asking the source."}),
        ("acknowledge", {}),  # 409: acknowledged already
        ("acknowledge", {"note": 12}),  # 400: a note is text
        ("dismiss", {}),  # 400: no reason
        ("dismiss", {"reason": "Counts of different seasons."}),
        ("dismiss", {"reason": "Again."}),  # 409: dismissed already
        ("reopen", {"note": ["a list"]}),  # 400
        ("reopen", {}),
        ("reopen", {"note": "New survey."}),  # 409: open again
    ]:
        schema.validate(client.post(f"/api/flags/{flag.pk}/{action}/", body, format="json"), "post")
    for action in ("acknowledge", "dismiss", "reopen"):
        missing = client.post(f"/api/flags/999999/{action}/", {}, format="json")
        schema.validate(missing, "post")
        schema.validate(client_for(viewer).post(f"/api/flags/{flag.pk}/{action}/"), "post")
    documented = {
        (template, "post", code)
        for template, operations in schema.document["paths"].items()
        if template.startswith("/api/flags/") and "post" in operations
        for code in operations["post"]["responses"]
    }
    assert documented <= schema.seen, sorted(documented - schema.seen)
