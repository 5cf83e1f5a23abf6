"""Confidential material never reaches a user without the permission, whichever way out:
pages, API, exports, the dossier, the admin, summaries. A canary name is planted in a
confidential source, a report marked confidential, and a report published by a confidential
source; a Viewer walks every way out and must never meet it. A trusted Editor must."""

import datetime
import io
import zipfile

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from reports import sending
from reports.models import Subscription
from tests.factories import (
    ClaimFactory,
    DocumentFactory,
    ReportFactory,
    SourceFactory,
    UserFactory,
    country,
    obligation,
    pdf_bytes,
)
from tracker import checks, documents, visibility
from tracker.api.urls import router
from tracker.models import Claim, Flag, Report, ReportDocument, Source

pytestmark = pytest.mark.django_db

CANARY = "Canary"  # searched below in lower case, so the echoed query is not a finding
# When the confidential report was published: nobody without the permission may learn it.
CANARY_DATE = datetime.date(2011, 11, 11)
TODAY = datetime.date(2026, 11, 24)


@pytest.fixture
def planted(document_storage, django_capture_on_commit_callbacks):
    informant = SourceFactory(name="Canary Informant 7", confidential=True)
    secret_report = ReportFactory(
        title="Canary interview transcript", confidential=True, published_on=CANARY_DATE
    )
    secret_publisher = SourceFactory(name="Canary Press", confidential=True)
    via_secret_publisher = ReportFactory(title="Canary bulletin", publisher=secret_publisher)
    op8 = obligation("UNSCR2397-OP8")
    as_of = datetime.date(2019, 12, 23)
    # The monitor's own references may name whoever made the claim, as a summary may.
    ClaimFactory(
        place=country("CN"),
        count_low=90_000,
        attributed_to=informant,
        as_of=as_of,
        external_id="Canary-ref-1",
    )
    # Its claim's source is public, and named elsewhere: the claim must not tell which it is.
    in_secret_report = ClaimFactory(
        place=country("CN"),
        count_low=50_000,
        report=secret_report,
        as_of=as_of,
        external_id="Canary-ref-2",
    )
    ClaimFactory(place=country("CN"), count_low=20_000, report=via_secret_publisher, as_of=as_of)
    ClaimFactory(place=country("CN"), count_low=70_000, as_of=as_of, obligation=op8)
    ClaimFactory(
        place=country("CN"),
        stance=Claim.Stance.VIOLATING,
        obligation=op8,
        attributed_to=informant,
        summary="Canary says the workers stayed",
        as_of=as_of,
    )
    # Named in flags while it was public, then made confidential: one of its flags had been
    # resolved already, and no check rewrites a resolved flag's sentence or reason.
    defector = SourceFactory(name="Canary Defector")
    ClaimFactory(place=country("RU"), count_low=1_000, attributed_to=defector, as_of=as_of)
    corrected = ClaimFactory(place=country("RU"), count_low=9_000, as_of=as_of)
    stale = obligation("UNSCR2371-OP11")
    ClaimFactory(place=country("RU"), obligation=stale, attributed_to=defector, as_of=as_of)
    checks.sweep(today=TODAY)
    corrected.count_low = corrected.count_high = 1_050
    corrected.save()
    checks.sweep(today=TODAY)
    assert Flag.objects.filter(status=Flag.Status.RESOLVED).exists()
    defector.confidential = True
    defector.save()
    assert Flag.objects.exists()
    # Confidential once, public now: what their past versions held stays hidden.
    draft = ReportFactory(title="Canary draft, names withheld", confidential=True)
    draft.title, draft.confidential = "Draft, names withheld", False
    draft.save()
    misattributed = ClaimFactory(place=country("KH"), attributed_to=informant, as_of=as_of)
    misattributed.attributed_to = SourceFactory(name="A public source")
    misattributed.save()
    renamed = SourceFactory(name="Canary Worker, Vladivostok", confidential=True)
    renamed.name, renamed.confidential = "A worker in the Russian Far East", False
    renamed.save()
    # Documents kept with the restricted reports: their names and their bytes.
    DocumentFactory(
        report=secret_report, name="Canary interview.pdf", content=pdf_bytes("Canary says")
    )
    DocumentFactory(
        report=via_secret_publisher,
        name="bulletin.txt",
        content=b"Canary Press bulletin",
        note="Canary's copy",
    )
    # One deleted since: its history is still there.
    with django_capture_on_commit_callbacks(execute=True):
        documents.document_delete(
            document=DocumentFactory(report=secret_report, name="Canary withdrawn.pdf")
        )
    # And a public report's document, which everyone may fetch.
    DocumentFactory(name="public.pdf", content=pdf_bytes("60,000 workers"))
    subscription = Subscription.objects.create(name="Weekly", addresses="")
    subscription.countries.add(country("CN"))
    return {
        "subscription": subscription,
        "op8": op8,
        "in_secret_report": in_secret_report,
        # What a hidden id names, by the model it points at.
        "hidden_ids": {Source: informant.pk, Report: secret_report.pk, Claim: in_secret_report.pk},
    }


def body_of(response) -> bytes:
    """What a response holds, read whole (a streaming export too), a workbook's strings from
    its zipped XML."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            content = b"".join(z.read(n) for n in z.namelist())
    return content


def everything_a_user_can_fetch(client, planted) -> dict[str, bytes]:
    cn, op8 = country("CN"), planted["op8"]
    claim_ids = list(Claim.objects.values_list("pk", flat=True))
    flag_ids = list(Flag.objects.values_list("pk", flat=True))
    report_ids = list(Report.objects.values_list("pk", flat=True))
    # Every document ever stored, deleted ones too.
    document_ids = sorted(set(ReportDocument.history.values_list("id", flat=True)))
    assert ReportDocument.objects.count() < len(document_ids)
    out = {}
    for pk in document_ids:
        response = client.get(f"/documents/{pk}/")
        assert response.status_code in (200, 404), pk
        # Read to its end, a download is closed, its file with it (as a server closes it).
        out[f"/documents/{pk}/"] = b"".join(response) + str(response.headers).encode()
    for url in [
        "/",
        f"/?all=1&obligation={op8.code}",  # every member state, and the map of the canary's pair
        "/claims/",
        "/claims/?q=canary",
        "/claims/?place_name=canary",
        "/claims/?format=csv",
        "/claims/?format=xlsx",
        "/claims/?q=canary&format=csv",
        "/flags/",
        f"/countries/{cn.iso_code}/",
        "/api/claims/",
        "/api/reports/",
        "/api/sources/",
        "/api/flags/",
        "/api/status/",
        "/api/claims/?q=canary",
        "/admin/tracker/claim/",
        "/admin/tracker/claim/?q=canary",
        "/admin/tracker/report/",
        "/admin/tracker/source/",
        "/admin/tracker/flag/",
        "/admin/tracker/reportdocument/",
        "/admin/tracker/reportdocument/?q=canary",
        f"/summaries/preview/{planted['subscription'].pk}/",
        *[f"/admin/tracker/flag/{pk}/change/" for pk in flag_ids],
        *[f"/flags/{pk}/" for pk in flag_ids],
        *[f"/api/flags/{pk}/" for pk in flag_ids],
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        out[url] = body_of(response)
    for model, ids in (("claim", claim_ids), ("flag", flag_ids)):
        for action in ("export_csv", "export_xlsx"):
            response = client.post(
                f"/admin/tracker/{model}/", {"action": action, "_selected_action": ids}
            )
            assert response.status_code == 200, (model, action)
            out[f"{model} {action}"] = body_of(response)
    # Each report's page (its documents inline), and each document's.
    for url in [f"/admin/tracker/report/{pk}/change/" for pk in report_ids] + [
        f"/admin/tracker/reportdocument/{pk}/change/" for pk in document_ids
    ]:
        response = client.get(url)
        assert response.status_code in (200, 302, 403, 404), url
        out[url] = response.content
    # Every object's past versions, and each version (those hidden from the user answer 403
    # or 404, which must not name it either).
    for model in (Claim, Report, Source, ReportDocument):
        name = model._meta.model_name
        for pk in model.history.values_list("id", flat=True).distinct():
            urls = [f"/admin/tracker/{name}/{pk}/history/"] + [
                f"/admin/tracker/{name}/{pk}/history/{version}/"
                for version in model.history.filter(id=pk).values_list("history_id", flat=True)
            ]
            for url in urls:
                response = client.get(url)
                assert response.status_code in (200, 403, 404), url
                out[url] = response.content
    response = client.get("/admin/tracker/claim/dossier/", {"country": cn.pk, "obligation": op8.pk})
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as z:
        for name in z.namelist():
            out[f"dossier {name}"] = z.read(name)
    # Every action the API takes on one object (a flag's acknowledge, dismiss, re-open),
    # enumerated from the router, on every object: last, as they change what they act on.
    for prefix, viewset, _basename in router.registry:
        for extra in viewset.get_extra_actions():
            if not extra.detail or "post" not in extra.mapping:
                continue
            for pk in viewset.queryset.model.objects.values_list("pk", flat=True):
                url = f"/api/{prefix}/{pk}/{extra.url_path}/"
                body = {"note": "walked", "reason": "walked"}
                response = client.post(url, body, content_type="application/json")
                assert response.status_code in (200, 403, 409), url
                out[f"POST {url}"] = response.content
    return out


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_a_viewer_or_an_editor_never_meets_the_canary_anywhere(request, planted, who):
    """An Editor also reaches what Viewers may not: the answers of the actions they take."""
    client = Client()
    client.force_login(request.getfixturevalue(who))
    secrets = (CANARY.encode(), CANARY_DATE.isoformat().encode())
    fetched = everything_a_user_can_fetch(client, planted)
    leaks = [where for where, body in fetched.items()
             if any(secret in body for secret in secrets)]  # fmt: skip
    assert not leaks, leaks
    acted = [where for where, body in fetched.items() if where.startswith("POST")]
    said = [where for where in acted if b'"explanation"' in fetched[where]]  # a flag answered
    assert acted and bool(said) == (who == "editor")


def test_a_restricted_reports_claim_names_neither_its_source_nor_its_publisher(
    planted, viewer_client
):
    claim = planted["in_secret_report"]
    source, publisher = claim.attributed_to.name, claim.report.publisher.name
    page = viewer_client.get("/claims/", {"country": "CN"}).content.decode()
    export = body_of(viewer_client.get("/claims/", {"country": "CN", "format": "csv"})).decode()
    listed = [line for line in page.split("<tr>") if "50,000 workers" in line]
    rows = [line for line in export.splitlines() if "50000" in line]
    assert len(listed) == len(rows) == 1
    for text in (listed[0], rows[0]):
        assert source not in text and publisher not in text
        assert "confidential source" in text
    assert "confidential report" in rows[0]


@pytest.mark.parametrize("trusted", [False, True])
def test_no_filter_or_count_by_source_finds_a_restricted_claim_for_the_unpermitted(
    planted, editor, trusted_editor, trusted
):
    """A restricted claim's source is hidden, though the source itself is public: filtering
    or counting by it (or its kind or grade) would say what the row hides."""
    claim = planted["in_secret_report"]
    source = claim.attributed_to
    client = Client()
    client.force_login(trusted_editor if trusted else editor)

    def api_ids(**params) -> set[int]:
        return {c["id"] for c in client.get("/api/claims/", params).json()["results"]}

    def page_ids(**params) -> set[int]:
        return {s.claim.pk for s in client.get("/claims/", params).context["rows"]}

    def admin_ids(**params) -> set[int]:
        return {c.pk for c in client.get("/admin/tracker/claim/", params).context["cl"].result_list}

    found = [
        api_ids(source=source.pk),
        api_ids(source_kind=source.kind),
        api_ids(reliability=source.reliability),
        page_ids(source=source.pk),
        page_ids(source_kind=source.kind),
        admin_ids(attributed_to__kind__exact=source.kind),
        admin_ids(attributed_to__reliability__exact=source.reliability),
    ]
    assert [claim.pk in ids for ids in found] == [trusted] * len(found)
    sources = client.get("/admin/tracker/source/").context["cl"].result_list
    counted = {s.pk: s.n_claims for s in sources}
    assert counted[source.pk] == (1 if trusted else 0)


def test_a_trusted_editor_does_meet_it(planted, trusted_editor):
    client = Client()
    client.force_login(trusted_editor)
    found = [where for where, body in everything_a_user_can_fetch(client, planted).items()
             if CANARY.encode() in body]  # fmt: skip
    # Proof the walk reaches the material: the same ways out show it to the permitted.
    assert {"/claims/", "/api/claims/", "claim export_csv", "/admin/tracker/report/"} <= set(found)
    draft = Report.objects.get(title="Draft, names withheld")
    assert f"/admin/tracker/report/{draft.pk}/history/" in found
    interview = ReportDocument.objects.get(original_name="Canary interview.pdf")
    assert {
        f"/documents/{interview.pk}/",
        f"/admin/tracker/reportdocument/{interview.pk}/history/",
        f"/admin/tracker/report/{interview.report_id}/change/",
        f"dossier documents/{interview.pk}-Canary_interview.pdf",
    } <= set(found)


def test_a_summary_email_to_a_plain_address_never_carries_the_canary(planted):
    subscription = planted["subscription"]
    subscription.addresses = "partner@example.org"
    subscription.save()
    summary = sending.summary_create(
        subscription=subscription,
        period_start=TODAY - datetime.timedelta(days=7),
        period_end=TODAY - datetime.timedelta(days=1),
        enqueue=False,
    )
    sending.summary_deliver(summary.pk)
    assert len(mail.outbox) == 1
    message = mail.outbox[0].message().as_bytes()
    assert CANARY.encode() not in message


# --- the admin's edges, enumerated from its registry ----------------------------------------


@pytest.fixture(params=["viewer", "editor", "no group"])
def walker(request, db):
    """Whoever walks the edges without the permission: a Viewer, an Editor, and staff in no
    group (most pages refuse them; none may name what is hidden)."""
    groups = {"viewer": ["Viewers"], "editor": ["Editors"], "no group": []}[request.param]
    client = Client()
    client.force_login(UserFactory(username=f"walker-{request.param}", groups=groups))
    return client


def autocomplete_queries() -> list[dict[str, str]]:
    """Every autocomplete Django's admin serves: one per relation (forward or reverse, of any
    installed model) to a model whose admin has search fields, as its view resolves them."""
    queries = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields(include_hidden=True):
            target = getattr(getattr(field, "remote_field", None), "model", None)
            model_admin = admin.site._registry.get(target)
            if model_admin is None or not model_admin.search_fields:
                continue
            queries.append(
                {
                    "app_label": model._meta.app_label,
                    "model_name": model._meta.model_name,
                    "field_name": field.name,
                }
            )
    return queries


def test_every_autocomplete_offers_only_what_its_user_may_see(planted, walker):
    queries = autocomplete_queries()
    # The relations to claims that Django serves without any autocomplete field declared.
    assert any(q["model_name"] == "flag" and q["field_name"] == "claims" for q in queries)
    assert any(q["model_name"] == "flagclaim" and q["field_name"] == "claim" for q in queries)
    leaks = []
    for query in queries:
        for term in ("", "canary", "ref"):
            response = walker.get(reverse("admin:autocomplete"), {**query, "term": term})
            assert response.status_code in (200, 403, 404), query
            if CANARY.encode() in response.content:
                leaks.append((query, term))
    assert not leaks, leaks


def test_the_trusted_meet_restricted_claims_in_the_autocomplete(planted, trusted_client):
    query = {"app_label": "tracker", "model_name": "flag", "field_name": "claims", "term": ""}
    body = trusted_client.get(reverse("admin:autocomplete"), query).content.decode()
    assert "Canary-ref-1" in body  # the walk above reaches the claims it hides


def lookup_probes(hidden_ids) -> list[tuple[str, str, str]]:
    """(changelist, lookup, value) for every registered admin and every relation of its model:
    ``<field>_id``, ``<field>_id__exact`` and ``<field>__id`` for foreign keys,
    ``<field>__id`` for the others, with the id of a hidden row where it points at one."""
    probes = []
    for model in admin.site._registry:
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for field in model._meta.get_fields():
            if not field.is_relation or field.related_model is None:
                continue
            value = str(hidden_ids.get(field.related_model, 1))
            lookups = [f"{field.name}__id"]
            if field.many_to_one or (field.one_to_one and field.concrete):
                lookups += [f"{field.name}_id", f"{field.name}_id__exact"]
            probes += [(changelist, lookup, value) for lookup in lookups]
    return probes


def test_no_changelist_filters_by_ids_of_relations_it_does_not_list(planted, walker):
    probes = lookup_probes(planted["hidden_ids"])
    assert ("/admin/tracker/claim/", "attributed_to_id", str(planted["hidden_ids"][Source])) in (
        probes
    )
    answered = []
    for changelist, lookup, value in probes:
        response = walker.get(changelist, {lookup: value})
        assert CANARY.encode() not in response.content, (changelist, lookup)
        if response.status_code not in (400, 403):
            answered.append((changelist, lookup, response.status_code))
    assert not answered, answered


def form_probes(user, hidden_ids) -> list[tuple[str, dict[str, str], type, str]]:
    """(url, data, model, field) for every admin form field, inline's too, that picks a
    source, report or claim: posted to the add page, and to the change page of the first row
    the user may open, with the id of a hidden row."""
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    probes = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        urls = [reverse(f"admin:{opts.app_label}_{opts.model_name}_add")]
        first = visibility.queryset_for(model, user, model_admin.get_queryset(request)).first()
        if first is not None:
            change = f"admin:{opts.app_label}_{opts.model_name}_change"
            urls.append(reverse(change, args=[first.pk]))
        for url in urls:
            for name, field in model_admin.get_form(request).base_fields.items():
                target = getattr(getattr(field, "queryset", None), "model", None)
                if visibility.guards(target):
                    probes.append((url, {name: str(hidden_ids[target])}, model, name))
            for inline in model_admin.get_inline_instances(request):
                formset = inline.get_formset(request)
                prefix = formset.get_default_prefix()
                management = {
                    f"{prefix}-TOTAL_FORMS": "1",
                    f"{prefix}-INITIAL_FORMS": "0",
                    f"{prefix}-MIN_NUM_FORMS": "0",
                    f"{prefix}-MAX_NUM_FORMS": "1000",
                }
                for name, field in formset.form.base_fields.items():
                    target = getattr(getattr(field, "queryset", None), "model", None)
                    if visibility.guards(target):
                        data = {**management, f"{prefix}-0-{name}": str(hidden_ids[target])}
                        probes.append((url, data, inline.model, name))
    return probes


def test_no_admin_form_names_or_saves_a_hidden_row_given_its_id(planted, walker):
    user = get_user_model().objects.get(pk=walker.session["_auth_user_id"])
    probes = form_probes(user, planted["hidden_ids"])
    fields = {(model, name) for _, _, model, name in probes}
    if user.groups.filter(name="Editors").exists():  # what the walk must reach
        assert {(Claim, "report"), (Claim, "attributed_to"), (Report, "publisher")} <= fields
    for url, data, model, name in probes:
        hidden = {f"{name}_id": next(iter(data.values()))}
        before = model.objects.filter(**hidden).count()
        response = walker.post(url, data)
        assert CANARY.encode() not in response.content, (url, name)
        assert model.objects.filter(**hidden).count() == before, (url, name)


def test_a_hidden_row_answers_as_a_missing_one_wherever_its_id_is_given(planted, walker):
    missing = 10**9
    for model, hidden in planted["hidden_ids"].items():
        name = model._meta.model_name
        for view in ("change", "delete", "history"):
            url = f"/admin/tracker/{name}/{{}}/{view}/"
            as_missing = walker.get(url.format(missing))
            as_hidden = walker.get(url.format(hidden))
            assert as_hidden.status_code == as_missing.status_code, (name, view)
            if as_missing.status_code == 302:  # Django's "does not exist" message, by id
                assert as_hidden.url == as_missing.url, (name, view)
