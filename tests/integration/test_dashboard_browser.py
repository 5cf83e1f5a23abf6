"""The dashboard and a country page in a real browser (headless chromium), on the demo data,
in English and in Korean (a Korean browser: Playwright's ``locale="ko-KR"``), at 1,400 x 900.

The dashboard fits in three screens, its world map shows with its legend, the country page
shows its chart, and no page logs a console error or a Content-Security-Policy violation.
Screenshots (``dashboard-en.png``, ``dashboard-ko.png``, ``country-en.png``,
``country-ko.png``) go to ``$TEST_ARTEFACTS_DIR`` (see ``browser.py``); the README shows the
dashboard's.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests.integration.browser import REPORT_CSP_VIOLATIONS, PageProblems, log_in, screenshot

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

PASSWORD = "Correct-Horse-Battery-7"
SCREEN = {"width": 1400, "height": 900}
LANGUAGES = [
    ("en", "en-GB", "Needs attention", "World map"),
    ("ko", "ko-KR", "주의 필요", "세계 지도"),
]


@pytest.fixture
def demo(db):
    call_command("loaddemo", "--checks", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("language", "locale", "attention", "world_map"), LANGUAGES)
def test_the_dashboard_fits_three_screens_with_its_map(
    browser, live_server, demo, viewer, language, locale, attention, world_map
):
    viewer.set_password(PASSWORD)
    viewer.save()
    context = browser.new_context(base_url=live_server.url, viewport=SCREEN, locale=locale)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems = PageProblems(page)
    try:
        log_in(page, "viewer", PASSWORD, "/")
        assert page.locator("html").get_attribute("lang") == language
        assert attention in page.locator("#attention").inner_text()
        # China (open flags and violations) leads; the quiet member states are not listed.
        first = page.locator("table.board tbody th").first.inner_text()
        assert first.startswith("China" if language == "en" else "중국")
        assert page.locator("table.board tbody tr").count() < 20

        # The map and its legend are on the page, drawn, coloured by status.
        assert world_map in page.locator("#map").inner_text()
        world = page.locator("svg.worldmap")
        assert world.is_visible() and world.bounding_box()["width"] > 700
        assert page.locator("ul.map-legend").is_visible()
        assert page.locator("svg.worldmap g.map-contested").count() >= 1  # China

        height = page.evaluate("document.documentElement.scrollHeight")
        assert height <= 3 * SCREEN["height"], f"the dashboard is {height} px tall"
        screenshot(page, f"dashboard-{language}")

        # Choosing another obligation redraws the map (a static script: the CSP allows no
        # inline one).
        page.select_option("#map-obligation", "UNSCR2371-OP11")
        page.wait_for_url("**obligation=UNSCR2371-OP11**")
        assert page.locator("svg.worldmap g.map-stale").count() >= 3  # Gulf states, watched

        # Every member state, on request.
        page.click("a[href^='?all=1']")
        page.wait_for_url("**all=1**")
        assert page.locator("#all + p + table.board tbody tr").count() == 193

        page.goto("/countries/CN/")
        chart = page.locator("img[src='/countries/CN/chart.png']")
        chart.scroll_into_view_if_needed()
        page.wait_for_load_state("networkidle")
        assert chart.evaluate("img => img.naturalWidth") > 600
        screenshot(page, f"country-{language}")
        assert problems.items == []
    finally:
        page.wait_for_load_state("networkidle")
        page.goto("about:blank")
        context.close()
