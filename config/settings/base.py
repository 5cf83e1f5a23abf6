"""Settings shared by every deployment; everything that varies is read from the environment.

Without any variable set, the project runs on the *embedded default*: a SQLite file and a
Celery broker kept in a folder (kombu's filesystem transport), both under ``TRACKER_VAR_DIR``.
With ``DATABASE_URL`` and ``REDIS_URL`` set it uses PostgreSQL and Redis.
"""

import os
from pathlib import Path
from typing import Any, TypeVar

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=True) and (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))


Number = TypeVar("Number", int, float)


def env_number(name: str, cast: type[Number], default: Number) -> Number:
    """A numeric variable; a malformed value stops start-up with the variable's name."""
    raw = env.str(name, default="").strip()
    if not raw:
        return default
    try:
        return cast(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a valid {cast.__name__} (default: {default})."
        ) from None


# Where the embedded default keeps its state: database, broker queue, mail, static files.
VAR_DIR = Path(env.str("TRACKER_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()

# --- core -------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.apps.TrackerAdminConfig",  # django.contrib.admin with our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "simple_history",
    "django_celery_beat",
    "tracker",
    "reports",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The reader's language: their preference, else the browser's Accept-Language, else English
    # (tracker/languages.py).
    "tracker.languages.UserLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Records who made each change in the history tables.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Login throttling; last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------------
# An empty DATABASE_URL is the same as none: the embedded SQLite file.
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="").strip() or f"sqlite:///{VAR_DIR / 'tracker.sqlite3'}"
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The embedded default has three processes (web, worker, beat) writing one file:
    # WAL lets readers go on during a write, IMMEDIATE takes the write lock at BEGIN so a
    # transaction never fails half-way on an upgrade, and the timeout waits out the others.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The claims' counts index INCLUDEs columns for PostgreSQL's index-only scans; SQLite builds
    # it without them, and said so (models.W040) at every command a new user ran.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_number("DATABASE_CONN_MAX_AGE", int, 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache and broker -------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: messages are files in one folder shared by every process.
    (BROKER_DIR / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "processed_folder": str(BROKER_DIR / "processed"),
        # The exchange tables; kombu's default is a "control" folder in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A message a killed worker held is delivered again after this many seconds: longer than
    # the longest task may run (CELERY_TASK_TIME_LIMIT), shorter than Redis's default hour.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 35 * 60}
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND",
    default=REDIS_URL or f"file://{VAR_DIR / 'celery-results'}",
)
if CELERY_RESULT_BACKEND.startswith("file://"):
    Path(CELERY_RESULT_BACKEND.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_EXPIRES = 24 * 3600
# Tasks write their outcome to the database; only the liveness probe returns a result.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A check whose process dies (OOM killer, segfault) goes back on the queue instead of being
# acknowledged: the checks are safe to run twice (acks_late), a lost sweep check is not.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat writes each task's last_run_at as soon as it sends it: /healthz reads beat's freshness there.
CELERY_BEAT_SYNC_EVERY = 1
CELERY_TIMEZONE = "UTC"

# --- auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out client before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# After AXES_FAILURE_LIMIT failed logins for one user name from one address, that pair is
# locked out for AXES_COOLOFF_HOURS (429). A successful login clears the count.
AXES_FAILURE_LIMIT = env_number("AXES_FAILURE_LIMIT", int, 5)
AXES_COOLOFF_TIME = env_number("AXES_COOLOFF_HOURS", float, 1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind this many reverse proxies, the client's address is read from X-Forwarded-For.
AXES_IPWARE_PROXY_COUNT = env_number("DJANGO_PROXY_COUNT", int, 0) or None
# The passwords of failed attempts are never stored (axes masks them); nor are other fields.
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2"]

# --- security headers -------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Content security policy (django-csp): scripts and everything else only from this site, no
# inline script, no framing, forms post only here. Inline *styles* stay allowed: the admin's
# templates use style attributes, which no nonce can cover.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- i18n -------------------------------------------------------------------------------------
# English and Korean for every string a user reads (docs/design.md section 6, item 6); English
# is the default. The project's catalogue is locale/ko/LC_MESSAGES/django.po, with its compiled
# .mo committed beside it (`make messages` updates both; docs/decisions/i18n.md says why).
LANGUAGE_CODE = "en"
# Dates as our monitors write them ("23 December 2019"); Korean keeps Django's own formats.
FORMAT_MODULE_PATH = ["config.formats"]
LANGUAGES = [("en", "English"), ("ko", "Korean")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- static files -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- documents attached to reports ------------------------------------------------------------
# The files kept with the evidence (tracker.documents), in Django's storage under their own
# alias: a folder under the var dir on the embedded default, an S3-compatible bucket through
# django-storages when TRACKER_DOCUMENTS_S3_BUCKET is set. Either way they are served only
# through the tracker's download view, which checks who may see the report: never a public URL.
# Every upload is hashed as it arrives (the documents keep that SHA-256): Django's own two
# handlers, each feeding a hash.
FILE_UPLOAD_HANDLERS = [
    "tracker.uploads.HashingMemoryFileUploadHandler",
    "tracker.uploads.HashingTemporaryFileUploadHandler",
]
TRACKER_DOCUMENT_MAX_BYTES = env_number("TRACKER_DOCUMENT_MAX_BYTES", int, 50_000_000)
DOCUMENTS_S3_BUCKET = env.str("TRACKER_DOCUMENTS_S3_BUCKET", default="").strip()
if DOCUMENTS_S3_BUCKET:
    STORAGES["documents"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": DOCUMENTS_S3_BUCKET,
            # Empty: AWS itself; else the S3-compatible service (MinIO, Ceph, a cloud's).
            "endpoint_url": env.str("TRACKER_DOCUMENTS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("TRACKER_DOCUMENTS_S3_REGION", default="") or None,
            # Empty: boto3's own chain (AWS_* variables, a profile, the machine's role).
            "access_key": env.str("TRACKER_DOCUMENTS_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("TRACKER_DOCUMENTS_S3_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("TRACKER_DOCUMENTS_S3_PREFIX", default="documents"),
            # Private objects (the bucket's default ACL), never replaced by a later upload.
            "default_acl": None,
            "file_overwrite": False,
            # Whoever reaches an object around the tracker still gets a download, not a page.
            "object_parameters": {"ContentDisposition": "attachment"},
        },
    }
else:
    STORAGES["documents"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Read-only on disk: a stored document is never altered (a correction is a new file).
        "OPTIONS": {"location": VAR_DIR / "documents", "file_permissions_mode": 0o440},
    }

# --- email ------------------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    # smtp://user:password@host:25, smtp+tls://...:587, smtp+ssl://...:465, consolemail://
    _email = env.email_url("EMAIL_URL")
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
    EMAIL_PORT = _email["EMAIL_PORT"] or 25
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
    EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
else:
    # The embedded default writes each email as a file (one per message) under var/mail.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_TIMEOUT = env_number("EMAIL_TIMEOUT", int, 30)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="tracker@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- the API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "tracker.api.schema.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sanctions-deadline compliance tracker API",
    "DESCRIPTION": "Evidence on DPRK workers abroad, the flags the checks raise, and the "
    "compliance status of each (country, obligation) pair.",
    "VERSION": "1",
    "SERVE_PERMISSIONS": ["tracker.api.permissions.ReadsEvidence"],
    # Requests and responses differ (ids a redacted claim shows as null, read-only fields):
    # separate components, so each says what it holds (tracker/api/schema.py).
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema describes the API, not itself.
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies are JSON. The browsable API's HTML forms post forms too, with the forms'
    # own reading (an empty optional field is not given), which is not the API's contract.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # A flag's status and a (country, obligation) pair's status are two enums of one name.
    "ENUM_NAME_OVERRIDES": {
        "FlagStatusEnum": "tracker.models.FlagStatus",
        "ComplianceStatusEnum": "reports.status.STATUSES",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- summaries --------------------------------------------------------------------------------
# Links in the summaries point here (the admin, the archive).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
SUMMARY_SEND_ATTEMPTS = env_number("SUMMARY_SEND_ATTEMPTS", int, 5)
SUMMARY_RETRY_BACKOFF = env_number("SUMMARY_RETRY_BACKOFF", float, 30.0)  # seconds, doubled
SUMMARY_SENDING_STUCK_MINUTES = env_number("SUMMARY_SENDING_STUCK_MINUTES", int, 15)

# --- the domain -------------------------------------------------------------------------------
# Two claims are comparable when their as_of dates lie within this many days (docs/design.md §3.1).
TRACKER_COMPARISON_WINDOW_DAYS = env_number("TRACKER_COMPARISON_WINDOW_DAYS", int, 180)
# Relative tolerance before two counts are said to disagree (docs/design.md §3.1).
TRACKER_COUNT_TOLERANCE = env_number("TRACKER_COUNT_TOLERANCE", float, 0.10)
# After the repatriation deadline, a later, lower count is progress unless the two are at
# most this many days apart (they then describe the same moment): docs/design.md §3.1.
TRACKER_SAME_MOMENT_DAYS = env_number("TRACKER_SAME_MOMENT_DAYS", int, 31)
# Processes a sweep in this process (``manage.py runchecks``) checks its batches in, on
# PostgreSQL: the rules run in Python, one core per process.
TRACKER_SWEEP_PROCESSES = env_number(
    "TRACKER_SWEEP_PROCESSES",
    int,
    # The cores this process may use (a container's CPU set), at most 4.
    min(
        4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    ),
)
# A sweep's batch of countries (one transaction, holding their locks) closes once their claims
# reach this many.
TRACKER_SWEEP_BATCH_CLAIMS = env_number("TRACKER_SWEEP_BATCH_CLAIMS", int, 50_000)
# Spreadsheet imports: the largest file, the longest cell and the most rows below the header
# accepted (a workbook may also unpack to ten times the largest file, no more).
TRACKER_IMPORT_MAX_BYTES = env_number("TRACKER_IMPORT_MAX_BYTES", int, 20_000_000)
TRACKER_IMPORT_MAX_CELL = env_number("TRACKER_IMPORT_MAX_CELL", int, 10_000)
TRACKER_IMPORT_MAX_ROWS = env_number("TRACKER_IMPORT_MAX_ROWS", int, 100_000)

# --- health (/healthz) ------------------------------------------------------------------------
# Seconds a probe waits for the broker; beat is stale when it sent nothing for this long.
HEALTH_TIMEOUT = env_number("HEALTH_TIMEOUT", float, 2.0)
HEALTH_BEAT_MAX_AGE = env_number("HEALTH_BEAT_MAX_AGE", int, 300)

# --- logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}
