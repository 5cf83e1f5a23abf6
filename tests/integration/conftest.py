"""Fixtures of the integration tests: the real-browser ones live in ``browser.py``."""

from tests.integration.browser import browser, page  # noqa: F401
