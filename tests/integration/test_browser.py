"""A monitor's day in a real browser (headless chromium through Playwright).

An Editor logs in through the admin's login form (django-axes watches it), logs a report with
two claims that disagree through the add-report page and its inline claim rows, waits for the
real Celery worker to raise the count conflict on ``/flags/``, dismisses it with a reason
through the admin action's intermediate form, and looks at the dashboard and a summary in the
archive. Every page must load without a console error or a Content-Security-Policy violation.

Screenshots go to ``$TEST_ARTEFACTS_DIR`` (default ``var/artefacts`` under the repository).
"""

from __future__ import annotations

import datetime
import os
import re
import time
from pathlib import Path

import pytest
from django.utils import timezone

from reports import sending
from reports.models import Subscription
from tests.factories import SourceFactory, country
from tracker.models import Claim, Flag, FlagEvent, Report, Source

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Correct-Horse-Battery-7"
REASON = "KITA counts seasonal workers as well; NKDB counts only year-round contracts."
FLAG_DEADLINE_S = 30
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# chromium logs a CSP violation as a console error ("Refused to ..." in older releases,
# "... violates the following Content Security Policy directive ..." in 156); this listener
# reports it a second time, by name, whatever the wording.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


def artefacts_dir() -> Path:
    folder = Path(os.environ.get("TEST_ARTEFACTS_DIR") or "var/artefacts")
    folder = folder if folder.is_absolute() else REPO / folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser():
    """Debian's chromium for one test; closed in the finaliser.

    Function-scoped on purpose: while Playwright runs, its greenlet gives this thread other
    context variables, hence other database connections, without the serialized reference
    data. Stopped before the test's database teardown, the flush runs on the right connection
    and the next test finds the reference data restored (a module-scoped browser left an empty
    database with fresh content types behind)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread: Django refuses database calls
    # from a thread with a running loop unless told the caller knows what it does.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        from django.db import connections

        connections.close_all()  # the connections opened in Playwright's context
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class PageProblems:
    """Console errors, uncaught exceptions and failed responses of every page visited."""

    def __init__(self, page):
        self.items: list[str] = []
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.items.append(f"{page.url}: uncaught {error}"))
        page.on("response", self.response)
        self.page = page

    def console(self, message) -> None:
        if message.location.get("url", "").endswith("/favicon.ico"):
            return  # chromium asks for /favicon.ico by itself; the site has none
        text = message.text
        if message.type == "error" or "Content Security Policy" in text or "Refused to" in text:
            self.items.append(f"{self.page.url}: console {message.type}: {text}")

    def response(self, response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.items.append(f"{response.url}: HTTP {response.status}")


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.problems = PageProblems(page)
    yield page
    # Let the last page's requests finish before the database is flushed: a request the live
    # server is still serving would write into the next test's database.
    page.wait_for_load_state("networkidle")
    page.goto("about:blank")
    context.close()


def screenshot(page, name: str) -> Path:
    path = artefacts_dir() / f"{name}.png"
    # The whole page in one viewport: a full-page capture of a smaller one draws the admin's
    # sticky sidebar where the viewport ended.
    width, height = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    viewport = page.viewport_size
    page.set_viewport_size({"width": max(width, viewport["width"]), "height": height})
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(viewport)
    print(f"screenshot: {path}")
    assert path.exists()
    assert path.stat().st_size > 5 * 1024, f"{path} is suspiciously small"
    return path


def choose(page, select_id: str, typed: str, option: str) -> None:
    """Pick ``option`` in an autocomplete (select2) field as a user does: open it, type, click."""
    page.locator(f"#{select_id} + .select2").click()
    page.locator(".select2-container--open .select2-search__field").fill(typed)
    page.locator(".select2-container--open li.select2-results__option[role=option]").filter(
        has_text=re.compile(rf"^{re.escape(option)}$")
    ).click()
    assert page.locator(f"#{select_id} option:checked").inner_text() == option


def fill_claim(page, row: int, *, by: str, count: int, as_of: str, summary: str) -> None:
    prefix = f"id_claims-{row}-"
    choose(page, f"{prefix}attributed_to", by, by)
    choose(page, f"{prefix}place", "China", "China")
    choose(page, f"{prefix}obligation", "2397-OP8", "UNSCR2397-OP8")
    page.select_option(f"#{prefix}stance", label="violating")
    page.select_option(f"#{prefix}measure", label="workers")
    page.fill(f"#{prefix}count_low", str(count))
    page.fill(f"#{prefix}count_high", str(count))
    page.fill(f"#{prefix}as_of", as_of)
    page.select_option(f"#{prefix}credibility", value="3")
    page.fill(f"#{prefix}summary", summary)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_editor_logs_a_report_sees_its_flag_and_dismisses_it(live_worker, page, editor):
    editor.set_password(PASSWORD)
    editor.save()
    SourceFactory(name="Daily NK", kind=Source.Kind.NEWS, reliability="B")
    SourceFactory(name="NKDB", reliability="B")
    SourceFactory(name="KITA", reliability="C")

    # --- log in through the form (django-axes counts real logins) --------------------------
    page.goto("/admin/login/?next=/admin/tracker/report/add/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/tracker/report/add/")

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

    # --- dismiss it with a reason: the admin action and its intermediate form ---------------
    page.goto("/admin/tracker/flag/")
    admin_row = page.locator("#result_list tbody tr", has_text="count conflict")
    admin_row.locator("input.action-select").check()
    page.select_option("select[name=action]", value="dismiss")
    page.click("button[name=index]")
    page.wait_for_selector("text=Say why these flags are not a problem")
    page.fill("#id_reason", REASON)
    page.click("input[type=submit][value='Dismiss 1 flag']")
    page.wait_for_url("**/admin/tracker/flag/")
    assert "1 flag(s) dismissed." in page.locator("ul.messagelist").inner_text()

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
    page.wait_for_url(f"**/admin/tracker/flag/{flag.pk}/change/")
    assert page.locator(".field-status .readonly").inner_text() == "dismissed"
    assert page.locator(".field-status_note .readonly").inner_text() == REASON
    assert page.locator(".fieldBox.field-status_changed_by .readonly").inner_text() == "editor"
    assert f"dismissed by editor: {REASON}" in page.locator(".field-timeline").inner_text()

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
