"""Production settings refuse to start when misconfigured, naming what is wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = {
    "DEBUG": "0",
    "SECRET_KEY": "a-production-secret-key-of-sufficient-length-0123456789",
    "FIELD_ENCRYPTION_KEY": "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdC0=",
    "DATABASE_URL": "sqlite:///:memory:",
    "WHATSAPP_APP_SECRET": "a-meta-app-secret",
}


def _start_production(**overrides: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "WHATSAPP_APP_SECRET"}
    }
    env.update(GOOD, DJANGO_SETTINGS_MODULE="bsp.settings.production")
    env.update(overrides)
    env = {k: v for k, v in env.items() if v is not None and v != "<unset>"}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=60
    )


def test_production_settings_start_when_complete():
    result = _start_production()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"DEBUG": "1"}, "DEBUG must be off in production"),
        ({"SECRET_KEY": "<unset>"}, "SECRET_KEY is missing"),
        (
            {"SECRET_KEY": "insecure-dev-only-secret-key-do-not-use-in-production"},
            "SECRET_KEY is missing, too short or the development default",
        ),
        ({"FIELD_ENCRYPTION_KEY": "<unset>"}, "FIELD_ENCRYPTION_KEY is missing"),
        (
            {"FIELD_ENCRYPTION_KEY": "not-a-fernet-key"},
            "FIELD_ENCRYPTION_KEY: key #1 is not a valid Fernet key",
        ),
        (
            # A rotation list with a mistyped second key: decryption would fail much later.
            {"FIELD_ENCRYPTION_KEY": f"{GOOD['FIELD_ENCRYPTION_KEY']},dGVzdA=="},
            "FIELD_ENCRYPTION_KEY: key #2 is not a valid Fernet key",
        ),
        ({"WHATSAPP_APP_SECRET": "<unset>"}, "WHATSAPP_APP_SECRET is empty"),
        ({"WHATSAPP_APP_SECRET": "  "}, "WHATSAPP_APP_SECRET is empty"),
    ],
)
def test_production_settings_refuse_to_start(override, message):
    result = _start_production(**override)
    assert result.returncode != 0
    assert message in result.stderr


def test_an_invalid_encryption_key_is_refused_by_the_system_checks_of_the_demo_too(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="bsp.settings.dev",
        BSP_VAR_DIR=str(tmp_path),
        FIELD_ENCRYPTION_KEY="typo",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "bsp.E001" in result.stderr
    assert "Generate one with" in result.stderr


_SERVE_404 = """
import bsp.wsgi  # what gunicorn imports
from django.test import Client
print(Client(HTTP_HOST="localhost").get("/no-such-page/", secure=True).status_code)
"""


def _serve_under_production(static_root: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env.update(GOOD, DJANGO_SETTINGS_MODULE="bsp.settings.production", STATIC_ROOT=str(static_root))
    return subprocess.run(
        [sys.executable, "-c", _SERVE_404], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_web_server_refuses_to_start_without_the_static_files_manifest(tmp_path):
    result = _serve_under_production(tmp_path)
    assert result.returncode != 0
    assert "static files manifest" in result.stderr
    assert "python manage.py collectstatic --noinput" in result.stderr


def test_after_collectstatic_production_answers_its_own_404_page(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env.update(GOOD, DJANGO_SETTINGS_MODULE="bsp.settings.production", STATIC_ROOT=str(tmp_path))
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collected.returncode == 0, collected.stderr
    result = _serve_under_production(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "404"
