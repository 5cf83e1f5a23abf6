"""The claim page and the admin's claim list as a monitor sees them after issue 32, in English
and in Korean (headless chromium): the place asked by name (no drop-down of every place), a
search, the admin's date hierarchy over the years spanned, and an export link. Every page must
load without a console error or a Content-Security-Policy violation. Screenshots go to
``$TEST_ARTEFACTS_DIR``."""

from __future__ import annotations

import datetime

import pytest

from tests.factories import ClaimFactory, PlaceFactory, SourceFactory, country
from tests.integration.browser import log_in, screenshot
from tracker import languages

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

PASSWORD = "Correct-Horse-Battery-7"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_claim_page_and_admin_list_by_name_and_search(page, editor, language):
    editor.set_password(PASSWORD)
    editor.save()
    languages.language_set(user=editor, language=language)
    liaoning = PlaceFactory(name="Liaoning", name_ko="랴오닝성", parent=country("CN"))
    ministry = SourceFactory(name="Ministry of Unification", aliases="통일부")
    for i in range(6):
        ClaimFactory(
            place=liaoning if i % 2 else country("RU"),
            attributed_to=ministry,
            as_of=datetime.date(2019 + i, 3, 1),
            count_low=1000 * (i + 1),
            count_high=1000 * (i + 1),
            summary=f"파견 노동자 {i}",
        )
    log_in(page, "editor", PASSWORD, "/claims/")

    page.fill("#id_place_name", "랴오닝" if language == "ko" else "Liaoning")
    page.click("form.filters input[type=submit]")
    page.wait_for_load_state()
    assert page.locator("table tr").count() == 1 + 3
    assert page.locator("#id_place_name").input_value()
    screenshot(page, f"pages-claims-by-place-name-{language}")

    page.goto("/claims/?q=통일부")
    assert page.locator("table tr").count() == 1 + 6
    screenshot(page, f"pages-claims-search-{language}")

    page.goto("/admin/tracker/claim/?q=랴오닝")
    assert page.locator("#result_list tbody tr").count() == 3
    screenshot(page, f"pages-admin-claims-search-{language}")
    page.goto("/admin/tracker/claim/")
    hierarchy = page.locator(".toplinks").first
    assert "2019" in hierarchy.inner_text() and "2024" in hierarchy.inner_text()
    screenshot(page, f"pages-admin-claims-{language}")
    assert not page.problems.items, page.problems.items
