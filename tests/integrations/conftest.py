"""Fixtures of the integrator webhooks' tests: a real HTTP receiver in a thread, settings
that allow it (http, 127.0.0.1), and subscriptions made through the services."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import transaction

from bsp import events
from bsp.events import dispatch
from bsp.integrations import delivery, services
from bsp.integrations.models import WebhookSubscription
from records.audit import Actor
from tenants.scoping import agency_scope


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; answers with the next status of ``plan`` (200 once it is empty)."""

    url: str
    received: list[Received] = field(default_factory=list)
    plan: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.plan.pop(0) if self.plan else 200

    def types(self) -> list[str]:
        return [r.json["type"] for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status = state.answer()
            if status < 300:
                with state.lock:
                    state.received.append(
                        Received(self.path, dict(self.headers.items()), body, time.time())
                    )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    return settings


@pytest.fixture
def subscribe(agency_a) -> Callable[..., tuple[WebhookSubscription, str]]:
    def make(url: str, events_: list[str], agency=None) -> tuple[WebhookSubscription, str]:
        return services.create_subscription(
            actor=Actor.system("tests"), agency=agency or agency_a, url=url, events=events_
        )

    return make


def publish(agency, type_: str, subject: dict[str, Any], payload: dict[str, Any]) -> None:
    with agency_scope(agency), transaction.atomic():
        events.publish(agency_id=agency.pk, type=type_, subject=subject, payload=payload)


def flow(agency, subscription: WebhookSubscription, passes: int = 20) -> None:
    """Dispatch the stream (the consumer queues deliveries), then send what is due."""
    while dispatch.dispatch_pending():
        pass
    for _ in range(passes):
        if not delivery.deliver_pass(agency.pk, subscription.pk):
            break
