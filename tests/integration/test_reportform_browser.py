"""Logging a report in a 1,400 x 900 window (issue 31, point 4), in English and in Korean.

An Editor logs a report with three claims, one of them made by a source described on the
same page (no pop-up window). The first save fails on a figure: the errors are listed at the
top with the claim's number, each linked to its field, and the page still fits the window.
The third claim's as-of date lies after the publication date: a hint says so before the save,
a warning after it, and the report saves. Screenshots: ``report-form-en.png``,
``report-form-ko.png`` (the failed first save), and the list after the save.
"""

from __future__ import annotations

import re

import pytest

from tests.factories import SourceFactory, country, obligation
from tests.integration.browser import choose, fill_claim, log_in, screenshot
from tracker.models import Claim, Report, Source

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

PASSWORD = "Correct-Horse-Battery-7"
WIDTH, HEIGHT = 1400, 900
NEW_SOURCE = "North Korea Labour Watch"


def scroll_width(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


@pytest.fixture(params=["en", "ko"])
def language_page(request, browser, live_server):
    """A page at 1,400 x 900 in a browser that asks for English or Korean."""
    from tests.integration.browser import REPORT_CSP_VIOLATIONS, PageProblems

    locale = {"en": "en-GB", "ko": "ko-KR"}[request.param]
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": WIDTH, "height": HEIGHT}, locale=locale
    )
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.problems = PageProblems(page)
    page.language = request.param
    yield page
    page.wait_for_load_state("networkidle")
    page.goto("about:blank")
    context.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_editor_logs_three_claims_one_by_a_new_source_in_a_window(
    live_worker, language_page, editor
):
    page, language = language_page, language_page.language
    editor.set_password(PASSWORD)
    editor.save()
    SourceFactory(name="Daily NK", kind=Source.Kind.NEWS, reliability="B")
    SourceFactory(name="NKDB", reliability="B")
    SourceFactory(name="KITA", reliability="C")
    china = country("CN")
    op8 = obligation("UNSCR2397-OP8")
    place = ("China", "China") if language == "en" else ("중국", china.name_ko)
    op8_shown = op8.code if language == "en" else f"{op8.code} · {op8.short_name_ko}"

    log_in(page, "editor", PASSWORD, "/admin/tracker/report/add/")
    assert page.locator("html").get_attribute("lang") == language
    assert scroll_width(page) <= WIDTH
    # No pop-up window for a new source or place: the "+" links are gone.
    assert page.locator("#report_form a.add-related").count() == 0

    # --- the report, a new source, three claims ----------------------------------------------
    page.fill("#id_title", "Three counts of DPRK workers in China at the deadline")
    page.fill("#id_url", "https://example.org/dprk-workers-china")
    choose(page, "id_publisher", "Daily", "Daily NK")
    page.fill("#id_published_on", "2019-12-30")
    page.fill("#id_language", language)
    page.fill("#id_new_source_name", NEW_SOURCE)
    page.select_option("#id_new_source_kind", value="ngo")
    page.select_option("#id_new_source_reliability", value="C")
    claim = {"place": place, "obligation": ("2397-OP8", op8_shown)}
    fill_claim(page, 0, by="NKDB", count=50_000, as_of="2019-12-23", summary="50,000", **claim)
    fill_claim(page, 1, by="KITA", count=80_000, as_of="2019-12-23", summary="80,000", **claim)
    # The new source's claim: its range typed upside down, dated after the publication.
    fill_claim(
        page, 2, by=None, count=60_000, high=55_000, as_of="2020-01-15", summary="60,000", **claim
    )
    page.locator("#id_claims-2-summary").focus()
    hint = page.locator("#claims-2 .late-as-of-hint")
    assert hint.is_visible()
    assert page.locator("#claims-0 .late-as-of-hint").count() == 0
    assert scroll_width(page) <= WIDTH

    # --- the first save fails: the errors at the top, with the claim's number ----------------
    page.click("input[name=_save]")
    page.wait_for_selector("#error-summary")
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    box = summary.bounding_box()
    assert box is not None and box["y"] < HEIGHT and box["x"] + box["width"] <= WIDTH
    listed = summary.inner_text()
    assert "#3" in listed
    assert "55,000" in listed and "60,000" in listed
    assert scroll_width(page) <= WIDTH
    assert page.locator("#claims-2 .late-as-of-hint").is_visible()
    assert page.locator("#id_claims-2-attributed_to_new").is_checked()
    assert page.locator("#id_new_source_name").input_value() == NEW_SOURCE
    assert Report.objects.count() == 0 and not Source.objects.filter(name=NEW_SOURCE).exists()
    screenshot(page, f"report-form-{language}")
    # Its link scrolls to the field, next to which the error stands.
    summary.locator("a").first.click()
    assert page.locator("#id_claims-2-count_high").is_visible()
    assert page.evaluate(
        "() => { const r = document.querySelector('#id_claims-2-count_high')"
        ".getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )

    # --- corrected, it saves; the late as-of date is a warning, not a refusal -----------------
    page.fill("#id_claims-2-count_high", "65000")
    page.click("input[name=_save]")
    # The browser keeps the fragment of the error's link through the redirect.
    page.wait_for_url(re.compile(r".*/admin/tracker/report/(#.*)?$"))
    assert page.locator("ul.messagelist li.success").count() >= 1
    warning = page.locator("ul.messagelist li.warning").inner_text()
    assert "#3" in warning
    screenshot(page, f"report-form-{language}-saved")

    report = Report.objects.get()
    assert report.logged_by == editor
    new_source = Source.objects.get(name=NEW_SOURCE)
    assert (new_source.kind, new_source.reliability, new_source.confidential) == ("ngo", "C", False)
    assert sorted(report.claims.values_list("attributed_to__name", "count_low", "count_high")) == [
        ("KITA", 80_000, 80_000),
        ("NKDB", 50_000, 50_000),
        (NEW_SOURCE, 60_000, 65_000),
    ]
    assert set(report.claims.values_list("place", "obligation", "stance", "measure")) == {
        (china.pk, op8.pk, Claim.Stance.VIOLATING, Claim.Measure.WORKERS)
    }
    assert page.problems.items == [], "\n".join(page.problems.items)
