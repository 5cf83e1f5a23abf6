"""Past versions in the admin: readable as the object is now, reverted only with the right to
change it; deleting a report keeps its history."""

import datetime

import pytest
from django.test import Client

from tests.factories import ClaimFactory, ReportFactory, SourceFactory, UserFactory
from tracker.models import Claim, Report, Source

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


def history_url(obj) -> str:
    return f"/admin/tracker/{obj._meta.model_name}/{obj.pk}/history/"


def test_a_claim_once_made_by_a_confidential_source_hides_that_version_from_a_viewer(
    viewer_client, trusted_editor
):
    informant = SourceFactory(name="Informant at the Vladivostok yard", confidential=True)
    claim = ClaimFactory(attributed_to=informant, summary="He counted 300 at the yard")
    first = claim.history.earliest().history_id
    claim.attributed_to = SourceFactory(name="Daily NK")
    claim.summary = "About 300 at a shipyard"
    claim.save()

    listing = viewer_client.get(history_url(claim))
    assert listing.status_code == 200
    page = listing.content.decode()
    # Neither the version itself nor the change from it names the informant or its words.
    assert "Informant" not in page and "He counted" not in page
    assert version_url(claim, first) not in page
    assert "restricted version" in page
    assert "About 300 at a shipyard" in page  # the version as it is now is the viewer's
    assert "(restricted) &nbsp;&rarr;&nbsp;&nbsp;Daily NK" in " ".join(page.split())
    assert viewer_client.get(version_url(claim, first)).status_code == 404

    trusted = Client()
    trusted.force_login(trusted_editor)
    assert "Informant at the Vladivostok yard" in trusted.get(history_url(claim)).content.decode()
    assert trusted.get(version_url(claim, first)).status_code == 200


def test_a_report_confidential_then_made_public_hides_its_confidential_versions(
    viewer_client, trusted_editor
):
    report = ReportFactory(title="Interview with Kim, a welder", confidential=True)
    first = report.history.earliest().history_id
    report.title = "Interview with a welder"
    report.confidential = False
    report.save()
    page = viewer_client.get(history_url(report)).content.decode()
    assert "Kim" not in page and "Interview with a welder" in page
    # The version that made it public is the viewer's: judged from itself on, not before.
    assert version_url(report, report.history.latest().history_id) in page
    assert viewer_client.get(version_url(report, first)).status_code == 404
    trusted = Client()
    trusted.force_login(trusted_editor)
    assert "Kim" in trusted.get(history_url(report)).content.decode()


@pytest.mark.parametrize("public_first", [False, True], ids=["confidential", "public first"])
def test_a_source_once_confidential_hides_the_names_it_had_until_then(viewer_client, public_first):
    """Confidential from the start, or public as "Kim" and made confidential later (as the
    flags conceal every name a source has gone by): public again under another name, only
    that version is listed."""
    source = SourceFactory(name="Kim, a welder in Vladivostok", confidential=not public_first)
    first = source.history.earliest().history_id
    if public_first:
        source.confidential = True
        source.save()
    source.name, source.confidential = "A welder in the Russian Far East", False
    source.save()
    page = viewer_client.get(history_url(source)).content.decode()
    assert "Kim" not in page and "A welder in the Russian Far East" in page
    assert viewer_client.get(version_url(source, first)).status_code == 404
    assert version_url(source, source.history.latest().history_id) in page


def test_a_claim_version_is_judged_by_its_report_as_it_was_then(viewer_client):
    """Versions recorded while the claim's report (or its publisher) was confidential stay
    hidden after the report is made public; those recorded since are shown."""
    report = ReportFactory(confidential=True)
    claim = ClaimFactory(report=report, summary="Kim told us of 300 at the yard")
    claim.summary = "A worker told us of 300 at the yard"
    claim.save()
    while_confidential = {v.history_id for v in claim.history.all()}
    report.confidential = False
    report.save()
    claim.credibility = 4
    claim.save()
    since = claim.history.latest().history_id

    page = viewer_client.get(history_url(claim)).content.decode()
    assert "Kim" not in page
    assert page.count("restricted version") == len(while_confidential)
    assert version_url(claim, since) in page
    for history_id in while_confidential:
        assert viewer_client.get(version_url(claim, history_id)).status_code == 404
    assert viewer_client.get(version_url(claim, since)).status_code == 200

    # Published by a source confidential then: the same, once the claim has been edited
    # since (its latest version holds what its change page shows anyone who may open it).
    publisher = SourceFactory(name="Kim's cousin", confidential=True)
    report = ReportFactory(publisher=publisher)
    claim = ClaimFactory(report=report, summary="Kim's cousin says 50 left")
    first = claim.history.earliest().history_id
    publisher.confidential = False
    publisher.save()
    assert viewer_client.get(version_url(claim, first)).status_code == 200
    claim.summary = "A relative says 50 left"
    claim.save()
    assert viewer_client.get(version_url(claim, first)).status_code == 404


def test_the_latest_version_stays_listed_once_what_made_it_restricted_is_public(viewer_client):
    """A report's only version, recorded while its publisher was confidential: the publisher
    made public writes no version of the report, whose change page the viewer may open."""
    publisher = SourceFactory(confidential=True)
    report = ReportFactory(publisher=publisher, title="Yard notes")
    publisher.confidential = False
    publisher.save()
    only = report.history.get().history_id
    page = viewer_client.get(history_url(report)).content.decode()
    assert version_url(report, only) in page and "restricted version" not in page
    assert viewer_client.get(version_url(report, only)).status_code == 200


def test_a_report_deleted_with_its_publisher_keeps_a_readable_history(client, viewer):
    report = ReportFactory()
    publisher, pk = report.publisher, report.pk
    report.delete()
    publisher.delete()
    client.force_login(viewer)
    assert client.get(f"/admin/tracker/report/{pk}/history/").status_code == 200
    secret = ReportFactory(confidential=True)
    publisher, pk = secret.publisher, secret.pk
    secret.delete()
    publisher.delete()
    # Hidden: it answers as an id that never existed.
    assert client.get(f"/admin/tracker/report/{pk}/history/").status_code == 404


def test_an_imported_report_keeps_its_history_and_its_claims_past_stays_hidden(viewer_client):
    """An import writes its new reports with their history: a claim imported into a report
    of a confidential publisher is judged by that past after the report changes publisher."""
    from tracker import imports

    SourceFactory(name="Informant Kim", confidential=True)
    row = (
        "NK-9,Yard notes,,Informant Kim,2019-12-23,NKDB,ngo,,CN,,UNSCR2397-OP8,violating,"
        "workers,300,300,,2019-12-23,2,Kim counted 300 at the yard"
    )
    header = (
        "external_id,report_title,report_url,publisher,published_on,claim_source,source_kind,"
        "source_country,country,place,obligation,stance,measure,count_low,count_high,"
        "period_start,as_of,credibility,summary"
    )
    plan = imports.plan(imports.read_rows(f"{header}\n{row}\n".encode(), "claims.csv"))
    imports.apply(plan)
    claim = Claim.objects.get(external_id="NK-9")
    report = claim.report
    assert report.history.count() == 1
    first = claim.history.earliest().history_id
    report.publisher = SourceFactory(name="Radio Free Asia")
    report.save()
    claim.summary = "A worker counted 300 at the yard"
    claim.save()
    page = viewer_client.get(history_url(claim)).content.decode()
    assert "Kim counted" not in page and "A worker counted" in page
    assert viewer_client.get(version_url(claim, first)).status_code == 404


def test_a_version_recorded_at_the_moment_its_source_changed_counts_as_restricted():
    """Two versions recorded at one moment have no order: the claim's version is judged by
    its source's versions at that moment and the one before, not by the last alone."""
    from django.utils import timezone

    from tracker import history

    moment = timezone.now() + datetime.timedelta(minutes=1)
    informant = SourceFactory(name="Informant", confidential=True)
    claim = ClaimFactory(summary="From the news")
    claim.attributed_to, claim.summary = informant, "He counted 300 at the yard"
    claim._history_date = moment
    claim.save()
    informant.confidential = False
    informant._history_date = moment
    informant.save()
    version = claim.history.get(history_date=moment)
    assert history.restricted_versions([version]) == {version.history_id}


def test_a_claim_deleted_with_its_report_keeps_a_readable_history(client, viewer, trusted_editor):
    public = ClaimFactory(summary="About 300 at a shipyard")
    hidden = ClaimFactory(
        report=ReportFactory(confidential=True), summary="Kim counted 300 at the yard"
    )
    public.report.delete()
    hidden.report.delete()
    assert not Claim.objects.filter(pk__in=[public.pk, hidden.pk]).exists()
    client.force_login(viewer)
    assert client.get(history_url(public)).status_code == 200
    response = client.get(history_url(hidden))
    assert response.status_code == 404 and b"Kim" not in response.content
    client.force_login(trusted_editor)
    assert client.get(history_url(hidden)).status_code == 200


def test_a_restricted_versions_change_reason_is_not_shown(viewer_client):
    informant = SourceFactory(name="Informant", confidential=True)
    claim = ClaimFactory(attributed_to=informant)
    claim.count_low = claim.count_high = 300
    claim._change_reason = "Kim phoned with a new count"
    claim.save()
    claim.attributed_to = SourceFactory(name="Daily NK")
    claim._change_reason = "Attributed to the outlet that published it"
    claim.save()
    page = viewer_client.get(history_url(claim)).content.decode()
    assert "Kim phoned" not in page
    assert "Attributed to the outlet that published it" in page


def test_a_version_older_than_its_reports_history_counts_as_restricted():
    """A report written without history (bulk, or before history was kept) whose first
    recorded version is a later change: what it was before is not known, so a claim version
    from before that change is hidden, not judged by the report as it is now."""
    from tracker import history

    publisher = SourceFactory()
    (report,) = Report.objects.bulk_create(
        [ReportFactory.build(publisher=publisher, confidential=True)]
    )
    claim = ClaimFactory(report=report, summary="Kim counted 300 at the yard")
    before = claim.history.get()
    report.confidential = False
    report.save()  # its first history row
    assert report.history.count() == 1
    assert history.restricted_versions([before]) == {before.history_id}
    claim.summary = "A worker counted 300"
    claim.save()
    after = claim.history.latest()
    assert history.restricted_versions([after]) == set()


def test_the_deletion_of_a_confidential_source_or_report_is_a_restricted_version():
    from tracker import history

    source = SourceFactory(name="Informant", confidential=True)
    report = ReportFactory(confidential=True)
    source_id, report_id = source.pk, report.pk
    report.delete()
    source.delete()
    for model, pk in ((Source, source_id), (Report, report_id)):
        deletion = model.history.filter(id=pk, history_type="-").get()
        assert history.restricted_versions([deletion]) == {deletion.history_id}
