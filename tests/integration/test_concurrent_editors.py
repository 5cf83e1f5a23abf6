"""Twenty editors log reports at once through the admin, over HTTP, against a real threaded
server and a real Celery worker: no save fails, no claim is lost or doubled, and every country
a save touched is checked after its last save.

``CONCURRENT_EDITORS_SECONDS`` (default 30) sets how long the editors post; ``-s`` shows the
throughput and the latencies.
"""

from __future__ import annotations

import datetime
import http.cookiejar
import os
import random
import re
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import pytest
from django.db.models import Max

from tests.admin_forms import admin_url, report_form
from tests.factories import SourceFactory, UserFactory, country
from tracker import tasks
from tracker.models import CheckRequest, CheckState, Claim, Report, Source

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EDITORS = 20
SECONDS = float(os.environ.get("CONCURRENT_EDITORS_SECONDS", "30"))
PASSWORD = "pw-for-tests-only"  # tests/factories.py: UserFactory
COUNTRIES = ["CN", "RU", "QA", "AE", "KW", "MN", "VN", "LA", "KH", "MY", "PL", "NG", "AO", "SN"]
MEASURES = ["workers", "work_permits"]
STANCES = ["complying", "violating", "partial", "unclear"]
# How long the worker may take, after the last save, to check every country touched.
DRAIN_SECONDS = 180
HTTP_TIMEOUT = 60
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is the answer we check (a saved add form redirects), not one to follow."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


@dataclass
class Editor:
    """One editor's session and what it believes it saved."""

    number: int
    username: str
    base: str
    sources: list[int]
    publisher: int
    countries: dict[str, int]
    opener: urllib.request.OpenerDirector = field(init=False)
    # title -> the claims (as comparable tuples) the editor posted with it
    saved: dict[str, list[tuple]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )
        self.random = random.Random(self.number)

    # --- HTTP -------------------------------------------------------------------------------

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        """(status, Location, body) of a GET, or of a POST when ``data`` is given."""
        body = None if data is None else urllib.parse.urlencode(data, doseq=True).encode()
        req = urllib.request.Request(self.base + path, data=body)  # noqa: S310 (http://localhost)
        try:
            with self.opener.open(req, timeout=HTTP_TIMEOUT) as response:
                return response.status, "", response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers.get("Location", ""), error.read().decode()

    def csrf_token(self, path: str) -> str:
        status, _, body = self.request(path)
        if status != 200:
            raise AssertionError(f"{self.username}: GET {path} answered {status}")
        return CSRF_INPUT.search(body).group(1)

    def log_in(self) -> None:
        token = self.csrf_token("/admin/login/")
        status, location, _ = self.request(
            "/admin/login/",
            {
                "csrfmiddlewaretoken": token,
                "username": self.username,
                "password": PASSWORD,
                "next": "/admin/",
            },
        )
        assert (status, location) == (302, "/admin/"), f"{self.username} could not log in"

    # --- the work ---------------------------------------------------------------------------

    def one_report(self, add_path: str, serial: int) -> None:
        title = f"Concurrent editor {self.number} report {serial}"
        claims = []
        for k in range(self.random.choice((1, 2))):
            iso = self.random.choice(COUNTRIES)
            low = self.random.randrange(100, 100_000)
            high = low + self.random.choice((0, 0, self.random.randrange(1, 5_000)))
            as_of = datetime.date(2019, 1, 1) + datetime.timedelta(self.random.randrange(2000))
            claims.append(
                {
                    "attributed_to": str(self.random.choice(self.sources)),
                    "place": str(self.countries[iso]),
                    "stance": self.random.choice(STANCES),
                    "measure": self.random.choice(MEASURES),
                    "count_low": str(low),
                    "count_high": str(high),
                    "as_of": as_of.isoformat(),
                    "credibility": str(self.random.randrange(1, 7)),
                    "summary": f"{title} claim {k}",
                }
            )
        data = report_form(_Pk(self.publisher), claims, title=title)
        data["csrfmiddlewaretoken"] = self.csrf_token(add_path)
        started = time.perf_counter()
        status, location, body = self.request(add_path, data)
        self.latencies.append(time.perf_counter() - started)
        if status != 302 or location != admin_url(Report, "changelist"):
            errors = re.findall(r'class="errorlist[^"]*">(.*?)</ul>', body, re.S)
            self.errors.append(f"{title}: {status} {location} {errors[:3] or body[:300]}")
            return
        self.saved[title] = sorted(
            (
                int(c["attributed_to"]),
                int(c["place"]),
                c["stance"],
                c["measure"],
                int(c["count_low"]),
                int(c["count_high"]),
                datetime.date.fromisoformat(c["as_of"]),
                int(c["credibility"]),
                c["summary"],
            )
            for c in claims
        )

    def run(self, start: threading.Barrier, clock: dict[str, float]) -> None:
        try:
            self.log_in()
            add_path = admin_url(Report, "add")
            start.wait(timeout=120)
            serial = 0
            while time.monotonic() < clock["until"]:
                self.one_report(add_path, serial)
                serial += 1
        except Exception as error:  # a thread's failure is reported, not lost
            self.errors.append(f"{self.username}: {type(error).__name__}: {error}")


@dataclass
class _Pk:
    pk: int


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def test_twenty_editors_save_at_once_and_every_country_is_checked(live_server, live_worker):
    sources = [SourceFactory(name=f"Concurrency source {i}").pk for i in range(6)]
    publisher = SourceFactory(name="Concurrency Daily", kind=Source.Kind.NEWS).pk
    countries = {iso: country(iso).pk for iso in COUNTRIES}
    editors = [
        Editor(
            number=i,
            username=UserFactory(username=f"concurrent-editor-{i}", groups=["Editors"]).username,
            base=live_server.url,
            sources=sources,
            publisher=publisher,
            countries=countries,
        )
        for i in range(EDITORS)
    ]

    # The clock starts once every editor has logged in (the barrier's action sets it).
    clock: dict[str, float] = {}

    def start_clock() -> None:
        clock["began"] = time.monotonic()
        clock["until"] = clock["began"] + SECONDS

    start = threading.Barrier(EDITORS + 1, action=start_clock)
    threads = [
        threading.Thread(target=e.run, args=(start, clock), name=e.username, daemon=True)
        for e in editors
    ]
    for thread in threads:
        thread.start()
    start.wait(timeout=120)
    for thread in threads:
        thread.join(timeout=SECONDS + 2 * HTTP_TIMEOUT)
    elapsed = time.monotonic() - clock["began"]
    assert not any(t.is_alive() for t in threads), "an editor is still posting"

    # --- no HTTP error: every POST redirected as a successful save --------------------------
    errors = [e for editor in editors for e in editor.errors]
    assert errors == [], f"{len(errors)} failed saves, e.g. {errors[:5]}"

    # --- every report exists once, with exactly its claims -----------------------------------
    saved = {title: claims for editor in editors for title, claims in editor.saved.items()}
    assert saved, "no editor saved anything"
    stored: dict[str, list[tuple]] = {}
    report_ids: dict[str, list[int]] = {}
    for report_id, title in Report.objects.filter(
        title__startswith="Concurrent editor "
    ).values_list("pk", "title"):
        report_ids.setdefault(title, []).append(report_id)
    doubled = {t: ids for t, ids in report_ids.items() if len(ids) > 1}
    assert doubled == {}, f"reports saved twice: {list(doubled)[:5]}"
    assert set(report_ids) == set(saved), "reports the editors saved and those stored differ"
    for row in Claim.objects.filter(report__title__startswith="Concurrent editor ").values_list(
        "report__title",
        "attributed_to_id",
        "place_id",
        "stance",
        "measure",
        "count_low",
        "count_high",
        "as_of",
        "credibility",
        "summary",
    ):
        stored.setdefault(row[0], []).append(tuple(row[1:]))
    for editor in editors:
        for title, claims in editor.saved.items():
            assert sorted(stored.get(title, [])) == claims, f"{editor.username}: {title}"
    assert Report.objects.filter(logged_by__username__startswith="concurrent-editor-").count() == (
        len(saved)
    )

    # --- every touched country is checked after its last save --------------------------------
    place_to_iso = {pk: iso for iso, pk in countries.items()}
    last_save = {
        place_to_iso[place]: at
        for place, at in Claim.objects.filter(report__title__startswith="Concurrent editor ")
        .values("place_id")
        .annotate(at=Max("updated_at"))
        .values_list("place_id", "at")
    }
    # The worker serves one queue in order: when a ping sent now comes back, every check the
    # saves enqueued has run (and none is left to run against the next test's database).
    drain_started = time.monotonic()
    assert tasks.ping.delay().get(timeout=DRAIN_SECONDS) == "pong"
    assert CheckRequest.objects.count() == 0, "check requests the worker did not serve"
    checked = dict(
        CheckState.objects.filter(key__in=last_save).values_list("key", "last_checked_at")
    )
    behind = {
        iso: (checked.get(iso), at)
        for iso, at in last_save.items()
        if checked.get(iso) is None or checked[iso] < at
    }
    assert behind == {}, "countries not checked since their last save (checked, saved)"
    drain = time.monotonic() - drain_started
    failed = dict(
        CheckState.objects.filter(key__in=last_save)
        .exclude(last_error="")
        .values_list("key", "last_error")
    )
    assert failed == {}

    latencies = [x for editor in editors for x in editor.latencies]
    n_claims = sum(len(c) for c in saved.values())
    print(
        f"\n{EDITORS} editors for {elapsed:.1f} s: {len(saved)} reports ({n_claims} claims, "
        f"{len(last_save)} countries) saved, {len(saved) / elapsed:.1f} saves/s; POST latency "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms; the worker caught up {drain:.1f} s after the "
        "last save"
    )
