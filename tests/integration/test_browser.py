"""A monitor's day in a real browser (headless chromium through Playwright).

An Editor logs in through the admin's login form (django-axes watches it), logs a report with
two claims that disagree through the add-report page and its claim blocks, waits for the
real Celery worker to raise the count conflict on ``/flags/``, dismisses it with a reason
on the flag's page, and looks at the dashboard and a summary in the
archive. Every page must load without a console error or a Content-Security-Policy violation.

Screenshots go to ``$TEST_ARTEFACTS_DIR`` (see ``browser.py``).
"""

from __future__ import annotations

import datetime
import time

import pytest
from django.utils import timezone

from reports import sending
from reports.models import Subscription
from tests.factories import SourceFactory, country
from tests.integration.browser import choose, fill_claim, log_in, screenshot
from tracker.models import Claim, Flag, FlagEvent, Report, Source

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

PASSWORD = "Correct-Horse-Battery-7"
REASON = "KITA counts seasonal workers as well; NKDB counts only year-round contracts."
FLAG_DEADLINE_S = 30


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_editor_logs_a_report_sees_its_flag_and_dismisses_it(live_worker, page, editor):
    editor.set_password(PASSWORD)
    editor.save()
    SourceFactory(name="Daily NK", kind=Source.Kind.NEWS, reliability="B")
    SourceFactory(name="NKDB", reliability="B")
    SourceFactory(name="KITA", reliability="C")

    # --- log in through the form (django-axes counts real logins) --------------------------
    log_in(page, "editor", PASSWORD, "/admin/tracker/report/add/")

    # --- the report and its two claims, as a monitor types them ----------------------------
    page.fill("#id_title", "Two counts of DPRK workers in China at the deadline")
    page.fill("#id_url", "https://example.org/dprk-workers-china")
    choose(page, "id_publisher", "Daily", "Daily NK")
    page.fill("#id_published_on", "2019-12-30")
    page.fill("#id_language", "en")
    fill_claim(page, 0, by="NKDB", count=50_000, as_of="2019-12-23", summary="About 50,000 remain.")
    fill_claim(
        page, 1, by="KITA", count=80_000, as_of="2019-12-23", summary="Some 80,000 still work."
    )
    # Each claim is a block: the form fits the window (issue 31, point 4).
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1400
    form_shot = screenshot(page, "admin-report-form")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/tracker/report/")
    assert "was added successfully" in page.locator("ul.messagelist").inner_text()

    report = Report.objects.get()
    assert report.logged_by == editor
    assert sorted(report.claims.values_list("attributed_to__name", "count_low", "count_high")) == [
        ("KITA", 80_000, 80_000),
        ("NKDB", 50_000, 50_000),
    ]
    assert set(report.claims.values_list("place", "obligation__code", "stance", "measure")) == {
        (country("CN").pk, "UNSCR2397-OP8", Claim.Stance.VIOLATING, Claim.Measure.WORKERS)
    }

    # --- the worker's check raises the flag; the monitor reloads /flags/ until it shows ----
    deadline = time.monotonic() + FLAG_DEADLINE_S
    page.goto("/flags/")
    conflict_row = page.locator("tr", has_text="count conflict")
    while conflict_row.count() == 0:
        assert time.monotonic() < deadline, f"no count conflict on /flags/ {FLAG_DEADLINE_S} s on"
        time.sleep(0.5)
        page.reload()
    flag = Flag.objects.get(kind="count_conflict")
    row_text = conflict_row.inner_text()
    assert f"#{flag.pk} count conflict" in row_text
    assert "NKDB says 50,000 workers in China" in row_text
    assert "open" in row_text
    assert flag.status == Flag.Status.OPEN

    # --- dismiss it with a reason, on the flag's page ----------------------------------------
    conflict_row.locator(f"a[href='/flags/{flag.pk}/']").click()
    page.wait_for_url(f"**/flags/{flag.pk}/")
    page.fill("#id_dismiss-reason", REASON)
    page.click("button.flag-dismiss")
    page.wait_for_url(f"**/flags/{flag.pk}/")
    assert f"Flag #{flag.pk} dismissed." in page.locator("ul.messagelist").inner_text()

    flag.refresh_from_db()
    assert (flag.status, flag.status_note, flag.status_changed_by) == (
        Flag.Status.DISMISSED,
        REASON,
        editor,
    )
    event = flag.events.order_by("at", "pk").last()
    assert (event.action, event.actor, event.note) == (
        FlagEvent.Action.DISMISSED,
        editor,
        REASON,
    )

    # What a reviewer sees: /flags/ says dismissed; the flag's page says by whom and why.
    page.goto("/flags/")
    row_text = page.locator("tr", has_text="count conflict").inner_text()
    assert "dismissed" in row_text
    page.click(f"text=#{flag.pk} count conflict")
    page.wait_for_url(f"**/flags/{flag.pk}/")
    assert page.locator(".flag-facts").inner_text().count(REASON) == 1
    assert "by editor" in page.locator(".flag-facts").inner_text()
    last_event = page.locator(".flag-timeline li").last.inner_text()
    assert "dismissed · editor" in last_event and REASON in last_event

    # --- the dashboard ---------------------------------------------------------------------
    page.goto("/")
    assert page.locator("h1").inner_text().startswith("Dashboard")
    dashboard_shot = screenshot(page, "dashboard")

    # --- the API's documentation page runs under the same policy (its script is a file) -----
    page.goto("/api/docs/")
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert page.locator(".swagger-ui .opblock").count() > 10

    # --- a summary in the archive, covering the week that ends today ------------------------
    today = timezone.localdate()
    subscription = Subscription.objects.create(name="Weekly: China", cadence="weekly")
    subscription.users.add(editor)
    subscription.countries.add(country("CN"))
    summary = sending.summary_create(
        subscription=subscription,
        period_start=today - datetime.timedelta(days=6),
        period_end=today,
        enqueue=False,
    )
    page.goto(f"/summaries/{summary.pk}/")
    body = page.locator(".summary-body").inner_text()
    assert "1 flag dismissed" in body and "count conflict" in body
    assert REASON in body
    summary_shot = screenshot(page, "summary")

    assert page.problems.items == [], "\n".join(page.problems.items)
    for shot in (form_shot, dashboard_shot, summary_shot):
        print(f"artefact: {shot} ({shot.stat().st_size} bytes)")
