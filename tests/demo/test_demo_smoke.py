"""Smoke test of the demo path (`make demo`): SQLite, filesystem broker, all processes.

The one place tests use SQLite: it is what the demo runs on a machine with nothing else.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo_env(tmp_path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "CELERY_", "DJANGO_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bsp.settings.dev",
        BSP_VAR_DIR=str(tmp_path),
        WEB_PORT=str(_free_port()),
        SIMULATOR_PORT=str(_free_port()),
        PATH=f"{Path(sys.executable).parent}:{env['PATH']}",
    )
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _wait_ready(base_url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("the demo did not become ready")


def _simulator_numbers(simulator_url: str) -> dict[str, tuple[str, str]]:
    """The numbers the demo's simulator knows: id -> (token, webhook callback URL)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            numbers = httpx.get(f"{simulator_url}/_sim/phone_numbers", timeout=2).json()["data"]
            return {n["id"]: (n["access_token"], n["callback_url"]) for n in numbers}
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError("the demo's simulator did not start")


def test_the_demo_seeds_demo_county_and_serves_a_signed_in_agent(demo_env):
    _manage(demo_env, "migrate", "--noinput", "-v0")
    output = _manage(demo_env, "seed_demo")
    password = re.search(r"agent@demo-county\.gov\s+password: (\S+)", output).group(1)
    assert "Records officer" in output and "TOTP secret" in output
    assert "already seeded" in _manage(demo_env, "seed_demo")
    assert "OK demo-county" in _manage(demo_env, "audit_verify")

    processes = subprocess.Popen(
        [str(Path(sys.executable).parent / "honcho"), "-f", "Procfile.demo", "start"],
        cwd=ROOT,
        env=demo_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{demo_env['WEB_PORT']}"
    try:
        _wait_ready(base_url)
        with httpx.Client(base_url=base_url, follow_redirects=True, timeout=10) as browser:
            login_page = browser.get("/accounts/login/")
            csrf = browser.cookies["csrftoken"]
            response = browser.post(
                "/accounts/login/",
                data={
                    "login": "agent@demo-county.gov",
                    "password": password,
                    "csrfmiddlewaretoken": csrf,
                },
                headers={"Referer": str(login_page.url)},
            )
        assert response.status_code == 200
        assert "Demo County" in response.text
        assert response.url.path == "/"
        registered = _simulator_numbers(f"http://127.0.0.1:{demo_env['SIMULATOR_PORT']}")
        assert registered == {
            "106540352242922": ("EAAG-demo-county-token", f"{base_url}/webhooks/whatsapp")
        }
    finally:
        os.killpg(processes.pid, signal.SIGINT)  # what Ctrl-C does
        output = processes.communicate(timeout=30)[0].decode()
    assert processes.returncode is not None
    for process in ("web", "worker", "beat", "simulator"):
        assert f"{process}.1 stopped" in output
