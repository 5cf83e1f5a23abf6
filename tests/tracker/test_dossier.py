"""The evidence dossier a panel can use as it is: every claim its flags rest on, its flags, the
documents of its reports, a readable page, and a manifest that ``sha256sum -c`` checks."""

import csv
import datetime
import io
import zipfile

import pytest

from tests.factories import ClaimFactory, SourceFactory, country, obligation
from tracker import checks
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
    assert conflict.obligation is None
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
