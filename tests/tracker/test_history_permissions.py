"""Past versions in the admin: readable as the object is now, reverted only with the right to
change it; deleting a report keeps its history."""

import pytest
from django.test import Client

from tests.factories import ClaimFactory, ReportFactory, UserFactory
from tracker.models import Claim, Report

pytestmark = pytest.mark.django_db


def version_url(obj, history_id) -> str:
    name = obj._meta.model_name
    return f"/admin/tracker/{name}/{obj.pk}/history/{history_id}/"


def test_a_viewer_cannot_revert_a_report_to_a_past_version(viewer_client):
    report = ReportFactory(title="First title")
    first = report.history.earliest().history_id
    report.title = "Corrected title"
    report.save()
    url = version_url(report, first)
    assert viewer_client.get(url).status_code == 200  # reading a past version is allowed
    response = viewer_client.post(
        url,
        {
            "title": "First title",
            "publisher": report.publisher_id,
            "published_on": "2019-12-23",
            "claims-TOTAL_FORMS": "0",
            "claims-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.title == "Corrected title"


def test_a_report_made_confidential_hides_its_past_versions_too(viewer, trusted_editor):
    report = ReportFactory(title="Interview with a named worker")
    first = report.history.earliest().history_id
    report.confidential = True
    report.save()
    url = version_url(report, first)
    viewer_client, trusted_client = Client(), Client()
    viewer_client.force_login(viewer)
    trusted_client.force_login(trusted_editor)
    response = viewer_client.get(url)
    assert response.status_code == 404
    assert b"named worker" not in response.content
    assert trusted_client.get(url).status_code == 200


def test_deleting_a_report_keeps_its_history_and_its_claims_history(client):
    client.force_login(UserFactory(username="chief", is_superuser=True))
    claim = ClaimFactory(summary="60,000 in Northeast China")
    report = claim.report
    response = client.post(
        f"/admin/tracker/report/{report.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert not Report.objects.filter(pk=report.pk).exists()
    deleted = Report.history.filter(id=report.pk).latest()
    assert deleted.history_type == "-"
    assert deleted.history_user.username == "chief"
    assert deleted.title == report.title
    claim_deleted = Claim.history.filter(id=claim.pk).latest()
    assert claim_deleted.history_type == "-"
    assert claim_deleted.summary == "60,000 in Northeast China"
