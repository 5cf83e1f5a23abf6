"""The check engine against the database: the demo's flags, the upsert on the fingerprint,
and how flags live (refresh, resolve, re-open, stay dismissed) across sweeps."""

import datetime
import gc
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.utils import translation

from tests.factories import (
    ClaimFactory,
    PlaceFactory,
    SourceFactory,
    WatchFactory,
    country,
    obligation,
    world,
)
from tests.integration.procs import BASE_DIR, database_url, django_env
from tracker import checks, selectors, services
from tracker.flags.render import FlagText
from tracker.models import (
    CheckRequest,
    CheckState,
    Claim,
    Flag,
    FlagEvent,
    FlagObligation,
    Obligation,
    Place,
    Resolution,
    Source,
)
from tracker.services import flags_acknowledge, flags_dismiss, flags_reopen

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 24)


@pytest.fixture
def demo(db):
    call_command("loaddemo")


def flag_keys(**filters) -> set[tuple]:
    """(kind, obligation codes joined by '+', place label, sorted claim refs) of the active
    flags."""
    out = set()
    for flag in Flag.objects.active().filter(**filters).prefetch_related("claims", "obligations"):
        refs = tuple(sorted(c.ref for c in flag.claims.all()))
        place = flag.place.iso_code or flag.place.name_path
        codes = "+".join(sorted(o.code for o in flag.obligations.all())) or None
        out.add((flag.kind, codes, place, refs))
    return out


def said(flag, user=None, *, sees=True) -> str:
    """The flag's sentence, in English, for a reader who may see everything (or ``user``)."""
    with translation.override("en"):
        text = FlagText([flag], user, sees=None if user else sees)
        return text.sentence(flag)


def resolution_said(flag) -> str:
    with translation.override("en"):
        return FlagText([flag], sees=True).resolution(flag)


def two_counts(low_a, low_b, *, place=None, as_of=datetime.date(2019, 12, 1), **kwargs):
    place = place or country("CN")
    a = ClaimFactory(place=place, count_low=low_a, as_of=as_of, external_id="A", **kwargs)
    b = ClaimFactory(place=place, count_low=low_b, as_of=as_of, external_id="B", **kwargs)
    return a, b


# --- the demo -----------------------------------------------------------------------------------


def test_demo_data_raises_the_flags_the_articles_imply(demo):
    outcome = checks.sweep(today=TODAY)
    assert not outcome.failed
    flags = flag_keys()
    # KITA's 70–80,000 vs the institutes' 50,000 in China.
    assert ("count_conflict", None, "CN", ("DEMO-RFA-02", "DEMO-RFA-05")) in flags
    # NKDB's 60,000 in Northeast China vs 50,000 in all of China.
    assert (
        "scope_conflict", None, "China > Northeast China", ("DEMO-RFA-01", "DEMO-RFA-05")
    ) in flags  # fmt: skip
    # 20,000 in the northeast in 2017, 60,000 in 2019, after the 2017 cap.
    assert (
        "cap_signal", "UNSCR2371-OP11", "China > Northeast China", ("DEMO-RFA-01", "DEMO-SCMP-01")
    ) in flags  # fmt: skip
    # Nothing since 2019 on China and Russia; watched Gulf states never reported on.
    assert ("stale", "UNSCR2397-OP8", "CN", ("DEMO-RFA-01",)) in flags
    assert ("stale", "UNSCR2397-OP8", "RU", ("DEMO-RFA-09",)) in flags
    assert {iso for kind, _, iso, _ in flags if kind == "stale"} >= {"CN", "RU", "QA", "KW"}
    # Neither China nor Russia has a self-report for the 2397 reports.
    assert ("overdue_report", "UNSCR2397-OP8-FINAL", "CN", ()) in flags
    assert ("overdue_report", "UNSCR2397-OP8-MIDTERM", "RU", ()) in flags


def test_demo_flags_read_like_a_monitors_sentence(demo):
    checks.sweep(today=TODAY)
    scope = Flag.objects.get(kind="scope_conflict")
    assert said(scope) == (
        "NKDB says 60,000 workers in Northeast China (as of 23 December 2019) but KINU and "
        "Sejong Institute says 50,000 in all of China (as of 23 December 2019): the part "
        "cannot hold more than the whole."
    )
    cap = Flag.objects.get(kind="cap_signal")
    assert said(cap).startswith("The number of workers in Northeast China rose from 20,000")
    assert cap.get_severity_display() == "high"


def test_a_sweep_reads_each_country_as_a_check_of_it_alone_does(demo):
    # A sweep reads every country's places, watches and self-reports placed outside it at
    # once; one check reads its own.
    prc = SourceFactory(kind=Source.Kind.SELF_REPORT, country=country("CN"), name="PRC")
    for place in (country("RU"), world(), country("CN")):
        ClaimFactory(place=place, attributed_to=prc, obligation=obligation("UNSCR2397-OP8"))
    shared = selectors.Shared.for_sweep(TODAY)
    for key in ["CN", "RU", "QA", "AE", "FR"]:
        swept = selectors.partition_load(key, today=TODAY, shared=shared)
        alone = selectors.partition_load(key, today=TODAY)
        assert swept == alone, key
        assert len(swept.places) > 1
    assert selectors.partition_load("QA", today=TODAY, shared=shared).watches
    assert len(selectors.partition_load("CN", today=TODAY, shared=shared).state_claims) >= 3


def test_on_the_deadline_day_before_the_articles_there_is_no_staleness(demo):
    checks.sweep(today=datetime.date(2019, 12, 23))
    stale = {(key[1], key[2]) for key in flag_keys(kind="stale")}
    assert ("UNSCR2397-OP8", "CN") not in stale
    assert ("UNSCR2397-OP8", "RU") not in stale
    # The 2017 cap's newest evidence on China is from 2017: stale even then.
    assert ("UNSCR2371-OP11", "CN") in stale


# --- idempotency ------------------------------------------------------------------------------


def test_sweep_run_twice_gives_the_same_flags_and_no_new_events(demo):
    first = checks.sweep(today=TODAY)
    flags = flag_keys()
    events = FlagEvent.objects.count()
    second = checks.sweep(today=TODAY)
    assert flag_keys() == flags
    assert Flag.objects.count() == len(flags)
    assert FlagEvent.objects.count() == events
    assert second.total("opened") == 0
    assert second.total("resolved") == 0
    assert second.total("found") == first.total("found")


def test_a_refound_flag_refreshes_last_seen_only(demo):
    checks.sweep(today=TODAY)
    flag = Flag.objects.get(kind="count_conflict")
    checks.sweep(today=TODAY)
    again = Flag.objects.get(pk=flag.pk)
    assert again.last_seen > flag.last_seen
    assert again.first_seen == flag.first_seen
    assert again.status == Flag.Status.OPEN


def test_each_partition_records_its_run(demo):
    outcome = checks.sweep(today=TODAY, keys=["CN", "WORLD"])
    state = CheckState.objects.get(key="CN")
    assert state.last_as_of == TODAY
    assert state.last_claims == outcome.partitions[0].claims > 0
    assert state.last_found == Flag.objects.filter(country=country("CN")).count()
    assert state.last_error == ""
    assert CheckState.objects.filter(key="WORLD").exists()


def flag_snapshot() -> set[tuple]:
    """Every flag as the checks left it, with its claim links and the actions of its events."""
    return {
        (
            flag.fingerprint,
            flag.status,
            flag.country_id,
            flag.severity,
            tuple(flag.claim_ids),
            str(flag.facts),
            str(flag.resolution),
            tuple(sorted(claim.pk for claim in flag.claims.all())),
            tuple(event.action for event in flag.events.all()),
        )
        for flag in Flag.objects.prefetch_related("claims", "events")
    }


def test_a_sweep_in_batches_writes_what_checking_each_partition_alone_writes(demo, monkeypatch):
    a, _ = two_counts(50_000, 80_000, place=country("RU"))
    ClaimFactory(place=PlaceFactory(parent=country("RU")), count_low=90_000, external_id="P")

    def sweeps(batch: int, insert_rows: int) -> list:
        """Three sweeps: flags open; a claim redated resolves some; redated back, they
        re-open. Their outcomes, the flags after each, and the state rows."""
        monkeypatch.setattr(checks, "BATCH_PARTITIONS", batch)
        monkeypatch.setattr(services, "INSERT_ROWS", insert_rows)  # 1: COPY on PostgreSQL
        Flag.objects.all().delete()
        CheckState.objects.all().delete()
        seen = []
        for as_of in (a.as_of, datetime.date(2023, 6, 1), a.as_of):
            Claim.objects.filter(pk=a.pk).update(as_of=as_of)
            outcome = checks.sweep(today=TODAY)
            seen.append(
                [
                    (p.key, p.claims, p.found, p.opened, p.reopened, p.resolved)
                    for p in outcome.partitions
                ]
            )
            seen.append(flag_snapshot())
        seen.append(set(CheckState.objects.values_list("key", "last_claims", "last_found")))
        return seen

    alone, batched = sweeps(1, 200), sweeps(7, 1)
    assert batched == alone
    # Each sweep after the first opens, re-opens or resolves something.
    changes = [sum(p[3] + p[4] + p[5] for p in partitions) for partitions in alone[0:6:2]]
    assert changes[1] > 0 and changes[2] > 0


def test_sweep_batches_close_at_the_partition_or_claim_limit(monkeypatch, settings):
    monkeypatch.setattr(checks, "BATCH_PARTITIONS", 3)
    settings.TRACKER_SWEEP_BATCH_CLAIMS = 100
    monkeypatch.setattr(checks, "UNKNOWN_CLAIMS", 0)
    checked = datetime.date(2026, 11, 1)
    CheckState.objects.bulk_create(
        [
            CheckState(key="B", last_claims=60, last_as_of=checked),
            CheckState(key="C", last_claims=40, last_as_of=checked),
        ]
    )
    keys = ["A", "B", "C", "D", "E", "F", "G"]
    assert list(checks.batches(keys)) == [["A", "B", "C"], ["D", "E", "F"], ["G"]]
    CheckState.objects.filter(key="B").update(last_claims=100)
    assert list(checks.batches(keys)) == [["A", "B"], ["C", "D", "E"], ["F", "G"]]
    # A partition never checked (a first sweep, or a state row left by a failure) counts as
    # UNKNOWN_CLAIMS.
    monkeypatch.setattr(checks, "UNKNOWN_CLAIMS", 50)
    CheckState.objects.filter(key="B").update(last_claims=60)
    CheckState.objects.create(key="D", last_claims=0)  # left by a failed first check
    assert list(checks.batches(keys)) == [["A", "B"], ["C", "D", "E"], ["F", "G"]]


def test_a_sweep_in_several_processes_cuts_its_claims_into_a_share_for_each(monkeypatch, settings):
    settings.TRACKER_SWEEP_BATCH_CLAIMS = 50_000
    monkeypatch.setattr(checks, "SHARED_BATCH_CLAIMS", 4_000)
    keys = ["A", "B", "C", "D", "E"]
    sizes = dict(zip(keys, [2_000, 3_000, 2_000, 2_000, 1_000], strict=True))
    assert list(checks.batches(keys, sizes=sizes)) == [keys]  # one process: one batch
    # Two processes: a half each (5,000 claims), a batch closing once it reaches its share.
    assert list(checks.batches(keys, sizes=sizes, shares=2)) == [["A", "B"], ["C", "D", "E"]]
    # Three: a third (3,334), but never fewer than SHARED_BATCH_CLAIMS a batch.
    assert list(checks.batches(keys, sizes=sizes, shares=3)) == [["A", "B"], ["C", "D"], ["E"]]
    # Little evidence stays one batch: a second process would cost more than it saves.
    small = {key: size // 10 for key, size in sizes.items()}
    assert list(checks.batches(keys, sizes=small, shares=2)) == [keys]
    # Much evidence: the claim limit still bounds each batch.
    large = {key: size * 100 for key, size in sizes.items()}
    cut = list(checks.batches(keys, sizes=large, shares=2))
    assert cut == [["A"], ["B"], ["C"], ["D"], ["E"]]


def test_a_first_sweep_counts_each_partitions_claims_to_cut_its_batches(demo, settings):
    region = PlaceFactory(parent=world(), kind="region")
    ClaimFactory(place=region, external_id="R")  # WORLD's, like the world's own claims
    ClaimFactory(place=PlaceFactory(parent=country("RU")), external_id="RU-1")
    keys = selectors.partition_keys()
    shared = selectors.Shared.for_sweep(TODAY)
    of_place = selectors.partition_key_by_place(Claim.objects.values_list("place_id", flat=True))
    expected = Counter(
        of_place[place_id] for place_id in Claim.objects.values_list("place_id", flat=True)
    )
    counts = selectors.claim_counts(keys, shared=shared)
    assert counts == {key: expected.get(key, 0) for key in keys}
    assert counts["WORLD"] >= 1 and counts["RU"] >= 1 and counts["CN"] >= 1
    assert selectors.claim_counts(["RU", "XX"], shared=shared) == {"RU": counts["RU"], "XX": 0}
    # Most partitions (every place's claims counted in one scan): only theirs are kept.
    but_china = [key for key in keys if key != "CN"]
    assert selectors.claim_counts(but_china, shared=shared) == {k: counts[k] for k in but_china}

    # A targeted check (China's only one so far) leaves its count at 0: it is counted.
    CheckState.objects.create(key="CN", last_as_of=TODAY, last_claims=0)
    assert checks.partition_sizes(["CN"], shared=shared) == {"CN": counts["CN"]}

    # No partition checked yet: each batch closes once its counted claims reach the limit.
    settings.TRACKER_SWEEP_BATCH_CLAIMS = 3
    CheckState.objects.all().delete()
    sizes = checks.partition_sizes(keys, shared=shared)
    assert sizes == counts
    cut = list(checks.batches(keys, sizes=sizes))
    assert [key for batch in cut for key in batch] == keys
    assert len(cut) > 1
    for i, batch in enumerate(cut):
        claims = [counts[key] for key in batch]
        assert sum(claims[:-1]) < 3  # not closed before its last partition
        assert sum(claims) >= 3 or i == len(cut) - 1


def test_a_flag_whose_place_moved_country_is_adopted_in_a_batch_not_resolved():
    region = PlaceFactory(parent=country("RU"))
    two_counts(50_000, 80_000, place=region)
    checks.sweep(today=TODAY, keys=["CN", "RU"])
    flag = Flag.objects.get(kind="count_conflict")
    assert flag.country == country("RU")
    region.parent = country("CN")
    region.save()
    outcome = checks.sweep(today=TODAY, keys=["CN", "RU"])  # one batch
    assert outcome.total("resolved") == outcome.total("opened") == 0
    flag.refresh_from_db()
    assert (flag.status, flag.country) == (Flag.Status.OPEN, country("CN"))
    assert list(flag.events.values_list("action", flat=True)) == ["opened"]


@pytest.mark.parametrize(
    "insert_rows",
    [
        pytest.param(services.INSERT_ROWS, id="values"),
        # Copied, and inserted without ON CONFLICT first: the fingerprint taken fails that.
        pytest.param(0, id="copied", marks=pytest.mark.postgres),
    ],
)
@pytest.mark.parametrize("resolved_before", [False, True])
def test_a_flag_whose_place_moved_is_adopted_by_a_check_of_its_new_country_alone(
    resolved_before, insert_rows, monkeypatch
):
    monkeypatch.setattr(services, "INSERT_ROWS", insert_rows)
    region = PlaceFactory(parent=country("RU"))
    a, _ = two_counts(50_000, 80_000, place=region)
    checks.sweep(today=TODAY, keys=["RU"])
    flag = Flag.objects.get(kind="count_conflict")
    if resolved_before:  # the pair had gone, and came back
        count = a.count_low
        Claim.objects.filter(pk=a.pk).update(count_low=80_000, count_high=80_000)
        checks.sweep(today=TODAY, keys=["RU"])
        Claim.objects.filter(pk=a.pk).update(count_low=count, count_high=count)
        flag.refresh_from_db()
        assert flag.status == Flag.Status.RESOLVED
    region.parent = country("CN")
    region.save()
    outcome = checks.sweep(today=TODAY, keys=["CN"])  # Russia's check is not in the sweep
    assert outcome.total("opened") == 0
    assert outcome.total("reopened" if resolved_before else "refreshed") == 1
    flag.refresh_from_db()
    assert (flag.status, flag.country) == (Flag.Status.OPEN, country("CN"))
    assert Flag.objects.count() == 1
    assert checks.sweep(today=TODAY, keys=["RU"]).total("resolved") == 0  # no longer Russia's
    events = ["opened", "resolved", "reopened"] if resolved_before else ["opened"]
    assert list(flag.events.values_list("action", flat=True)) == events


def changed_after_read(monkeypatch, **changes) -> None:
    """Another transaction changes every flag (``changes``) and commits just after a check
    has read them: a concurrent batch adopting one, a monitor dismissing one."""
    read = selectors.flag_rows_of

    def then_changed(country_ids):
        rows = read(country_ids)
        Flag.objects.update(**changes)
        return rows

    monkeypatch.setattr(selectors, "flag_rows_of", then_changed)


def test_a_flag_adopted_by_another_country_after_it_was_read_is_not_resolved(monkeypatch):
    region = PlaceFactory(parent=country("RU"))
    two_counts(50_000, 80_000, place=region)
    checks.sweep(today=TODAY, keys=["RU"])
    region.parent = country("CN")
    region.save()
    changed_after_read(monkeypatch, country=country("CN"))  # China's check found it first
    outcome = checks.sweep(today=TODAY, keys=["RU"])
    assert outcome.total("resolved") == 0
    flag = Flag.objects.get(kind="count_conflict")
    assert (flag.status, flag.country) == (Flag.Status.OPEN, country("CN"))
    assert list(flag.events.values_list("action", flat=True)) == ["opened"]


def test_a_flag_dismissed_after_it_was_read_stays_dismissed_not_resolved(monkeypatch):
    a, _ = two_counts(50_000, 80_000)
    checks.sweep(today=TODAY, keys=["CN"])
    a.delete()  # the pair is gone: the next check would resolve the flag
    changed_after_read(monkeypatch, status=Flag.Status.DISMISSED)
    outcome = checks.sweep(today=TODAY, keys=["CN"])
    assert outcome.total("resolved") == 0
    flag = Flag.objects.get(kind="count_conflict")
    assert (flag.status, flag.resolution) == (Flag.Status.DISMISSED, None)
    assert list(flag.events.values_list("action", flat=True)) == ["opened"]


@pytest.mark.parametrize(
    "insert_rows",
    [
        pytest.param(services.INSERT_ROWS, id="values"),
        pytest.param(0, id="copied", marks=pytest.mark.postgres),  # every insert copies first
    ],
)
def test_a_flag_another_writer_inserted_first_counts_as_found_again_not_opened(
    monkeypatch, insert_rows
):
    monkeypatch.setattr(services, "INSERT_ROWS", insert_rows)
    two_counts(50_000, 80_000)
    insert = services._flags_insert

    def another_writer_first(rows, now):
        insert(rows, now)  # the same findings, committed by a concurrent check just before
        return insert(rows, now)

    monkeypatch.setattr(services, "_flags_insert", another_writer_first)
    outcome = checks.sweep(today=TODAY, keys=["CN"])
    assert outcome.total("found") >= 1
    assert outcome.total("opened") == 0
    assert outcome.total("refreshed") == outcome.total("found")  # found again: the other's
    flag = Flag.objects.get(kind="count_conflict")
    assert sorted(flag.claims.values_list("pk", flat=True)) == sorted(flag.claim_ids)
    assert list(flag.events.values_list("action", flat=True)) == ["opened"]  # the first's


# --- the life of a flag -------------------------------------------------------------------------


def test_a_renamed_or_confidential_source_is_said_as_it_is_now_without_a_check():
    a, b = two_counts(50_000, 80_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict", country=country("CN"))
    facts = flag.facts
    Source.objects.filter(pk=a.attributed_to_id).update(name="Renamed Institute")
    Source.objects.filter(pk=b.attributed_to_id).update(confidential=True)
    flag.refresh_from_db()
    assert flag.facts == facts  # nothing stored changes
    assert "Renamed Institute says 50,000" in said(flag, sees=True)
    assert "but a confidential source says 80,000" in said(flag, sees=False)


def test_dismissed_flag_stays_dismissed_for_same_evidence(editor):
    two_counts(50_000, 80_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict")
    flags_dismiss(flag_ids=[flag.pk], user=editor, reason="KITA counts dependants too.")
    checks.sweep(today=TODAY, keys=["CN"])
    flag.refresh_from_db()
    assert flag.status == Flag.Status.DISMISSED
    assert flag.status_note == "KITA counts dependants too."
    assert flag.status_changed_by == editor
    assert Flag.objects.filter(kind="count_conflict").count() == 1


def test_a_claim_joining_a_dismissed_conflict_reopens_it_and_says_so(editor):
    a, _ = two_counts(50_000, 80_000)
    checks.sweep(today=TODAY, keys=["CN"])
    dismissed = Flag.objects.get(kind="count_conflict")
    flags_dismiss(flag_ids=[dismissed.pk], user=editor, reason="Different definitions.")
    c = ClaimFactory(place=country("CN"), count_low=95_000, as_of=a.as_of, external_id="C")
    checks.sweep(today=TODAY, keys=["CN"])
    dismissed.refresh_from_db()
    assert dismissed.status == Flag.Status.OPEN
    assert Flag.objects.filter(kind="count_conflict").count() == 1  # one situation
    assert c.pk in dismissed.claim_ids and len(dismissed.claim_ids) == 3
    event = dismissed.events.last()
    assert (event.action, event.data) == (FlagEvent.Action.REOPENED, {"joined": [c.pk], "left": []})


def test_a_claim_joining_an_open_conflict_updates_it_and_says_which_joined(editor):
    a, _ = two_counts(50_000, 80_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict")
    flags_acknowledge(flag_ids=[flag.pk], user=editor, note="Asking KITA.")
    c = ClaimFactory(place=country("CN"), count_low=95_000, as_of=a.as_of, external_id="C")
    checks.sweep(today=TODAY, keys=["CN"])
    flag.refresh_from_db()
    assert flag.status == Flag.Status.ACKNOWLEDGED  # the acknowledgement lasts
    assert sorted(flag.claims.values_list("pk", flat=True)) == sorted(flag.claim_ids)
    assert flag.events.last().data == {"joined": [c.pk], "left": []}
    assert "Claim C joined." in FlagText([flag], sees=True, events=[flag.events.last()]).event(
        flag.events.last(), flag
    )


def test_a_claim_leaving_a_dismissed_conflict_keeps_it_dismissed(editor):
    a, b = two_counts(50_000, 80_000)
    c = ClaimFactory(place=country("CN"), count_low=95_000, as_of=a.as_of, external_id="C")
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict")
    flags_dismiss(flag_ids=[flag.pk], user=editor, reason="Different definitions.")
    c.delete()
    checks.sweep(today=TODAY, keys=["CN"])
    flag.refresh_from_db()
    assert flag.status == Flag.Status.DISMISSED
    assert sorted(flag.claim_ids) == sorted([a.pk, b.pk])


def test_acknowledged_flag_stays_acknowledged_when_found_again(editor):
    two_counts(50_000, 80_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict")
    flags_acknowledge(flag_ids=[flag.pk], user=editor, note="Asking KITA.")
    checks.sweep(today=TODAY, keys=["CN"])
    flag.refresh_from_db()
    assert flag.status == Flag.Status.ACKNOWLEDGED
    assert list(flag.events.values_list("action", flat=True)) == ["opened", "acknowledged"]


def test_new_evidence_resolves_a_stale_flag_by_itself():
    old = ClaimFactory(
        place=country("RU"), obligation=obligation("UNSCR2397-OP8"), as_of=datetime.date(2020, 1, 5)
    )
    checks.sweep(today=TODAY, keys=["RU"])
    stale = Flag.objects.get(kind="stale", place=country("RU"), obligations__code="UNSCR2397-OP8")
    assert stale.status == Flag.Status.OPEN
    assert [c.pk for c in stale.claims.all()] == [old.pk]

    ClaimFactory(
        place=country("RU"),
        obligation=obligation("UNSCR2397-OP8"),
        as_of=TODAY - datetime.timedelta(days=10),
        external_id="FRESH",
    )
    checks.sweep(today=TODAY, keys=["RU"])
    stale.refresh_from_db()
    assert stale.status == Flag.Status.RESOLVED
    assert stale.resolved_at is not None
    assert "FRESH" in resolution_said(stale)
    assert stale.events.last().action == FlagEvent.Action.RESOLVED
    assert not Flag.objects.active().filter(kind="stale", place=country("RU"))


def test_a_resolved_flag_found_again_reopens_with_its_history():
    a, _ = two_counts(50_000, 80_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict")
    Claim.objects.filter(pk=a.pk).update(count_low=78_000, count_high=78_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag.refresh_from_db()
    assert flag.status == Flag.Status.RESOLVED
    assert "no longer differ beyond the 10% tolerance" in resolution_said(flag)

    Claim.objects.filter(pk=a.pk).update(count_low=50_000, count_high=50_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN
    assert flag.resolved_at is None
    assert list(flag.events.values_list("action", flat=True)) == ["opened", "resolved", "reopened"]
    assert Flag.objects.filter(kind="count_conflict").count() == 1


def test_deleting_a_claim_resolves_its_flag_and_keeps_the_claim_ids():
    a, b = two_counts(50_000, 80_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict")
    b_id = b.pk
    b.delete()
    checks.sweep(today=TODAY, keys=["CN"])
    flag.refresh_from_db()
    assert flag.status == Flag.Status.RESOLVED
    assert flag.resolution == {"code": "claims_gone", "claims": [b_id]}
    assert f"Claim #{b_id} is no longer among the evidence read" in resolution_said(flag)
    assert sorted(flag.claim_ids) == sorted([a.pk, b_id])


def test_moving_a_claim_to_another_country_resolves_the_flag_there():
    a, _ = two_counts(50_000, 80_000)
    checks.sweep(today=TODAY, keys=["CN"])
    Claim.objects.filter(pk=a.pk).update(place=country("RU"))
    checks.sweep(today=TODAY, keys=["CN", "RU"])
    assert Flag.objects.get(kind="count_conflict").status == Flag.Status.RESOLVED


def test_a_monitor_can_reopen_a_dismissed_flag(editor):
    two_counts(50_000, 80_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict")
    flags_dismiss(flag_ids=[flag.pk], user=editor, reason="Wrong.")
    assert flags_reopen(flag_ids=[flag.pk], user=editor, note="It was right after all.") == 1
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN
    assert flag.events.last().action == FlagEvent.Action.REOPENED_BY_USER


def test_dismissing_without_a_reason_is_refused(editor):
    from django.core.exceptions import ValidationError

    two_counts(50_000, 80_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict")
    with pytest.raises(ValidationError, match="reason"):
        flags_dismiss(flag_ids=[flag.pk], user=editor, reason="   ")
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN


def test_a_less_reliable_source_lowers_the_severity():
    weak = SourceFactory(reliability="E")
    two_counts(50_000, 80_000)
    checks.sweep(today=TODAY, keys=["CN"])
    strong = Flag.objects.get(kind="count_conflict").severity
    Claim.objects.filter(external_id="A").update(attributed_to=weak)
    checks.sweep(today=TODAY, keys=["CN"])
    assert Flag.objects.get(kind="count_conflict").severity == strong - 1


# --- confidential sources -----------------------------------------------------------------------


def test_explanations_name_a_confidential_source_only_for_those_allowed(viewer, trusted_editor):
    informant = SourceFactory(name="Canary Informant 7", confidential=True)
    ClaimFactory(place=country("CN"), count_low=50_000, attributed_to=informant)
    ClaimFactory(place=country("CN"), count_low=90_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict")
    assert "Canary Informant 7" in said(flag, trusted_editor)
    public = said(flag, viewer)
    assert "Canary" not in public
    assert "confidential source" in public


# --- requests, failures ---------------------------------------------------------------------------


def test_a_check_serves_the_requests_made_before_it_and_keeps_later_ones(monkeypatch):
    CheckRequest.objects.create(key="CN", requested_at=datetime.datetime.now(datetime.UTC))
    real_load = selectors.partition_load

    def load_then_request(key, **kwargs):
        partition = real_load(key, **kwargs)
        # A monitor saves while the check runs: that change must be checked again.
        CheckRequest.objects.create(key="CN", requested_at=datetime.datetime.now(datetime.UTC))
        return partition

    monkeypatch.setattr(selectors, "partition_load", load_then_request)
    checks.partition_check("CN", today=TODAY)
    assert CheckRequest.objects.filter(key="CN").count() == 1


def test_a_request_committed_late_with_a_lower_id_is_not_taken_as_served(monkeypatch):
    # Two saves: the first takes its request id, the second commits first. The check sees only
    # the second's request; the first's (a lower id) commits while the check reads.
    now = datetime.datetime.now(datetime.UTC)
    seen = CheckRequest.objects.create(key="CN", requested_at=now)
    real_load = selectors.partition_load

    def load_then_commit_the_first(key, **kwargs):
        partition = real_load(key, **kwargs)
        CheckRequest.objects.create(id=seen.id - 1, key="CN", requested_at=now)
        return partition

    monkeypatch.setattr(selectors, "partition_load", load_then_commit_the_first)
    checks.partition_check("CN", today=TODAY)
    assert list(CheckRequest.objects.values_list("id", flat=True)) == [seen.id - 1]


def _active(kind: str, iso: str):
    return Flag.objects.filter(kind=kind, country=country(iso), status__in=["open", "acknowledged"])


@pytest.mark.parametrize("change", ["place", "self-report"])
def test_a_sweep_batch_leaves_a_request_written_after_the_sweep_read_what_it_shares(change):
    """A sweep reads the places, watches and self-reports of every country once, before its
    batches. A change saved after that (a new place in China holding 90,000 workers, or
    Russia's mid-term report, placed in China) may be about what it read: the batch leaves
    that change's request to the check the save asked for, which sees it."""
    ClaimFactory(attributed_to=SourceFactory(name="KINU"), count_low=50_000)
    about_op8 = {"obligation": obligation("UNSCR2397-OP8"), "measure": "", "count_low": None}
    ClaimFactory(place=country("RU"), stance="violating", **about_op8)
    checks.partition_check("RU", today=TODAY)
    assert _active("overdue_report", "RU").count() == 2  # the mid-term and final reports
    shared = selectors.Shared.for_sweep(TODAY)
    if change == "place":
        claim = ClaimFactory(place=PlaceFactory(name="Dandong"), count_low=90_000)
    else:
        claim = ClaimFactory(
            attributed_to=SourceFactory(kind="self_report", country=country("RU")),
            obligation=obligation("UNSCR2397-OP8-MIDTERM"),
            stance="complying",
            measure="",
            count_low=None,
        )
    services.checks_request_for(
        claims={(claim.pk, claim.place_id)}, source_ids={claim.attributed_to_id}
    )
    key = "CN" if change == "place" else "RU"
    checks.partitions_check(["CN", "RU"], today=TODAY, whole=True, shared=shared)
    assert CheckRequest.objects.filter(key=key).exists()
    checks.partition_check(key, today=TODAY)  # the check the save asked for
    assert not CheckRequest.objects.filter(key=key).exists()
    if change == "place":
        assert _active("scope_conflict", "CN").count() == 1
    else:
        assert _active("overdue_report", "RU").count() == 1  # the final report's


def test_a_failing_partition_is_recorded_and_the_sweep_goes_on(monkeypatch):
    two_counts(50_000, 80_000, place=country("RU"))
    real_load = selectors.partition_load

    def broken(key, **kwargs):
        if key == "CN":
            raise ValueError("corrupt row")
        return real_load(key, **kwargs)

    monkeypatch.setattr(selectors, "partition_load", broken)
    outcome = checks.sweep(today=TODAY, keys=["CN", "RU"])
    assert [p.key for p in outcome.failed] == ["CN"]
    state = CheckState.objects.get(key="CN")
    assert state.last_error == "ValueError: corrupt row"
    assert state.failures == 1
    assert Flag.objects.filter(kind="count_conflict", country=country("RU")).exists()

    monkeypatch.setattr(selectors, "partition_load", real_load)
    checks.sweep(today=TODAY, keys=["CN"])
    state.refresh_from_db()
    assert (state.last_error, state.failures) == ("", 0)


def test_a_check_pauses_the_garbage_collector_and_resumes_it_even_when_it_fails(monkeypatch):
    two_counts(50_000, 80_000)
    real_load, seen = selectors.partition_load, []

    def load(key, **kwargs):
        seen.append(gc.isenabled())
        if key == "RU":
            raise ValueError("corrupt row")
        return real_load(key, **kwargs)

    monkeypatch.setattr(selectors, "partition_load", load)
    assert gc.isenabled()
    outcome = checks.sweep(today=TODAY, keys=["CN", "RU"])
    assert seen and not any(seen)  # the batch, then each partition alone
    assert [p.key for p in outcome.failed] == ["RU"]
    assert gc.isenabled()


def test_a_check_leaves_a_collector_that_was_off_off():
    gc.disable()
    try:
        checks.partition_check("CN", today=TODAY)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_checks_in_two_threads_resume_the_collector_when_the_last_ends():
    inside, release = threading.Barrier(2), threading.Event()

    def hold():
        with checks._collector_paused():
            inside.wait(timeout=10)
            release.wait(timeout=10)

    first = threading.Thread(target=hold)
    first.start()
    with checks._collector_paused():
        inside.wait(timeout=10)
    assert not gc.isenabled()  # the other thread's check still runs
    release.set()
    first.join(timeout=10)
    assert gc.isenabled()


# --- two sweeps at once on PostgreSQL ----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_sweeps_leave_no_duplicate_flag():
    assert connection.vendor == "postgresql"
    call_command("loaddemo")
    keys = ["CN", "RU", "WORLD", "QA", "KW"]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run():
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            for _ in range(3):
                outcome = checks.sweep(today=TODAY, keys=keys)
                errors.extend(p.error for p in outcome.failed)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a sweep still ran after 120 s"
    assert errors == []
    by_fingerprint = {}
    for flag in Flag.objects.all():
        assert flag.fingerprint not in by_fingerprint
        by_fingerprint[flag.fingerprint] = flag
    # Every flag active, each opened exactly once, none changed since.
    together = flag_keys()
    assert len(together) == len(by_fingerprint) > 10
    opened = FlagEvent.objects.filter(action="opened")
    assert opened.count() == len(by_fingerprint)
    assert not FlagEvent.objects.exclude(action="opened").exists()
    assert Source.objects.filter(name="NKDB").count() == 1
    # The same flags as one sweep alone on the same evidence.
    Flag.objects.all().delete()
    CheckState.objects.all().delete()
    checks.sweep(today=TODAY, keys=keys)
    assert flag_keys() == together


# --- links and events without foreign-key constraints in the database --------------------------


def dangling() -> dict[str, int]:
    """Links and events whose claim or flag does not exist (what the constraints prevented)."""
    links = Flag.claims.through.objects
    return {
        "links to claims": links.exclude(claim_id__in=Claim.objects.values("id")).count(),
        "links to flags": links.exclude(flag_id__in=Flag.objects.values("id")).count(),
        "events": FlagEvent.objects.exclude(flag_id__in=Flag.objects.values("id")).count(),
    }


def test_deleting_a_claim_or_a_flag_deletes_its_links_and_events():
    a, b = two_counts(50_000, 80_000)
    checks.sweep(today=TODAY, keys=["CN"])
    flag = Flag.objects.get(kind="count_conflict")
    b.delete()
    assert list(flag.claims.all()) == [a]
    Flag.objects.filter(pk=flag.pk).delete()  # only from a shell: the admin deletes no flag
    assert not Flag.claims.through.objects.exists()
    assert not FlagEvent.objects.exists()
    assert dangling() == {"links to claims": 0, "links to flags": 0, "events": 0}


def _waiting_for_links_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND classid::bigint = %s AND objid::bigint = %s "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [services.LINKS_LOCK >> 32, services.LINKS_LOCK & 0xFFFFFFFF],
        )
        return cursor.fetchone()[0] > 0


def _release_the_check_once_the_deletion_waits(
    release: threading.Event, deleted: threading.Event, errors: list
) -> None:
    """Release the check (another thread) once the deletion (a third) waits for the links'
    lock the check holds; fail if the deletion finished or failed instead, or never got
    there (a loaded machine gets 60 s). The check is released whatever happens."""
    deadline = time.monotonic() + 60
    try:
        while not _waiting_for_links_lock():
            assert not errors, f"the deletion failed before it waited: {errors!r}"
            assert not deleted.is_set(), "the deletion did not wait for the check"
            assert time.monotonic() < deadline, "the deletion never asked for the links' lock"
            time.sleep(0.05)
    finally:
        release.set()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_claim_deleted_while_a_check_runs_waits_for_it_and_leaves_no_dangling_link(
    monkeypatch,
):
    # The check has read the claim and is about to link a flag to it when a monitor deletes
    # the claim. Without a constraint in the database, the deletion must wait for the check:
    # deleting first would leave the check's new link pointing at no claim.
    from django.db import connections

    a, b = two_counts(50_000, 80_000)
    read, release, deleted = threading.Event(), threading.Event(), threading.Event()
    flags_write = services.flags_write

    def write_after_the_deletion_began(**kwargs):
        read.set()
        release.wait(timeout=90)  # released once the deletion waits
        return flags_write(**kwargs)

    monkeypatch.setattr(services, "flags_write", write_after_the_deletion_began)
    errors: list[BaseException] = []

    def in_thread(work):
        def run():
            try:
                work()
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    checker = in_thread(lambda: checks.partition_check("CN", today=TODAY, whole=True))
    assert read.wait(timeout=60)
    deleter = in_thread(lambda: (Claim.objects.get(pk=b.pk).delete(), deleted.set()))
    _release_the_check_once_the_deletion_waits(release, deleted, errors)
    checker.join(timeout=60)
    deleter.join(timeout=60)
    assert errors == []
    assert deleted.is_set()
    # The check linked the flag to both claims; the deletion then took b's link with it.
    assert list(Flag.objects.get(kind="count_conflict").claims.all()) == [a]
    assert dangling() == {"links to claims": 0, "links to flags": 0, "events": 0}


def test_a_sweep_links_no_flag_to_a_world_claim_deleted_after_it_began():
    # A sweep reads the world's own claims once, before any batch holds the links' lock.
    ClaimFactory(place=world(), count_low=50_000, as_of=datetime.date(2019, 12, 1))
    ClaimFactory(place=country("CN"), count_low=80_000, as_of=datetime.date(2019, 12, 1))
    shared = selectors.Shared.for_sweep(TODAY)
    assert len(shared.world_claims) == 1
    Claim.objects.filter(place=world()).delete()  # between the sweep's reads and its batch
    checks.partitions_check(["CN", "RU"], today=TODAY, whole=True, shared=shared)
    assert not Flag.objects.filter(kind="scope_conflict").exists()
    assert dangling() == {"links to claims": 0, "links to flags": 0, "events": 0}
    # Not deleted, the same claims make the part-above-the-whole flag.
    ClaimFactory(place=world(), count_low=50_000, as_of=datetime.date(2019, 12, 1))
    shared = selectors.Shared.for_sweep(TODAY)
    checks.partitions_check(["CN", "RU"], today=TODAY, whole=True, shared=shared)
    assert Flag.objects.filter(kind="scope_conflict").count() == 1


def flags_about_nothing() -> int:
    """Flags whose place, country or obligation does not exist (what the constraints
    prevented)."""
    places, obligations = Place.objects.values("id"), Obligation.objects.values("id")
    return (
        Flag.objects.exclude(place_id__in=places).count()
        + Flag.objects.filter(country__isnull=False).exclude(country_id__in=places).count()
        + FlagObligation.objects.exclude(obligation_id__in=obligations).count()
    )


def watched_report_due() -> Obligation:
    """A reporting obligation long past due, watched for Qatar, about which no claim exists
    (so that it can be deleted; its watch goes with it): Qatar's check finds its report
    overdue."""
    due = Obligation.objects.create(
        code="TEST-REPORT",
        resolution=Resolution.objects.first(),
        paragraph="OP99",
        kind=Obligation.Kind.REPORTING,
        summary="Report to the Committee.",
        effective_from=datetime.date(2018, 1, 1),
        due_on=datetime.date(2019, 3, 22),
    )
    WatchFactory(place=country("QA"), obligation=due)
    return due


def test_a_sweep_writes_no_flag_about_a_place_or_obligation_deleted_after_it_began():
    # A sweep reads the places and obligations once, before any batch holds the links' lock;
    # a flag's place, country and obligation have no constraint in the database.
    def watched():
        land = PlaceFactory(kind=Place.Kind.COUNTRY, parent=world(), iso_code="XQ")
        WatchFactory(place=land, obligation=obligation("UNSCR2397-OP8"))
        return watched_report_due(), land

    due, land = watched()
    shared = selectors.Shared.for_sweep(TODAY)
    due_id, land_id = due.pk, land.pk
    due.delete()  # between the sweep's reads and its batch (their watches go with them)
    land.delete()
    outcomes = checks.partitions_check(["QA", "XQ"], today=TODAY, whole=True, shared=shared)
    assert not Flag.objects.filter(obligations=due_id).exists()
    assert not Flag.objects.filter(place_id=land_id).exists()
    assert flags_about_nothing() == 0
    assert sum(outcome.opened for outcome in outcomes) == Flag.objects.count()
    assert sum(outcome.found for outcome in outcomes) == Flag.objects.count()  # none dropped
    # Not deleted, the same watches make an overdue report for Qatar, and flags about XQ.
    due, land = watched()
    shared = selectors.Shared.for_sweep(TODAY)
    checks.partitions_check(["QA", "XQ"], today=TODAY, whole=True, shared=shared)
    assert Flag.objects.filter(obligations=due, kind="overdue_report").count() == 1
    assert Flag.objects.filter(place=land).exists()


def test_only_a_sweep_looks_again_for_the_places_and_obligations_of_its_new_flags(
    monkeypatch,
):
    # A check outside a sweep reads them after it holds the links' lock, which a deletion
    # waits for: none can have gone. A sweep read them before; a flag found again protects
    # its own, so only a new flag's are looked up.
    looked = []
    existing_ids = services._existing_ids

    def recorded(model, ids):
        if ids:
            looked.append((model.__name__, ids))
        return existing_ids(model, ids)

    monkeypatch.setattr(services, "_existing_ids", recorded)
    due = watched_report_due()
    assert checks.partition_check("QA", today=TODAY, whole=True).opened == 1
    assert looked == []
    due.watches.update(place=country("AE"))

    def sweep() -> list[tuple[str, int]]:
        shared = selectors.Shared.for_sweep(TODAY)
        outcomes = checks.partitions_check(["QA", "AE"], today=TODAY, whole=True, shared=shared)
        return [(o.key, o.opened) for o in outcomes]

    assert sweep() == [("QA", 0), ("AE", 1)]
    assert looked == [("Place", {country("AE").pk}), ("Obligation", {due.pk})]
    looked.clear()
    assert sweep() == [("QA", 0), ("AE", 0)]
    assert looked == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("what", ["obligation", "place"])
def test_what_is_deleted_while_a_check_writes_a_flag_about_it_stays_protected_by_it(
    monkeypatch, what
):
    # The check has read the obligation (or place) and is about to write a flag about it when
    # a monitor deletes it (Django's PROTECT found no flag yet). The deletion must wait for the
    # check, then fail as PROTECT would have: deleting first would leave a flag about nothing.
    from django.db import connections
    from django.db.models import ProtectedError

    if what == "obligation":
        key, target = "QA", watched_report_due()  # an overdue report
    else:
        key = "XQ"
        target = PlaceFactory(kind=Place.Kind.COUNTRY, parent=world(), iso_code=key)
        WatchFactory(place=target, obligation=obligation("UNSCR2397-OP8"))  # no evidence
    read, release, deleted = threading.Event(), threading.Event(), threading.Event()
    flags_write = services.flags_write

    def write_after_the_deletion_began(**kwargs):
        read.set()
        release.wait(timeout=90)  # released once the deletion waits
        return flags_write(**kwargs)

    monkeypatch.setattr(services, "flags_write", write_after_the_deletion_began)
    errors: list[BaseException] = []

    def in_thread(work):
        def run():
            try:
                work()
            except BaseException as exc:
                errors.append(exc)
            finally:
                deleted.set()
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    checker = threading.Thread(
        target=lambda: (
            checks.partition_check(key, today=TODAY, whole=True),
            connections.close_all(),
        )
    )
    checker.start()
    assert read.wait(timeout=60)
    deleter = in_thread(lambda: type(target).objects.get(pk=target.pk).delete())
    _release_the_check_once_the_deletion_waits(release, deleted, errors)
    checker.join(timeout=60)
    deleter.join(timeout=60)
    assert [type(error) for error in errors] == [ProtectedError]
    assert "a check has just written a flag about it" in str(errors[0])
    assert type(target).objects.filter(pk=target.pk).exists()
    about = {"obligations": target} if what == "obligation" else {"place": target}
    assert Flag.objects.filter(**about).count() == 1
    assert flags_about_nothing() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_runchecks_in_worker_processes_writes_what_one_process_writes(tmp_path):
    """``manage.py runchecks`` in a process of its own (the sweep forks only from a process
    running no other thread, and pytest runs a live server), in batches of a few claims."""
    call_command("loaddemo")
    a, _ = two_counts(50_000, 80_000, place=country("RU"))
    ClaimFactory(place=PlaceFactory(parent=country("RU")), count_low=90_000, external_id="P")

    def runchecks(processes: int) -> list[str]:
        env = django_env(
            database_url=database_url(connection.settings_dict),
            redis_url="",
            var_dir=tmp_path / "var",
            TRACKER_SWEEP_PROCESSES=str(processes),
            TRACKER_SWEEP_BATCH_CLAIMS="3",
        )
        out = subprocess.run(
            [sys.executable, "manage.py", "runchecks", "--today", TODAY.isoformat()],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        assert f" in {processes} process(es): " in out
        out = out.replace(f" in {processes} process(es): ", ": ")
        return [re.sub(r" in \d+ ms$", "", line) for line in out.splitlines()]  # not timings

    def sweeps(processes: int) -> list:
        """As in the batch test: flags open; a claim redated resolves some; redated back,
        they re-open."""
        Flag.objects.all().delete()
        CheckState.objects.all().delete()
        seen = []
        for as_of in (a.as_of, datetime.date(2023, 6, 1), a.as_of):
            Claim.objects.filter(pk=a.pk).update(as_of=as_of)
            seen += [runchecks(processes), flag_snapshot()]
        seen.append(set(CheckState.objects.values_list("key", "last_claims", "last_found")))
        return seen

    alone, forked = sweeps(1), sweeps(2)
    assert forked == alone
    progress = [line.split(":")[0] for line in forked[0][:-1]]
    assert progress == sorted(progress, key=selectors.partition_keys().index)  # in order
    # Each sweep after the first opens, re-opens or resolves something.
    for lines in (alone[2], alone[4]):
        assert any(re.search(r"\+[1-9]\d* opened|[1-9]\d* (re-opened|resolved)", line)
                   for line in lines)  # fmt: skip


@pytest.mark.postgres
def test_a_sweep_inside_a_transaction_checks_in_its_own_process(demo, monkeypatch):
    # Worker processes would not see the transaction's rows (nor may it close its connection).
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # pytest's own threads aside
    monkeypatch.setattr(checks, "BATCH_PARTITIONS", 5)
    outcome = checks.sweep(today=TODAY, processes=2)
    assert outcome.processes == 1
    assert Flag.objects.filter(kind="count_conflict", country=country("CN")).exists()


def _die(keys: list[str]) -> None:
    os._exit(1)  # a sweep worker killed (for memory, say)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_sweep_worker_that_dies_leaves_its_batches_recorded_as_failed(monkeypatch):
    monkeypatch.setattr(checks, "_worker_check", _die)
    shared = selectors.Shared.for_sweep(TODAY)
    todo = [["CN", "RU"], ["QA"]]
    out = list(checks._in_processes(todo, today=TODAY, shared=shared, n=2))
    assert [[p.key for p in results] for results in out] == todo
    assert all(p.error.startswith("BrokenProcessPool") for results in out for p in results)
    states = CheckState.objects.filter(key__in=["CN", "RU", "QA"])
    assert sorted(states.values_list("key", "failures")) == [("CN", 1), ("QA", 1), ("RU", 1)]
    assert all(state.last_error.startswith("BrokenProcessPool") for state in states)


def flag_pages() -> dict[int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, (ctid::text::point)[0]::int FROM tracker_flag")
        return dict(cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_refreshing_last_seen_keeps_each_flag_on_its_page():
    # Each sweep rewrites every flag it finds again: with room for the row's next version on
    # its own page, PostgreSQL updates it in place and writes none of the flag indexes.
    empty_flag_table()  # not pages left full of earlier tests' rolled-back rows
    stale_flags(600)
    before = flag_pages()
    no_older_snapshot_in_this_database()
    assert len(set(before.values())) > 20
    for _ in range(3):  # each in its own transaction: the last one's versions are pruned
        services._flags_refresh(list(before), datetime.datetime.now(datetime.UTC))
    after = flag_pages()
    moved = sum(after[pk] != page for pk, page in before.items())
    assert moved <= len(before) // 50  # at fillfactor 70, 342 of the 600 moved


def no_older_snapshot_in_this_database(timeout: float = 120) -> None:
    """Wait until no other session of this database holds a snapshot (the session's worker
    may still be running an earlier test's checks on a loaded machine): PostgreSQL prunes a
    page's old row versions only once no snapshot can see them, and this test is about where
    the new versions land when the old ones are pruned."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL"
            )
            if cursor.fetchone()[0] == 0:
                return
            assert time.monotonic() < deadline, "another session kept its snapshot open"
            time.sleep(0.2)


def empty_flag_table() -> None:
    """An empty flag table of this test's own (TRUNCATE is undone with the test's transaction):
    growth is judged from the table's size on disk, and the rows earlier tests inserted and
    rolled back stay in it until a vacuum (after the targeted-check tests, these failed)."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tracker_flag")


def stale_flags(count: int, start: int = 0) -> None:
    now, place = datetime.datetime.now(datetime.UTC), country("CN")
    Flag.objects.bulk_create(
        Flag(
            kind="stale",
            place=place,
            country=place,
            fingerprint=f"{i:064x}",
            facts={"padding": "x" * 600},
            first_seen=now,
            last_seen=now,
        )
        for i in range(start, start + count)
    )


@pytest.mark.postgres
def test_the_flag_statistics_are_refreshed_once_the_table_outgrows_them():
    # The checks' reads of the flag table are planned from these statistics: taken on a
    # nearly empty table, they miss the countries whose flags came after.
    empty_flag_table()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tracker_flag")
    assert not services.flag_statistics_refresh()
    stale_flags(2000)
    analyzed = []

    def record_analyze(execute, sql, params, many, context):
        if sql.startswith("ANALYZE"):
            analyzed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record_analyze):
        assert services.flag_statistics_refresh()
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpages, reltuples FROM pg_class WHERE relname = 'tracker_flag'")
        pages, tuples = cursor.fetchone()
        cursor.execute("SELECT attname FROM pg_stats WHERE tablename = 'tracker_flag'")
        columns = {name for (name,) in cursor.fetchall()}
    assert pages > services.FLAG_PAGES_PLANNED_ANYWAY and tuples == 2000
    assert not services.flag_statistics_refresh()  # up to date: nothing to do
    # Of the columns the checks and the admin filter by only, not the long texts. (pg_stats
    # may also hold other columns' older statistics, autovacuum's of an earlier test's rows.)
    planned = {"kind", "status", "country_id", "place_id", "severity", "last_seen"}
    assert planned <= columns
    [sql] = analyzed
    assert sql.startswith('ANALYZE "tracker_flag" (')
    assert {name.strip(' "') for name in sql.partition("(")[2].rstrip(")").split(",")} == planned


@pytest.mark.postgres
def test_a_sweep_that_opened_flags_ends_with_statistics_that_count_them():
    # A batch refreshes them once the table doubled; statistics taken before a big country's
    # flags were written would miss it for the targeted checks that follow.
    empty_flag_table()
    stale_flags(2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tracker_flag")
    stale_flags(400, start=2000)  # a fifth more: not doubled
    assert not services.flag_statistics_refresh()
    two_counts(50_000, 80_000)
    outcome = checks.sweep(today=TODAY, keys=["CN"])
    assert outcome.total("opened") > 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'tracker_flag'")
        assert cursor.fetchone()[0] == Flag.objects.count()


@pytest.mark.postgres
def test_a_sweeps_batches_leave_the_statistics_to_its_end(demo, settings, monkeypatch):
    settings.TRACKER_SWEEP_BATCH_CLAIMS = 3  # many batches, several of them opening flags
    monkeypatch.setattr(services, "_flag_table_outgrown", lambda growth: True)
    analyzed = []

    def count_analyze(execute, sql, params, many, context):
        if sql.startswith("ANALYZE"):
            analyzed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count_analyze):
        outcome = checks.sweep(today=TODAY)
    assert sum(p.opened > 0 for p in outcome.partitions) > 3
    assert len(analyzed) == 1  # at the sweep's end, not after each batch


@pytest.mark.postgres
def test_a_check_that_cannot_analyze_the_flag_table_still_succeeds(monkeypatch, caplog):
    two_counts(50_000, 80_000)
    monkeypatch.setattr(services, "_flag_table_outgrown", lambda growth: True)

    def refuse_analyze(execute, sql, params, many, context):
        if sql.startswith("ANALYZE"):
            raise DatabaseError("canceling statement due to lock timeout")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_analyze):
        outcome = checks.partition_check("CN", today=TODAY)
    assert outcome.opened == 1
    assert "could not analyze the flag table" in caplog.text
    assert Flag.objects.filter(kind="count_conflict").count() == 1  # usable afterwards


def test_newer_but_still_stale_evidence_keeps_the_staleness_flag_and_its_acknowledgement(editor):
    """One staleness flag per (country, obligation) for good: newer evidence that is still
    too old updates it (the monitor's acknowledgement stays); fresh evidence resolves it; stale
    again, the same flag re-opens."""
    op8 = obligation("UNSCR2397-OP8")
    ClaimFactory(place=country("RU"), obligation=op8, as_of=datetime.date(2020, 1, 5))
    checks.sweep(today=TODAY, keys=["RU"])
    stale = Flag.objects.get(kind="stale", place=country("RU"), obligations=op8)
    flags_acknowledge(flag_ids=[stale.pk], user=editor, note="Asking the ministry.")
    newer = ClaimFactory(place=country("RU"), obligation=op8, as_of=datetime.date(2023, 5, 1))
    checks.sweep(today=TODAY, keys=["RU"])
    stale.refresh_from_db()
    assert Flag.objects.filter(kind="stale", place=country("RU"), obligations=op8).count() == 1
    assert stale.status == Flag.Status.ACKNOWLEDGED
    assert stale.facts["newest"]["claim"] == newer.pk
    fresh = ClaimFactory(place=country("RU"), obligation=op8, as_of=TODAY)
    checks.sweep(today=TODAY, keys=["RU"])
    stale.refresh_from_db()
    assert stale.status == Flag.Status.RESOLVED
    fresh.delete()
    checks.sweep(today=TODAY, keys=["RU"])
    stale.refresh_from_db()
    assert stale.status == Flag.Status.OPEN
    assert Flag.objects.filter(kind="stale", place=country("RU"), obligations=op8).count() == 1
