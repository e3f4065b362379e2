"""The demo / local development settings: no external service needed."""

from __future__ import annotations

from .base import *

# The demo is the product, not a debug session: its own 404/500 pages, no tracebacks shown.
DEBUG = env.bool("DEBUG", default=False)
# Demo-only helpers (``make totp``: the seeded users have no phones) check this, not DEBUG.
DEMO = True
# A fixed demo key so the demo database stays readable across restarts.
FIELD_ENCRYPTION_KEY = FIELD_ENCRYPTION_KEY or "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q="
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# Static files straight from the apps' folders (no collectstatic step), DEBUG or not; no
# collected folder to look in.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None
# Integrator webhooks to local receivers (an integrator trying the demo on their laptop).
WEBHOOK_ALLOW_HTTP = True
WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32", "::1/128"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web (several threads), worker and beat write to one SQLite file. WAL lets readers and
    # the writer proceed together; IMMEDIATE takes the write lock when a transaction starts,
    # so two writers queue on the busy timeout instead of one failing with "database is
    # locked" (a deferred transaction that reads first cannot wait for the lock later).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    )

# The demo talks to the built-in Cloud API simulator (Procfile.demo starts it).
SIMULATOR_PORT = env.int("SIMULATOR_PORT", default=8025)
GRAPH_API_BASE_URL = env.str("GRAPH_API_BASE_URL", default=f"http://127.0.0.1:{SIMULATOR_PORT}")
TEST_MODE_GRAPH_API_BASE_URL = env.str(
    "TEST_MODE_GRAPH_API_BASE_URL", default=f"http://127.0.0.1:{SIMULATOR_PORT}"
)
WHATSAPP_APP_SECRET = WHATSAPP_APP_SECRET or "demo-app-secret"
WHATSAPP_VERIFY_TOKEN = WHATSAPP_VERIFY_TOKEN or "demo-verify-token"
WHATSAPP_APP_ID = WHATSAPP_APP_ID or "100000000000001"  # any id: the simulator's app

# Records checkpoints: the demo signs with a key it creates on first use (never in the DB).
RECORDS_SIGNING_KEY_FILE = RECORDS_SIGNING_KEY_FILE or str(VAR_DIR / "records-signing-key.pem")
RECORDS_SIGNING_KEY_GENERATE = not RECORDS_SIGNING_KEY
