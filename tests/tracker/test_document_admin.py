"""Documents in the admin: added on the report's page (its inline), listed as download links,
never replaced, deleted only by who may delete reports; the document list and its history
keep to the visibility rule."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.admin_forms import admin_url, document_rows, report_form
from tests.factories import DocumentFactory, ReportFactory, UserFactory, pdf_bytes
from tracker.models import Report, ReportDocument

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("document_storage")]

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20


def change_form(report: Report, documents: list[dict], initial: int = 0) -> dict:
    """The report's change form as a browser posts it: the report as it is, no claim, and a
    documents row per dict."""
    return {
        **report_form(
            report.publisher,
            [],
            title=report.title,
            published_on=f"{report.published_on:%Y-%m-%d}",
        ),
        **document_rows(documents, initial=initial),
    }


def test_an_editor_adds_documents_on_the_reports_page_with_the_hash_of_the_upload(
    editor_client, editor
):
    report = ReportFactory()
    pdf, png = pdf_bytes("the article"), PNG
    data = change_form(
        report,
        [
            {"file": SimpleUploadedFile("article.pdf", pdf), "note": "as published"},
            {"file": SimpleUploadedFile("screenshot.png", png), "note": ""},
        ],
    )
    response = editor_client.post(admin_url(Report, "change", report.pk), data)
    assert response.status_code == 302, response.context["errors"]
    stored = {d.original_name: d for d in report.documents.all()}
    assert set(stored) == {"article.pdf", "screenshot.png"}
    assert stored["article.pdf"].sha256 == hashlib.sha256(pdf).hexdigest()
    assert stored["article.pdf"].note == "as published"
    assert stored["screenshot.png"].content_type == "image/png"
    assert stored["article.pdf"].added_by == editor
    assert stored["article.pdf"].history.get().history_user == editor


def test_a_refused_file_says_why_on_the_reports_page_and_nothing_is_stored(
    editor_client, document_storage
):
    report = ReportFactory()
    data = change_form(report, [{"file": SimpleUploadedFile("photo.png", b"<html>"), "note": ""}])
    response = editor_client.post(admin_url(Report, "change", report.pk), data)
    assert response.status_code == 200
    assert "&#x27;photo.png&#x27; is named as PNG image but its content is" in (
        response.content.decode()
    )
    assert not ReportDocument.objects.exists()
    assert not any(document_storage.rglob("*.*"))


def test_the_same_file_again_is_refused_on_the_reports_page(editor_client):
    document = DocumentFactory(name="article.pdf", content=pdf_bytes("once"))
    data = change_form(
        document.report,
        [
            {"id": document.pk, "note": ""},
            {"file": SimpleUploadedFile("copy.pdf", pdf_bytes("once")), "note": ""},
        ],
        initial=1,
    )
    response = editor_client.post(admin_url(Report, "change", document.report_id), data)
    assert response.status_code == 200
    assert "This file is already attached to this report, as article.pdf." in (
        response.content.decode()
    )
    assert ReportDocument.objects.count() == 1


def test_a_stored_documents_file_is_not_replaced_by_the_form_but_its_note_may_change(
    editor_client,
):
    document = DocumentFactory(content=pdf_bytes("original"), note="")
    before = (document.file.name, document.sha256)
    data = change_form(
        document.report,
        [
            {
                "id": document.pk,
                "file": SimpleUploadedFile("forged.pdf", pdf_bytes("forged")),
                "note": "taken down since",
            }
        ],
        initial=1,
    )
    response = editor_client.post(admin_url(Report, "change", document.report_id), data)
    assert response.status_code == 302, response.context["errors"]
    document.refresh_from_db()
    assert (document.file.name, document.sha256) == before
    assert document.note == "taken down since"
    assert document.verify()


def test_an_editor_cannot_delete_a_document_who_may_delete_reports_can(
    editor_client, document_storage, django_capture_on_commit_callbacks
):
    document = DocumentFactory()
    row = {"id": document.pk, "note": "", "DELETE": "on"}
    url = admin_url(Report, "change", document.report_id)
    response = editor_client.post(url, change_form(document.report, [row], initial=1))
    assert response.status_code == 302
    assert ReportDocument.objects.filter(pk=document.pk).exists()

    chief = Client()
    chief.force_login(UserFactory(username="chief", is_superuser=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = chief.post(url, change_form(document.report, [row], initial=1))
    assert response.status_code == 302
    assert not ReportDocument.objects.filter(pk=document.pk).exists()
    assert not (document_storage / document.file.name).exists()
    deleted = ReportDocument.history.filter(id=row["id"]).latest()
    assert (deleted.history_type, deleted.history_user.username) == ("-", "chief")


def test_the_reports_page_lists_its_documents_as_downloads(viewer_client):
    document = DocumentFactory(name="기사.pdf")
    response = viewer_client.get(admin_url(Report, "change", document.report_id))
    page = response.content.decode()
    assert f'<a href="/documents/{document.pk}/">기사.pdf</a>' in page
    assert document.sha256[:16] in page
    assert 'type="file"' not in page  # a Viewer adds nothing


def test_a_hidden_reports_documents_are_not_in_the_document_list_nor_reachable(
    viewer_client, viewer
):
    public = DocumentFactory(name="public.pdf")
    hidden = DocumentFactory(report=ReportFactory(confidential=True), name="Secret.pdf")
    response = viewer_client.get(admin_url(ReportDocument, "changelist"))
    assert list(response.context["cl"].result_list) == [public]
    assert b"Secret" not in response.content
    for view in ("change", "history"):
        response = viewer_client.get(admin_url(ReportDocument, view, hidden.pk))
        assert response.status_code in (302, 403, 404)
        assert b"Secret" not in response.content


def test_a_documents_past_versions_are_hidden_once_its_report_is(viewer_client):
    document = DocumentFactory(name="Interview.pdf")
    document.note = "named worker"
    document.save()
    report = Report.objects.get(pk=document.report_id)
    report.confidential = True
    report.save()
    report.confidential = False  # public again: what the versions held stays hidden
    report.save()
    response = viewer_client.get(admin_url(ReportDocument, "history", document.pk))
    assert response.status_code == 200
    assert "A restricted version" in response.content.decode()
    version = document.history.earliest().history_id
    url = f"/admin/tracker/reportdocument/{document.pk}/history/{version}/"
    assert viewer_client.get(url).status_code == 404


@pytest.mark.parametrize("n_documents", [1, 10])
def test_the_document_list_runs_a_constant_number_of_queries(
    editor_client, django_assert_num_queries, n_documents
):
    for _ in range(n_documents):
        DocumentFactory()
    # 1 session, 2 user, 3 and 4 permissions, 5 the count of visible documents, 6 the page
    # of documents with report, publisher and who added them in one JOIN, 7 and 8 the date
    # hierarchy's range and dates, 9 the content type filter's values.
    with django_assert_num_queries(9):
        response = editor_client.get(admin_url(ReportDocument, "changelist"))
    assert len(response.context["cl"].result_list) == n_documents


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_no_admin_page_links_to_the_storage_itself(role, viewer, editor):
    """Only the download view checks who may see the report: with S3 a storage URL would be a
    signed link that skips it. Every page links to the download view instead."""
    client = Client()
    client.force_login(viewer if role == "viewer" else editor)
    document = DocumentFactory()
    document.note = "a second version"
    document.save()
    version = document.history.earliest().history_id
    for url in [
        admin_url(Report, "change", document.report_id),
        admin_url(ReportDocument, "change", document.pk),
        admin_url(ReportDocument, "history", document.pk),
        f"/admin/tracker/reportdocument/{document.pk}/history/{version}/",
    ]:
        page = client.get(url).content.decode()
        assert f'href="/documents/{document.pk}/"' in page or url.endswith("/history/"), url
        assert document.file.name not in page, url
