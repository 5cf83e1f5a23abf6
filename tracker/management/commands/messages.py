"""``manage.py messages``: the project's Korean catalogue brought up to date with the source
(``makemessages``), then compiled (``compilemessages``); ``make messages`` runs it.

One catalogue for the whole project, ``locale/ko/LC_MESSAGES/django.po`` (``LOCALE_PATHS``),
with its compiled ``django.mo`` committed beside it, so that neither ``make run`` nor the
Docker image needs GNU gettext (docs/decisions/i18n.md). The options live here so that the
translation-completeness test extracts exactly as this command does.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

LOCALES = ["ko"]
# Folders holding no string a user reads: tests and benchmarks write English on purpose.
IGNORED = [".venv", "var", "tests", "bench", "docs", "scripts", "build", "*.egg-info"]
MAKEMESSAGES_OPTIONS = {
    "locale": LOCALES,
    "domain": "django",
    "ignore_patterns": IGNORED,
    # A file's name but no line numbers, and no wrapping: an edit elsewhere in a file does not
    # rewrite the catalogue, and branches that add strings merge without conflicts.
    "add_location": "file",
    "no_wrap": True,
    "no_obsolete": True,
}


class Command(BaseCommand):
    help = "Update locale/ko/LC_MESSAGES/django.po from the source, then compile django.mo."

    def handle(self, *args, **options) -> None:
        call_command("makemessages", verbosity=options["verbosity"], **MAKEMESSAGES_OPTIONS)
        for locale in LOCALES:
            without_creation_date(catalogue(locale))
        call_command(
            "compilemessages",
            locale=LOCALES,
            ignore_patterns=IGNORED,
            verbosity=options["verbosity"],
        )


def catalogue(locale: str, base: Path | None = None) -> Path:
    """The project's catalogue of ``locale`` (under ``LOCALE_PATHS[0]``, or ``base``)."""
    return Path(base or settings.LOCALE_PATHS[0]) / locale / "LC_MESSAGES" / "django.po"


def without_creation_date(path: Path) -> None:
    """Drop the header's POT-Creation-Date, which every run rewrites: a catalogue changes only
    when its messages do."""
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r'^"POT-Creation-Date: [^"]*"\n', "", text, flags=re.M), "utf-8")
