"""A monitor's actions on a flag through the API: ``POST /api/flags/{id}/acknowledge/``
(``note``), ``/dismiss/`` (``reason``, required), ``/reopen/`` (``note``), for Editors only,
answering the flag as it now is."""

from __future__ import annotations

import datetime

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import ClaimFactory, SourceFactory, country
from tracker import checks
from tracker.models import CheckRequest, Flag, FlagEvent

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 24)
CANARY = "Canary Informant 7"
REASON = "KITA counts seasonal workers as well; NKDB counts only year-round contracts."


@pytest.fixture
def conflict(db) -> Flag:
    """A count conflict in China between a confidential informant and an open source."""
    ClaimFactory(
        place=country("CN"),
        count_low=50_000,
        attributed_to=SourceFactory(name=CANARY, confidential=True),
    )
    ClaimFactory(place=country("CN"), count_low=90_000)
    checks.sweep(today=TODAY, keys=["CN"])
    return Flag.objects.get(kind="count_conflict")


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(client, flag, action: str, body: dict | None = None):
    return client.post(f"/api/flags/{flag.pk}/{action}/", body or {}, format="json")


def test_an_editor_acknowledges_dismisses_and_reopens(editor, conflict):
    client = client_for(editor)
    acknowledged = post(client, conflict, "acknowledge", {"note": "Asking KITA."})
    assert acknowledged.status_code == 200
    assert acknowledged.json()["status"] == "acknowledged"
    assert acknowledged.json()["status_note"] == "Asking KITA."
    assert acknowledged.json() == client.get(f"/api/flags/{conflict.pk}/").json()

    dismissed = post(client, conflict, "dismiss", {"reason": f"  {REASON}  "})
    assert dismissed.status_code == 200
    assert (dismissed.json()["status"], dismissed.json()["status_note"]) == ("dismissed", REASON)

    reopened = post(client, conflict, "reopen")  # no body: the note is optional
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    assert list(conflict.events.values_list("action", "actor__username", "note")) == [
        (FlagEvent.Action.OPENED, None, ""),
        (FlagEvent.Action.ACKNOWLEDGED, "editor", "Asking KITA."),
        (FlagEvent.Action.DISMISSED, "editor", REASON),
        (FlagEvent.Action.REOPENED_BY_USER, "editor", ""),
    ]
    # The country's statuses read its active flags: each step asks for its check.
    assert CheckRequest.objects.filter(key="CN").exists()


def test_a_token_acts_as_its_editor(editor, conflict):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=editor).key}")
    assert post(client, conflict, "acknowledge").status_code == 200
    conflict.refresh_from_db()
    assert conflict.status_changed_by == editor


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"note": REASON}])
def test_dismissing_needs_a_reason(editor, conflict, body):
    response = post(client_for(editor), conflict, "dismiss", body)
    assert response.status_code == 400
    assert list(response.json()) == ["reason"]
    conflict.refresh_from_db()
    assert conflict.status == Flag.Status.OPEN


def test_a_reason_must_be_text(editor, conflict):
    response = post(client_for(editor), conflict, "dismiss", {"reason": 12})
    assert response.status_code == 400 and list(response.json()) == ["reason"]


def test_the_missing_reason_is_said_in_korean(editor, conflict):
    response = client_for(editor).post(
        f"/api/flags/{conflict.pk}/dismiss/", {}, format="json", HTTP_ACCEPT_LANGUAGE="ko"
    )
    assert response.json() == {"reason": ["이 필드는 필수 항목입니다."]}


@pytest.mark.parametrize(
    ("status", "action", "allowed"),
    [
        ("open", "reopen", "only an acknowledged or dismissed flag can be re-opened"),
        ("acknowledged", "acknowledge", "only an open flag can be acknowledged"),
        ("dismissed", "dismiss", "only an open or acknowledged flag can be dismissed"),
        ("resolved", "reopen", "only an acknowledged or dismissed flag can be re-opened"),
    ],
)
def test_an_action_the_status_does_not_allow_is_a_409_that_says_why(
    editor, conflict, status, action, allowed
):
    Flag.objects.filter(pk=conflict.pk).update(status=status)
    response = post(client_for(editor), conflict, action, {"reason": REASON})
    assert response.status_code == 409
    assert response.json() == {"detail": f"Flag #{conflict.pk} is {status}: {allowed}."}
    conflict.refresh_from_db()
    assert conflict.status == status and conflict.events.count() == 1


@pytest.mark.parametrize("action", ["acknowledge", "dismiss", "reopen"])
def test_a_viewer_and_an_outsider_are_refused(viewer, conflict, action):
    from tests.factories import UserFactory

    for user in (viewer, UserFactory(username="outsider")):
        response = post(client_for(user), conflict, action, {"reason": REASON})
        assert response.status_code == 403
    assert APIClient().post(f"/api/flags/{conflict.pk}/{action}/").status_code in (401, 403)
    conflict.refresh_from_db()
    assert conflict.status == Flag.Status.OPEN


def test_a_viewer_is_refused_before_the_id_is_looked_up(viewer):
    """A Viewer learns nothing of which ids exist: 403 for any."""
    assert post(client_for(viewer), Flag(pk=999999), "acknowledge").status_code == 403


@pytest.mark.parametrize("action", ["acknowledge", "dismiss", "reopen"])
def test_a_flag_that_is_not_there_is_a_404_whatever_the_body(editor, action):
    response = post(client_for(editor), Flag(pk=999999), action)
    assert response.status_code == 404


def test_a_flag_on_hidden_material_answers_its_editor_without_naming_it(editor, conflict):
    """Flags are always visible (docs/confidentiality.md): the answer is the flag said for the
    Editor, who may not see the informant."""
    response = post(client_for(editor), conflict, "acknowledge")
    assert response.status_code == 200
    assert CANARY not in response.content.decode()
    assert "a confidential source" in response.json()["explanation"]


def test_the_answer_is_said_in_the_requesters_language(editor, conflict):
    response = client_for(editor).post(
        f"/api/flags/{conflict.pk}/acknowledge/", {}, format="json", HTTP_ACCEPT_LANGUAGE="ko"
    )
    assert "중국" in response.json()["explanation"]
    refused = client_for(editor).post(
        f"/api/flags/{conflict.pk}/acknowledge/", {}, format="json", HTTP_ACCEPT_LANGUAGE="ko"
    )
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith(f"플래그 #{conflict.pk}의 상태는 '확인됨'입니다.")
