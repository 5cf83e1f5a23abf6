"""``manage.py healthcheck web|beat|all``: the containers' health checks (exit 0 when healthy).

- ``web`` asks the running web process for /healthz/live over loopback, as a client of the
  first allowed host over HTTPS would (so ALLOWED_HOSTS and the HTTPS redirect let it through);
- ``beat`` reads beat's freshness from the database;
- ``all`` runs every probe in this process and prints them as JSON.
"""

import json
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config import health


class Command(BaseCommand):
    help = "Exit 0 when the named part (web, beat, all) is healthy; print why not otherwise."

    def add_arguments(self, parser):
        parser.add_argument("part", choices=["web", "beat", "all"])
        parser.add_argument("--url", default="http://127.0.0.1:8000/healthz/live")

    def handle(self, *args, part, url, **options):
        if part == "web":
            self.web(url)
        elif part == "beat":
            status = health.beat()
            if status != health.OK:
                raise CommandError(f"beat is {status}: it sent no periodic task recently")
            self.stdout.write("beat ok")
        else:
            answer = health.report()
            self.stdout.write(json.dumps(answer))
            if answer["status"] != health.OK:
                raise CommandError("unhealthy: " + json.dumps(answer["checks"]))

    def web(self, url):
        hosts = [h for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith(".")]
        headers = {"X-Forwarded-Proto": "https"}
        if hosts:
            headers["Host"] = hosts[0]
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 (a fixed local URL)
        try:
            with urllib.request.urlopen(request, timeout=health_timeout()) as response:  # noqa: S310
                body = response.read().decode()
        except urllib.error.HTTPError as exc:
            raise CommandError(f"web answered {exc.code}: {exc.read().decode()[:200]}") from None
        except OSError as exc:
            raise CommandError(f"web does not answer at {url}: {exc}") from None
        self.stdout.write(body)


def health_timeout() -> float:
    return max(settings.HEALTH_TIMEOUT * 2, 5.0)
