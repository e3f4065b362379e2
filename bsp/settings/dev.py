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

# The demo talks to the built-in Cloud API simulator (Procfile.demo starts it).
SIMULATOR_PORT = env.int("SIMULATOR_PORT", default=8025)
GRAPH_API_BASE_URL = env.str("GRAPH_API_BASE_URL", default=f"http://127.0.0.1:{SIMULATOR_PORT}")
WHATSAPP_APP_SECRET = WHATSAPP_APP_SECRET or "demo-app-secret"
WHATSAPP_VERIFY_TOKEN = WHATSAPP_VERIFY_TOKEN or "demo-verify-token"
