"""The evidence dossier a panel can use as it is: every claim its flags rest on, its flags, the
documents of its reports, a readable page, and a manifest that ``sha256sum -c`` checks."""

import csv
import datetime
import hashlib
import io
import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    ClaimFactory,
    DocumentFactory,
    ReportFactory,
    SourceFactory,
    country,
    obligation,
    pdf_bytes,
)
from tracker import checks
from tracker import dossier as dossier_module
from tracker.models import Flag

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 24)


def dossier(client, iso: str = "CN", code: str = "UNSCR2397-OP8") -> zipfile.ZipFile:
    response = client.get(
        "/admin/tracker/claim/dossier/",
        {"country": country(iso).pk, "obligation": obligation(code).pk},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    # A streamed response read to its end is closed (the test client closes the others).
    data = b"".join(response.streaming_content) if response.streaming else response.content
    return zipfile.ZipFile(io.BytesIO(data))


def csv_rows(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))


def test_every_claim_a_flag_rests_on_is_in_claims_csv_whatever_its_obligation(viewer_client):
    # A count conflict compares counts: its claims need no obligation, and have none here.
    ClaimFactory(count_low=50_000, external_id="KINU-1", as_of=datetime.date(2019, 12, 23))
    ClaimFactory(count_low=80_000, external_id="KITA-1", as_of=datetime.date(2019, 12, 1))
    ClaimFactory(
        obligation=obligation("UNSCR2397-OP8"),
        stance="violating",
        count_low=None,
        measure="",
        external_id="RFA-1",
    )
    checks.sweep(today=TODAY, keys=["CN"])
    conflict = Flag.objects.get(kind=Flag.Kind.COUNT_CONFLICT)
    assert not conflict.obligations.exists()
    archive = dossier(viewer_client)
    references = {row["external_id"] for row in csv_rows(archive, "claims.csv")}
    assert references == {"KINU-1", "KITA-1", "RFA-1"}
    flags = csv_rows(archive, "flags.csv")
    assert str(conflict.pk) in {row["id"] for row in flags}


def test_a_hidden_claim_a_flag_rests_on_is_listed_redacted(viewer_client):
    informant = SourceFactory(name="Canary Informant", confidential=True)
    ClaimFactory(count_low=50_000, attributed_to=informant, external_id="Canary-1")
    ClaimFactory(count_low=80_000, external_id="KITA-1")
    checks.sweep(today=TODAY, keys=["CN"])
    assert Flag.objects.filter(kind=Flag.Kind.COUNT_CONFLICT).exists()
    archive = dossier(viewer_client)
    rows = csv_rows(archive, "claims.csv")
    assert {row["count_low"]: row["claim_source"] for row in rows}["50000"] == (
        "confidential source"
    )
    assert {row["count_low"] for row in rows} == {"50000", "80000"}
    for name in archive.namelist():
        assert b"Canary" not in archive.read(name)


# --- the documents ------------------------------------------------------------------------------


@pytest.fixture
def documented(document_storage):
    """A stance claim on the obligation in a report with two documents."""
    claim = ClaimFactory(
        obligation=obligation("UNSCR2397-OP8"),
        stance="violating",
        count_low=None,
        measure="",
        external_id="RFA-1",
    )
    return {
        "claim": claim,
        "article": DocumentFactory(report=claim.report, name="RFA article.pdf"),
        "page": DocumentFactory(
            report=claim.report, name="기사 사본.html", content=b"<!DOCTYPE html><p>60,000</p>"
        ),
    }


def unzipped(archive: zipfile.ZipFile, folder: Path) -> Path:
    archive.extractall(folder)
    return folder


def sha256sum_check(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sha256sum", "-c", "MANIFEST.sha256"], cwd=folder, capture_output=True, text=True
    )


def test_the_dossier_carries_its_reports_documents_and_sha256sum_checks_every_file(
    viewer_client, documented, tmp_path
):
    archive = dossier(viewer_client)
    article, page = documented["article"], documented["page"]
    assert sorted(archive.namelist()) == [
        "MANIFEST.sha256",
        "claims.csv",
        f"documents/{article.pk}-RFA_article.pdf",
        f"documents/{page.pk}-기사_사본.html",
        "dossier.html",
        "flags.csv",
    ]
    with article.file.open("rb") as stored:
        assert archive.read(f"documents/{article.pk}-RFA_article.pdf") == stored.read()
    manifest = archive.read("MANIFEST.sha256").decode()
    assert f"{article.sha256}  documents/{article.pk}-RFA_article.pdf\n" in manifest
    result = sha256sum_check(unzipped(archive, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == 5
    html = archive.read("dossier.html").decode()
    assert f'href="documents/{article.pk}-RFA_article.pdf"' in html


def test_a_document_altered_in_storage_fails_the_manifest_and_the_page_says_so(
    viewer_client, documented, document_storage, tmp_path
):
    article = documented["article"]
    path = document_storage / article.file.name
    os.chmod(path, 0o640)
    path.write_bytes(pdf_bytes("a forged figure"))
    assert not article.verify()
    archive = dossier(viewer_client)
    result = sha256sum_check(unzipped(archive, tmp_path))
    assert result.returncode == 1
    assert f"documents/{article.pk}-RFA_article.pdf: FAILED" in result.stdout
    assert result.stdout.count(": OK") == 4  # everything else is as it was
    html = archive.read("dossier.html").decode()
    assert hashlib.sha256(pdf_bytes("a forged figure")).hexdigest() in html


def test_a_document_missing_from_storage_is_listed_and_fails_the_manifest(
    viewer_client, documented, document_storage, tmp_path
):
    page = documented["page"]
    (document_storage / page.file.name).unlink()
    archive = dossier(viewer_client)
    assert f"documents/{page.pk}-기사_사본.html" not in archive.namelist()
    assert f"documents/{page.pk}-기사_사본.html" in archive.read("MANIFEST.sha256").decode()
    result = sha256sum_check(unzipped(archive, tmp_path))
    assert result.returncode == 1
    assert "MISSING" in archive.read("dossier.html").decode()


def test_no_document_of_a_hidden_report_nor_of_a_restricted_claims_report_is_carried(
    viewer_client, trusted_editor, document_storage
):
    op8 = obligation("UNSCR2397-OP8")
    secret = ClaimFactory(obligation=op8, report=ReportFactory(confidential=True))
    DocumentFactory(report=secret.report, name="Canary interview.pdf")
    # A public report, but its only claim here is an informant's: naming its documents would
    # say which report the hidden claim comes from.
    informant = SourceFactory(name="Canary Informant", confidential=True)
    whispered = ClaimFactory(obligation=op8, attributed_to=informant)
    DocumentFactory(report=whispered.report, name="Canary notes.txt", content=b"Canary")
    public = ClaimFactory(obligation=op8)
    DocumentFactory(report=public.report, name="public.pdf")
    archive = dossier(viewer_client)
    carried = [n for n in archive.namelist() if n.startswith("documents/")]
    assert len(carried) == 1 and carried[0].endswith("-public.pdf")
    for name in archive.namelist():
        assert b"Canary" not in archive.read(name)
    trusted = Client()
    trusted.force_login(trusted_editor)
    carried = [n for n in dossier(trusted).namelist() if n.startswith("documents/")]
    assert len(carried) == 3


# --- the page -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("2019-12-23", "23 December 2019"),
        ("2017-09", "September 2017"),
        ("2022", "2022"),
        ("", ""),
        ("sometime", "sometime"),
    ],
)
def test_dates_are_shown_as_people_write_them_at_the_precision_given(given, shown):
    assert dossier_module.human_date(given) == shown


def test_the_page_writes_times_as_people_do_without_microseconds(viewer_client, documented):
    with time_machine.travel(
        datetime.datetime(2026, 12, 7, 14, 5, 33, 123456, tzinfo=datetime.UTC)
    ):
        checks.sweep(today=TODAY, keys=["CN"])
        html = dossier(viewer_client).read("dossier.html").decode()
    assert "Made <strong>7 December 2026, 14:05 UTC</strong>" in html
    assert "as of 1 December 2019" in html  # the claim's as_of
    assert "23 December 2019" in html  # its report's publication
    assert not re.search(r"\d:\d\d:\d\d|\.\d{6}|T\d\d:", html)  # no ISO times anywhere


def test_the_page_is_styled_inline_and_loads_nothing(viewer_client, documented):
    html = dossier(viewer_client).read("dossier.html").decode()
    assert "<style>" in html
    assert not re.search(r"<link|<script|<img|src=|url\(|@import", html)
    for href in re.findall(r'href="([^"]+)"', html):
        assert href.startswith(("documents/", "https://", "http://")), href


def test_the_page_is_rendered_in_the_readers_language(viewer_client, documented):
    viewer_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ko"  # the request's language decides
    html = dossier(viewer_client).read("dossier.html").decode()
    assert '<html lang="ko">' in html
    assert "12월" in html and "증거 자료" in html


def test_a_dossier_runs_the_same_queries_for_one_claim_and_many(viewer_client, document_storage):
    def add(n: int) -> None:
        for _ in range(n):
            claim = ClaimFactory(
                obligation=obligation("UNSCR2397-OP8"), stance="violating", count_low=50_000
            )
            DocumentFactory(report=claim.report)
        checks.sweep(today=TODAY, keys=["CN"])

    def count() -> tuple[int, zipfile.ZipFile]:
        with CaptureQueriesContext(connection) as queries:
            archive = dossier(viewer_client)
        return len(queries), archive

    add(1)
    dossier(viewer_client)  # the permission and content-type caches
    one, archive = count()
    assert len([n for n in archive.namelist() if n.startswith("documents/")]) == 1
    add(9)
    many, archive = count()
    assert len([n for n in archive.namelist() if n.startswith("documents/")]) == 10
    assert many == one
