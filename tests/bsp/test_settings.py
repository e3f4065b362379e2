"""Production settings refuse to start when misconfigured, naming what is wrong."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

GOOD = {
    "DEBUG": "0",
    "SECRET_KEY": "a-production-secret-key-of-sufficient-length-0123456789",
    "FIELD_ENCRYPTION_KEY": "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdC0=",
    "DATABASE_URL": "sqlite:///:memory:",
}


def _start_production(**overrides: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEY"}
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
    ],
)
def test_production_settings_refuse_to_start(override, message):
    result = _start_production(**override)
    assert result.returncode != 0
    assert message in result.stderr
