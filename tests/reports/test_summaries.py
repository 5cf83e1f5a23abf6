"""Summaries built, stored and sent at most once, against a real SMTP server on loopback."""

import datetime
import io
import re

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from reports import charts, sending, summaries, tasks
from reports.models import Subscription, Summary
from tests.factories import ClaimFactory, SourceFactory, UserFactory, country, obligation
from tracker import checks, languages
from tracker.models import Place
from tracker.partialdates import PartialDate

pytestmark = pytest.mark.django_db

CANARY = "Canary Informant 7"
# Tuesday: the last complete week is Monday 16 to Sunday 22 November 2026.
NOW = datetime.datetime(2026, 11, 24, 9, 0, tzinfo=datetime.UTC)
WEEK = (datetime.date(2026, 11, 16), datetime.date(2026, 11, 22))


@pytest.fixture
def evidence(db):
    """The demo data logged, a confidential informant's claim, and the checks run, all during
    the week the summary covers."""
    with time_machine.travel(datetime.datetime(2026, 11, 18, 10, tzinfo=datetime.UTC)):
        call_command("loaddemo", stdout=io.StringIO())
        informant = SourceFactory(name=CANARY, confidential=True)
        ClaimFactory(
            place=country("RU"),
            attributed_to=informant,
            count_low=90_000,
            as_of=datetime.date(2019, 12, 20),
        )
        ClaimFactory(place=country("RU"), count_low=30_000, as_of=datetime.date(2019, 12, 23))
        checks.sweep(today=datetime.date(2026, 11, 18))


@pytest.fixture
def weekly(evidence, viewer):
    subscription = Subscription.objects.create(
        name="Weekly: China and Russia", cadence="weekly", addresses="partner@example.org"
    )
    subscription.users.add(viewer)
    subscription.countries.add(country("CN"), country("RU"))
    return subscription


def send(subscription) -> Summary:
    summary = sending.summary_create(
        subscription=subscription, period_start=WEEK[0], period_end=WEEK[1], enqueue=False
    )
    sending.summary_deliver(summary.pk)
    summary.refresh_from_db()
    return summary


def parts(message) -> tuple[str, str, list]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    attachments = [p for p in message.walk() if p.get_content_maintype() == "image"]
    return text, html, attachments


@time_machine.travel(NOW, tick=False)
def test_a_weekly_summary_arrives_with_subject_text_html_and_inline_chart(smtp, weekly, viewer):
    summary = send(weekly)
    assert summary.status == "sent"
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert set(recipients) >= {viewer.email, "partner@example.org"}
    assert message["Subject"].startswith(
        "[Compliance tracker] Weekly: China and Russia, 16 November 2026 to 22 November 2026: "
    )
    assert "flags opened" in message["Subject"]
    assert viewer.email not in message["To"]  # recipients do not see each other
    text, html, images = parts(message)
    assert "flags opened:" in text and "KINU and Sejong Institute says 50,000 workers" in text
    assert "Status changes" not in text  # the first summary has nothing to compare with
    assert "China (CN)" in text and "Russia (RU)" in text
    assert "(UNSCR2397-OP8-FINAL), due 22 March 2020: passed" in text
    assert f"https://tracker.example.org/summaries/{summary.pk}/" in text
    assert "Northeast China" in text
    assert 'src="cid:chart"' in html
    assert re.search(r'<a href="https://tracker\.example\.org/flags/\d+/">#\d+</a>', html)
    assert len(images) == 1
    assert images[0]["Content-ID"] == "<chart>"
    assert images[0].get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    archived = summaries.render(summary, language="en", sees=False).text
    assert text.replace("\r\n", "\n").strip() == archived.strip()  # as the archive says it


@time_machine.travel(NOW, tick=False)
def test_the_next_summary_says_what_changed(smtp, weekly):
    first = send(weekly)
    content = first.content
    assert content["statuses"]["CN UNSCR2397-OP8"]["status"] in {"contested", "stale", "violating"}
    content["statuses"]["CN UNSCR2397-OP8"]["status"] = "x"
    Summary.objects.filter(pk=first.pk).update(content=content)
    with time_machine.travel(NOW + datetime.timedelta(days=7), tick=False):
        second = sending.summary_create(
            subscription=weekly,
            period_start=WEEK[0] + datetime.timedelta(days=7),
            period_end=WEEK[1] + datetime.timedelta(days=7),
            enqueue=False,
        )
    text = summaries.render(second, language="en", sees=False).text
    with translation.override("en"):
        name = obligation("UNSCR2397-OP8").name
    assert f"Status changes:\n- China, {name}: x ->" in text


@time_machine.travel(NOW, tick=False)
def test_sending_twice_sends_one_email(smtp, weekly):
    summary = send(weekly)
    assert sending.summary_deliver(summary.pk) == sending.SKIPPED
    assert (
        sending.summary_create(
            subscription=weekly, period_start=WEEK[0], period_end=WEEK[1], enqueue=False
        )
        is None
    )
    call_command("sendsummaries", stdout=io.StringIO())
    assert len(smtp.messages) == 1
    assert Summary.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_a_server_refusing_the_first_two_attempts_still_gets_exactly_one(smtp, weekly):
    smtp.refuse = 2
    summary = send(weekly)
    assert (summary.status, summary.attempts) == ("sent", 3)
    assert smtp.refused == 2
    assert len(smtp.messages) == 1


@time_machine.travel(NOW, tick=False)
def test_a_server_that_is_down_marks_the_summary_failed_and_loses_nothing(
    smtp_down, settings, weekly, editor_client
):
    settings.SUMMARY_SEND_ATTEMPTS = 2
    summary = send(weekly)
    assert summary.status == "failed"
    assert summary.attempts == 2
    assert "ConnectionRefusedError" in summary.last_error
    assert summary.content["statuses"] and summary.content["events"]  # stored before sending
    page = editor_client.get(reverse("admin:reports_summary_changelist"))
    assert "ConnectionRefusedError" in page.content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_failed_summary_is_sent_again_only_by_a_deliberate_action(
    smtp_down, settings, weekly, editor_client, monkeypatch, django_capture_on_commit_callbacks
):
    settings.SUMMARY_SEND_ATTEMPTS = 1
    summary = send(weekly)
    assert summary.status == "failed"
    assert sending.summary_deliver(summary.pk) == sending.SKIPPED  # no automatic re-send
    sent = []
    monkeypatch.setattr(tasks.send_summary, "delay", lambda pk: sent.append(pk))
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            reverse("admin:reports_summary_changelist"),
            {"action": "resend", "_selected_action": [summary.pk]},
        )
    assert response.status_code == 302
    summary.refresh_from_db()
    assert (summary.status, sent) == ("queued", [summary.pk])
    assert "re-sent by editor" in summary.last_error


@time_machine.travel(NOW, tick=False)
def test_a_confidential_source_never_reaches_a_recipient_without_the_permission(smtp, weekly):
    summary = send(weekly)
    text, html, images = parts(smtp.messages[0][1])
    archived = summaries.render(summary, language="en", sees=False)
    for part in (text, html, archived.subject, archived.text, archived.html):
        assert CANARY not in part
    assert all(CANARY.encode() not in image.get_content() for image in images)
    assert "a confidential source" in text  # the flag is reported, its source is not named


@time_machine.travel(NOW, tick=False)
def test_a_confidential_subscription_names_the_source_to_permitted_users(smtp, evidence):
    trusted = UserFactory(username="trusted", confidential=True)
    subscription = Subscription.objects.create(name="Trusted", include_confidential=True)
    subscription.users.add(trusted)
    summary = send(subscription)
    text, _, _ = parts(smtp.messages[0][1])
    assert CANARY in text
    assert summary.confidential


def test_confidential_material_to_a_plain_address_is_refused(evidence):
    subscription = Subscription.objects.create(
        name="Leaky", include_confidential=True, addresses="someone@example.org"
    )
    with pytest.raises(sending.ConfidentialRecipientsError, match="plain addresses"):
        sending.summary_create(
            subscription=subscription, period_start=WEEK[0], period_end=WEEK[1], enqueue=False
        )
    assert not Summary.objects.exists()


def test_the_admin_refuses_confidential_material_for_a_recipient_without_permission(
    admin_client, viewer
):
    response = admin_client.post(
        reverse("admin:reports_subscription_add"),
        {
            "name": "Leaky",
            "cadence": "weekly",
            "active": "on",
            "users": [viewer.pk],
            "addresses": "",
            "include_confidential": "on",
        },
    )
    assert response.status_code == 200
    assert "these recipients lack it: viewer" in response.content.decode()
    assert not Subscription.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_dispatch_twice_creates_one_summary_and_sends_one_email(
    smtp, weekly, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.send_summary, "delay", lambda pk: sending.summary_deliver(pk))
    with django_capture_on_commit_callbacks(execute=True):
        first = tasks.dispatch_summaries()
    with django_capture_on_commit_callbacks(execute=True):
        second = tasks.dispatch_summaries()
    assert len(first) == 1 and second == []
    assert len(smtp.messages) == 1


@pytest.mark.parametrize("n", [1, 50])
def test_building_a_summary_runs_the_same_queries_for_1_and_50_countries(
    evidence, django_assert_num_queries, n
):
    from reports import summaries

    subscription = Subscription.objects.create(name=f"{n} countries")
    subscription.countries.add(*Place.objects.countries().order_by("-iso_code")[: n - 1])
    subscription.countries.add(country("CN"))
    # The subscription's countries and obligations, the kept statuses, the places inside the
    # countries, the period's events, its reports, and the countries' watches and open
    # flags (the ones needing attention): 9, whatever the number of countries.
    with django_assert_num_queries(9):
        summaries.build(subscription, *WEEK, previous=None)


# --- the archive ------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_recipient_reads_the_summary_as_emailed_with_its_chart(smtp, weekly, viewer, client):
    summary = send(weekly)
    client.force_login(viewer)
    listing = client.get(reverse("reports:list"))
    assert reverse("reports:detail", args=[summary.pk]) in listing.content.decode()
    page = client.get(reverse("reports:detail", args=[summary.pk])).content.decode()
    assert "KINU and Sejong Institute says 50,000 workers" in page
    assert f'src="/summaries/{summary.pk}/chart.png"' in page
    chart = client.get(reverse("reports:chart", args=[summary.pk]))
    assert chart["Content-Type"] == "image/png"


@time_machine.travel(NOW, tick=False)
def test_who_may_read_the_archive(smtp, weekly, client, evidence):
    summary = send(weekly)
    outsider = UserFactory(username="outsider")  # staff, in no group, not a recipient
    detail = reverse("reports:detail", args=[summary.pk])
    assert client.get(detail).status_code == 302  # anonymous: to the login page
    client.force_login(outsider)
    assert client.get(detail).status_code == 404
    assert client.get(reverse("reports:chart", args=[summary.pk])).status_code == 404
    trusted_only = Subscription.objects.create(name="Trusted", include_confidential=True)
    secret = send(trusted_only)
    client.force_login(UserFactory(username="v2", groups=["Viewers"]))
    assert client.get(detail).status_code == 200  # Viewers read the archive...
    assert client.get(reverse("reports:detail", args=[secret.pk])).status_code == 404  # ...not this


@time_machine.travel(NOW, tick=False)
def test_the_preview_renders_without_sending_or_storing(smtp, weekly, editor_client, viewer):
    page = editor_client.get(reverse("reports:preview", args=[weekly.pk]))
    assert page.status_code == 200
    assert "data:image/png;base64," in page.content.decode()
    assert not Summary.objects.exists()
    assert smtp.messages == []


def test_sendsummaries_refuses_a_bad_date():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="is not a date: write it as YYYY-MM-DD"):
        call_command("sendsummaries", "--period-end", "22/11/2026")


# --- through a real worker --------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_scheduled_dispatch_through_a_real_worker_sends_one_email(live_worker, smtp, viewer):
    import time

    subscription = Subscription.objects.create(name="Daily", cadence="daily")
    subscription.users.add(viewer)
    tasks.dispatch_summaries.delay()
    tasks.dispatch_summaries.delay()  # a duplicated tick
    deadline = time.monotonic() + 30
    while not Summary.objects.filter(status="sent").exists():
        assert time.monotonic() < deadline, "no summary sent 30 s after the tick"
        time.sleep(0.2)
    time.sleep(1)  # room for a wrong second email to arrive
    assert len(smtp.messages) == 1
    assert Summary.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_each_recipient_gets_the_summary_in_their_own_language(smtp, weekly, viewer):
    """A user who reads Korean gets a Korean email; the plain addresses get the
    subscription's language; nothing is stored as text, so both are said from one summary."""
    korean = UserFactory(username="korean-monitor", groups=["Viewers"])
    languages.language_set(user=korean, language="ko")
    weekly.users.add(korean)
    send(weekly)
    assert len(smtp.messages) == 2
    by_recipients = {frozenset(recipients): message for recipients, message in smtp.messages}
    korean_mail = next(m for r, m in by_recipients.items() if korean.email in r)
    english_mail = next(m for r, m in by_recipients.items() if "partner@example.org" in r)
    assert korean.email not in next(r for r in by_recipients if "partner@example.org" in r)
    # The subject in Korean, dates as Korean readers write them (the header is folded: strip).
    assert (
        korean_mail["Subject"]
        .strip()
        .startswith(
            "[이행 추적기] Weekly: China and Russia, 2026년 11월 16일~2026년 11월 22일: 새 플래그 "
        )
    )
    assert "16 November 2026" in english_mail["Subject"]
    korean_text, korean_html, _ = parts(korean_mail)
    english_text, _, _ = parts(english_mail)
    # The headings and sentences in Korean, none of their English left.
    assert "Weekly: China and Russia: 이행 현황 요약, 2026년 11월 16일~2026년 11월 22일" in (
        korean_text
    )
    for heading in (
        "== 이번 기간의 변화 ==",
        "== 증거, 모니터링 대상 또는 미해결 플래그가 있는 국가 ==",
    ):
        assert heading in korean_text
    for english in ("WHAT CHANGED", "flags opened", "as of", "says", "due 22 March 2020"):
        assert english in english_text
        assert english not in korean_text
    # Countries by their Korean names; a count conflict said in Korean, its confidential
    # source named as such for a reader without the permission; figures in Korean order.
    assert "중국 (CN)" in korean_text and "러시아 (RU)" in korean_text
    assert "러시아의 노동자 수를 두고 출처 3곳의 수치가 엇갈립니다." in korean_text
    assert "90,000(비공개 출처, 2019년 12월 20일 기준)" in korean_text
    assert CANARY not in korean_text
    assert "위반: 2020년 3월 22일 마감 보고서 미등록" in korean_text
    assert "- 러시아: 노동자 30,000, 2019년 12월 23일 기준" in korean_text
    assert '<html lang="ko">' in korean_html and "<h2>이번 기간의 변화</h2>" in korean_html


@time_machine.travel(NOW, tick=False)
def test_the_demos_weekly_summary_is_read_in_a_minute(smtp, weekly):
    """Under 8,000 characters of text on the demo data, naming its flags; the countries with
    nothing to say are summed up in one line."""
    summary = send(weekly)
    text, _, _ = parts(smtp.messages[0][1])
    assert len(text) < 8_000, len(text)
    opened = summary.content["events"]
    assert opened and all(f"#{flag.pk}" in text for flag in _flags_of(opened))
    world = Subscription.objects.create(name="Everything", addresses="all@example.org")
    everything = sending.summary_create(
        subscription=world, period_start=WEEK[0], period_end=WEEK[1], enqueue=False
    )
    text = summaries.render(everything, language="en", sees=False).text
    assert len(text) < 8_000, len(text)
    assert "other countries: no evidence, no watch, no open flag." in text


def _flags_of(event_ids):
    from tracker.models import FlagEvent

    return {event.flag for event in FlagEvent.objects.filter(pk__in=event_ids)}


def test_the_latest_estimates_are_ordered_and_said_as_their_dates_were_given():
    china = country("CN")
    ClaimFactory(place=china, count_low=50_000, as_of=datetime.date(2019, 6, 15))
    ClaimFactory(
        place=china, count_low=60_000, as_of_given=PartialDate.parse("2019"), obligation=None
    )
    series = charts.estimates([china], datetime.date(2026, 1, 1), sees=False)
    assert [point.value for point in series["CN"]["workers"]] == [50_000, 60_000]
    with translation.override("en"):
        (latest,) = summaries._latest_estimates(series, [china])
    assert (latest["value"], latest["as_of"]) == ("60,000", "2019")
