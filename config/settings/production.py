"""Production: PostgreSQL, Redis, SMTP. Every secret must come from the environment."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL, env, env_number


def required(name: str, hint: str) -> str:
    """A variable production cannot start without: stop with its name and what to put there."""
    value = env.str(name, default="").strip()
    if not value:
        raise ImproperlyConfigured(f"Production needs {name}: {hint} (see .env.example).")
    return value


SECRET_KEY = required(
    "DJANGO_SECRET_KEY",
    "a long random string, e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'",
)
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure-"):
    raise ImproperlyConfigured(
        "Production needs DJANGO_SECRET_KEY to be a random string of at least 50 characters."
    )
ALLOWED_HOSTS = [
    h.strip()
    for h in required("DJANGO_ALLOWED_HOSTS", "the comma-separated host names served").split(",")
]

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Production needs DATABASE_URL=postgres://... (PostgreSQL).")
if not REDIS_URL:
    raise ImproperlyConfigured("Production needs REDIS_URL=redis://... (broker and cache).")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_number("DJANGO_SECURE_HSTS_SECONDS", int, 60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# A login lasts a working day by default.
SESSION_COOKIE_AGE = env_number("DJANGO_SESSION_COOKIE_AGE", int, 8 * 3600)
