"""Configuration that must be right before a process serves anything.

Each problem is described with what to do about it. Settings-level problems stop every
process (``bsp.settings.production``, and the system check in ``bsp.checks`` everywhere);
the static files manifest is checked only by the processes that serve pages
(``bsp/wsgi.py``, ``bsp/asgi.py``), so that ``manage.py collectstatic`` itself and
``check --deploy`` before it can still run.
"""

from __future__ import annotations

import binascii

from cryptography.fernet import Fernet

GENERATE_FERNET_KEY = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def fernet_key_problem(keys: str) -> str | None:
    """Why ``FIELD_ENCRYPTION_KEY`` (comma-separated Fernet keys) is unusable, or None."""
    for position, key in enumerate((k.strip() for k in keys.split(",")), start=1):
        if not key:
            continue
        try:
            Fernet(key)
        except (ValueError, binascii.Error):
            return (
                f"FIELD_ENCRYPTION_KEY: key #{position} is not a valid Fernet key (32 bytes in "
                f"URL-safe base64, 44 characters). Generate one with `{GENERATE_FERNET_KEY}`."
            )
    return None


def static_manifest_problem() -> str | None:
    """Why pages would fail to render their static file URLs, or None.

    With a manifest storage and no manifest (no ``collectstatic``), every ``{% static %}``
    raises: every page, the 404 and 500 pages included, would answer 500.
    """
    from django.contrib.staticfiles.storage import ManifestFilesMixin
    from django.core.files.storage import storages

    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return None
    if storage.exists(storage.manifest_name):
        return None
    return (
        f"The static files manifest {storage.path(storage.manifest_name)} is missing: run "
        "`python manage.py collectstatic --noinput` (with these settings) before starting the "
        "web server. The Docker image does it when it is built."
    )


def refuse_to_serve_when_misconfigured() -> None:
    """Called by the WSGI/ASGI entry points once Django is set up."""
    from django.core.exceptions import ImproperlyConfigured

    problem = static_manifest_problem()
    if problem:
        raise ImproperlyConfigured(problem)
