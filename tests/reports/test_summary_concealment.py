"""A source or report made confidential stops being named in the stored summaries meant for
readers without the permission: those sent, which the summary pages still show, and those
waiting to be sent. A summary that names confidential material is left as it is."""

import datetime

import pytest
from django.utils import timezone

from reports import sending
from reports.models import Subscription, Summary
from tests.factories import ClaimFactory, ReportFactory, SourceFactory, country
from tracker import checks
from tracker.models import Claim
from tracker.rules import CONFIDENTIAL_SOURCE

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2020, 1, 10)


@pytest.fixture
def stored():
    """A count conflict between Informant Kim and KITA, opened now, from a report logged now
    ("Kim's notes", with its address), in a plain summary and a confidential one."""
    kim = SourceFactory(name="Informant Kim")
    notes = ReportFactory(title="Kim's notes from Dandong", url="https://example.org/dandong")
    ClaimFactory(attributed_to=kim, report=notes, count_low=50_000)
    ClaimFactory(attributed_to=SourceFactory(name="KITA"), count_low=90_000)
    checks.sweep(today=TODAY, keys=["CN"])
    today = timezone.localdate()
    summaries = {}
    for confidential in (False, True):
        subscription = Subscription.objects.create(
            name=f"Weekly {confidential}", addresses="", include_confidential=confidential
        )
        subscription.countries.add(country("CN"))
        summaries[confidential] = sending.summary_create(
            subscription=subscription,
            period_start=today - datetime.timedelta(days=1),
            period_end=today,
            enqueue=False,
        )
    plain = summaries[False]
    assert "Informant Kim says 50,000" in plain.body_text
    assert "Informant Kim says 50,000" in plain.body_html
    assert "Kim&#x27;s notes from Dandong" in plain.body_html
    return {"kim": kim, "notes": notes, "plain": plain, "confidential": summaries[True]}


def bodies(summary: Summary) -> str:
    summary.refresh_from_db()
    return " ".join((summary.subject, summary.headline, summary.body_text, summary.body_html))


def test_a_stored_summary_stops_naming_a_source_made_confidential(stored):
    kept = bodies(stored["confidential"])
    stored["kim"].confidential = True
    stored["kim"].save()
    plain = bodies(stored["plain"])
    assert "Informant Kim" not in plain
    assert f"{CONFIDENTIAL_SOURCE} says 50,000 workers in China" in stored["plain"].body_text
    assert f"{CONFIDENTIAL_SOURCE} says 50,000 workers in China" in stored["plain"].body_html
    assert "KITA says 90,000" in plain
    assert bodies(stored["confidential"]) == kept


@pytest.mark.parametrize("by", ["report", "publisher"])
def test_a_stored_summary_stops_listing_a_report_made_confidential(stored, by):
    notes = stored["notes"]
    made = notes if by == "report" else notes.publisher
    made.confidential = True
    made.save()
    plain = bodies(stored["plain"])
    assert "Dandong" not in plain
    assert "example.org" not in plain
    assert "Informant Kim" not in plain  # its claim's source, in the flag's sentence
    # Listed as any confidential report is, without a link.
    assert ": confidential report\n" in stored["plain"].body_text
    assert ": confidential report</li>" in stored["plain"].body_html


def test_a_stored_summary_quoting_an_older_sentence_is_concealed(stored):
    """The flag's sentence changed after the summary quoted it (KITA's count corrected); the
    report made confidential afterwards is concealed in what the summary quoted."""
    kita = Claim.objects.get(attributed_to__name="KITA")
    kita.count_low = kita.count_high = 95_000
    kita.save()
    checks.sweep(today=TODAY, keys=["CN"])
    stored["notes"].confidential = True
    stored["notes"].save()
    plain = bodies(stored["plain"])
    assert "Informant Kim" not in plain
    assert f"{CONFIDENTIAL_SOURCE} says 50,000" in stored["plain"].body_text


def test_a_stored_summary_stops_listing_a_report_under_its_old_title(stored):
    notes = stored["notes"]
    notes.title = "Withheld"
    notes.confidential = True
    notes.save()
    assert "Dandong" not in bodies(stored["plain"])


def test_a_stored_summary_stops_naming_the_source_of_a_claim_moved_into_a_confidential_report(
    stored,
):
    claim = Claim.objects.get(attributed_to=stored["kim"])
    claim.report = ReportFactory(confidential=True)
    claim.save()
    plain = bodies(stored["plain"])
    assert "Informant Kim" not in plain
    assert f"{CONFIDENTIAL_SOURCE} says 50,000 workers in China" in stored["plain"].body_text
    assert "Dandong" in plain  # the report it left stays public
