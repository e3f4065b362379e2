"""Production settings: strict, and refusing to start when misconfigured."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from bsp.startup import fernet_key_problem

from .base import *
from .base import INSECURE_SECRET_KEY, env


def check_production_settings(
    *, debug: bool, secret_key: str, encryption_key: str, app_secret: str
) -> None:
    """Refuse to start with settings that are unsafe in production; name the culprit."""
    if debug:
        raise ImproperlyConfigured("DEBUG must be off in production: unset DEBUG or set DEBUG=0.")
    if not secret_key or secret_key == INSECURE_SECRET_KEY or len(secret_key) < 32:
        raise ImproperlyConfigured(
            "SECRET_KEY is missing, too short or the development default: "
            "set SECRET_KEY (or SECRET_KEY_FILE) to at least 32 random characters."
        )
    if not encryption_key:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY is missing: set it (or FIELD_ENCRYPTION_KEY_FILE) to a Fernet "
            "key, e.g. from `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`."
        )
    problem = fernet_key_problem(encryption_key)
    if problem:
        raise ImproperlyConfigured(problem)
    if not app_secret.strip():
        raise ImproperlyConfigured(
            "WHATSAPP_APP_SECRET is empty: set it (or WHATSAPP_APP_SECRET_FILE) to the app "
            "secret of the platform's Meta app (App settings > Basic). Without it no webhook "
            "signed by the platform's app can be verified."
        )


check_production_settings(
    debug=DEBUG,
    secret_key=SECRET_KEY,
    encryption_key=FIELD_ENCRYPTION_KEY,
    app_secret=WHATSAPP_APP_SECRET,
)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Meta does not follow redirects: a redirected webhook is a lost webhook.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^webhooks/whatsapp$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
