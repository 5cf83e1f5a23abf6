"""Login throttling, CSRF on every form and session-authenticated API write, and the headers
every answer carries."""

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"


def login(client, username, password):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_a_successful_login_goes_through(client, editor):
    assert login(client, "editor", PASSWORD).status_code == 302


def test_repeated_failed_logins_lock_the_account_out_from_that_address(client, editor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "editor", "wrong").status_code == 200  # the form, with its error
    response = login(client, "editor", "wrong")
    assert response.status_code == 429
    # Locked: the right password no longer helps until the cool-off ends.
    assert login(client, "editor", PASSWORD).status_code == 429
    # Another user from the same address is not locked out.
    UserFactory(username="colleague", groups=["Editors"])
    assert login(client, "colleague", PASSWORD).status_code == 302


def test_a_failed_login_never_stores_the_password_tried(client, editor):
    from axes.models import AccessAttempt

    login(client, "editor", "Hunter2-secret")
    attempt = AccessAttempt.objects.get(username="editor")
    assert "Hunter2-secret" not in attempt.post_data


def test_admin_forms_refuse_a_post_without_the_csrf_token(editor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post("/admin/tracker/report/add/", {"title": "x"})
    assert response.status_code == 403
    assert b"CSRF" in response.content


def test_the_api_refuses_a_session_write_without_the_csrf_token(editor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post("/api/reports/", {"title": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_every_answer_carries_the_security_headers(client, editor):
    client.force_login(editor)
    for url in ("/", "/admin/", "/api/docs/", "/healthz/live"):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp, url
        assert "frame-ancestors 'none'" in csp, url
        assert "object-src 'none'" in csp, url
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0], url
        assert response["X-Frame-Options"] == "DENY", url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url


def test_the_api_page_runs_no_inline_script(client, editor):
    client.force_login(editor)
    page = client.get("/api/docs/").content.decode()
    assert "<script>" not in page.replace(" ", "")
