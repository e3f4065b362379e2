"""Test settings: real PostgreSQL and Redis on localhost (overridable by environment)."""

from __future__ import annotations

import os
import zlib

# Tests must not pick up a developer's .env or demo database.
os.environ.setdefault("DATABASE_URL", "postgres://civic_app@127.0.0.1:5432/civic_relay")
# One Redis database per pytest-xdist worker: tests flush their cache and queues freely.
# The xdist controller imports these settings too and its workers inherit its environment,
# so a REDIS_URL that this module chose (not one a developer or a test gave) is chosen again
# for this worker.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")


def _first_redis_db() -> int:
    """10 (workers use 10-15), unless the local Redis has thousands of databases (a shared
    development machine: ``redis-server --databases 4096``): then a block of six chosen by
    the test database's name, so that test runs on different databases at the same time do
    not share queues and keys either."""
    try:
        import redis

        local = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5)
        databases = int(str(local.config_get("databases").get("databases", 16)))
    except Exception:  # no Redis yet: the tests will say so themselves
        return 10
    if databases < 4096:
        return 10
    name = os.environ["DATABASE_URL"].rsplit("/", 1)[-1]
    return 16 + zlib.crc32(name.encode()) % ((databases - 16) // 6) * 6


if os.environ.get("REDIS_URL") in (None, os.environ.get("CIVIC_TEST_REDIS_URL_CHOSEN")):
    # Chosen once, by the first process (the name in DATABASE_URL changes to the test
    # database's in the processes that tests start); each worker adds its own offset.
    os.environ.setdefault("CIVIC_TEST_REDIS_FIRST_DB", str(_first_redis_db()))
    _db = int(os.environ["CIVIC_TEST_REDIS_FIRST_DB"]) + int(_worker or 0) % 6
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:6379/{_db}"
    os.environ["CIVIC_TEST_REDIS_URL_CHOSEN"] = os.environ["REDIS_URL"]

from .base import *  # noqa: E402

DEBUG = False
SECRET_KEY = "test-secret-key-that-is-long-enough-for-hmac-0123456789"  # noqa: S105
FIELD_ENCRYPTION_KEY = "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdC0="
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["*"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# Real gunicorn processes in the end-to-end tests serve the apps' static files themselves.
WHITENOISE_USE_FINDERS = True
WHATSAPP_APP_SECRET = "test-app-secret"  # noqa: S105
WHATSAPP_VERIFY_TOKEN = "test-verify-token"  # noqa: S105
# The role that owns the schema: creates the test database and runs migrations, while the
# application role (DATABASE_URL) runs the tests themselves, under row-level security.
DATABASE_OWNER_URL = os.environ.get(
    "DATABASE_OWNER_URL", "postgres://civic_owner@127.0.0.1:5432/civic_relay"
)
DATABASE_ADMIN_URL = os.environ.get(
    "DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
# Records checkpoints: a throw-away key fixed for the suite (tests/records sets its own per
# test), and an archive directory per xdist worker.
RECORDS_SIGNING_KEY = "PQucrsT0OmqBWQyGM9uCMcnZGrViedDo/5cKtjO+ee4="  # a test-only key
RECORDS_ARCHIVE_DIR = str(VAR_DIR / f"test-archive-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
