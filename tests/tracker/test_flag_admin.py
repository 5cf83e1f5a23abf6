"""The flag admin: what monitors see of a flag, and the acknowledge / dismiss / re-open
actions, with permissions and confidential sources respected."""

import datetime
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command

from tests.admin_forms import admin_url
from tests.factories import ClaimFactory, PlaceFactory, SourceFactory, country
from tracker import checks
from tracker.models import CheckState, Flag, FlagEvent

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 24)
CANARY = "Canary Informant 7"


@pytest.fixture
def conflict(db) -> Flag:
    """A count conflict in China between a confidential informant and an open source."""
    informant = SourceFactory(name=CANARY, confidential=True)
    ClaimFactory(place=country("CN"), count_low=50_000, attributed_to=informant, external_id="X-1")
    ClaimFactory(place=country("CN"), count_low=90_000, external_id="X-2")
    checks.sweep(today=TODAY, keys=["CN"])
    return Flag.objects.get(kind="count_conflict")


def act(client, action: str, flags, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [f.pk for f in flags], **extra}
    return client.post(admin_url(Flag, "changelist"), data)


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("filters", [{}, {"kind": "count_conflict"}, {"status": "open"},
                                     {"country": "CN"}, {"q": "China"}])  # fmt: skip
def test_changelist_renders_with_each_filter(viewer_client, conflict, filters):
    response = viewer_client.get(admin_url(Flag, "changelist"), filters)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [conflict]


def test_country_filter_keeps_only_that_countrys_flags(viewer_client, conflict):
    response = viewer_client.get(admin_url(Flag, "changelist"), {"country": "RU"})
    assert list(response.context["cl"].result_list) == []


def test_each_list_filter_keeps_exactly_the_flags_it_names(trusted_client):
    """Over the demo's flags of several kinds, countries and obligations, one acknowledged:
    each filter of the list (not a lookup Django would take from the address anyway) keeps
    its flags and no other."""
    call_command("loaddemo", stdout=io.StringIO())
    checks.sweep(today=TODAY)
    Flag.objects.filter(pk=Flag.objects.filter(kind="stale").first().pk).update(
        status="acknowledged"
    )
    obligation = Flag.objects.filter(kind="stale").values_list("obligations", flat=True).first()
    severity = Flag.objects.filter(kind="cap_signal").values_list("severity", flat=True).first()
    cases = [
        ({"kind__exact": "scope_conflict"}, {"kind": "scope_conflict"}),
        ({"severity__exact": severity}, {"severity": severity}),
        ({"status__exact": "acknowledged"}, {"status": "acknowledged"}),
        ({"country": "RU"}, {"country__iso_code": "RU"}),
        ({"obligations__id__exact": obligation}, {"obligations": obligation}),
    ]
    every = set(Flag.objects.values_list("pk", flat=True))
    for params, lookup in cases:
        cl = trusted_client.get(admin_url(Flag, "changelist"), params).context["cl"]
        offered = {name for spec in cl.filter_specs for name in spec.expected_parameters()}
        assert set(params) <= offered
        kept = set(cl.queryset.values_list("pk", flat=True))
        assert kept == set(Flag.objects.filter(**lookup).values_list("pk", flat=True)), params
        assert kept and kept < every, params


def test_change_page_shows_the_sentence_the_claims_with_links_and_the_timeline(
    trusted_client, conflict
):
    page = trusted_client.get(admin_url(Flag, "change", conflict.pk)).content.decode()
    assert CANARY in page
    for claim in conflict.claims.all():
        assert admin_url(type(claim), "change", claim.pk) in page
    assert "opened by the checks" in page
    assert 'name="_save"' not in page  # flags are never edited as a form


def test_a_viewer_sees_neither_the_confidential_name_nor_a_link_to_its_claim(
    viewer_client, conflict
):
    hidden = conflict.claims.get(external_id="X-1")
    page = viewer_client.get(admin_url(Flag, "change", conflict.pk)).content.decode()
    listing = viewer_client.get(admin_url(Flag, "changelist")).content.decode()
    searched = viewer_client.get(admin_url(Flag, "changelist"), {"q": "Canary"})
    for text in (page, listing):
        assert CANARY not in text
        assert "a confidential source" in text
    assert admin_url(type(hidden), "change", hidden.pk) not in page
    assert list(searched.context["cl"].result_list) == []  # search does not reveal it either


def test_a_deleted_claim_is_listed_as_deleted(trusted_client, conflict):
    claim = conflict.claims.get(external_id="X-2")
    claim_id = claim.pk
    claim.delete()
    page = trusted_client.get(admin_url(Flag, "change", conflict.pk)).content.decode()
    assert f"claim #{claim_id} (deleted)" in page


def test_changelist_runs_the_same_number_of_queries_for_1_and_12_flags(viewer_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_changelist() -> int:
        checks.sweep(today=TODAY, keys=["CN"])
        viewer_client.get(admin_url(Flag, "changelist"))  # warm the session
        with CaptureQueriesContext(connection) as captured:
            response = viewer_client.get(admin_url(Flag, "changelist"))
        assert response.status_code == 200
        return len(captured)

    def add_conflicts(n: int) -> None:
        for _ in range(n):
            place = PlaceFactory()
            ClaimFactory(place=place, count_low=10_000)
            ClaimFactory(place=place, count_low=30_000)

    add_conflicts(1)
    one = queries_for_changelist()
    add_conflicts(11)
    twelve = queries_for_changelist()
    assert Flag.objects.count() == 12
    assert one == twelve


def test_nobody_adds_or_deletes_a_flag_by_hand(admin_client, conflict):
    assert admin_client.get(admin_url(Flag, "add")).status_code == 403
    assert admin_client.post(admin_url(Flag, "delete", conflict.pk)).status_code == 403


def test_check_states_are_read_only(admin_client, conflict):
    state = CheckState.objects.get(key="CN")
    assert admin_client.get(admin_url(CheckState, "changelist")).status_code == 200
    page = admin_client.get(admin_url(CheckState, "change", state.pk)).content.decode()
    assert 'name="_save"' not in page
    assert admin_client.get(admin_url(CheckState, "add")).status_code == 403


# --- actions ------------------------------------------------------------------------------------


def test_editor_acknowledges_a_flag(editor_client, editor, conflict):
    response = act(editor_client, "acknowledge", [conflict])
    assert response.status_code == 302
    conflict.refresh_from_db()
    assert conflict.status == Flag.Status.ACKNOWLEDGED
    assert (conflict.status_changed_by, conflict.events.last().actor) == (editor, editor)


def test_dismiss_asks_for_a_reason_first(editor_client, conflict):
    page = act(editor_client, "dismiss", [conflict])
    assert page.status_code == 200
    assert "Say why these flags are not a problem" in page.content.decode()
    conflict.refresh_from_db()
    assert conflict.status == Flag.Status.OPEN


def test_dismiss_with_an_empty_reason_is_refused_and_changes_nothing(editor_client, conflict):
    page = act(editor_client, "dismiss", [conflict], apply="1", reason="   ")
    assert page.status_code == 200
    assert "This field is required." in page.content.decode()
    conflict.refresh_from_db()
    assert conflict.status == Flag.Status.OPEN


def test_dismiss_with_a_reason_records_who_and_why(editor_client, editor, conflict):
    response = act(
        editor_client, "dismiss", [conflict], apply="1", reason="The informant counts families."
    )
    assert response.status_code == 302
    conflict.refresh_from_db()
    assert conflict.status == Flag.Status.DISMISSED
    assert conflict.status_note == "The informant counts families."
    event = conflict.events.last()
    assert (event.action, event.actor, event.note) == (
        FlagEvent.Action.DISMISSED,
        editor,
        "The informant counts families.",
    )


def test_dismiss_page_hides_the_confidential_name_from_an_editor_without_permission(
    editor_client, conflict
):
    page = act(editor_client, "dismiss", [conflict]).content.decode()
    assert CANARY not in page


def test_editor_reopens_a_dismissed_flag(editor_client, conflict):
    act(editor_client, "dismiss", [conflict], apply="1", reason="Not a problem.")
    act(editor_client, "reopen", [conflict])
    conflict.refresh_from_db()
    assert conflict.status == Flag.Status.OPEN
    assert conflict.events.last().action == FlagEvent.Action.REOPENED_BY_USER


def test_deleting_a_user_keeps_the_flag_they_dismissed_with_its_timeline_and_claims(
    editor_client, editor, conflict
):
    act(editor_client, "dismiss", [conflict], apply="1", reason="Counted twice.")
    claims = set(conflict.claims.values_list("external_id", flat=True))
    actions = list(conflict.events.values_list("action", "note"))
    editor.delete()
    conflict.refresh_from_db()
    assert (conflict.status, conflict.status_note) == (Flag.Status.DISMISSED, "Counted twice.")
    assert conflict.status_changed_by is None
    assert list(conflict.events.values_list("action", "note")) == actions
    assert not conflict.events.filter(actor__isnull=False).exists()
    assert set(conflict.claims.values_list("external_id", flat=True)) == claims == {"X-1", "X-2"}


def test_a_viewer_can_only_export_and_cannot_post_a_status_change(viewer_client, conflict):
    page = viewer_client.get(admin_url(Flag, "changelist"))
    offered = {name for name, _ in page.context["action_form"].fields["action"].choices if name}
    assert offered == {"export_csv", "export_xlsx"}
    act(viewer_client, "dismiss", [conflict], apply="1", reason="I should not be able to.")
    act(viewer_client, "acknowledge", [conflict])
    conflict.refresh_from_db()
    assert conflict.status == Flag.Status.OPEN
    assert conflict.events.count() == 1


def test_a_flag_export_names_no_confidential_source_to_a_viewer(viewer_client, conflict):
    data = b"".join(act(viewer_client, "export_csv", [conflict]).streaming_content).decode(
        "utf-8-sig"
    )
    assert "count_conflict" in data and "a confidential source" in data
    assert CANARY not in data
    assert "X-1" not in data  # the confidential claim is listed by number only


def test_a_flag_export_is_complete_for_a_permitted_user(trusted_client, conflict):
    data = b"".join(act(trusted_client, "export_csv", [conflict]).streaming_content).decode(
        "utf-8-sig"
    )
    assert CANARY in data and "X-1 X-2" in data
