"""A flag's page (/flags/<id>/): what it found, the claims it rests on as the reader may see
them, its timeline, in the reader's language; and the actions Editors take there."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import ClaimFactory, ReportFactory, SourceFactory, country, obligation
from tracker import checks
from tracker.models import Flag, FlagEvent
from tracker.partialdates import PartialDate

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 24)
CANARY = "Canary Informant 7"
REASON = "KITA counts seasonal workers as well; NKDB counts only year-round contracts."


@pytest.fixture
def conflict(db) -> Flag:
    """A count conflict in China between a confidential informant and an open source."""
    informant = SourceFactory(name=CANARY, confidential=True)
    ClaimFactory(
        place=country("CN"),
        count_low=50_000,
        attributed_to=informant,
        external_id="X-1",
        summary=f"{CANARY} counted them",
    )
    ClaimFactory(
        place=country("CN"),
        count_low=90_000,
        external_id="X-2",
        attributed_to=SourceFactory(name="KITA", reliability="C"),
        report=ReportFactory(title="KITA on workers abroad", url="https://example.org/kita"),
        credibility=2,
    )
    checks.sweep(today=TODAY, keys=["CN"])
    return Flag.objects.get(kind="count_conflict")


def url(flag) -> str:
    return f"/flags/{flag.pk}/"


# --- reading ----------------------------------------------------------------------------------


def test_the_page_says_the_flag_its_claims_and_its_timeline(trusted_client, conflict):
    page = trusted_client.get(url(conflict)).content.decode()
    assert f"Flag #{conflict.pk}: count conflict" in page
    assert f"{CANARY} says 50,000 workers in China" in page
    for claim in conflict.claims.all():
        assert f"/admin/tracker/claim/{claim.pk}/change/" in page
    assert "C2" in page and "C – fairly reliable" in page and "2 – probably true" in page
    assert "90,000 workers" in page and "2019-12-01" in page
    assert 'href="https://example.org/kita"' in page and "KITA on workers abroad" in page
    assert "opened by the checks" in page


def test_the_page_gives_a_claims_dates_at_their_precision(viewer_client):
    for low, as_of in ((50_000, "2019-12"), (90_000, "2019")):
        ClaimFactory(place=country("CN"), count_low=low, as_of_given=PartialDate.parse(as_of))
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict")
    page = viewer_client.get(url(flag)).content.decode()
    cells = re.findall(r'<td class="flag-date">([^<]*)', page)
    assert sorted(cells) == ["2019", "2019-12"]


def test_a_viewer_reads_the_confidential_claim_redacted_and_unlinked(viewer_client, conflict):
    hidden = conflict.claims.get(external_id="X-1")
    response = viewer_client.get(url(conflict))
    assert response.status_code == 200
    page = response.content.decode()
    assert CANARY not in page
    assert "a confidential source" in page  # the sentence
    assert "confidential source" in page and "confidential report" in page  # the claim's row
    assert f"#{hidden.pk}" in page and "X-1" not in page
    assert f"/admin/tracker/claim/{hidden.pk}/change/" not in page
    assert "KITA on workers abroad" in page  # the open claim is named


def test_the_page_reads_korean_for_a_reader_of_korean(viewer_client, conflict):
    page = viewer_client.get(url(conflict), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert f"플래그 #{conflict.pk}: 수치 충돌" in page
    assert "중국" in page and "미해결" in page
    assert "점검에서 열림" in page


def test_a_flag_names_its_obligations_by_short_name(viewer_client):
    op8 = obligation("UNSCR2397-OP8")
    now = timezone.now()
    flag = Flag.objects.create(
        kind="stale",
        place=country("CN"),
        country=country("CN"),
        fingerprint="x",
        first_seen=now,
        last_seen=now,
    )
    flag.obligations.add(op8)
    page = viewer_client.get(url(flag)).content.decode()
    assert op8.name in page and op8.code in page
    listing = viewer_client.get("/flags/").content.decode()
    assert f'<span title="{op8.code}">{op8.name}</span>' in listing
    assert f'href="/flags/{flag.pk}/"' in listing


def test_a_missing_flag_is_a_404(viewer_client, editor_client):
    assert viewer_client.get("/flags/999999/").status_code == 404
    assert editor_client.post("/flags/999999/", {"action": "acknowledge"}).status_code == 404


def test_a_flag_resting_only_on_material_the_reader_may_not_see_is_still_a_flag(
    viewer_client, editor_client
):
    """Flags are always visible (docs/confidentiality.md): what is hidden is the material
    under them, redacted on the page as everywhere else; there is no hidden flag to 404."""
    secret = SourceFactory(name=CANARY, confidential=True)
    other = SourceFactory(name="Canary Press", confidential=True)
    ClaimFactory(place=country("RU"), count_low=1_000, attributed_to=secret)
    ClaimFactory(place=country("RU"), count_low=30_000, report=ReportFactory(publisher=other))
    checks.sweep(today=TODAY, keys=["RU"])
    flag = Flag.objects.get(kind="count_conflict", country=country("RU"))
    for client in (viewer_client, editor_client):
        response = client.get(url(flag))
        assert response.status_code == 200
        assert b"Canary" not in response.content
    # The admin and the API agree: the same flag answers there too.
    assert viewer_client.get(f"/api/flags/{flag.pk}/").status_code == 200
    assert viewer_client.get(f"/admin/tracker/flag/{flag.pk}/change/").status_code == 200


def test_the_admins_change_page_links_to_the_flags_page(viewer_client, conflict):
    page = viewer_client.get(f"/admin/tracker/flag/{conflict.pk}/change/").content.decode()
    assert "/admin/r/" in page  # "View on site"
    shortcut = viewer_client.get(f"/admin/tracker/flag/{conflict.pk}/change/")
    link = next(
        part.split('"')[0]
        for part in shortcut.content.decode().split('href="')[1:]
        if part.startswith("/admin/r/")
    )
    assert viewer_client.get(link)["Location"].endswith(url(conflict))


# --- acting ----------------------------------------------------------------------------------


def test_an_editor_sees_the_actions_the_status_allows(editor_client, conflict):
    page = editor_client.get(url(conflict)).content.decode()
    assert 'value="acknowledge"' in page and 'value="dismiss"' in page
    assert 'value="reopen"' not in page
    Flag.objects.filter(pk=conflict.pk).update(status="dismissed")
    page = editor_client.get(url(conflict)).content.decode()
    assert 'value="reopen"' in page and 'value="dismiss"' not in page
    Flag.objects.filter(pk=conflict.pk).update(status="resolved")
    page = editor_client.get(url(conflict)).content.decode()
    assert 'name="action"' not in page
    assert "re-opens by itself" in page


def test_an_editor_acknowledges_dismisses_and_reopens(editor_client, editor, conflict):
    response = editor_client.post(url(conflict), {"action": "acknowledge", "acknowledge-note": ""})
    assert response.status_code == 302 and response["Location"] == url(conflict)
    conflict.refresh_from_db()
    assert conflict.status == Flag.Status.ACKNOWLEDGED

    response = editor_client.post(
        url(conflict), {"action": "dismiss", "dismiss-reason": REASON}, follow=True
    )
    assert f"Flag #{conflict.pk} dismissed." in response.content.decode()
    conflict.refresh_from_db()
    assert (conflict.status, conflict.status_note, conflict.status_changed_by) == (
        Flag.Status.DISMISSED,
        REASON,
        editor,
    )
    page = response.content.decode()
    timeline = page[page.index('class="flag-timeline"') :]
    assert "dismissed" in timeline and REASON in timeline and "editor" in timeline

    editor_client.post(url(conflict), {"action": "reopen", "reopen-note": "New survey due."})
    conflict.refresh_from_db()
    assert conflict.status == Flag.Status.OPEN
    assert list(conflict.events.values_list("action", "note")) == [
        (FlagEvent.Action.OPENED, ""),
        (FlagEvent.Action.ACKNOWLEDGED, ""),
        (FlagEvent.Action.DISMISSED, REASON),
        (FlagEvent.Action.REOPENED_BY_USER, "New survey due."),
    ]


@pytest.mark.parametrize("reason", ["", "   "])
def test_dismissing_without_a_reason_shows_the_error_next_to_the_field(
    editor_client, conflict, reason
):
    response = editor_client.post(url(conflict), {"action": "dismiss", "dismiss-reason": reason})
    assert response.status_code == 200
    page = response.content.decode()
    form = page[page.index('<label for="id_dismiss-reason">') :]
    assert form.index('id="id_dismiss-reason_error"') < form.index('name="dismiss-reason"')
    assert "This field is required." in form[: form.index('name="dismiss-reason"')]
    conflict.refresh_from_db()
    assert conflict.status == Flag.Status.OPEN


def test_dismissing_without_a_reason_reads_korean(editor_client, conflict):
    response = editor_client.post(
        url(conflict), {"action": "dismiss", "dismiss-reason": " "}, HTTP_ACCEPT_LANGUAGE="ko"
    )
    assert "필수 항목입니다." in response.content.decode()


def test_an_action_the_status_no_longer_allows_is_refused_with_a_message(editor_client, conflict):
    response = editor_client.post(url(conflict), {"action": "reopen"}, follow=True)
    assert f"Flag #{conflict.pk} is open: only an acknowledged or dismissed flag" in (
        response.content.decode()
    )
    conflict.refresh_from_db()
    assert conflict.status == Flag.Status.OPEN
    assert editor_client.post(url(conflict), {"action": "delete"}).status_code == 400


def test_a_viewer_sees_no_button_and_cannot_post(viewer_client, conflict):
    page = viewer_client.get(url(conflict)).content.decode()
    assert 'name="action"' not in page
    for action in ("acknowledge", "dismiss", "reopen"):
        response = viewer_client.post(url(conflict), {"action": action, "dismiss-reason": "x"})
        assert response.status_code == 403
    conflict.refresh_from_db()
    assert conflict.status == Flag.Status.OPEN


def test_a_post_needs_the_csrf_token(editor, conflict):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    assert client.post(url(conflict), {"action": "acknowledge"}).status_code == 403


# --- cost -------------------------------------------------------------------------------------


def test_the_page_runs_the_same_queries_for_one_claim_and_fifty(viewer_client):
    """The page's queries, whatever the claims and events: the session and the user; the
    flag with its place, country and last changer; its claims with their sources, places,
    obligations, reports and publishers; its events with their actors; what the sentence
    names (claims, places, every obligation, the flag's obligations)."""
    now = timezone.now()
    flag = Flag.objects.create(
        kind="count_conflict",
        place=country("CN"),
        country=country("CN"),
        fingerprint="counted",
        first_seen=now,
        last_seen=now,
    )

    def count() -> int:
        viewer_client.get(url(flag))  # the permission caches
        with CaptureQueriesContext(connection) as queries:
            response = viewer_client.get(url(flag))
        assert response.status_code == 200
        return len(queries)

    def add(n: int) -> None:
        claims = [
            ClaimFactory(attributed_to=SourceFactory(confidential=i % 2 == 0)) for i in range(n)
        ]
        flag.claims.add(*claims)
        flag.claim_ids = [*flag.claim_ids, *(c.pk for c in claims)]
        flag.facts = {
            "low": {"claim": claims[0].pk, "low": 1000, "high": 1000, "as_of": "2019-12-01"},
            "high": {"claim": claims[-1].pk, "low": 1000, "high": 1000, "as_of": "2019-12-01"},
            "first": "2019-12-01",
            "last": "2019-12-01",
            "sources": len(flag.claim_ids),
            "tolerance": "1/10",
        }
        flag.save()
        FlagEvent.objects.create(
            flag=flag, at=now, action="changed", data={"joined": flag.claim_ids}
        )

    add(1)
    one = count()
    add(49)
    assert len(flag.claim_ids) == 50
    assert count() == one
