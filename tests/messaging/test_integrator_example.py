"""The README's integrator example (docs/examples/integrator.py) works as printed: it gets
an OAuth token with a key, sends an approved template over HTTP to the production-like
server, and its receiver accepts the platform's signed ``message.status`` deliveries and
refuses forged or stale ones."""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Iterator
from http.server import HTTPServer
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from bsp.integrations.services import envelope
from bsp.integrations.verify import SIGNATURE_HEADER, sign
from messaging.models import Message
from tenants.api.scopes import Scope
from tenants.scoping import agency_scope
from tests.api.helpers import make_key
from tests.factories import ConsentFactory, TemplateFactory
from tests.messaging.conftest import CITIZEN

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "integrator.py"
SECRET = "whsec_example"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("integrator_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def approved_template(agency_a, registered_number, simulator, citizen):
    template = TemplateFactory(
        agency=agency_a,
        waba=registered_number.waba,
        name="appointment_reminder",
        components=[{"type": "BODY", "text": "Your appointment is on {{1}}."}],
    )
    simulator.add_template(
        registered_number.waba.waba_id,
        template.name,
        language="en_US",
        components=template.components,
    )
    ConsentFactory(agency=agency_a, contact=citizen)
    return template


@pytest.fixture
def receiver(example, capsys) -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), example.receiver(991, SECRET))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _status_delivery(message_id: int, signed_at: int, secret: str = SECRET) -> tuple:
    body = envelope(
        event_id="evt_1_7",
        type="message.status",
        created_at="2026-12-03T07:41:12.345678+00:00",
        agency_id=1,
        sequence=7,
        subject={"message": message_id, "conversation": 77},
        payload={"status": "delivered", "previous": "sent"},
    ).encode()
    return body, {SIGNATURE_HEADER: sign(secret, body, signed_at)}


def test_the_example_sends_a_template_with_a_token(
    example, live_server, agency_a, approved_template
):
    _, key = make_key(agency_a, Scope.MESSAGES_SEND, Scope.MESSAGES_READ)

    access = example.token(live_server.url, key, "messages:send messages:read")
    sent = example.send_template(live_server.url, access, f"+{CITIZEN}", approved_template.name)

    assert (sent["status"], sent["to"], sent["type"]) == ("queued", f"+{CITIZEN}", "template")
    with agency_scope(agency_a):
        assert Message.objects.get(pk=sent["id"]).template_id == approved_template.pk


def test_the_example_receiver_prints_a_signed_status_of_its_message(receiver, capsys):
    body, headers = _status_delivery(991, int(time.time()))

    answer = httpx.post(receiver, content=body, headers=headers)

    assert answer.status_code == 204
    assert "message 991: delivered" in _printed(capsys, "message 991")


def _printed(capsys, expected: str, timeout: float = 5.0) -> str:
    """What the receiver printed: it answers first and prints after (as the README advises
    a receiver to do its work), so its thread may print just after the answer arrives."""
    out, deadline = "", time.monotonic() + timeout
    while expected not in out and time.monotonic() < deadline:
        time.sleep(0.02)
        out += capsys.readouterr().out
    return out


def test_the_example_receiver_refuses_a_forged_signature(receiver, capsys):
    body, headers = _status_delivery(991, int(time.time()), secret="whsec_someone_else")

    assert httpx.post(receiver, content=body, headers=headers).status_code == 400
    assert "delivered" not in capsys.readouterr().out


def test_the_example_receiver_refuses_a_replay_older_than_five_minutes(receiver, capsys):
    body, headers = _status_delivery(991, int(time.time()) - 301)

    assert httpx.post(receiver, content=body, headers=headers).status_code == 400
    assert "delivered" not in capsys.readouterr().out
