"""Documents kept with a report: stored with the SHA-256 of the bytes received, never altered,
checked by type and size on upload, served only as downloads and only to who may see the
report, verified against their hash."""

import hashlib
import io
import os

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import (
    InMemoryUploadedFile,
    SimpleUploadedFile,
    TemporaryUploadedFile,
)
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory

from tests.factories import (
    DocumentFactory,
    ReportFactory,
    SourceFactory,
    UserFactory,
    pdf_bytes,
)
from tracker import documents
from tracker.models import DocumentAltered, Report, ReportDocument

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("document_storage")]

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 20
HTML = b"<!DOCTYPE html>\n<html><head><title>Article</title></head><body>60,000</body></html>"
SAVED_HTML = b"\xef\xbb\xbf<!-- saved from url=(0031)https://example.org/a -->\r\n<HTML lang=ko>"
MHTML = (
    b"From: <Saved by Blink>\r\nSnapshot-Content-Location: https://example.org/a\r\n"
    b"Subject: Article\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related;\r\n"
    b'\ttype="text/html";\r\n\tboundary="----MultipartBoundary--x"\r\n\r\n------Multipart'
)
TEXT = "북한 노동자 60,000명 (NKDB, 2019)\n".encode()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def download(client, document_id: int):
    """The response to a document's URL, its body read (``body``): read to its end, a download
    is closed, its file with it (the test client closes it then, as a server would)."""
    response = client.get(f"/documents/{document_id}/")
    response.body = b"".join(response.streaming_content) if response.streaming else response.content
    return response


# --- what may be attached -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("report.pdf", pdf_bytes("x"), "application/pdf"),
        ("Report.PDF", pdf_bytes("x"), "application/pdf"),
        ("screenshot.png", PNG, "image/png"),
        ("photo.jpg", JPEG, "image/jpeg"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        ("photo.webp", WEBP, "image/webp"),
        ("article.html", HTML, "text/html"),
        ("saved.htm", SAVED_HTML, "text/html"),
        ("article.mhtml", MHTML, "multipart/related"),
        ("notes.txt", TEXT, "text/plain"),
    ],
)
def test_an_allowed_kind_is_accepted_by_its_content_and_stored_with_that_type(
    name, content, content_type
):
    document = documents.document_add(report=ReportFactory(), upload=upload(name, content))
    assert document.content_type == content_type
    assert document.original_name == name


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.pdf", PNG, "named as PDF but its content is PNG image"),
        ("photo.png", HTML, "named as PNG image but its content is HTML page"),
        ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00", "named as JPEG image but its content is none"),
        ("notes.txt", HTML, "named as plain text (UTF-8) but its content is HTML page"),
        ("notes.txt", "Hangul in EUC-KR: 노동자".encode("euc-kr"), "its content is none"),
        ("notes.txt", b"text\x00with a NUL", "its content is none"),
        ("article.html", b"just words, no page", "its content is plain text"),
        ("drawing.svg", b"<svg onload='alert(1)'/>", "'drawing.svg' cannot be attached"),
        ("report.docx", b"PK\x03\x04", "'report.docx' cannot be attached"),
        ("report", pdf_bytes("x"), "'report' cannot be attached"),
        ("empty.pdf", b"", "'empty.pdf' is empty"),
    ],
)
def test_a_file_is_refused_by_its_content_not_only_its_extension(name, content, message):
    with pytest.raises(ValidationError) as refused:
        documents.document_add(report=ReportFactory(), upload=upload(name, content))
    assert message in " ".join(refused.value.messages)
    assert not ReportDocument.objects.exists()


def test_a_file_over_the_size_limit_is_refused_with_both_sizes(settings, document_storage):
    settings.TRACKER_DOCUMENT_MAX_BYTES = 2_000_000
    big = pdf_bytes("x" * 2_100_000)
    with pytest.raises(ValidationError) as refused:
        documents.document_add(report=ReportFactory(), upload=upload("big.pdf", big))
    assert refused.value.messages == ["'big.pdf' is 2.1 MB; the largest document accepted is 2 MB."]
    assert not any(document_storage.rglob("*.pdf"))


def test_the_same_file_twice_on_one_report_is_refused_but_on_another_report_is_kept():
    first = DocumentFactory(content=pdf_bytes("same"), name="a.pdf")
    with pytest.raises(ValidationError, match=r"already attached to this report, as 'a\.pdf'"):
        DocumentFactory(report=first.report, content=pdf_bytes("same"), name="b.pdf")
    assert DocumentFactory(content=pdf_bytes("same")).sha256 == first.sha256


def test_the_original_name_keeps_no_folder_and_fits_with_its_extension():
    name = "C:\\Users\\monitor\\" + "가" * 300 + ".pdf"
    document = DocumentFactory(name=name)
    assert document.original_name == "가" * 251 + ".pdf"
    assert "가" not in document.file.name  # the stored name says nothing of the file


# --- stored with its hash, never altered ----------------------------------------------------------


def test_a_document_is_stored_with_its_sha256_size_type_and_who_added_it(editor):
    content = pdf_bytes("NKDB survey")
    document = DocumentFactory(content=content, added_by=editor, note="as saved in 2020")
    document.refresh_from_db()
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.size == len(content)
    assert (document.content_type, document.added_by, document.note) == (
        "application/pdf",
        editor,
        "as saved in 2020",
    )
    assert document.file.name.startswith(f"reports/{document.report_id}/")
    with document.file.open("rb") as stored:
        assert stored.read() == content
    assert document.history.get().history_type == "+"


@pytest.mark.parametrize("small", [True, False], ids=["in memory", "temporary file"])
def test_the_upload_handlers_hash_the_bytes_as_they_arrive(settings, small):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10_000_000 if small else 100
    content = pdf_bytes("z" * 300_000)  # several chunks of the parser's 64 KB
    request = RequestFactory().post("/", {"file": upload("a.pdf", content)})
    received = request.FILES["file"]
    assert isinstance(received, InMemoryUploadedFile if small else TemporaryUploadedFile)
    assert received.sha256 == hashlib.sha256(content).hexdigest()
    # The service keeps that hash: it does not read the file again for it.
    received.sha256 = "f" * 64
    assert documents.document_add(report=ReportFactory(), upload=received).sha256 == "f" * 64
    received.close()  # as the request's end does (a temporary file was moved into storage)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sha256", "0" * 64),
        ("size", 1),
        ("content_type", "text/html"),
        ("original_name", "other.pdf"),
        ("file", "reports/1/other.pdf"),
    ],
)
def test_the_model_refuses_a_save_that_changes_the_file_or_what_it_records(field, value):
    document = DocumentFactory()
    setattr(document, field, value)
    with pytest.raises(DocumentAltered, match="add the corrected file as a new document"):
        document.save()
    document.refresh_from_db()
    assert document.verify()


def test_the_model_refuses_moving_a_document_to_another_report():
    document = DocumentFactory()
    document.report = ReportFactory()
    with pytest.raises(DocumentAltered, match="report_id"):
        document.save()


def test_a_documents_note_may_change_and_its_history_keeps_both():
    document = DocumentFactory(note="saved copy")
    document.note = "saved copy of the article, taken down in March 2020"
    document.save()
    assert [h.note for h in document.history.order_by("history_id")] == [
        "saved copy",
        "saved copy of the article, taken down in March 2020",
    ]


# --- verified ------------------------------------------------------------------------------------


def test_verify_detects_a_stored_file_altered_after_it_was_added(document_storage):
    document = DocumentFactory(content=pdf_bytes("60,000 workers"))
    assert document.verify()
    path = document_storage / document.file.name
    os.chmod(path, 0o640)  # stored read-only: whoever alters it must mean to
    path.write_bytes(pdf_bytes("6,000 workers"))
    assert not document.verify()
    assert document.stored_sha256() == hashlib.sha256(pdf_bytes("6,000 workers")).hexdigest()


def test_verify_detects_a_missing_file(document_storage):
    document = DocumentFactory()
    (document_storage / document.file.name).unlink()
    assert not document.verify()
    assert document.stored_sha256() is None


def test_a_stored_file_is_read_only_on_disk(document_storage):
    document = DocumentFactory()
    assert (document_storage / document.file.name).stat().st_mode & 0o777 == 0o440


# --- deleted ------------------------------------------------------------------------------------


def test_deleting_a_document_removes_its_file_once_committed_and_keeps_its_history(
    document_storage, django_capture_on_commit_callbacks
):
    document = DocumentFactory(name="transcript.pdf")
    pk, path = document.pk, document_storage / document.file.name
    with django_capture_on_commit_callbacks(execute=True):
        documents.document_delete(document=document)
        assert path.exists()  # until the deletion commits
    assert not path.exists()
    deleted = ReportDocument.history.filter(id=pk).latest()
    assert (deleted.history_type, deleted.original_name) == ("-", "transcript.pdf")


def test_deleting_a_report_removes_its_documents_and_their_files(
    document_storage, django_capture_on_commit_callbacks
):
    document = DocumentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        document.report.delete()
    assert not ReportDocument.objects.exists()
    assert not (document_storage / document.file.name).exists()
    assert ReportDocument.history.filter(id=document.pk, history_type="-").exists()


# --- served as a download, only to who may see the report ----------------------------------------


def test_a_document_is_served_as_an_attachment_never_inline(viewer_client):
    document = DocumentFactory(name="기사 사본.html", content=HTML)
    response = download(viewer_client, document.pk)
    assert response.status_code == 200
    assert response.body == HTML
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%EA%B8%B0%EC%82%AC%20%EC%82%AC%EB%B3%B8.html"
    )
    assert response["Content-Type"] == "text/html"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("how", ["confidential report", "confidential publisher"])
def test_a_hidden_reports_document_answers_404_as_one_that_does_not_exist(
    how, viewer_client, trusted_editor
):
    if how == "confidential report":
        report = ReportFactory(confidential=True)
    else:
        report = ReportFactory(publisher=SourceFactory(confidential=True))
    document = DocumentFactory(report=report, name="Informant interview.pdf")
    hidden = download(viewer_client, document.pk)
    missing = download(viewer_client, document.pk + 1000)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content.replace(
        str(document.pk + 1000).encode(), str(document.pk).encode()
    )
    assert b"Informant" not in hidden.content
    trusted = Client()
    trusted.force_login(trusted_editor)
    assert download(trusted, document.pk).status_code == 200


def test_a_document_made_hidden_after_it_was_added_is_hidden_too(viewer_client):
    document = DocumentFactory()
    assert download(viewer_client, document.pk).status_code == 200
    report = Report.objects.get(pk=document.report_id)
    report.confidential = True
    report.save()
    assert download(viewer_client, document.pk).status_code == 404


def test_a_document_needs_the_permission_to_see_reports(client):
    document = DocumentFactory()
    client.force_login(UserFactory(username="no-groups"))
    assert download(client, document.pk).status_code == 403
    assert Client().get(f"/documents/{document.pk}/").status_code == 302  # to the login page


def test_a_missing_stored_file_answers_404(viewer_client, document_storage):
    document = DocumentFactory()
    (document_storage / document.file.name).unlink()
    assert download(viewer_client, document.pk).status_code == 404


def test_a_file_added_another_way_is_hashed_from_its_bytes():
    content = TEXT * 10_000
    document = documents.document_add(
        report=ReportFactory(), upload=ContentFile(content, name="notes.txt")
    )
    assert document.sha256 == hashlib.sha256(content).hexdigest()


def test_verifydocuments_checks_every_stored_document_and_names_the_altered_and_missing(
    document_storage,
):
    intact = DocumentFactory(name="intact.pdf")
    altered = DocumentFactory(name="altered.pdf")
    missing = DocumentFactory(name="missing.pdf")
    path = document_storage / altered.file.name
    os.chmod(path, 0o640)
    path.write_bytes(pdf_bytes("edited"))
    (document_storage / missing.file.name).unlink()
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match=r"2 document\(s\) no longer hold"):
        call_command("verifydocuments", stdout=out, stderr=err)
    assert out.getvalue() == "Documents: 3 checked, 2 not as stored.\n"
    lines = err.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"ALTERED  document #{altered.pk} 'altered.pdf'")
    assert hashlib.sha256(pdf_bytes("edited")).hexdigest() in lines[0]
    assert lines[1].startswith(f"MISSING  document #{missing.pk} 'missing.pdf'")
    out = io.StringIO()
    call_command("verifydocuments", report=intact.report_id, stdout=out)
    assert out.getvalue() == "Documents: 1 checked, 0 not as stored.\n"
