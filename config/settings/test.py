"""Settings for the test suite: the database comes from DATABASE_URL (PostgreSQL or SQLite)."""

from .base import *  # noqa: F403

# Not a secret: it signs nothing outside the test run.
SECRET_KEY = "test-only-not-a-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Manifest storage needs collectstatic; the tests serve plain files.
STORAGES = {
    **STORAGES,  # noqa: F405  (the documents' storage, as configured)
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files are not collected in tests; whitenoise would warn about the missing folder.
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405
