"""A source or report made confidential stops being named in every flag's public texts at
once, whatever the flag's status: the checks rewrite the sentences of the flags they find
again, but not those of resolved or dismissed flags they no longer find, which exports, the
API and the summaries still show to readers without the permission."""

import datetime

import pytest

from tests.factories import (
    ClaimFactory,
    ReportFactory,
    SourceFactory,
    UserFactory,
    country,
    obligation,
    world,
)
from tracker import checks, imports, selectors
from tracker.models import Flag, FlagEvent, Source
from tracker.rules import CONFIDENTIAL_SOURCE
from tracker.services import flags_dismiss

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2020, 1, 10)
IMPORT_HEADER = (
    "external_id,report_title,report_url,publisher,published_on,claim_source,source_kind,"
    "source_country,country,place,obligation,stance,measure,count_low,count_high,"
    "period_start,as_of,credibility,summary"
)


def count_conflict(source_name: str = "Informant Kim", **claim):
    """A count conflict between ``source_name`` (50,000) and KITA (90,000) in China: the two
    claims and the flag."""
    a = ClaimFactory(
        attributed_to=SourceFactory(name=source_name), count_low=50_000, external_id="A", **claim
    )
    b = ClaimFactory(attributed_to=SourceFactory(name="KITA"), count_low=90_000, external_id="B")
    checks.sweep(today=TODAY, keys=["CN"])
    return a, b, Flag.objects.get(kind="count_conflict")


def resolve(b, flag) -> Flag:
    """KITA's count corrected to 51,000: the next check resolves the conflict."""
    b.count_low = b.count_high = 51_000
    b.save()
    checks.sweep(today=TODAY, keys=["CN"])
    flag.refresh_from_db()
    assert flag.status == Flag.Status.RESOLVED
    return flag


def made_confidential(thing) -> None:
    thing.confidential = True
    thing.save()


def public_texts(flag: Flag) -> str:
    flag.refresh_from_db()
    notes = " ".join(flag.events.values_list("note", flat=True))
    return f"{flag.explanation_public} | {flag.resolved_reason} | {notes}"


def test_a_resolved_flag_stops_naming_a_source_made_confidential():
    a, b, flag = count_conflict()
    flag = resolve(b, flag)
    assert "Informant Kim" in flag.explanation_public
    made_confidential(a.attributed_to)
    flag.refresh_from_db()
    assert "Informant Kim" not in public_texts(flag)
    assert flag.explanation_public.startswith(f"{CONFIDENTIAL_SOURCE} says 50,000 workers")
    assert "KITA says 90,000" in flag.explanation_public
    assert flag.explanation.startswith("Informant Kim says 50,000")  # for who may see it
    assert flag.status == Flag.Status.RESOLVED


def test_a_dismissed_flag_no_longer_found_stops_naming_a_source_made_confidential():
    a, b, flag = count_conflict()
    flags_dismiss(flag_ids=[flag.pk], user=UserFactory(), reason="a known outlier")
    b.count_low = b.count_high = 51_000
    b.save()
    checks.sweep(today=TODAY, keys=["CN"])  # not found, and dismissed: left as it is
    made_confidential(a.attributed_to)
    assert "Informant Kim" not in public_texts(flag)
    assert flag.status == Flag.Status.DISMISSED


def test_an_open_flag_is_concealed_at_once_and_the_next_check_finds_it_unchanged():
    a, _, flag = count_conflict()
    made_confidential(a.attributed_to)  # before any check runs
    assert "Informant Kim" not in public_texts(flag)
    concealed = flag.explanation_public
    outcome = checks.sweep(today=TODAY, keys=["CN"])
    flag.refresh_from_db()
    assert flag.explanation_public == concealed  # what the rule writes now
    assert outcome.total("refreshed") >= 1 and outcome.total("opened") == 0


def stale_resolved_by(**newer) -> Flag:
    """A stale flag resting on NKDB's claim of 2019-12-23, resolved by a newer claim
    (``newer``: its source, report, ...) as of 2020-07-01, its reason naming that claim."""
    op8 = obligation("UNSCR2397-OP8")
    about = {"obligation": op8, "stance": "violating", "measure": "", "count_low": None}
    ClaimFactory(
        attributed_to=SourceFactory(name="NKDB"), as_of=datetime.date(2019, 12, 23), **about
    )
    today = datetime.date(2020, 8, 1)
    checks.sweep(today=today, keys=["CN"])
    stale = Flag.objects.get(kind="stale", obligation=op8)
    ClaimFactory(as_of=datetime.date(2020, 7, 1), external_id="NEW", **about, **newer)
    checks.sweep(today=today, keys=["CN"])
    stale.refresh_from_db()
    assert stale.status == Flag.Status.RESOLVED
    return stale


def test_a_resolution_reason_that_named_the_source_is_concealed():
    kim = SourceFactory(name="Informant Kim")
    stale = stale_resolved_by(attributed_to=kim)
    assert "claim NEW by Informant Kim" in stale.resolved_reason  # the flag rests on NKDB's
    made_confidential(kim)
    stale.refresh_from_db()
    assert "Informant Kim" not in public_texts(stale)
    assert f"claim NEW by {CONFIDENTIAL_SOURCE} as of 2020-07-01" in stale.resolved_reason
    resolved = stale.events.get(action=FlagEvent.Action.RESOLVED)
    assert resolved.note == stale.resolved_reason


@pytest.mark.parametrize("by", ["report", "publisher"])
def test_a_report_made_confidential_conceals_its_claims_sources_in_their_flags_only(by):
    report = ReportFactory(publisher=SourceFactory(name="RFA", kind="news"))
    a, b, flag = count_conflict("NKDB", report=report)
    # NKDB's claim of another day in a public report, in another conflict: NKDB stays named
    # there. (Its claim of the same day, elsewhere, would be concealed too.)
    elsewhere = ClaimFactory(
        attributed_to=a.attributed_to,
        place=country("RU"),
        count_low=1_000,
        external_id="C",
        as_of=datetime.date(2019, 11, 1),
    )
    ClaimFactory(
        attributed_to=b.attributed_to,
        place=country("RU"),
        count_low=9_000,
        as_of=datetime.date(2019, 11, 1),
    )
    checks.sweep(today=TODAY, keys=["RU"])
    other = Flag.objects.get(kind="count_conflict", claims=elsewhere)
    Source.history.filter(id=a.attributed_to_id).delete()  # as if imported: no history
    made_confidential(report if by == "report" else report.publisher)
    assert "NKDB" not in public_texts(flag)
    assert flag.explanation_public.startswith(f"{CONFIDENTIAL_SOURCE} says 50,000")
    assert "NKDB says 1,000" in public_texts(other)
    # What the rules write for a claim from a restricted report, from now on.
    assert checks.sweep(today=TODAY, keys=["CN"]).total("refreshed") >= 1
    flag.refresh_from_db()
    assert flag.explanation_public.startswith(f"{CONFIDENTIAL_SOURCE} says 50,000")


def test_a_name_inside_a_longer_word_is_left_as_it_is():
    op8 = obligation("UNSCR2397-OP8")
    about = {"obligation": op8, "measure": "", "count_low": None}
    un = SourceFactory(name="UN")
    ClaimFactory(attributed_to=un, place=world(), stance="complying", **about)
    ClaimFactory(attributed_to=SourceFactory(name="NKDB"), stance="violating", **about)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="stance_conflict")
    assert flag.explanation_public.startswith("UN says the world is complying with UNSCR2397")
    made_confidential(un)
    flag.refresh_from_db()
    assert flag.explanation_public.startswith(
        f"{CONFIDENTIAL_SOURCE} says the world is complying with UNSCR2397-OP8"
    )


def test_the_names_a_source_went_by_before_are_concealed_too():
    a, b, flag = count_conflict()
    flag = resolve(b, flag)
    kim = a.attributed_to
    kim.name = "Kim (informant)"
    kim.save()
    made_confidential(kim)
    assert "Informant Kim" not in public_texts(flag)
    assert "Kim (informant)" not in public_texts(flag)


def test_a_source_already_confidential_saved_again_changes_no_flag():
    a, _, flag = count_conflict()
    made_confidential(a.attributed_to)
    Flag.objects.filter(pk=flag.pk).update(explanation_public="Informant Kim, as written")
    a.attributed_to.notes = "met in 2019"
    a.attributed_to.save()
    flag.refresh_from_db()
    assert flag.explanation_public == "Informant Kim, as written"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("made", ["source", "report"])
def test_a_save_outside_any_transaction_conceals_too(made):
    """A save without a transaction of its own (a script, the shell): the concealment then
    runs in one of its own, and takes the links' lock there."""
    report = ReportFactory()
    a, _, flag = count_conflict(report=report)
    made_confidential(a.attributed_to if made == "source" else report)
    assert "Informant Kim" not in public_texts(flag)


def test_a_report_with_claims_by_two_sources_conceals_both():
    report = ReportFactory()
    kim = ClaimFactory(
        attributed_to=SourceFactory(name="Informant Kim"), report=report, count_low=50_000
    )
    ClaimFactory(attributed_to=SourceFactory(name="Defector Lee"), report=report, count_low=90_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict", claims=kim)
    made_confidential(report)
    texts = public_texts(flag)
    assert "Informant Kim" not in texts and "Defector Lee" not in texts
    assert texts.startswith(
        f"{CONFIDENTIAL_SOURCE} says 50,000 workers in China (as of 2019-12-01) but "
        f"{CONFIDENTIAL_SOURCE} says 90,000"
    )


def test_a_reason_naming_a_claim_of_a_report_made_confidential_is_concealed():
    """The flag rests on NKDB's claim; the claim that resolved it, named in the reason, is
    in the report made confidential."""
    report = ReportFactory()
    stale = stale_resolved_by(attributed_to=SourceFactory(name="Informant Kim"), report=report)
    made_confidential(report)
    stale.refresh_from_db()
    assert "Informant Kim" not in public_texts(stale)
    assert f"by {CONFIDENTIAL_SOURCE} as of 2020-07-01" in stale.resolved_reason


def test_a_report_moved_to_a_confidential_publisher_is_concealed():
    a, b, flag = count_conflict(report=ReportFactory(title="Kim's notes"))
    flag = resolve(b, flag)
    report = a.report
    report.publisher = SourceFactory(name="Secret Press", confidential=True)
    report.save()
    assert "Informant Kim" not in public_texts(flag)


def test_a_monitors_note_naming_a_source_made_confidential_is_concealed():
    a, _, flag = count_conflict()
    flags_dismiss(flag_ids=[flag.pk], user=UserFactory(), reason="Informant Kim overcounts")
    made_confidential(a.attributed_to)
    flag.refresh_from_db()
    assert flag.status_note == f"{CONFIDENTIAL_SOURCE} overcounts"
    assert "Informant Kim" not in public_texts(flag)


def test_a_sweep_that_read_before_a_report_was_made_confidential_does_not_name_it_after():
    """A sweep reads the restricted reports once, before its batches; a batch that takes the
    links' lock after the concealment reads them again."""
    report = ReportFactory()
    ClaimFactory(attributed_to=SourceFactory(name="Informant Kim"), report=report, count_low=50_000)
    ClaimFactory(attributed_to=SourceFactory(name="KITA"), count_low=90_000)
    shared = selectors.Shared.for_sweep(TODAY)
    made_confidential(report)
    checks.partitions_check(["CN"], today=TODAY, whole=True, shared=shared)
    flag = Flag.objects.get(kind="count_conflict")
    assert flag.explanation_public.startswith(f"{CONFIDENTIAL_SOURCE} says 50,000")


# A claim made restricted by its own save: moved into a restricted report, or attributed to a
# confidential source. The flags written before name it as it was stored: its old source, as
# of its old date.


def test_a_claim_moved_into_a_confidential_report_is_concealed_in_resolved_flags():
    a, b, flag = count_conflict()
    flag = resolve(b, flag)
    a.report = ReportFactory(confidential=True)
    a.save()
    assert "Informant Kim" not in public_texts(flag)
    assert flag.explanation_public.startswith(f"{CONFIDENTIAL_SOURCE} says 50,000 workers")
    assert "KITA says 90,000" in flag.explanation_public
    assert flag.explanation.startswith("Informant Kim says 50,000")  # for who may see it


def test_a_claim_moved_to_a_report_of_a_confidential_publisher_is_concealed():
    a, b, flag = count_conflict()
    flag = resolve(b, flag)
    a.report = ReportFactory(publisher=SourceFactory(name="Secret Press", confidential=True))
    a.save()
    assert "Informant Kim" not in public_texts(flag)


def test_a_claim_attributed_to_a_confidential_source_hides_its_old_attribution():
    """Its date changed in the same save: the old texts name it as of its old date."""
    a, b, flag = count_conflict()
    flag = resolve(b, flag)
    a.attributed_to = SourceFactory(name="Protected source 7", confidential=True)
    a.as_of = datetime.date(2019, 12, 5)
    a.save()
    assert "Informant Kim" not in public_texts(flag)
    assert "KITA" in flag.explanation_public


def test_a_claim_moved_between_public_reports_changes_no_flag():
    a, b, flag = count_conflict()
    flag = resolve(b, flag)
    before = public_texts(flag)
    a.report = ReportFactory()
    a.save()
    assert public_texts(flag) == before


def test_a_claim_already_restricted_saved_again_changes_no_flag():
    a, _, flag = count_conflict(report=ReportFactory(confidential=True))
    Flag.objects.filter(pk=flag.pk).update(explanation_public="Informant Kim, as written")
    a.report = ReportFactory(confidential=True)
    a.save()
    flag.refresh_from_db()
    assert flag.explanation_public == "Informant Kim, as written"


def test_a_claim_imported_into_a_confidential_report_is_concealed():
    """An import updates claims without saving them one by one (no signal): it conceals
    what it makes restricted itself."""
    a, b, flag = count_conflict()
    flag = resolve(b, flag)
    secret = SourceFactory(name="Secret Press", kind="news", confidential=True)
    row = (
        f"A,Dandong notes,,Secret Press,2019-12-20,Informant Kim,ngo,,CN,,,unclear,workers,"
        f"50000,50000,,{a.as_of.isoformat()},3,"
    )
    plan = imports.plan(imports.read_rows(f"{IMPORT_HEADER}\n{row}\n".encode(), "claims.csv"))
    assert plan.ok, plan.errors
    imports.apply(plan)
    a.refresh_from_db()
    assert a.report.publisher == secret
    assert "Informant Kim" not in public_texts(flag)


@pytest.mark.parametrize("by", ["report", "source"])
def test_a_sweep_that_read_a_world_claim_before_it_was_made_restricted_does_not_name_it(by):
    """The world's claims are read once for a whole sweep; a claim among them moved into a
    report already restricted (or given a confidential source that exists already) changes
    neither the confidential sources nor the restricted reports: each batch reads the
    world's claims again."""
    op8 = obligation("UNSCR2397-OP8")
    about = {"obligation": op8, "measure": "", "count_low": None}
    panel = ClaimFactory(
        attributed_to=SourceFactory(name="Panel Alpha"), place=world(), stance="complying", **about
    )
    ClaimFactory(attributed_to=SourceFactory(name="NKDB"), stance="violating", **about)
    secret_report = ReportFactory(confidential=True)
    secret_source = SourceFactory(name="Protected source 7", confidential=True)
    shared = selectors.Shared.for_sweep(TODAY)
    if by == "report":
        panel.report = secret_report
    else:
        panel.attributed_to = secret_source
    panel.save()
    checks.partitions_check(["CN"], today=TODAY, whole=True, shared=shared)
    flag = Flag.objects.get(kind="stance_conflict")
    assert flag.explanation_public.startswith(f"{CONFIDENTIAL_SOURCE} says the world")


def resolved_then_edited(earlier: str, **claim):
    """A resolved flag naming Informant Kim's claim as of 2019-12-01, whose date (or source)
    a public save changed since: the claim and the flag."""
    a, b, flag = count_conflict(**claim)
    flag = resolve(b, flag)
    if earlier == "date":
        a.as_of = datetime.date(2019, 12, 5)
    else:
        a.attributed_to = SourceFactory(name="Defector Lee")
    a.save()
    return a, flag


@pytest.mark.parametrize("earlier", ["date", "source"])
def test_a_claim_made_restricted_is_concealed_as_every_earlier_version_named_it(earlier):
    """A later save moves the claim into a confidential report."""
    a, flag = resolved_then_edited(earlier)
    checks.sweep(today=TODAY, keys=["CN"])
    assert "Informant Kim says 50,000" in public_texts(flag)
    a.report = ReportFactory(confidential=True)
    a.save()
    assert "Informant Kim" not in public_texts(flag)


@pytest.mark.parametrize("earlier", ["date", "source"])
def test_a_report_made_confidential_conceals_every_earlier_version_of_its_claims(earlier):
    report = ReportFactory()
    _, flag = resolved_then_edited(earlier, report=report)
    made_confidential(report)
    assert "Informant Kim" not in public_texts(flag)


def test_a_claim_save_that_leaves_its_report_and_source_reads_nothing_more(monkeypatch):
    from tracker import services

    claim = ClaimFactory()
    calls = []
    monkeypatch.setattr(services, "unrestricted_attributions", lambda ids: calls.append(ids) or [])
    claim.summary = "seen in Dandong"
    claim.save(update_fields=["summary", "updated_at"])
    assert calls == []
    claim.save(update_fields=["report"])
    claim.save()
    assert calls == [[claim.pk], [claim.pk]]


def test_a_reason_names_a_restricted_claim_by_number_not_by_its_reference():
    """The monitor's own reference may name whoever made the claim, as its summary may."""
    informant = SourceFactory(name="Informant Kim", confidential=True)
    kim = ClaimFactory(attributed_to=informant, count_low=50_000, external_id="KIM-INTERVIEW-3")
    kita = ClaimFactory(attributed_to=SourceFactory(name="KITA"), count_low=90_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict")
    flag = resolve(kita, flag)
    assert f"#{kim.pk}" in flag.resolved_reason
    assert "KIM-INTERVIEW" not in flag.resolved_reason + flag.explanation
