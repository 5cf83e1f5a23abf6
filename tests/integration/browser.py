"""What every real-browser test shares: Debian's chromium through Playwright, a page at
1,400 x 900 that records console errors, CSP violations and failed responses, screenshots as
artefacts (``$TEST_ARTEFACTS_DIR``, default ``var/artefacts``), and a select2 helper.

The fixtures are imported by ``tests/integration/conftest.py``."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
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


def fill_claim(
    page,
    row: int,
    *,
    by: str | None,
    count: int,
    as_of: str,
    summary: str,
    high: int | None = None,
    place: tuple[str, str] = ("China", "China"),
    obligation: tuple[str, str] = ("2397-OP8", "UNSCR2397-OP8"),
) -> None:
    """Fill claim block ``row`` (0-based) of the report form. ``by`` is the source to choose,
    or None for the source described under "New source" on the same page; ``place`` and
    ``obligation`` are (what to type, the option shown), which differ in Korean; the stance
    and the measure are chosen by value, whatever the page's language."""
    prefix = f"id_claims-{row}-"
    if by is None:
        page.check(f"#{prefix}attributed_to_new")
    else:
        choose(page, f"{prefix}attributed_to", by, by)
    choose(page, f"{prefix}place", *place)
    choose(page, f"{prefix}obligation", *obligation)
    page.select_option(f"#{prefix}stance", value="violating")
    page.select_option(f"#{prefix}measure", value="workers")
    page.fill(f"#{prefix}count_low", str(count))
    page.fill(f"#{prefix}count_high", str(count if high is None else high))
    page.fill(f"#{prefix}as_of", as_of)
    page.select_option(f"#{prefix}credibility", value="3")
    page.fill(f"#{prefix}summary", summary)


def log_in(page, username: str, password: str, next_url: str) -> None:
    """Log in through the admin's login form, as a person does (django-axes counts it)."""
    page.goto(f"/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_url}")
