"""The browsable API never names confidential material to a user without the permission: for
every endpoint of the router (tracker/api/urls.py, enumerated, so a new endpoint is walked by
itself), its HTML list page, the detail page of every source, report, claim and flag (and of a
few of the rest), a 404 page and its OPTIONS answer, as a Viewer, an Editor and a user with no
group. The forms on those pages (the drop-downs of every relation, the filters) are where names
leaked (issue 27). The canary is planted by tests/test_confidential_canary.py's fixture; a
trusted Editor walking the same pages does meet it.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests import test_confidential_canary as canary
from tracker import visibility
from tracker.api.urls import router
from tracker.models import Flag

pytestmark = pytest.mark.django_db

# The same canary, planted the same way, walked by the same users.
planted, walker = canary.planted, canary.walker
SECRETS = (canary.CANARY.encode(), canary.CANARY_DATE.isoformat().encode())
MISSING_ID = 999_999
OTHER_DETAILS = 3  # detail pages walked per endpoint whose rows are never confidential
HTML = {"HTTP_ACCEPT": "text/html"}


def browsable_api_pages(client) -> dict[str, bytes]:
    """Every page of the browsable API the walk reaches, by URL, with what it answered."""
    pages = {"/api/": client.get("/api/", **HTML).content}
    for prefix, viewset, _basename in router.registry:
        urls = [f"/api/{prefix}/"]
        if hasattr(viewset, "retrieve"):
            model = viewset.queryset.model
            ids = model._default_manager.order_by("pk").values_list("pk", flat=True)
            if not visibility.guards(model) and model is not Flag:  # a flag's text names
                ids = ids[:OTHER_DETAILS]
            urls += [f"/api/{prefix}/{pk}/" for pk in ids] + [f"/api/{prefix}/{MISSING_ID}/"]
        for url in urls:
            response = client.get(url, **HTML)
            assert response.status_code in (200, 403, 404), url
            assert response["Content-Type"].startswith("text/html"), url
            pages[url] = response.content
            pages[f"OPTIONS {url}"] = client.options(url).content
    assert len(pages) > 2 * len(router.registry)
    return pages


def canary_pages(pages: dict[str, bytes], secrets=SECRETS) -> list[str]:
    return [url for url, body in pages.items() if any(secret in body for secret in secrets)]


def test_the_browsable_api_never_names_the_canary(planted, walker):
    assert not canary_pages(browsable_api_pages(walker))


def test_an_editor_is_shown_the_forms_the_walk_looks_into(planted, editor_client):
    pages = browsable_api_pages(editor_client)
    assert b'name="attributed_to"' in pages["/api/claims/"]
    assert b'name="report"' in pages[f"/api/claims/{MISSING_ID}/"]
    assert b'name="publisher"' in pages[f"/api/reports/{MISSING_ID}/"]


def test_a_trusted_editor_meets_the_canary_on_the_same_pages(planted, trusted_editor):
    client = Client()
    client.force_login(trusted_editor)
    found = canary_pages(browsable_api_pages(client), secrets=SECRETS[:1])
    assert {"/api/claims/", "/api/sources/", "/api/reports/", f"/api/claims/{MISSING_ID}/"} <= set(
        found
    )
