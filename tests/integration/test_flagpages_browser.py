"""A flag handled on the site, in a real browser (headless chromium through Playwright), in
English and in Korean, at 1,400 x 900 on the demo data: an Editor opens the demo's count
conflict from ``/flags/``, dismisses it on its page with a reason, and reads it dismissed
with the reason in its timeline; the admin's flag list stays readable. No page scrolls
sideways, and none logs a console error or a Content-Security-Policy violation.

Screenshots go to ``$TEST_ARTEFACTS_DIR`` (see ``browser.py``): ``flag-en.png`` and
``flag-ko.png`` (the README shows one), ``flag-admin-list-en.png`` and ``-ko.png``.
"""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command

from tests.integration.browser import REPORT_CSP_VIOLATIONS, PageProblems, log_in, screenshot
from tracker import checks
from tracker.models import Flag, FlagEvent

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

PASSWORD = "Correct-Horse-Battery-7"
WIDTH, HEIGHT = 1400, 900
REASON = {
    "en": "KINU and KITA count at different times of the season; both are within the range.",
    "ko": "통일연구원과 KITA는 서로 다른 시기에 집계했으며 두 수치 모두 범위 안에 있습니다.",
}
# What the pages say, in each language.
SAYS = {
    "en": {"dismissed": "Flag #{id} dismissed.", "status": "dismissed", "event": "dismissed"},
    "ko": {"dismissed": "플래그 #{id}을(를) 기각했습니다.", "status": "기각됨", "event": "기각함"},
}


@pytest.fixture
def demo_flags(db):
    """The demo's reports, checked as ``make run`` checks them."""
    call_command("loaddemo", stdout=io.StringIO())
    checks.sweep(today=datetime.date(2026, 11, 24))
    return Flag.objects.filter(kind="count_conflict", country__iso_code="CN").get()


def open_page(browser, live_server, language: str):
    """A page at 1,400 x 900 in a browser set to ``language`` (its Accept-Language)."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": WIDTH, "height": HEIGHT},
        locale={"en": "en-GB", "ko": "ko-KR"}[language],
    )
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.problems = PageProblems(page)
    return context, page


def scroll_width(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_editor_dismisses_a_flag_on_its_page(browser, live_server, editor, demo_flags, language):
    flag = demo_flags
    editor.set_password(PASSWORD)
    editor.save()
    says = SAYS[language]
    context, page = open_page(browser, live_server, language)
    try:
        log_in(page, "editor", PASSWORD, "/flags/")
        assert page.locator("html").get_attribute("lang") == language
        assert scroll_width(page) <= WIDTH

        # --- from the list to the flag's page ----------------------------------------------
        page.locator(f"a[href='/flags/{flag.pk}/']").click()
        page.wait_for_url(f"**/flags/{flag.pk}/")
        assert "KINU" in page.locator(".flag-sentence").inner_text()
        assert page.locator(".flag-claims tbody tr").count() == len(flag.claim_ids)
        assert page.locator("button.flag-dismiss").is_visible()
        assert scroll_width(page) <= WIDTH

        # --- a dismissal without a reason is refused next to the field -----------------------
        page.fill("#id_dismiss-reason", "   ")
        page.click("button.flag-dismiss")
        page.locator("#id_dismiss-reason_error").wait_for()
        flag.refresh_from_db()
        assert flag.status == Flag.Status.OPEN

        # --- dismissed with a reason ----------------------------------------------------------
        page.fill("#id_dismiss-reason", REASON[language])
        page.click("button.flag-dismiss")
        page.wait_for_url(f"**/flags/{flag.pk}/")
        assert says["dismissed"].format(id=flag.pk) in page.locator("ul.messagelist").inner_text()
        flag.refresh_from_db()
        assert (flag.status, flag.status_note, flag.status_changed_by) == (
            Flag.Status.DISMISSED,
            REASON[language],
            editor,
        )
        assert flag.events.last().action == FlagEvent.Action.DISMISSED

        # --- what a reviewer reads: dismissed, by whom, why; only re-opening is offered -------
        page.reload()
        assert page.locator("h1 .flag-status").inner_text() == says["status"]
        last = page.locator(".flag-timeline li").last.inner_text()
        assert f"{says['event']} · editor" in last and REASON[language] in last
        assert page.locator("button.flag-dismiss").count() == 0
        assert page.locator("form.flag-action-reopen").is_visible()
        assert scroll_width(page) <= WIDTH
        screenshot(page, f"flag-{language}")

        # --- the admin's flag list: each sentence in a wide column that wraps -----------------
        page.goto("/admin/tracker/flag/")
        screenshot(page, f"flag-admin-list-{language}")
        rows = page.locator("#result_list tbody tr")
        assert rows.count() >= 10
        column = page.locator("#result_list .field-summary").first.bounding_box()
        assert column["width"] >= 380
        assert scroll_width(page) <= WIDTH
        # Nor does the list scroll sideways inside its own box.
        assert page.evaluate(
            "() => { const r = document.querySelector('#changelist .results');"
            " return r.scrollWidth <= r.clientWidth; }"
        )
        per_row = (
            page.evaluate(
                "() => document.querySelector('#result_list tbody').getBoundingClientRect().height"
            )
            / rows.count()
        )
        assert per_row < 120, f"{per_row:.0f} px a flag"
        # The admin's page of the flag leads to the site's.
        page.goto(f"/admin/tracker/flag/{flag.pk}/change/")
        page.locator("a.viewsitelink").click()
        page.wait_for_url(f"**/flags/{flag.pk}/")

        assert page.problems.items == [], "\n".join(page.problems.items)
    finally:
        page.wait_for_load_state("networkidle")
        page.goto("about:blank")
        context.close()
