"""Dates as sources give them, in a real browser (headless chromium through Playwright): an
Editor types a month and a year into a claim's dates, sees them as given on the claim's page
(with its reference), in the flag's sentence, in English and in Korean.

Screenshots go to ``$TEST_ARTEFACTS_DIR`` (see ``browser.py``)."""

from __future__ import annotations

import datetime

import pytest

from tests.factories import ClaimFactory, SourceFactory, country
from tests.integration.browser import log_in, screenshot
from tracker import checks
from tracker.models import Claim, Flag

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

PASSWORD = "Correct-Horse-Battery-7"
D = datetime.date


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_editor_types_a_month_and_a_year_and_reads_them_as_given(
    browser, live_server, page, editor
):
    editor.set_password(PASSWORD)
    editor.save()
    nkdb = ClaimFactory(
        place=country("CN"), count_low=50_000, as_of=D(2017, 9, 1), as_of_precision="month",
        attributed_to=SourceFactory(name="NKDB"), external_id="NK-1",
    )  # fmt: skip
    kita = ClaimFactory(
        place=country("CN"), count_low=70_000, count_high=80_000, as_of=D(2017, 12, 20),
        attributed_to=SourceFactory(name="KITA"),
    )  # fmt: skip

    # --- the claim's page: the date as given in a text field, the reference read-only ------
    url = f"/admin/tracker/claim/{kita.pk}/change/"
    log_in(page, "editor", PASSWORD, url)
    assert page.input_value("#id_as_of") == "2017-12-20"
    assert f"C-{kita.pk:06d}" in page.locator(".field-reference").inner_text()
    page.fill("#id_as_of", "2017")
    screenshot(page, "dates-claim-change-en")
    page.click("input[name=_continue]")
    page.wait_for_url(f"**{url}")
    assert page.input_value("#id_as_of") == "2017"
    kita.refresh_from_db()
    assert (kita.as_of, kita.as_of_precision) == (D(2017, 1, 1), "year")
    page.fill("#id_as_of", "2017-9-1")
    page.click("input[name=_continue]")
    assert (
        "is not a date: write a day, a month or a year" in page.locator(".errorlist").inner_text()
    )
    screenshot(page, "dates-claim-error-en")

    # --- the flag's sentence says both dates as given ---------------------------------------
    checks.sweep(today=D(2018, 6, 1), keys=["CN"])
    assert Flag.objects.filter(kind="count_conflict").count() == 1
    page.goto("/flags/")
    body = page.locator("body").inner_text()
    assert "(as of September 2017)" in body and "(as of 2017)" in body
    screenshot(page, "dates-flag-en")
    assert not page.problems.items, page.problems.items

    # --- in Korean -------------------------------------------------------------------------
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 900}, locale="ko-KR"
    )
    korean = context.new_page()
    log_in(korean, "editor", PASSWORD, f"/admin/tracker/claim/{nkdb.pk}/change/")
    assert korean.input_value("#id_as_of") == "2017-09"
    screenshot(korean, "dates-claim-change-ko")
    korean.goto("/flags/")
    body = korean.locator("body").inner_text()
    assert "2017년 9월 기준" in body and "2017년 기준" in body
    screenshot(korean, "dates-flag-ko")
    korean.wait_for_load_state("networkidle")
    context.close()
    assert Claim.objects.count() == 2
