"""The add-report page (issue 31, point 4): claims as stacked blocks, the errors listed at the
top by claim number, a new source or place created with the report in one transaction, a
warning (not a refusal) for an as-of date after the publication."""

import pytest
from django.contrib import messages as django_messages
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.admin_forms import admin_url, report_form
from tests.factories import SourceFactory, UserFactory, country
from tracker.admin import evidence
from tracker.models import Claim, Place, Report, Source

pytestmark = pytest.mark.django_db

NEW = {
    "new_source_name": "North Korea Labour Watch",
    "new_source_kind": "ngo",
    "new_source_reliability": "C",
}


@pytest.fixture
def rfa(db):
    return SourceFactory(name="Radio Free Asia", kind=Source.Kind.NEWS)


@pytest.fixture
def nkdb(db):
    return SourceFactory(name="NKDB")


def claim(source=None, **fields) -> dict:
    row = {"place": country("CN").pk, "as_of": "2019-12-20", **fields}
    if source is not None:
        row["attributed_to"] = source.pk
    else:
        row.setdefault("attributed_to", "")
    return row


def messages_of(response) -> list[tuple[int, str]]:
    return [(m.level, m.message) for m in response.wsgi_request._messages]


# --- the page -------------------------------------------------------------------------------


def test_the_claims_are_stacked_blocks_without_pop_up_links(editor_client):
    response = editor_client.get(admin_url(Report, "add"))
    page = response.content.decode()
    assert 'id="claims-group"' in page and 'data-inline-type="stacked"' in page
    assert "claim-blocks" in page
    for name in ("new_source_name", "new_place_name", "claims-0-attributed_to_new",
                 "claims-0-place_new", "publisher_new"):  # fmt: skip
        assert f'name="{name}"' in page, name
    # No pop-up window for the relations a new row is described for.
    for field in ("publisher", "claims-0-attributed_to", "claims-0-place"):
        assert f'id="add_id_{field}"' not in page, field
        assert f'id="change_id_{field}"' not in page, field
    # The as_of field is the form field's own widget; the hint's script is a file.
    assert 'name="claims-0-as_of"' in page
    assert "tracker/report_form.js" in page and "<script>" not in page


def test_errors_are_listed_at_the_top_with_the_claim_number_and_field(editor_client, rfa):
    claims = [
        claim(rfa),
        claim(rfa, measure="workers", count_low="80000", count_high="70000"),
        claim(rfa, as_of=""),
    ]
    response = editor_client.post(admin_url(Report, "add"), report_form(rfa, claims, title=""))
    assert response.status_code == 200
    items = [(i.where, i.message, i.anchor) for i in response.context["error_summary"]]
    assert items == [
        ("Title", "This field is required.", "id_title"),
        (
            "Claim #2, Count high",
            "The upper bound (70,000) is below the lower bound (80,000).",
            "id_claims-1-count_high",
        ),
        ("Claim #3, As of", "This field is required.", "id_claims-2-as_of"),
    ]
    page = response.content.decode()
    assert 'href="#id_claims-1-count_high"' in page
    assert "<b>Claim #2, Count high</b>" in page
    # Django's own "Please correct the errors below" is not shown a second time.
    assert page.count('class="errornote') == 1
    assert Report.objects.count() == 0


# --- a new source, a new place --------------------------------------------------------------


def test_a_new_source_is_created_with_the_report_and_named_by_its_claims(
    editor_client, editor, rfa, nkdb
):
    claims = [
        claim(nkdb),
        claim(attributed_to_new="on", external_id="by-new"),
        claim(attributed_to_new="on", external_id="by-new-2"),
    ]
    data = {**report_form(rfa, claims, **NEW, publisher_new="on"), "publisher": ""}
    response = editor_client.post(admin_url(Report, "add"), data)
    assert response.status_code == 302, response.context["error_summary"]
    source = Source.objects.get(name="North Korea Labour Watch")
    assert (source.kind, source.reliability, source.confidential) == ("ngo", "C", False)
    report = Report.objects.get()
    assert report.publisher == source
    assert set(
        report.claims.filter(attributed_to=source).values_list("external_id", flat=True)
    ) == {
        "by-new",
        "by-new-2",
    }
    assert source.history.get().history_user == editor
    assert (django_messages.SUCCESS, "The source “North Korea Labour Watch” was created.") in (
        messages_of(response)
    )


def test_a_new_place_is_created_inside_its_parent(editor_client, rfa):
    data = report_form(
        rfa,
        [claim(rfa, place="", place_new="on")],
        new_place_name="Dandong",
        new_place_name_ko="단둥",
        new_place_kind="city",
        new_place_parent=country("CN").pk,
    )
    response = editor_client.post(admin_url(Report, "add"), data)
    assert response.status_code == 302, response.context["error_summary"]
    dandong = Place.objects.get(name="Dandong")
    assert dandong.parent == country("CN") and dandong.name_path == "China > Dandong"
    assert Claim.objects.get().place == dandong


def test_a_failed_save_creates_no_source(editor_client, rfa):
    bad = claim(measure="workers", count_low="80000", count_high="70000", attributed_to_new="on")
    response = editor_client.post(admin_url(Report, "add"), report_form(rfa, [bad], **NEW))
    assert response.status_code == 200
    assert not Source.objects.filter(name=NEW["new_source_name"]).exists()
    # The page keeps what was typed for the next try.
    page = response.content.decode()
    assert 'value="North Korea Labour Watch"' in page
    assert 'name="claims-0-attributed_to_new" id="id_claims-0-attributed_to_new" checked' in page


def test_a_failure_while_saving_rolls_back_the_new_source_and_place(
    editor_client, rfa, monkeypatch
):
    def fail(self):
        raise RuntimeError("the checks could not be requested")

    monkeypatch.setattr(evidence.Touched, "request_checks", fail)
    data = report_form(
        rfa,
        [claim(attributed_to_new="on", place="", place_new="on")],
        **NEW,
        new_place_name="Dandong",
        new_place_kind="city",
        new_place_parent=country("CN").pk,
    )
    with pytest.raises(RuntimeError):
        editor_client.post(admin_url(Report, "add"), data)
    assert not Source.objects.filter(name=NEW["new_source_name"]).exists()
    assert not Place.objects.filter(name="Dandong").exists()
    assert (Report.objects.count(), Claim.objects.count()) == (0, 0)


def test_a_duplicate_source_name_is_refused_clearly(editor_client, rfa, nkdb):
    data = report_form(rfa, [claim(attributed_to_new="on")], **{**NEW, "new_source_name": "nkdb"})
    response = editor_client.post(admin_url(Report, "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["new_source_name"] == [
        "A source with this name already exists."
    ]
    items = [(i.where, i.message) for i in response.context["error_summary"]]
    assert ("Name", "A source with this name already exists.") in items
    assert Source.objects.filter(name__iexact="nkdb").count() == 1
    assert Report.objects.count() == 0


def test_a_new_source_is_validated_as_the_sources_page_validates_it(editor_client, rfa):
    data = report_form(rfa, [claim(rfa)], **{**NEW, "new_source_kind": "government"})
    response = editor_client.post(admin_url(Report, "add"), data)
    assert response.status_code == 200
    assert "new_source_country" in response.context["adminform"].form.errors
    assert not Source.objects.filter(name=NEW["new_source_name"]).exists()


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"attributed_to_new": "on"}, "attributed_to_new", "Describe the new source"),
        ({"place": "", "place_new": "on"}, "place_new", "Describe the new place"),
        ({}, "attributed_to", "This field is required."),
    ],
)
def test_a_claim_names_a_source_and_a_place_one_way(editor_client, rfa, row, field, message):
    response = editor_client.post(admin_url(Report, "add"), report_form(rfa, [claim(**row)]))
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert errors[field][0].startswith(message)


def test_a_claim_cannot_both_choose_a_source_and_tick_the_new_one(editor_client, rfa):
    data = report_form(rfa, [claim(rfa, attributed_to_new="on")], **NEW)
    response = editor_client.post(admin_url(Report, "add"), data)
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert errors["attributed_to"] == ["Choose one, or tick “the new source”, not both."]
    assert not Source.objects.filter(name=NEW["new_source_name"]).exists()


def test_a_confidential_source_created_inline_is_confidential_and_hidden(editor_client, rfa):
    data = report_form(rfa, [claim(attributed_to_new="on")], **NEW, new_source_confidential="on")
    response = editor_client.post(admin_url(Report, "add"), data)
    assert response.status_code == 302, response.context["error_summary"]
    source = Source.objects.get(name=NEW["new_source_name"])
    assert source.confidential
    # The Editor, without the permission, no longer meets it in the autocomplete.
    query = {"app_label": "tracker", "model_name": "claim", "field_name": "attributed_to"}
    found = editor_client.get(reverse("admin:autocomplete"), {**query, "term": "Labour"})
    assert found.json()["results"] == []


# --- who may create -------------------------------------------------------------------------


def test_a_viewer_cannot_create_a_source_through_the_report_form(viewer_client, rfa):
    data = report_form(rfa, [claim(attributed_to_new="on")], **NEW)
    response = viewer_client.post(admin_url(Report, "add"), data)
    assert response.status_code == 403
    assert not Source.objects.filter(name=NEW["new_source_name"]).exists()


def test_who_may_log_reports_but_not_add_sources_gets_no_new_source(client, rfa):
    user = UserFactory(username="reporter")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="tracker",
            codename__in=["add_report", "change_report", "view_report", "add_claim",
                          "change_claim", "view_claim", "view_source", "view_place"],
        )
    )  # fmt: skip
    client.force_login(user)
    page = client.get(admin_url(Report, "add")).content.decode()
    assert 'name="new_source_name"' not in page and 'name="new_place_name"' not in page
    assert "attributed_to_new" not in page
    data = report_form(rfa, [claim(rfa)], **NEW, publisher_new="on")
    response = client.post(admin_url(Report, "add"), data)
    assert response.status_code == 302
    assert not Source.objects.filter(name=NEW["new_source_name"]).exists()
    assert Report.objects.get().publisher == rfa


# --- an as-of date after the publication ----------------------------------------------------


def test_an_as_of_date_after_the_publication_saves_with_a_warning(editor_client, rfa):
    claims = [claim(rfa), claim(rfa, as_of="2020-01-15", external_id="late-1")]
    response = editor_client.post(
        admin_url(Report, "add"), report_form(rfa, claims, published_on="2019-12-30")
    )
    assert response.status_code == 302
    assert Claim.objects.count() == 2
    warnings = [text for level, text in messages_of(response) if level == django_messages.WARNING]
    assert warnings == [
        "Claim #2 of the form (saved as late-1) is dated as of 15 January 2020, after the "
        "report's publication on 30 December 2019. It was saved; check the date if it is a slip."
    ]


def test_no_warning_when_every_claim_predates_the_publication(editor_client, rfa):
    response = editor_client.post(admin_url(Report, "add"), report_form(rfa, [claim(rfa)]))
    assert response.status_code == 302
    assert not [m for m in messages_of(response) if m[0] == django_messages.WARNING]


def test_a_late_date_already_saved_is_not_warned_about_again(editor_client, rfa):
    claims = [claim(rfa, as_of="2020-01-15", external_id="late-1")]
    data = report_form(rfa, claims, published_on="2019-12-30")
    editor_client.post(admin_url(Report, "add"), data, follow=True)  # its messages read
    report, late = Report.objects.get(), Claim.objects.get()
    url = admin_url(Report, "change", report.pk)
    again = {
        **data,
        "claims-INITIAL_FORMS": "1",
        "claims-0-id": late.pk,
        "claims-0-report": report.pk,
    }
    again["notes"] = "Checked: the ministry dates its figures to the month's end."
    response = editor_client.post(url, again)
    assert response.status_code == 302
    assert not [m for m in messages_of(response) if m[0] == django_messages.WARNING]
    editor_client.get(admin_url(Report, "changelist"))  # its success message read
    # Moving the publication date asks again.
    response = editor_client.post(url, {**again, "published_on": "2019-12-31"})
    assert [m for m in messages_of(response) if m[0] == django_messages.WARNING]
