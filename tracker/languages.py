"""The reader's language: the preference the user set (``Profile.language``), else the
browser's Accept-Language, else English (docs/decisions/i18n.md).

The preference is read from the database once, at login, and kept in the session
(``SESSION_KEY``); every request after that reads it from the session, which the
authentication middleware loads anyway, so a page costs no query more. Changing it (the
switcher on every page, the user's preferences page) updates the session at once; a change
made for another user in the admin applies from their next login.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from .models import Profile

SESSION_KEY = "tracker_language"


def codes() -> set[str]:
    return {code for code, _ in settings.LANGUAGES}


def preferred_language(user) -> str:
    """The language ``user`` chose, or "" (the browser's)."""
    return Profile.objects.filter(user=user).values_list("language", flat=True).first() or ""


def language_set(*, user, language: str) -> Profile:
    """Record ``user``'s choice ("" for the browser's language)."""
    if language and language not in codes():
        raise ValueError(f"{language!r} is not one of the site's languages")
    profile, _ = Profile.objects.update_or_create(user=user, defaults={"language": language})
    return profile


def remember(request, language: str) -> None:
    """Use ``language`` ("" for the browser's) for the rest of this session."""
    request.session[SESSION_KEY] = language


@receiver(user_logged_in)
def remember_preference_at_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        remember(request, preferred_language(user))


class UserLanguageMiddleware(LocaleMiddleware):
    """Django's ``LocaleMiddleware`` (language cookie, Accept-Language, English), preceded by
    the logged-in user's own choice, kept in the session."""

    def process_request(self, request) -> None:
        session = getattr(request, "session", None)
        language = session.get(SESSION_KEY) if session is not None else None
        if language and language in codes():
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)
