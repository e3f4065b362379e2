"""Smoke test of the demo path (`make demo`): SQLite, filesystem broker, all processes.

The one place tests use SQLite: it is what the demo runs on a machine with nothing else.
The processes start once for this module (they take a while); each test is one scenario
on that running platform, and stopping it with Ctrl-C must stop every process.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_NUMBER = "106540352242922"  # seed_demo's phone number id
# A number the policy accepts (the scenario's 1555000xxxx citizens are not valid numbers).
CITIZEN = "12025550123"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _demo_env(var_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "CELERY_", "DJANGO_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bsp.settings.dev",
        BSP_VAR_DIR=str(var_dir),
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


@dataclass(frozen=True)
class Demo:
    env: dict[str, str]
    seed_output: str
    base_url: str
    simulator_url: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Demo]:
    """What `make demo` does, in a scratch directory: migrate, seed, honcho. Stopped with
    Ctrl-C afterwards, which must stop every process."""
    var_dir = tmp_path_factory.mktemp("demo")
    env = _demo_env(var_dir)
    _manage(env, "migrate", "--noinput", "-v0")
    seed_output = _manage(env, "seed_demo")
    log = var_dir / "honcho.log"
    with log.open("wb") as sink:  # a file, not a pipe: nobody reads a pipe while tests run
        processes = subprocess.Popen(
            [str(Path(sys.executable).parent / "honcho"), "-f", "Procfile.demo", "start"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{env['WEB_PORT']}"
    simulator_url = f"http://127.0.0.1:{env['SIMULATOR_PORT']}"
    try:
        _wait_ready(base_url)
        _simulator_numbers(simulator_url)
        yield Demo(env, seed_output, base_url, simulator_url)
    finally:
        os.killpg(processes.pid, signal.SIGINT)  # what Ctrl-C does
        processes.wait(timeout=30)
    output = log.read_text()
    for process in ("web", "worker", "beat", "simulator"):
        assert f"{process}.1 stopped" in output
    # A product, not a debug session: nothing failed along the way, SQLite locks included.
    assert "Traceback" not in output, output
    assert "database is locked" not in output
    # kombu's exchange tables live in the demo's var/, not in a folder of the checkout.
    assert (var_dir / "broker" / "control" / "celery.pidbox.exchange").exists()


_FIND_MESSAGE = """
import json, time
from messaging.models import Message
from tenants.scoping import system_scope
deadline = time.monotonic() + 30
while True:
    with system_scope():
        row = Message.objects.filter(**LOOKUP).values(
            "direction", "type", "status", "content", "sent_at", "delivered_at"
        ).first()
    if (row and row["status"] in STATUSES) or time.monotonic() > deadline:
        break
    time.sleep(0.3)
print(json.dumps(row, default=str))
"""


def _message_in_demo(demo: Demo, statuses: set[str], **lookup: Any) -> dict[str, Any] | None:
    """The demo database's message matching ``lookup`` once its status is one of
    ``statuses`` (or as it is after 30 s), read with the demo's own code and settings."""
    code = _FIND_MESSAGE.replace("LOOKUP", repr(lookup)).replace("STATUSES", repr(statuses))
    return json.loads(_manage(demo.env, "shell", "-c", code).splitlines()[-1])


def test_the_demo_seeds_demo_county_and_serves_a_signed_in_agent(demo):
    password = re.search(r"agent@demo-county\.gov\s+password: (\S+)", demo.seed_output).group(1)
    assert "Records officer" in demo.seed_output and "TOTP secret" in demo.seed_output
    assert "already seeded" in _manage(demo.env, "seed_demo")
    assert "OK demo-county" in _manage(demo.env, "audit_verify")

    with httpx.Client(base_url=demo.base_url, follow_redirects=True, timeout=10) as browser:
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
    assert _simulator_numbers(demo.simulator_url) == {
        DEMO_NUMBER: ("EAAG-demo-county-token", f"{demo.base_url}/webhooks/whatsapp")
    }


def test_a_citizen_message_is_stored_and_the_reply_is_delivered_through_webhooks(demo):
    written = httpx.post(
        f"{demo.simulator_url}/_sim/inbound",
        json={
            "phone_number_id": DEMO_NUMBER,
            "from": CITIZEN,
            "name": "Eva Pires",
            "type": "text",
            "text": "Is the library open on Sunday?",
        },
        timeout=10,
    )
    assert written.status_code == 201
    inbound = _message_in_demo(demo, {"received"}, wamid=written.json()["message"]["id"])
    assert inbound is not None
    assert (inbound["direction"], inbound["type"], inbound["status"]) == ("in", "text", "received")
    assert inbound["content"]["text"]["body"] == "Is the library open on Sunday?"

    # Free-form text: accepted only because the citizen's message opened the window.
    queued = _manage(
        demo.env, "send_message", "--agency", "demo-county", "--to", CITIZEN, "--text", "Yes, 10-4."
    )
    reply_pk = int(re.search(r"Queued message (\d+)", queued).group(1))
    # The simulator reads only 80% of messages, a few seconds later: delivered is enough.
    reply = _message_in_demo(demo, {"delivered", "read"}, pk=reply_pk)
    assert reply is not None
    assert reply["status"] in ("delivered", "read"), reply
    assert reply["sent_at"] is not None and reply["delivered_at"] is not None

    # Every webhook the simulator posted so far (the demo scenario's too) was processed.
    summary = _manage(demo.env, "webhook_events")
    for outcome in ("Quarantined", "Failed, will be retried", "Failed, needs an operator"):
        assert re.search(rf"^{re.escape(outcome)}.*\s0$", summary, re.MULTILINE), summary


def test_the_demo_answers_with_its_own_pages_and_serves_its_stylesheet_without_debug(demo):
    with httpx.Client(base_url=demo.base_url, timeout=10) as browser:
        missing = browser.get("/no-such-page/")
        stylesheet = browser.get("/static/frontend/site.css")
        docs = browser.get("/api/docs/")
        # The API docs load Swagger UI from the demo itself: they work with no internet access.
        docs_script = re.search(r'<script src="([^"]+)"', docs.text).group(1)
        script = browser.get(docs_script)
    assert missing.status_code == 404
    assert "Page not found" in missing.text and "DEBUG = True" not in missing.text
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
    assert docs_script.startswith("/static/")
    assert script.status_code == 200


def _signed_in_agent(demo: Demo) -> httpx.Client:
    password = re.search(r"agent@demo-county\.gov\s+password: (\S+)", demo.seed_output).group(1)
    browser = httpx.Client(base_url=demo.base_url, follow_redirects=True, timeout=10)
    login_page = browser.get("/accounts/login/")
    browser.post(
        "/accounts/login/",
        data={
            "login": "agent@demo-county.gov",
            "password": password,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": str(login_page.url)},
    )
    return browser


def test_the_agent_finds_a_citizens_conversation_in_the_demo_inbox_and_its_live_stream(demo):
    written = httpx.post(
        f"{demo.simulator_url}/_sim/inbound",
        json={
            "phone_number_id": DEMO_NUMBER,
            "from": "14155550177",
            "name": "Rui Tavares",
            "type": "text",
            "text": "Where do I renew a parking permit?",
        },
        timeout=10,
    )
    assert written.status_code == 201
    assert _message_in_demo(demo, {"received"}, wamid=written.json()["message"]["id"])
    browser = _signed_in_agent(demo)
    try:
        listing = browser.get("/inbox/", params={"q": "Rui", "status": "any"})
        assert listing.status_code == 200
        assert "Where do I renew a parking permit?" in listing.text
        thread_url = re.search(r'href="(/inbox/c/\d+/)"', listing.text).group(1)
        thread = browser.get(thread_url)
        assert thread.status_code == 200
        assert "Where do I renew a parking permit?" in thread.text
        # The Redis-less demo's live stream polls the event table.
        with browser.stream("GET", "/inbox/stream/") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            first = next(stream.iter_lines())
        assert first
    finally:
        browser.close()
