"""The demo / local development settings: no external service needed."""

from __future__ import annotations

from .base import *

DEBUG = env.bool("DEBUG", default=True)
if not FIELD_ENCRYPTION_KEY:
    # A fixed demo key so the demo database stays readable across restarts.
    FIELD_ENCRYPTION_KEY = "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q="
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
