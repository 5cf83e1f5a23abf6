"""Scheduling the checks: on-commit requests from the admin, the Celery tasks, the command,
and one end-to-end run through a real worker on Redis."""

import datetime
import io
import json
import logging
import time

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import translation

from tests.admin_forms import admin_url, report_form
from tests.factories import ClaimFactory, SourceFactory, country
from tracker import services, tasks
from tracker.flags.render import FlagText
from tracker.models import CheckRequest, CheckState, Claim, Flag, FlagEvent, Report, Source

pytestmark = pytest.mark.django_db

TODAY = "2026-11-24"


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple]:
    """The check tasks enqueued, in order, instead of sending them to the broker."""
    sent: list[tuple] = []
    monkeypatch.setattr(tasks.check_partition, "delay", lambda *args: sent.append(args))
    return sent


def two_claims_in_china(low_a: int, low_b: int) -> list[dict]:
    nkdb, kita = SourceFactory(name="NKDB"), SourceFactory(name="KITA")
    common = {"place": country("CN").pk, "measure": "workers", "as_of": "2019-12-23"}
    return [
        {**common, "attributed_to": nkdb.pk, "count_low": str(low_a), "count_high": str(low_a)},
        {**common, "attributed_to": kita.pk, "count_low": str(low_b), "count_high": str(low_b)},
    ]


# --- on-commit requests -----------------------------------------------------------------------


def test_saving_a_report_in_the_admin_requests_a_check_of_its_countries_on_commit(
    editor_client, enqueued, django_capture_on_commit_callbacks
):
    claims = two_claims_in_china(50_000, 80_000)
    claims[1]["place"] = country("RU").pk
    publisher = SourceFactory(kind=Source.Kind.NEWS)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = editor_client.post(admin_url(Report, "add"), report_form(publisher, claims))
        assert response.status_code == 302
        assert enqueued == []  # nothing before the commit
    assert set(CheckRequest.objects.values_list("key", flat=True)) == {"CN", "RU"}
    # Targeted at the new claims: each request names its claim and where it is.
    requested = set(CheckRequest.objects.values_list("claim_id", "place_id"))
    assert requested == set(Claim.objects.values_list("pk", "place_id"))
    for callback in callbacks:
        callback()
    assert sorted(enqueued) == [("CN",), ("RU",)]


def test_moving_a_claim_requests_both_countries(
    editor_client, enqueued, django_capture_on_commit_callbacks
):
    claim = ClaimFactory(place=country("CN"), count_low=1000)
    data = {
        "report": claim.report_id,
        "attributed_to": claim.attributed_to_id,
        "place": country("RU").pk,
        "stance": "unclear",
        "measure": "workers",
        "count_low": "1000",
        "count_high": "1000",
        "as_of": "2019-12-01",
        "credibility": "3",
        "_save": "Save",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(admin_url(Claim, "change", claim.pk), data)
    assert response.status_code == 302, response.context["errors"]
    assert sorted(enqueued) == [("CN",), ("RU",)]


def test_changing_a_sources_grade_requests_the_countries_of_its_claims(
    editor_client, enqueued, django_capture_on_commit_callbacks
):
    claim = ClaimFactory(place=country("QA"))
    source = claim.attributed_to
    data = {
        "name": source.name,
        "kind": source.kind,
        "reliability": "E",
        "country": "",
        "url": "",
        "notes": "",
        "_save": "Save",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(admin_url(Source, "change", source.pk), data)
    assert response.status_code == 302, response.context.get("errors")
    assert enqueued == [("QA",)]


def test_a_rolled_back_change_enqueues_nothing(enqueued, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.checks_request(keys={"CN"})
        raise RuntimeError("the save failed")
    assert callbacks == []
    assert enqueued == []
    assert not CheckRequest.objects.exists()


def test_a_broker_outage_keeps_the_request_for_the_dispatcher(
    monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broker_down(*args):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.check_partition, "delay", broker_down)
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        services.checks_request(keys={"CN"})  # does not raise: the save goes through
    assert "stays pending" in caplog.text
    assert list(CheckRequest.objects.values_list("key", flat=True)) == ["CN"]

    sent: list[tuple] = []
    monkeypatch.setattr(tasks.check_partition, "delay", lambda *args: sent.append(args))
    assert tasks.dispatch_pending_checks() == 0  # too young: its own task may still come
    with time_machine.travel(datetime.timedelta(seconds=31)):
        assert tasks.dispatch_pending_checks() == 1
    assert sent == [("CN",)]


# --- the tasks --------------------------------------------------------------------------------


def test_check_partition_run_twice_has_one_effect():
    ClaimFactory(place=country("CN"), count_low=50_000)
    ClaimFactory(place=country("CN"), count_low=80_000)
    CheckRequest.objects.create(key="CN", requested_at=datetime.datetime.now(datetime.UTC))
    first = tasks.check_partition("CN", TODAY)
    second = tasks.check_partition("CN", TODAY)  # the request was served: nothing to do
    again = tasks.check_partition("CN", TODAY, True)  # a sweep's message delivered twice
    assert second == {"key": "CN", "served_already": True}
    assert (first["opened"], again["opened"], again["found"]) == (first["found"], 0, first["found"])
    assert Flag.objects.filter(kind="count_conflict").count() == 1
    assert FlagEvent.objects.filter(action="opened").count() == first["found"]
    assert not CheckRequest.objects.exists()


def test_check_partition_of_an_unknown_key_does_nothing():
    assert tasks.check_partition("XX")["error"] == "unknown partition"
    assert not CheckState.objects.filter(key="XX").exists()


def test_run_sweep_fans_out_once_per_tick_window(enqueued):
    with time_machine.travel(datetime.datetime(2026, 11, 24, 2, 30, tzinfo=datetime.UTC)):
        count = tasks.run_sweep()
        assert count == len(enqueued) > 190  # every member state and WORLD
        assert ("WORLD", None, True) in enqueued  # a sweep checks each partition whole
        # ... and leaves a request for a whole check of each, which the check deletes.
        assert CheckRequest.objects.filter(claim_id=None).count() == count
        assert tasks.run_sweep() == 0  # a duplicated beat tick
    with time_machine.travel(datetime.datetime(2026, 11, 24, 2, 41, tzinfo=datetime.UTC)):
        assert tasks.run_sweep() == count


def test_a_sweep_message_lost_with_its_worker_is_dispatched_again(enqueued):
    ClaimFactory(place=country("CN"), count_low=50_000)
    ClaimFactory(place=country("CN"), count_low=80_000)
    tasks.run_sweep(TODAY)
    for key, today, whole in enqueued:
        if key != "CN":  # CN's message is lost: its worker died as it took it
            tasks.check_partition(key, today, whole)
    assert list(CheckRequest.objects.values_list("key", flat=True)) == ["CN"]
    enqueued.clear()
    with time_machine.travel(datetime.timedelta(seconds=31)):
        assert tasks.dispatch_pending_checks() == 1
    assert enqueued == [("CN",)]
    assert tasks.check_partition("CN", TODAY)["found"] >= 1  # whole: the request asks for it
    assert Flag.objects.filter(kind="count_conflict").count() == 1
    assert not CheckRequest.objects.exists()


def test_the_schedules_are_in_the_database_for_staff_to_change():
    from django_celery_beat.models import PeriodicTask

    sweep = PeriodicTask.objects.get(task="tracker.run_sweep")
    assert sweep.enabled
    assert (sweep.crontab.hour, sweep.crontab.minute) == ("2", "30")
    pending = PeriodicTask.objects.get(task="tracker.dispatch_pending_checks")
    assert pending.interval.every == 1


# --- the command ------------------------------------------------------------------------------


def run(*args) -> str:
    out = io.StringIO()
    call_command("runchecks", *args, stdout=out)
    return out.getvalue()


def test_runchecks_json_prints_one_object_per_active_flag():
    call_command("loaddemo", stdout=io.StringIO())
    lines = run("--today", TODAY, "--json").splitlines()
    flags = [json.loads(line) for line in lines]
    assert len(flags) == Flag.objects.active().count() > 10
    conflict = next(f for f in flags if f["kind"] == "count_conflict")
    assert conflict == {
        "kind": "count_conflict",
        "obligations": [],
        "place": "CN",
        "claims": ["DEMO-RFA-02", "DEMO-RFA-05"],
        "status": "open",
        "explanation": conflict["explanation"],
    }
    assert conflict["explanation"].startswith("KINU and Sejong Institute says 50,000 workers")
    scope = next(f for f in flags if f["kind"] == "scope_conflict")
    assert scope["place"] == "China > Northeast China"


def test_runchecks_json_names_a_restricted_claim_by_number_unless_shown_confidential():
    """The monitor's own reference may name whoever made the claim, as the sentence does."""
    call_command("loaddemo", stdout=io.StringIO())
    claim = Claim.objects.get(external_id="DEMO-RFA-02")
    claim.attributed_to.confidential = True
    claim.attributed_to.save()

    def conflict(*args):
        lines = run("--today", TODAY, "--json", *args).splitlines()
        return next(f for f in map(json.loads, lines) if f["kind"] == "count_conflict")

    assert conflict()["claims"] == [claim.pk, "DEMO-RFA-05"]
    assert conflict("--show-confidential")["claims"] == ["DEMO-RFA-02", "DEMO-RFA-05"]


def test_runchecks_for_one_country_checks_only_it():
    call_command("loaddemo", stdout=io.StringIO())
    flags = [
        json.loads(line) for line in run("--country", "ru", "--today", TODAY, "--json").splitlines()
    ]
    assert {f["place"] for f in flags} == {"RU"}
    assert set(CheckState.objects.values_list("key", flat=True)) == {"RU"}


def test_runchecks_says_what_it_did():
    call_command("loaddemo", stdout=io.StringIO())
    out = run("--today", TODAY)
    assert "CN: " in out
    assert "as of 2026-11-24" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--country", "XX"],
            "--country 'XX' is not the ISO code of a UN member state, nor WORLD.",
        ),
        (["--today", "24/11/2026"], "--today '24/11/2026' is not a date: write it as YYYY-MM-DD."),
    ],
)
def test_runchecks_refuses_bad_arguments_clearly(args, message):
    with pytest.raises(CommandError) as error:
        run(*args)
    assert message in str(error.value)


def test_runchecks_hides_confidential_sources_unless_asked():
    informant = SourceFactory(name="Canary Informant 7", confidential=True)
    ClaimFactory(place=country("CN"), count_low=50_000, attributed_to=informant)
    ClaimFactory(place=country("CN"), count_low=90_000)
    assert "Canary" not in run("--country", "CN", "--today", TODAY, "--json")
    assert "Canary" in run("--country", "CN", "--today", TODAY, "--json", "--show-confidential")


# --- end to end through a real worker -------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_report_saved_in_the_admin_raises_its_flag_through_a_real_worker(
    live_worker, editor_client
):
    assert live_worker.app.conf.broker_url.startswith("redis://"), "this test is about Redis"
    publisher = SourceFactory(kind=Source.Kind.NEWS)
    claims = two_claims_in_china(50_000, 80_000)
    response = editor_client.post(admin_url(Report, "add"), report_form(publisher, claims))
    assert response.status_code == 302

    deadline = time.monotonic() + 30
    while not Flag.objects.filter(kind="count_conflict").exists():
        assert time.monotonic() < deadline, "no flag 30 s after the save"
        time.sleep(0.2)
    flag = Flag.objects.get(kind="count_conflict")
    with translation.override("en"):
        assert FlagText([flag], sees=True).sentence(flag).startswith("NKDB says 50,000 workers")
    assert flag.country == country("CN")
    # The worker served the request it was sent for.
    deadline = time.monotonic() + 10
    while CheckRequest.objects.filter(key="CN").exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
