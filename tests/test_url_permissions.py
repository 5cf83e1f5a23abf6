"""Every URL pattern, walked as anonymous, a logged-in user without any group, a Viewer and an
Editor: each answer is the one its permission allows, and no URL is forgotten.

A new URL pattern fails ``test_every_url_pattern_is_walked`` until it is given a concrete URL
here, so a view added later cannot escape this test.
"""

import datetime
import re

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from rest_framework.authtoken.models import Token, TokenProxy

from reports import sending
from reports.models import Subscription
from tests.factories import (
    ClaimFactory,
    DocumentFactory,
    UserFactory,
    WatchFactory,
    country,
    obligation,
)
from tracker.models import CheckState, Flag

pytestmark = pytest.mark.django_db

PUBLIC = {"healthz", "healthz/live"}
ROLES = ("anonymous", "outsider", "viewer", "editor")


def patterns(resolver=None, prefix=""):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            yield from patterns(p, prefix + str(p.pattern))
        else:
            assert isinstance(p, URLPattern)
            yield prefix + str(p.pattern)


@pytest.fixture
def world(document_storage):
    """One object of every kind an URL can name."""
    claim = ClaimFactory(place=country("CN"), obligation=obligation("UNSCR2397-OP8"))
    claim.report.title = "A report"
    claim.report.save()  # a second history row
    now = timezone.now()
    flag = Flag.objects.create(
        kind="stale",
        place=country("CN"),
        country=country("CN"),
        fingerprint="walk",
        first_seen=now,
        last_seen=now,
    )
    flag.claims.add(claim)
    CheckState.objects.create(key="CN")
    subscription = Subscription.objects.create(name="Weekly", addresses="a@example.org")
    subscription.countries.add(country("CN"))
    summary = sending.summary_create(
        subscription=subscription,
        period_start=datetime.date(2019, 12, 16),
        period_end=datetime.date(2019, 12, 22),
        enqueue=False,
    )
    owner = UserFactory(username="token-owner")
    attempt = {"username": "someone", "ip_address": "192.0.2.1", "user_agent": "x"}
    return {
        "claim": claim,
        "report": claim.report,
        "reportdocument": DocumentFactory(report=claim.report),
        "source": claim.attributed_to,
        "place": country("CN"),
        "obligation": obligation("UNSCR2397-OP8"),
        "resolution": obligation("UNSCR2397-OP8").resolution,
        "watch": WatchFactory(),
        "flag": flag,
        "checkstate": CheckState.objects.get(key="CN"),
        "subscription": subscription,
        "summary": summary,
        "user": owner,
        "group": Group.objects.get(name="Viewers"),
        "periodictask": PeriodicTask.objects.first(),
        "tokenproxy": TokenProxy.objects.get(key=Token.objects.create(user=owner).key),
        "clockedschedule": ClockedSchedule.objects.create(clocked_time=now),
        "crontabschedule": CrontabSchedule.objects.first(),
        "intervalschedule": IntervalSchedule.objects.first(),
        "solarschedule": SolarSchedule.objects.create(event="sunrise", latitude=0, longitude=0),
        "accessattempt": AccessAttempt.objects.create(**attempt, failures_since_start=1),
        "accesslog": AccessLog.objects.create(**attempt),
        "accessfailurelog": AccessFailureLog.objects.create(**attempt),
    }


def concrete(route: str, objects: dict) -> str | None:
    """The URL of a pattern, its parameters filled with the objects' keys; None: not walked."""
    if "(?P<format>" in route or "<drf_format_suffix:format>" in route:
        return None  # the same views as without the suffix
    admin_model = re.match(r"admin/(\w+)/(\w+)/", route)
    model = admin_model.group(2) if admin_model else None
    obj = objects.get(model)
    if route.startswith("admin/^(?P<app_label>"):
        return "/admin/tracker/"
    if route == "admin/(?P<url>.*)$":
        return "/admin/no-such-page/"
    if route == "admin/r/<path:content_type_id>/<path:object_id>/":
        from django.contrib.contenttypes.models import ContentType

        report = objects["report"]
        return f"/admin/r/{ContentType.objects.get_for_model(report).pk}/{report.pk}/"
    if "/^([^/]+)/history/([^/]+)/$" in route:  # simple_history's view of one past version
        if not obj.history.exists():
            obj.save()  # reference data loaded by a migration has no history row yet
        history_id = obj.history.earliest().history_id
        return f"/{route.split('^')[0]}{obj.pk}/history/{history_id}/"
    if model and obj is None and ("<path:object_id>" in route or "<id>" in route):
        raise AssertionError(f"no object for {route}: add one to the fixture")
    if obj is not None:
        route = route.replace("<path:object_id>", str(obj.pk)).replace("<id>", str(obj.pk))
    if route == "api/^.*$":  # whatever no route of the API matches
        return "/api/no-such-endpoint/"
    if route.startswith("api/^"):
        name = route.removeprefix("api/^").split("/")[0].rstrip("$")
        singular = {"status": None}.get(name, name.removesuffix("s"))
        route = "api/" + route.removeprefix("api/^").rstrip("$")
        if "(?P<pk>" in route:
            route = route.replace("(?P<pk>[^/.]+)", str(objects[singular].pk))
    route = route.replace("documents/<int:pk>/", f"documents/{objects['reportdocument'].pk}/")
    route = route.replace("flags/<int:pk>/", f"flags/{objects['flag'].pk}/")
    route = route.replace("<int:pk>/chart.png", f"{objects['summary'].pk}/chart.png")
    route = route.replace(
        "summaries/preview/<int:pk>/", f"summaries/preview/{objects['subscription'].pk}/"
    )
    route = route.replace("<int:pk>", str(objects["summary"].pk))
    route = route.replace("<str:iso>", "CN")
    assert "<" not in route and "(" not in route, route
    return "/" + route


def expected(url: str, role: str, users: dict) -> set[int]:
    """The answers a role may get at a URL."""
    if url.lstrip("/") in PUBLIC:
        return {200, 503}  # open to all; 503 when a part is down (beat does not run here)
    if url == "/admin/login/":
        return {200} if role in ("anonymous", "outsider") else {302}
    if url == "/language/":
        return {405}  # the language switcher takes a POST, from anyone (test_languages.py)
    if url == "/preferences/":
        return {302} if role == "anonymous" else {200}  # one's own, for any logged-in user
    if url == "/admin/logout/":
        # Logging out is a POST; the admin sends whoever is not staff to its login page first.
        return {405} if role in ("viewer", "editor") else {302, 405}
    api = url.startswith("/api/")
    if role == "anonymous":
        return {401, 403} if api else {302}  # to the login page
    if re.fullmatch(r"/api/flags/\d+/(acknowledge|dismiss|reopen)/", url):
        # A monitor's action on a flag takes a POST, from who may change flags (Editors).
        return {405} if users[role].has_perms(FLAG_ACTION_PERMISSIONS) else {403}
    if url.startswith("/admin/"):
        if role == "outsider":
            return {302}  # not staff: the admin's login page
        return {admin_expected(url, users[role])}
    if url == "/summaries/":
        return {200}  # the archive lists what the user may read: for a recipient, theirs
    if url.startswith("/summaries/") and not url.startswith("/summaries/preview/"):
        # Recipients read what was sent to them; the archive needs view_summary.
        perm = "reports.view_summary"
    elif url.startswith("/summaries/preview/"):
        perm = "reports.view_subscription"
    elif url == "/api/no-such-endpoint/":
        return {404} if users[role].has_perm("tracker.view_claim") else {403}
    elif api or url == "/" or url.startswith(("/countries/", "/flags/")):
        perm = "tracker.view_flag" if "flag" in url or url == "/" else "tracker.view_claim"
    elif url.startswith("/claims/"):
        perm = "tracker.view_claim"
    elif url.startswith("/documents/"):
        return {200} if users[role].has_perms(DOCUMENT_PERMISSIONS) else {403}
    else:
        raise AssertionError(f"no expectation for {url}")
    allowed = users[role].has_perm(perm)
    if url.startswith("/summaries/") and url != "/summaries/" and role == "outsider":
        return {403, 404}  # not a recipient of this summary
    return {200} if allowed else {403}


ADMIN_VIEWS = {
    "": "view",
    "history": "view",
    "change": "view",
    "add": "add",
    "delete": "delete",
}
READ_ONLY_ADMINS = ("tracker/flag", "tracker/checkstate")  # nobody adds or deletes these
FLAG_ACTION_PERMISSIONS = ["tracker.view_flag", "tracker.change_flag"]
# A report's document is added on the report's page, and deleted by who may delete reports.
DOCUMENT_PERMISSIONS = ["tracker.view_report", "tracker.view_reportdocument"]


def admin_expected(url: str, user) -> int:
    if url in ("/admin/", "/admin/tracker/", "/admin/jsi18n/", "/admin/password_change/",
               "/admin/password_change/done/"):  # fmt: skip
        return 200
    if url == "/admin/no-such-page/":
        return 404
    if url.startswith("/admin/r/"):
        return 404  # no model here has a page of its own on the site
    if url == "/admin/autocomplete/":
        return 403  # needs the field it completes
    if url.endswith("/dossier/"):
        return 200 if user.has_perm("tracker.view_claim") else 403
    if url.endswith("/claim/import/"):
        return (
            200 if user.has_perm("tracker.add_claim") and user.has_perm("tracker.change_claim")
            else 403
        )  # fmt: skip
    match = re.match(r"/admin/(\w+)/(\w+)/(?:(\w+)/)?(?:(\w+)/)?(?:(\w+)/)?$", url)
    assert match, url
    app, model, first, second, third = match.groups()
    if first and first.isdigit() and second is None:
        return 302  # the bare object URL redirects to its change page
    if second == "password":
        action = "change"
    elif third:  # .../<pk>/history/<history_id>/: a past version (reverting it is a POST)
        action = "view"
    elif first == "add":
        action = "add"
    else:
        action = ADMIN_VIEWS[second or ""]
    if f"{app}/{model}" in READ_ONLY_ADMINS and action in ("add", "delete"):
        return 403
    if f"{app}/{model}" == "tracker/reportdocument" and action in ("add", "delete"):
        return 200 if action == "delete" and user.has_perm("tracker.delete_report") else 403
    codename = {"tokenproxy": "token"}.get(model, model)
    perms = [f"{app}.{action}_{codename}"]
    if action == "view":
        perms.append(f"{app}.change_{codename}")
    return 200 if any(user.has_perm(p) for p in perms) else 403


@pytest.fixture
def users():
    return {
        "outsider": UserFactory(username="outsider", is_staff=False),
        "viewer": UserFactory(username="walk-viewer", groups=["Viewers"]),
        "editor": UserFactory(username="walk-editor", groups=["Editors"]),
    }


def walk(objects) -> list[str]:
    return [url for route in patterns() if (url := concrete(route, objects))]


def test_every_url_pattern_is_walked(world):
    urls = walk(world)
    assert len(urls) == len(set(urls))
    assert len(urls) > 150


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_as_its_permission_allows(client, world, users, role):
    if role != "anonymous":
        client.force_login(users[role])
    wrong = []
    for url in walk(world):
        response = client.get(url)
        if response.streaming:  # a download holds its file open until it is read to its end
            b"".join(response.streaming_content)
        allowed = expected(url, role, users)
        if response.status_code not in allowed:
            wrong.append(f"{url}: {response.status_code}, expected {sorted(allowed)}")
        if role == "anonymous" and response.status_code == 302 and url != "/admin/logout/":
            assert response["Location"].startswith("/admin/login/"), url
    assert not wrong, "\n".join(wrong)
