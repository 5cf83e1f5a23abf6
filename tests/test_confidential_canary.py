"""Confidential material never reaches a user without the permission, whichever way out:
pages, API, exports, the dossier, the admin, summaries. A canary name is planted in a
confidential source, a report marked confidential, and a report published by a confidential
source; a Viewer walks every way out and must never meet it. A trusted Editor must."""

import datetime
import io
import zipfile

import pytest
from django.core import mail
from django.test import Client

from reports import sending
from reports.models import Subscription
from tests.factories import (
    ClaimFactory,
    DocumentFactory,
    ReportFactory,
    SourceFactory,
    country,
    obligation,
    pdf_bytes,
)
from tracker import checks, documents
from tracker.models import Claim, Flag, Report, ReportDocument, Source

pytestmark = pytest.mark.django_db

CANARY = "Canary"  # searched below in lower case, so the echoed query is not a finding
TODAY = datetime.date(2026, 11, 24)


@pytest.fixture
def planted(document_storage, django_capture_on_commit_callbacks):
    informant = SourceFactory(name="Canary Informant 7", confidential=True)
    secret_report = ReportFactory(title="Canary interview transcript", confidential=True)
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
    ClaimFactory(
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
    assert Flag.objects.filter(status=Flag.Status.RESOLVED, explanation__contains="Defector")
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
    return {"subscription": subscription, "op8": op8}


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
        "/claims/",
        "/claims/?q=canary",
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
        *[f"/api/flags/{pk}/" for pk in flag_ids],
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        out[url] = response.content
    for model, ids in (("claim", claim_ids), ("flag", flag_ids)):
        for action in ("export_csv", "export_xlsx"):
            response = client.post(
                f"/admin/tracker/{model}/", {"action": action, "_selected_action": ids}
            )
            assert response.status_code == 200, (model, action)
            content = response.content
            if action == "export_xlsx":  # the strings live in the zipped XML
                with zipfile.ZipFile(io.BytesIO(content)) as z:
                    content = b"".join(z.read(n) for n in z.namelist())
            out[f"{model} {action}"] = content
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
    return out


def test_a_viewer_never_meets_the_canary_anywhere(planted, viewer):
    client = Client()
    client.force_login(viewer)
    leaks = [where for where, body in everything_a_user_can_fetch(client, planted).items()
             if CANARY.encode() in body]  # fmt: skip
    assert not leaks, leaks


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
