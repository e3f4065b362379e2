"""Settings shared by every environment, read from the environment (12-factor).

Each value can also be given as ``<NAME>_FILE`` pointing at a file holding the secret
(docker/k8s secrets), which django-environ supports natively with ``env.smart_cast``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("BSP_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def env_secret(name: str, default: str = "") -> str:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE``."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


INSECURE_SECRET_KEY = "insecure-dev-only-secret-key-do-not-use-in-production"  # noqa: S105

SECRET_KEY = env_secret("SECRET_KEY", default=INSECURE_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
DEMO = False  # bsp.settings.dev turns it on
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Fernet key(s) for secrets at rest (access tokens, app secrets). Comma-separated: the
# first encrypts, all decrypt, so keys can be rotated.
FIELD_ENCRYPTION_KEY = env_secret("FIELD_ENCRYPTION_KEY", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Redoc served from our static files: the docs work offline
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "django_htmx",  # request.htmx: partial page updates (htmx, a static file of ours)
    "tenants",
    "bsp.events",
    "records",
    "messaging",
    "messaging.campaigns",
    "messaging.consent",
    "templates_mgr",
    "inbox",
    "inbox.analytics",
    "bsp.integrations",
    "frontend",
    "bsp.apps.BspConfig",  # start-up checks of the configuration (bsp/checks.py)
]

MIDDLEWARE = [
    "bsp.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "bsp.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "bsp.security.NoStoreWhenSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "tenants.middleware.AgencyMiddleware",
    "tenants.middleware.MfaRequiredMiddleware",
]

ROOT_URLCONF = "bsp.urls"
WSGI_APPLICATION = "bsp.wsgi.application"
ASGI_APPLICATION = "bsp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend" / "templates"],  # allauth overrides win over allauth
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.agency",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# DATABASE_URL is the *application* role: an ordinary role subject to row-level security.
# Migrations run as the owner role (DATABASE_OWNER_URL, see README "Database roles").
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'civic-relay.sqlite3'}"
    ),
}
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="civic_app")


def forget_agency_scope(conn: Any) -> None:
    """The pool's ``reset``: a connection goes back with no agency scope. tenants.db sets the
    scope again before the next checkout's first statement anyway; this makes a statement that
    bypasses it (the raw psycopg connection) see no agency's rows instead of the last one's."""
    conn.execute(
        "SELECT set_config('app.agency_id', '', false),"
        " set_config('app.all_agencies', 'off', false)"
    )
    if not conn.autocommit:
        conn.commit()  # the pool discards a connection its reset leaves in a transaction


def database_pool_options(max_size: int) -> dict[str, Any]:
    """Django's psycopg pool (``OPTIONS["pool"]``, Django 5.1+) for one process."""
    return {"min_size": 1, "max_size": max_size, "timeout": 10, "reset": forget_agency_scope}


def _use_rls_backend(databases: dict) -> None:
    """PostgreSQL connections go through our backend, which applies the agency scope.

    ``DATABASE_POOL_MAX_SIZE`` > 0 gives the process a connection pool of that size instead of
    persistent connections. For web under ASGI: each request's sync code runs in a thread of
    its own, so a persistent connection is never reused and every request paid ~37 ms for a
    new connection (BENCHMARKS.md, "The whole loop"). Workers keep persistent connections."""
    pool_size = env.int("DATABASE_POOL_MAX_SIZE", default=0)
    for config in databases.values():
        if config["ENGINE"] == "django.db.backends.postgresql":
            config["ENGINE"] = "tenants.db"
            if pool_size > 0:
                config["CONN_MAX_AGE"] = 0  # Django refuses persistent connections with a pool
                config.setdefault("OPTIONS", {})["pool"] = database_pool_options(pool_size)
            else:
                config.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
            config.setdefault("CONN_HEALTH_CHECKS", True)


_use_rls_backend(DATABASES)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, broker --------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # Several demo processes (web, worker) share login-throttling counters through disk.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# "localhost" only so that kombu does not warn about a missing host on every connection.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost//")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # A server-less broker for the demo: kombu's filesystem transport, one folder per queue.
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("out", "processed", "control", "staging"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    # kombu's transport with atomic writes (a worker could read a half-written message).
    CELERY_BROKER_TRANSPORT = "bsp.demo_broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "staging_folder": str(_broker_dir / "staging"),
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange tables (and the workers' control channel): kombu's default is ./control.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Must exceed the longest countdown/ETA we schedule, or Redis redelivers the task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    }
# Integrator webhooks (bsp.integrations). Targets must be https and public addresses
# (SSRF); WEBHOOK_ALLOW_HTTP / WEBHOOK_ALLOWED_NETWORKS relax that for development, the
# demo and tests (e.g. "127.0.0.1/32"), never in production.
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_CONCURRENCY = env.int("WEBHOOK_CONCURRENCY", default=16)  # POSTs in flight per drain
WEBHOOK_DRAIN_SHARDS = env.int("WEBHOOK_DRAIN_SHARDS", default=2)  # parallel drains
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=3600.0)
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)
WEBHOOK_DISABLE_AFTER_HOURS = env.int("WEBHOOK_DISABLE_AFTER_HOURS", default=24)
# Finished deliveries (delivered or given up) stay in the admins' delivery log this long.
WEBHOOK_DELIVERY_RETENTION_DAYS = env.int("WEBHOOK_DELIVERY_RETENTION_DAYS", default=30)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Auth, allauth, MFA ---------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "frontend:home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "tenants.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    # allauth's throttles: failed logins per IP and per account, password resets.
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Civic Relay"
MFA_TOTP_TOLERANCE = 1  # accept the previous/next 30 s step: clock skew and typing time
MFA_ADAPTER = "tenants.adapters.MFAAdapter"  # TOTP secrets encrypted at rest (tenants/crypto.py)
USERSESSIONS_TRACK_ACTIVITY = True

# Sessions expire after a period of inactivity (the cookie is refreshed on each request).
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Email ----------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Civic Relay <no-reply@localhost>")

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.api.permissions.IsAgencyMember"],
    "DEFAULT_SCHEMA_CLASS": "tenants.api.schema.ApiAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "tenants.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "tenants.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Civic Relay API",
    "DESCRIPTION": "Multi-tenant WhatsApp Business platform for government agencies.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # drf-spectacular-sidecar: the docs load Swagger UI from our static files, and ask no
    # online validator for a badge (the docs work offline, under our CSP).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No deep links: Swagger UI puts each one inside its summary button (axe:
    # nested-interactive, a link no keyboard or screen reader can reach on its own).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False, "validatorUrl": None},
    # Several resources have a `status` field of their own: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "ConversationStatusEnum": "messaging.models.Conversation.Status",
        "ConsentStatusEnum": "messaging.models.Consent.Status",
    },
}
# --- REST API (tenants/api) -----------------------------------------------------------
# OAuth 2.0 access tokens (client credentials) live this long.
API_ACCESS_TOKEN_SECONDS = env.int("API_ACCESS_TOKEN_SECONDS", default=600)
# Each API credential's token bucket: requests per second and burst (a credential's own
# rate_limit_per_second / rate_limit_burst, set in the admin, override these).
API_RATE_LIMIT_PER_SECOND = env.float("API_RATE_LIMIT_PER_SECOND", default=100.0)
API_RATE_LIMIT_BURST = env.int("API_RATE_LIMIT_BURST", default=200)
# Idempotency-Key records are honoured (and then purged) for this long.
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)

# --- Response headers -----------------------------------------------------------------
# No inline scripts or styles anywhere in the staff UI: scripts (htmx included) and styles
# are static files. The QR code of TOTP enrollment is a data: image.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Features the staff UI never uses (bsp.security.PermissionsPolicyMiddleware): an empty
# allowlist denies them to the page and to anything it frames.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "camera": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
}

# --- Storage --------------------------------------------------------------------------
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local")
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"
AWS_STORAGE_BUCKET_NAME = env.str("S3_BUCKET", default="civic-relay")
AWS_S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME = env.str("S3_REGION", default="us-east-1")
AWS_ACCESS_KEY_ID = env_secret("S3_ACCESS_KEY_ID", default="")
AWS_SECRET_ACCESS_KEY = env_secret("S3_SECRET_ACCESS_KEY", default="")
STATIC_URL = "/static/"
STATIC_ROOT: Path | None = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if STORAGE_BACKEND == "s3":
    # django-storages' S3 backend reads the AWS_* settings above.
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}
    AWS_DEFAULT_ACL = None
    AWS_S3_FILE_OVERWRITE = False
    AWS_QUERYSTRING_AUTH = True

# --- Records: signed checkpoints (records.signing, records.archive) --------------------
# The Ed25519 key that signs checkpoints: never in the database. The environment gives the
# key inline (PEM or base64 seed) or, as every secret here, RECORDS_SIGNING_KEY_FILE=<path of a
# PKCS#8 PEM file> (a mounted secret; `manage.py records_keygen PATH` makes one).
RECORDS_SIGNING_KEY = env_secret("RECORDS_SIGNING_KEY", default="")
RECORDS_SIGNING_KEY_FILE = ""  # a path read at first use (the demo's generated key)
RECORDS_SIGNING_KEY_GENERATE = False  # only the demo creates its key on first use
# Public keys (PEM file paths) of earlier signing keys: checkpoints they signed still verify.
RECORDS_RETIRED_PUBLIC_KEYS = env.list("RECORDS_RETIRED_PUBLIC_KEYS", default=[])
# Where the signed statements are written outside the database: local disk or S3 (boto3,
# with the AWS_* settings above). A WORM claim needs a bucket with Object Lock (compliance).
RECORDS_ARCHIVE_BACKEND = env.str("RECORDS_ARCHIVE_BACKEND", default="local")
RECORDS_ARCHIVE_DIR = env.str("RECORDS_ARCHIVE_DIR", default=str(VAR_DIR / "archive"))
RECORDS_ARCHIVE_BUCKET = env.str("RECORDS_ARCHIVE_BUCKET", default="")
# The WORM archive of conversations (records.worm). Backend/bucket default to the archive
# store's; the bucket MUST be created with Object Lock (versioning on): see the README.
RECORDS_WORM_BACKEND = env.str("RECORDS_WORM_BACKEND", default="")  # "" = RECORDS_ARCHIVE_BACKEND
RECORDS_WORM_DIR = env.str("RECORDS_WORM_DIR", default="")  # "" = <RECORDS_ARCHIVE_DIR>/worm
RECORDS_WORM_BUCKET = env.str("RECORDS_WORM_BUCKET", default="")  # "" = RECORDS_ARCHIVE_BUCKET
RECORDS_WORM_DEFAULT_MODE = env.str("RECORDS_WORM_DEFAULT_MODE", default="compliance")
RECORDS_WORM_ACTIVE_DAYS = env.int("RECORDS_WORM_ACTIVE_DAYS", default=30)
RECORDS_WORM_MINIMUM_RETENTION_DAYS = env.int("RECORDS_WORM_MINIMUM_RETENTION_DAYS", default=1096)
# Transfer packages of disposition (records.retention: MBOX, EML and CSV packages of
# records.exports, signed BagIt), one folder per report and conversation.
RECORDS_TRANSFER_DIR = env.str("RECORDS_TRANSFER_DIR", default=str(VAR_DIR / "transfers"))
# Exports (records.exports): where DejaVuSans.ttf and DejaVuSans-Bold.ttf are (PDF/A).
RECORDS_EXPORT_FONT_DIR = env.str(
    "RECORDS_EXPORT_FONT_DIR", default="/usr/share/fonts/truetype/dejavu"
)
# RSMF/EML/MBOX slices: "month" (default) or "day" (one file per conversation per UTC day).
RECORDS_EXPORT_SLICE = env.str("RECORDS_EXPORT_SLICE", default="month")
# Public-records productions (records.foia): packages per agency and request; downloads
# are served only from under it.
RECORDS_PRODUCTIONS_DIR = env.str("RECORDS_PRODUCTIONS_DIR", default=str(VAR_DIR / "productions"))

# --- WhatsApp Cloud API ---------------------------------------------------------------
WHATSAPP_APP_SECRET = env_secret("WHATSAPP_APP_SECRET", default="")
WHATSAPP_VERIFY_TOKEN = env_secret("WHATSAPP_VERIFY_TOKEN", default="")
# The platform's Meta app id: the resumable upload (template media samples) goes to the app.
WHATSAPP_APP_ID = env.str("WHATSAPP_APP_ID", default="")
GRAPH_API_BASE_URL = env.str("GRAPH_API_BASE_URL", default="https://graph.facebook.com")
# Where a *test* API key's messages go: a Cloud API simulator (`manage.py run_simulator`),
# never Meta. Unset: they are recorded as sent without leaving the platform.
TEST_MODE_GRAPH_API_BASE_URL = env.str("TEST_MODE_GRAPH_API_BASE_URL", default="")
GRAPH_API_VERSION = env.str("GRAPH_API_VERSION", default="v23.0")
# Meta's payloads reach about 3 MB; anything far above is not Meta.
WHATSAPP_WEBHOOK_MAX_BYTES = env.int("WHATSAPP_WEBHOOK_MAX_BYTES", default=8 * 1024 * 1024)
# A stored webhook event not processed after this long is enqueued again by the sweeper.
WEBHOOK_SWEEP_AFTER_SECONDS = env.int("WEBHOOK_SWEEP_AFTER_SECONDS", default=30)

# --- Event stream (bsp/events) ----------------------------------------------------------
# Delivered events are deleted after this many hours (consumers that were away longer
# catch up from their own state, not from the stream).
EVENT_RETENTION_HOURS = env.int("EVENT_RETENTION_HOURS", default=72)
# Off only to measure the stream's cost (bench/); the platform always publishes.
EVENT_STREAM_ENABLED = env.bool("EVENT_STREAM_ENABLED", default=True)

# --- I18N -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging: one JSON object per line, with the request id --------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "bsp.observability.RequestIdFilter"},
        "client_errors": {"()": "bsp.log_filters.ClientErrorsWithoutTraceback"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "client_errors"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # httpx logs request URLs at INFO (media URLs carry signed hashes); our client logs
        # one line per call itself.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
