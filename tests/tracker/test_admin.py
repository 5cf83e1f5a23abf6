"""The admin as the monitors' data-entry tool: pages, permissions, the add form, query counts."""

import datetime

import pytest
from django.contrib import admin
from django.contrib.admin.models import DELETION, LogEntry
from django.urls import reverse
from django.utils import timezone

from tests.admin_forms import admin_url, report_form
from tests.factories import ClaimFactory, PlaceFactory, ReportFactory, SourceFactory, country
from tracker import services
from tracker.models import Claim, Flag, Obligation, Place, Report, Resolution, Source

pytestmark = pytest.mark.django_db

EVIDENCE = {"Resolution", "Obligation", "Place", "Source", "Report", "Claim", "Watch"}
# The flag admin has its own tests (test_flag_admin.py): nobody adds or edits flags by hand.
TRACKER_MODELS = [m for m in admin.site._registry if m.__name__ in EVIDENCE]


@pytest.fixture
def demo(db):
    from django.core.management import call_command

    call_command("loaddemo")


# --- every page renders ---------------------------------------------------------------------


def test_every_tracker_model_is_in_the_admin():
    names = {m.__name__ for m in admin.site._registry if m._meta.app_label == "tracker"}
    assert names == EVIDENCE | {"Flag", "CheckState", "ReportDocument"}


@pytest.mark.parametrize("model", TRACKER_MODELS, ids=lambda m: m.__name__)
def test_changelist_add_and_change_pages_render_for_an_editor(editor_client, demo, model):
    assert editor_client.get(admin_url(model, "changelist")).status_code == 200
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the demo data has no {model.__name__}"
    assert editor_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    assert editor_client.get(admin_url(model, "history", obj.pk)).status_code == 200
    add = editor_client.get(admin_url(model, "add"))
    editable = model.__name__ in {"Report", "Claim", "Source", "Place"}
    assert add.status_code == (200 if editable else 403)


@pytest.mark.parametrize("model", TRACKER_MODELS, ids=lambda m: m.__name__)
def test_changelist_filters_and_search_render(editor_client, demo, model):
    model_admin = admin.site._registry[model]
    response = editor_client.get(admin_url(model, "changelist"), {"q": "china"})
    assert response.status_code == 200
    # Django ignores misspelt admin options silently; the changelist proves they resolve.
    changelist = response.context["cl"]
    assert len(changelist.filter_specs) == len(model_admin.list_filter)


def test_claim_changelist_filters_by_country_including_sub_places(editor_client, demo):
    response = editor_client.get(admin_url(Claim, "changelist"), {"country": "CN"})
    rows = list(response.context["cl"].result_list)
    assert {c.external_id for c in rows} == {
        "DEMO-RFA-01", "DEMO-RFA-02", "DEMO-RFA-05", "DEMO-RFA-07", "DEMO-RFA-08",
        "DEMO-SCMP-01", "DEMO-SCMP-02",
    }  # fmt: skip
    choices = response.context["cl"].filter_specs[1].lookup_choices
    assert ("CN", "China") in choices
    assert ("QA", "Qatar") not in choices  # no claims about Qatar


def test_claim_changelist_shows_scannable_lines(editor_client, demo):
    response = editor_client.get(admin_url(Claim, "changelist"))
    assert "NKDB · China &gt; Northeast China · 60,000 workers · as of 2019-12-23" in (
        response.content.decode()
    )
    assert ">B3<" in response.content.decode()  # reliability and credibility, Admiralty style


# --- viewers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", TRACKER_MODELS, ids=lambda m: m.__name__)
def test_viewer_sees_but_cannot_change_anything(viewer_client, demo, model):
    obj = model._default_manager.order_by("pk").first()
    assert viewer_client.get(admin_url(model, "changelist")).status_code == 200
    page = viewer_client.get(admin_url(model, "change", obj.pk))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert viewer_client.get(admin_url(model, "add")).status_code == 403
    assert viewer_client.post(admin_url(model, "change", obj.pk), {}).status_code == 403
    assert (
        viewer_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    )
    assert model._default_manager.filter(pk=obj.pk).exists()


def test_viewer_cannot_log_a_report(viewer_client, demo):
    before = Report.objects.count()
    response = viewer_client.post(admin_url(Report, "add"), {"title": "x"})
    assert response.status_code == 403
    assert Report.objects.count() == before


# --- confidentiality --------------------------------------------------------------------------

CANARY = "Canary Informant Zeta"


@pytest.fixture
def secrets_(db):
    """A confidential source with a claim in a public report, and a confidential report."""
    informant = SourceFactory(name=CANARY, confidential=True)
    public_report = ReportFactory(title="Public survey")
    hidden_claim = ClaimFactory(report=public_report, attributed_to=informant, summary="seen")
    open_claim = ClaimFactory(report=public_report, summary="open")
    state_report = ReportFactory(title="Canary state report", confidential=True)
    claim_in_state_report = ClaimFactory(report=state_report, summary="Canary summary words")
    return {
        "informant": informant,
        "public_report": public_report,
        "hidden_claim": hidden_claim,
        "open_claim": open_claim,
        "state_report": state_report,
        "claim_in_state_report": claim_in_state_report,
    }


def test_confidential_source_and_report_are_absent_for_an_editor(editor_client, secrets_):
    for url in (admin_url(Source, "changelist"), admin_url(Report, "changelist")):
        body = editor_client.get(url).content.decode()
        assert "Canary" not in body
    claims = editor_client.get(admin_url(Claim, "changelist")).content.decode()
    assert "Canary" not in claims
    assert "confidential source · China" in claims
    assert "confidential report" in claims


def test_confidential_pages_are_refused_to_an_editor(editor_client, secrets_):
    for model, obj in (
        (Source, secrets_["informant"]),
        (Report, secrets_["state_report"]),
        (Claim, secrets_["hidden_claim"]),
        (Claim, secrets_["claim_in_state_report"]),
    ):
        for view in ("change", "history", "delete"):
            response = editor_client.get(admin_url(model, view, obj.pk), follow=True)
            assert "Canary" not in response.content.decode(), (model, view)
            assert response.status_code in (200, 403, 404)
            if response.status_code == 200:  # redirected to the index: "does not exist"
                assert response.redirect_chain


def test_searching_for_a_hidden_name_finds_nothing(editor_client, secrets_):
    for term in ("Canary", "Zeta", "summary words"):
        response = editor_client.get(admin_url(Claim, "changelist"), {"q": term})
        assert list(response.context["cl"].result_list) == [], term
    found = editor_client.get(admin_url(Claim, "changelist"), {"q": "open"})
    assert list(found.context["cl"].result_list) == [secrets_["open_claim"]]


def test_autocomplete_does_not_offer_a_confidential_source(editor_client, secrets_):
    response = editor_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "tracker",
            "model_name": "claim",
            "field_name": "attributed_to",
            "term": "Can",
        },
    )
    assert response.status_code == 200
    assert CANARY not in response.content.decode()


def test_report_inline_hides_a_confidential_claimant(editor_client, secrets_):
    page = editor_client.get(admin_url(Report, "change", secrets_["public_report"].pk))
    body = page.content.decode()
    assert "Canary" not in body
    assert "open" in body


def test_trusted_editor_sees_confidential_material(trusted_client, secrets_):
    assert CANARY in trusted_client.get(admin_url(Source, "changelist")).content.decode()
    assert (
        "Canary state report"
        in trusted_client.get(admin_url(Report, "changelist")).content.decode()
    )
    claims = trusted_client.get(admin_url(Claim, "changelist"), {"q": "Zeta"})
    assert list(claims.context["cl"].result_list) == [secrets_["hidden_claim"]]
    page = trusted_client.get(admin_url(Source, "change", secrets_["informant"].pk))
    assert page.status_code == 200


# --- logging a report through the add form ----------------------------------------------------


def test_logging_a_report_with_three_claims_stores_all_three(editor_client, editor, demo):
    rfa = Source.objects.get(name="Radio Free Asia")
    nkdb = Source.objects.get(name="NKDB")
    northeast = country("CN").children.get(name="Northeast China")
    claims = [
        {"attributed_to": nkdb.pk, "place": northeast.pk, "measure": "workers",
         "count_low": "60000", "count_high": "60000", "as_of": "2019-12-23",
         "stance": "violating", "external_id": "T-1"},
        {"attributed_to": nkdb.pk, "place": country("RU").pk, "measure": "workers",
         "count_low": "30000", "count_high": "", "as_of": "2019-12-20", "external_id": "T-2"},
        {"attributed_to": rfa.pk, "place": country("CN").pk, "as_of": "2019-12-22",
         "stance": "violating", "summary": "arrivals", "external_id": "T-3"},
    ]  # fmt: skip
    response = editor_client.post(admin_url(Report, "add"), report_form(rfa, claims))
    assert response.status_code == 302, response.context["errors"]
    report = Report.objects.get(title="NKDB survey of northeast China")
    assert report.logged_by == editor
    stored = {c.external_id: c for c in report.claims.all()}
    assert set(stored) == {"T-1", "T-2", "T-3"}
    assert stored["T-1"].count_low == 60000
    assert stored["T-2"].count_high is None
    assert stored["T-3"].measure == ""
    assert report.history.count() == 1
    assert stored["T-1"].history.first().history_user == editor


def test_a_bad_claim_row_shows_its_error_and_stores_nothing(editor_client, demo):
    rfa = Source.objects.get(name="Radio Free Asia")
    claims = [
        {"attributed_to": rfa.pk, "place": country("CN").pk, "as_of": "2019-12-22"},
        {"attributed_to": rfa.pk, "place": country("CN").pk, "measure": "workers",
         "count_low": "80000", "count_high": "70000", "as_of": "2019-12-22"},
    ]  # fmt: skip
    before = (Report.objects.count(), Claim.objects.count())
    response = editor_client.post(admin_url(Report, "add"), report_form(rfa, claims))
    assert response.status_code == 200
    assert "The upper bound (70,000) is below the lower bound (80,000)." in (
        response.content.decode()
    )
    assert (Report.objects.count(), Claim.objects.count()) == before


def test_changing_a_claim_is_recorded_in_its_history(editor_client, editor, demo):
    claim = Claim.objects.get(external_id="DEMO-RFA-05")
    page = editor_client.get(admin_url(Claim, "change", claim.pk))
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None
    }
    data.update(count_low="55000", count_high="55000", as_of="2019-12-23", _save="Save")
    data["report"], data["attributed_to"], data["place"] = (
        claim.report_id,
        claim.attributed_to_id,
        claim.place_id,
    )
    response = editor_client.post(admin_url(Claim, "change", claim.pk), data)
    assert response.status_code == 302, response.context["errors"]
    latest = claim.history.first()
    assert latest.count_low == 55000
    assert latest.history_user == editor
    assert latest.prev_record.count_low == 50000


# --- query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("n_claims", [1, 50])
def test_claim_changelist_runs_a_constant_number_of_queries(
    editor_client, django_assert_num_queries, n_claims
):
    region = PlaceFactory(name="Northeast China")
    report = ReportFactory()
    for i in range(n_claims):
        ClaimFactory(
            report=report,
            place=region if i % 2 else country("CN"),
            as_of=datetime.date(2019, 1, 1) + datetime.timedelta(days=i),
        )
    url = admin_url(Claim, "changelist")
    # 1 the session, 2 the user, 3 and 4 the user's own and group permissions (then cached),
    # 5 the obligation filter's choices, 6 and 7 the country filter's places with claims and
    # their countries, 8 the count of matching claims (an estimate above 1,000 on
    # PostgreSQL; show_full_result_count is off: no second count), 9 the page of claims with
    # source, place, obligation, report and publisher in one JOIN, 10 the date hierarchy's
    # range (it lists the years spanned: no DISTINCT over the claims).
    with django_assert_num_queries(10):
        response = editor_client.get(url)
    assert len(response.context["cl"].result_list) == n_claims


@pytest.mark.parametrize("n_reports", [1, 10])
def test_report_changelist_runs_a_constant_number_of_queries(
    editor_client, django_assert_num_queries, n_reports
):
    for _ in range(n_reports):
        ClaimFactory()
    # 1 session, 2 user, 3 and 4 permissions, 5 the count of visible reports, 6 the full
    # count, 7 the page of reports with publisher, logger and claim counts (one GROUP BY),
    # 8 and 9 the date hierarchy's range and dates, 10 the language filter's values.
    with django_assert_num_queries(10):
        response = editor_client.get(admin_url(Report, "changelist"))
    assert len(response.context["cl"].result_list) == n_reports


@pytest.mark.postgres
def test_a_report_form_deleting_a_claim_takes_the_links_lock_before_any_row(admin_client, demo):
    # Deleting claims waits for the checks writing links (services.links_lock). The form saves
    # the report and its other claims first: the lock must come before their row locks, or it
    # could deadlock with another deletion that holds it and waits for those rows. (Editors
    # may not delete claims; administrators may.)
    from django.db import connection

    rfa = Source.objects.get(name="Radio Free Asia")
    rows = [
        {"attributed_to": rfa.pk, "place": country("CN").pk, "as_of": "2019-12-22",
         "external_id": "KEEP"},
        {"attributed_to": rfa.pk, "place": country("RU").pk, "as_of": "2019-12-21",
         "external_id": "GONE"},
    ]  # fmt: skip
    response = admin_client.post(admin_url(Report, "add"), report_form(rfa, rows))
    assert response.status_code == 302, response.context["errors"]
    report = Report.objects.get(title="NKDB survey of northeast China")
    keep, gone = (report.claims.get(external_id=ref) for ref in ("KEEP", "GONE"))
    rows[0]["summary"] = "edited"
    data = report_form(rfa, rows, **{"claims-INITIAL_FORMS": "2"})
    for i, claim in enumerate((keep, gone)):
        data.update({f"claims-{i}-id": claim.pk, f"claims-{i}-report": report.pk})
    data["claims-1-DELETE"] = "on"
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = admin_client.post(admin_url(Report, "change", report.pk), data)
    assert response.status_code == 302, response.context["errors"]
    assert list(report.claims.values_list("external_id", "summary")) == [("KEEP", "edited")]
    locked = next(i for i, sql in enumerate(statements) if "pg_advisory_xact_lock(" in sql)
    writes = [
        i
        for i, sql in enumerate(statements)
        if sql.startswith(("UPDATE", "DELETE", "INSERT")) and '"tracker_' in sql.split("(")[0]
    ]
    assert writes and locked < writes[0]


def flag_about(*, place, obligation=None) -> Flag:
    now = timezone.now()
    flag = Flag.objects.create(
        kind="overdue_report" if obligation else "stale",
        place=place,
        country=place,
        fingerprint=f"written meanwhile {place.pk} {obligation and obligation.pk}",
        first_seen=now,
        last_seen=now,
    )
    if obligation is not None:
        flag.obligations.add(obligation)
    return flag


@pytest.mark.parametrize("model", [Place, Obligation])
@pytest.mark.parametrize("how", ["delete page", "delete selected"])
def test_a_deletion_refused_for_a_flag_written_meanwhile_says_so_and_deletes_nothing(
    admin_client, monkeypatch, model, how
):
    # The deletion page found no flag about it, but a check wrote one while the deletion
    # waited for the links' lock (simulated here by writing it as the lock is taken).
    land = PlaceFactory(kind=Place.Kind.COUNTRY, parent=country("CN").parent, iso_code="XQ")
    target = land
    if model is Obligation:
        target = Obligation.objects.create(
            code="TEST-REPORT",
            resolution=Resolution.objects.first(),
            paragraph="OP99",
            kind=Obligation.Kind.REPORTING,
            summary="Report to the Committee.",
            effective_from=datetime.date(2018, 1, 1),
            due_on=datetime.date(2019, 3, 22),
        )
    links_lock = services.links_lock

    def lock_after_a_check_wrote(*, exclusive=False):
        if exclusive:
            flag_about(place=land, obligation=target if model is Obligation else None)
        links_lock(exclusive=exclusive)

    monkeypatch.setattr(services, "links_lock", lock_after_a_check_wrote)
    if how == "delete page":
        url = admin_url(model, "delete", target.pk)
        response = admin_client.post(url, {"post": "yes"})
    else:
        url = admin_url(model, "changelist")
        data = {"action": "delete_selected", "_selected_action": [target.pk], "post": "yes"}
        response = admin_client.post(url, data)
    assert response.status_code == 302 and response.url == url
    assert model.objects.filter(pk=target.pk).exists()
    assert not Flag.objects.exists()  # the whole deletion rolled back, the test's flag too
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()
    page = admin_client.get(url)
    [message] = [str(m) for m in page.context["messages"]]
    assert message.startswith("Nothing was deleted. Cannot delete ")
    assert "a check has just written a flag about it" in message


# --- what a reader without the permission may filter by -------------------------------------


@pytest.fixture
def hidden_claim():
    informant = SourceFactory(name="Informant Kim", confidential=True)
    return ClaimFactory(attributed_to=informant, summary="Kim saw them", external_id="KIM-SEOUL-1")


@pytest.mark.parametrize(
    "lookup",
    [
        "summary__icontains=Kim",
        "external_id__startswith=KIM",
        "attributed_to={source}",
        "attributed_to__name__icontains=Kim",
        "report={report}",
    ],
)
def test_a_viewer_cannot_probe_hidden_claims_through_the_lists_url(
    viewer_client, hidden_claim, lookup
):
    """The search hides what it must; Django also filters on any of a model's own fields from
    the list's URL, which would find the hidden claim a letter at a time."""
    query = lookup.format(source=hidden_claim.attributed_to_id, report=hidden_claim.report_id)
    response = viewer_client.get(f"{admin_url(Claim, 'changelist')}?{query}")
    assert response.status_code == 400


def test_the_list_filters_work_for_everyone_and_other_lookups_for_no_one(
    viewer_client, hidden_claim, trusted_editor, client
):
    changelist = admin_url(Claim, "changelist")
    for query in ("attributed_to__kind=ngo", "attributed_to__kind__exact=ngo", "stance=violating"):
        assert viewer_client.get(f"{changelist}?{query}").status_code == 200, query
    client.force_login(trusted_editor)
    assert client.get(f"{changelist}?summary__icontains=Kim").status_code == 400
    response = client.get(changelist, {"q": "Kim"})  # the search finds it for the trusted
    assert response.status_code == 200
    assert "Informant Kim" in response.content.decode()


def test_a_viewer_cannot_filter_flags_by_a_field_through_the_lists_url(viewer_client):
    response = viewer_client.get(f"{admin_url(Flag, 'changelist')}?facts__icontains=Kim")
    assert response.status_code == 400


def test_no_row_of_the_claim_list_starts_ticked(viewer_client, hidden_claim):
    ClaimFactory()
    body = viewer_client.get(admin_url(Claim, "changelist")).content.decode()
    boxes = [line for line in body.split("<") if 'class="action-select"' in line]
    assert len(boxes) == 2
    assert not any("checked" in box for box in boxes)
    assert "KIM-SEOUL" not in body
