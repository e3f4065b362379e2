"""Pytest plugin: a Cloud API simulator on a free port, plus a webhook receiver.

Register with ``pytest_plugins = ["tests.simulator_fixture"]`` in tests/conftest.py.

Fixtures:
- ``cloud_api_simulator_server`` (session): the running server (uvicorn in a thread).
- ``simulator`` (function): a ``SimulatorHandle``; state is reset before each test.
- ``sim_number`` (function): a registered phone number (dict from the control API).
- ``webhook_receiver`` (function): a ``WebhookReceiver`` that records signed POSTs.

Example::

    def test_something(simulator, sim_number, webhook_receiver):
        simulator.register_number(sim_number["id"], callback_url=webhook_receiver.url)
        client = simulator.client(sim_number)
        simulator.open_window(sim_number["id"], "15551234567")
        client.send_text("15551234567", "hi")
        assert simulator.messages(sim_number["id"])[0]["payload"]["text"]["body"] == "hi"
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn

from messaging.simulator import create_app

API_VERSION = "v23.0"
APP_SECRET = "test-app-secret"

# Fast timings so status webhooks arrive within tens of milliseconds.
FAST_CONFIG: dict[str, Any] = {
    "seed": 1234,
    "default_app_secret": APP_SECRET,
    "webhooks": {
        "sent_delay": 0.02,
        "delivered_delay": 0.04,
        "read_delay": 0.06,
        "jitter": 0.0,
        "read_probability": 1.0,
        "batch_window": 0.01,
        "retry_base": 0.05,
        "retry_factor": 2.0,
        "retry_max_delay": 0.5,
        "max_attempts": 6,
        "timeout": 2.0,
    },
    "template_review": {"delay": 0.05},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.01) -> Any:
    """Poll until ``predicate()`` is truthy; return its value or fail the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(interval)


class SimulatorServer:
    """uvicorn serving ``create_app(config)`` in a daemon thread."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        app_config = {**(config or FAST_CONFIG), "public_url": self.base_url}
        self.app = create_app(app_config)
        uv_config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(uv_config)
        self.thread = threading.Thread(target=self.server.run, name="cloud-api-sim", daemon=True)

    def start(self) -> SimulatorServer:
        self.thread.start()
        wait_until(lambda: self.server.started, timeout=10)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class SimulatorHandle:
    """Thin helpers over the ``/_sim`` control API (see messaging/simulator/app.py)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=10)

    def graph_url(self, path: str = "") -> str:
        return f"{self.base_url}/{API_VERSION}/{path.lstrip('/')}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self._call("POST", "/_sim/reset")

    def configure(self, **overrides: Any) -> dict[str, Any]:
        """Patch the live config, e.g. ``configure(faults={"error_5xx_fraction": 1.0})``."""
        return self._call("PATCH", "/_sim/config", json=overrides)

    def register_number(self, phone_number_id: str | None = None, **fields: Any) -> dict[str, Any]:
        """Create or update a number: display_phone_number, access_token, waba_id,
        callback_url, app_secret, throughput_mps, token_revoked..."""
        body = {"id": phone_number_id, **fields} if phone_number_id else fields
        return self._call("POST", "/_sim/phone_numbers", json=body)

    def client(self, number: dict[str, Any], **kwargs: Any) -> Any:
        from messaging.whatsapp import CloudAPIClient

        return CloudAPIClient(
            number["id"],
            number["access_token"],
            base_url=self.base_url,
            api_version=API_VERSION,
            **kwargs,
        )

    def async_client(self, number: dict[str, Any], **kwargs: Any) -> Any:
        from messaging.whatsapp import AsyncCloudAPIClient

        return AsyncCloudAPIClient(
            number["id"],
            number["access_token"],
            base_url=self.base_url,
            api_version=API_VERSION,
            **kwargs,
        )

    def messages(self, phone_number_id: str, **filters: str) -> list[dict[str, Any]]:
        """What the business sent through this number (payload, status, statuses)."""
        return self._call("GET", f"/_sim/phone_numbers/{phone_number_id}/messages", params=filters)[
            "data"
        ]

    def message(self, wamid: str) -> dict[str, Any]:
        return self._call("GET", f"/_sim/messages/{wamid}")

    def inbound(self, phone_number_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/_sim/phone_numbers/{phone_number_id}/inbound")["data"]

    def reads(self, phone_number_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/_sim/phone_numbers/{phone_number_id}/reads")["data"]

    def trigger_inbound(self, phone_number_id: str, wa_id: str, **spec: Any) -> dict[str, Any]:
        """A citizen writes in, e.g. ``trigger_inbound(pid, wa, type="text", text="Hi")``."""
        body = {"phone_number_id": phone_number_id, "from": wa_id, **spec}
        return self._call("POST", "/_sim/inbound", json=body)["message"]

    def open_window(self, phone_number_id: str, wa_id: str, open: bool = True) -> None:
        body = {"phone_number_id": phone_number_id, "wa_id": wa_id, "open": open}
        self._call("POST", "/_sim/windows", json=body)

    def not_on_whatsapp(self, *wa_ids: str) -> None:
        self._call("POST", "/_sim/not_on_whatsapp", json={"wa_ids": list(wa_ids)})

    def add_template(self, waba_id: str, name: str, **fields: Any) -> dict[str, Any]:
        """Seed a template directly (APPROVED unless ``status`` says otherwise)."""
        return self._call(
            "POST", "/_sim/templates", json={"waba_id": waba_id, "name": name, **fields}
        )

    def set_template_status(
        self, template_id: str, status: str, reason: str | None = None
    ) -> dict[str, Any]:
        body = {"status": status, "reason": reason}
        return self._call("POST", f"/_sim/templates/{template_id}/status", json=body)

    def webhook_deliveries(self, url: str | None = None) -> dict[str, Any]:
        params = {"url": url} if url else {}
        return self._call("GET", "/_sim/webhooks", params=params)

    def wait_webhooks_idle(self, timeout: float = 5.0) -> None:
        wait_until(lambda: self.webhook_deliveries()["pending"] == 0, timeout)

    def verify_webhook(self, phone_number_id: str) -> dict[str, Any]:
        """Ask the simulator to run the GET handshake against the number's callback URL."""
        return self._call("POST", f"/_sim/phone_numbers/{phone_number_id}/verify_webhook")

    def start_scenario(self, scenario: dict[str, Any], phone_number_id: str | None = None) -> None:
        body = {"scenario": scenario, "phone_number_id": phone_number_id}
        self._call("POST", "/_sim/scenarios", json=body)


class WebhookReceiver:
    """A tiny HTTP server standing in for the platform's webhook endpoint."""

    def __init__(
        self,
        app_secret: str = APP_SECRET,
        verify_token: str = "verify-me",  # noqa: S107
    ) -> None:
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.requests: list[dict[str, Any]] = []
        self.fail_statuses: list[int] = []  # answered (in order) before returning 200 again
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.fail_statuses.pop(0) if receiver.fail_statuses else 200
                    receiver.requests.append(
                        {"headers": dict(self.headers), "raw": raw, "answered": status}
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:  # Meta's subscription handshake (cloud-api.md §5.2)
                query = parse_qs(urlsplit(self.path).query)
                token_ok = query.get("hub.verify_token") == [receiver.verify_token]
                if query.get("hub.mode") == ["subscribe"] and token_ok:
                    body = query["hub.challenge"][0].encode()
                    self.send_response(200)
                else:
                    body = b""
                    self.send_response(403)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/whatsapp"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def signature_ok(self, request: dict[str, Any]) -> bool:
        expected = (
            "sha256="
            + hmac.new(self.app_secret.encode(), request["raw"], hashlib.sha256).hexdigest()
        )
        return hmac.compare_digest(expected, request["headers"].get("X-Hub-Signature-256", ""))

    def accepted(self) -> list[dict[str, Any]]:
        """Parsed bodies of the POSTs answered with 200, in arrival order."""
        with self.lock:
            return [json.loads(r["raw"]) for r in self.requests if r["answered"] == 200]

    def changes(self, field: str = "messages") -> list[dict[str, Any]]:
        return [
            change["value"]
            for body in self.accepted()
            for entry in body["entry"]
            for change in entry["changes"]
            if change["field"] == field
        ]

    def statuses(self, wamid: str | None = None) -> list[dict[str, Any]]:
        items = [s for value in self.changes() for s in value.get("statuses", [])]
        return [s for s in items if wamid in (None, s["id"])]

    def inbound_messages(self) -> list[dict[str, Any]]:
        return [m for value in self.changes() for m in value.get("messages", [])]

    def wait_for_statuses(self, wamid: str, count: int, timeout: float = 5.0) -> list[str]:
        wait_until(lambda: len(self.statuses(wamid)) >= count, timeout)
        return [s["status"] for s in self.statuses(wamid)]


@pytest.fixture(scope="session")
def cloud_api_simulator_server() -> Iterator[SimulatorServer]:
    server = SimulatorServer().start()
    yield server
    server.stop()


@pytest.fixture
def simulator(cloud_api_simulator_server: SimulatorServer) -> Iterator[SimulatorHandle]:
    handle = SimulatorHandle(cloud_api_simulator_server.base_url)
    handle.reset()
    yield handle
    handle.http.close()


@pytest.fixture
def sim_number(simulator: SimulatorHandle) -> dict[str, Any]:
    return simulator.register_number(
        "106540352242922",
        display_phone_number="15550783881",
        access_token="EAAG-test-token",
        waba_id="102290129340398",
    )


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()
