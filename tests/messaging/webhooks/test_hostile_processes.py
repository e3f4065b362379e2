"""Hostile input against real processes: gunicorn in front, a Celery worker behind, their
logs captured. A poison event never holds up a citizen's message, database errors never
print the citizen's words, the access log never prints our verify token, and chunked
bodies are read whole."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from messaging.models import Message, WebhookEvent
from tenants.scoping import agency_scope, system_scope
from tests.messaging.webhooks.payloads import (
    contact,
    encode,
    envelope,
    inbound_text,
    messages_change,
    signed_headers,
)
from tests.processes import ROOT, django_env, free_port, start_web, start_worker, stop, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CITIZEN = "14155550123"
CANARY = "CANARY-citizen-words-5e1f"


def _gunicorn_args_of_the_demo() -> tuple[str, ...]:
    """The logging flags the demo's Procfile gives gunicorn (the test runs what ships)."""
    [line] = [
        line for line in (ROOT / "Procfile.demo").read_text().splitlines() if "gunicorn" in line
    ]
    words = line.split()
    flags = ("--access-logfile", "--logger-class", "--access-logformat")
    return tuple(
        item for i, word in enumerate(words) if word in flags for item in (word, words[i + 1])
    )


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log = tmp_path / "web.log"
    port = free_port()
    with log.open("w") as output:
        process = start_web(port, django_env(), output, _gunicorn_args_of_the_demo())
    yield f"http://127.0.0.1:{port}", log
    stop(process)


def _signed_post(base: str, body: bytes, **kwargs) -> httpx.Response:
    headers = {"X-Hub-Signature-256": signed_headers(body)["HTTP_X_HUB_SIGNATURE_256"]}
    return httpx.post(f"{base}/webhooks/whatsapp", content=body, headers=headers, timeout=30)


def _inbound(number, text: str) -> tuple[str, bytes]:
    message = inbound_text(CITIZEN, text)
    change = messages_change(
        number.phone_number_id, messages=[message], contacts=[contact(CITIZEN)]
    )
    return message["id"], encode(envelope(change))


def _message(agency, wamid: str) -> Message | None:
    with agency_scope(agency):
        return Message.objects.filter(wamid=wamid).first()


def _event_statuses() -> list[str]:
    with system_scope():
        return list(WebhookEvent.objects.order_by("pk").values_list("status", flat=True))


def test_a_poison_event_posted_with_a_citizens_message_does_not_delay_it(
    agency_a, wa_number, web, tmp_path
):
    base, _ = web
    wamid, body = _inbound(wa_number, "Is the library open on Sunday?")
    # Stored before any worker runs, so that one drainer claims both in one batch.
    assert _signed_post(base, b'{"entry": [' * 100_000).status_code == 200
    assert _signed_post(base, body).status_code == 200
    with (tmp_path / "worker.log").open("w") as output:
        worker = start_worker("webhooks", django_env(), output=output)
    try:
        # A worker's start-up included; the poison would otherwise hold the batch for the
        # 5-minute lease.
        row = wait_for(lambda: _message(agency_a, wamid), timeout=30)
        assert row.content["text"]["body"] == "Is the library open on Sunday?"
        wait_for(lambda: _event_statuses() == ["failed", "processed"], timeout=10)
    finally:
        stop(worker)
    with system_scope():
        poison = WebhookEvent.objects.order_by("pk").first()
    assert poison.attempts == 1  # never retried: it can never parse
    assert "nested too deeply" in poison.error


def test_a_database_error_on_a_citizens_message_keeps_their_words_out_of_the_worker_log(
    agency_a, wa_number, web, tmp_path, owner_cursor
):
    """PostgreSQL quotes the row it refused (``DETAIL: Failing row contains (…)``); a
    constraint only this citizen's message breaks makes the error real."""
    base, _ = web
    _, refused = _inbound(wa_number, f"{CANARY} my address is 12 Elm St")
    wamid, fine = _inbound(wa_number, "And my permit number is 42.")
    owner_cursor.execute(
        "ALTER TABLE messaging_message ADD CONSTRAINT test_refuses_the_canary"
        f" CHECK (content::text NOT LIKE '%{CANARY}%') NOT VALID"
    )
    log = tmp_path / "worker.log"
    try:
        with log.open("w") as output:
            worker = start_worker("webhooks", django_env(), output=output, loglevel="DEBUG")
        try:
            assert _signed_post(base, refused).status_code == 200
            assert _signed_post(base, fine).status_code == 200
            wait_for(lambda: _message(agency_a, wamid), timeout=30)
            wait_for(lambda: "retrying" in _event_statuses(), timeout=10)
        finally:
            stop(worker)
    finally:
        owner_cursor.execute(
            "ALTER TABLE messaging_message DROP CONSTRAINT IF EXISTS test_refuses_the_canary"
        )
    text = log.read_text()
    assert "webhook event failed; will be retried" in text  # the error was logged…
    assert "Traceback" in text and "CheckViolation" in text  # …with its frames, as what it is,
    assert CANARY not in text  # …without the citizen's words
    assert "12 Elm St" not in text
    assert CANARY not in web[1].read_text()
    with system_scope():
        assert all(
            CANARY not in error for error in WebhookEvent.objects.values_list("error", flat=True)
        )


def test_the_access_log_never_shows_the_verify_token(web):
    base, log = web
    params = {"hub.mode": "subscribe", "hub.challenge": "8080", "hub.verify_token": ""}
    right = httpx.get(
        f"{base}/webhooks/whatsapp", params={**params, "hub.verify_token": "test-verify-token"}
    )
    wrong = httpx.get(
        f"{base}/webhooks/whatsapp", params={**params, "hub.verify_token": "guessed-token-77"}
    )
    assert (right.status_code, wrong.status_code) == (200, 403)
    text = wait_for(lambda: (t := log.read_text()).count("/webhooks/whatsapp") >= 2 and t, 10)
    assert "hub.challenge=8080" in text  # the access log is on, and shows the rest
    assert "test-verify-token" not in text
    assert "guessed-token-77" not in text
    assert "hub.verify_token=[redacted]" in text


def _chunked_post(base: str, body: bytes, header: str, chunk: int = 1000) -> int:
    """A raw HTTP/1.1 request with ``Transfer-Encoding: chunked`` and no Content-Length."""
    host, port = base.removeprefix("http://").split(":")
    request = (
        f"POST /webhooks/whatsapp HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        f"X-Hub-Signature-256: {header}\r\nConnection: close\r\n\r\n"
    ).encode()
    for start in range(0, len(body), chunk):
        part = body[start : start + chunk]
        request += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    request += b"0\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while data := sock.recv(65536):
            answer += data
    return int(answer.split(b" ", 2)[1])


def test_a_chunked_signed_body_is_read_whole_and_stored(agency_a, wa_number, web):
    base, _ = web
    _, body = _inbound(wa_number, "Sent in pieces " + "x" * 50_000)
    header = signed_headers(body)["HTTP_X_HUB_SIGNATURE_256"]
    assert _chunked_post(base, body, header) == 200
    with system_scope():
        [event] = WebhookEvent.objects.all()
    assert bytes(event.body) == body


def test_a_chunked_body_with_a_wrong_signature_is_401(web):
    base, _ = web
    assert _chunked_post(base, b'{"entry": []}', "sha256=" + "0" * 64) == 401
    with system_scope():
        assert not WebhookEvent.objects.exists()


def test_a_chunked_body_above_the_limit_is_413(tmp_path):
    port = free_port()
    with (tmp_path / "web.log").open("w") as output:
        process = start_web(port, django_env(WHATSAPP_WEBHOOK_MAX_BYTES="4096"), output)
    try:
        body = b'{"entry": [], "padding": "' + b"y" * 10_000 + b'"}'
        header = signed_headers(body)["HTTP_X_HUB_SIGNATURE_256"]
        assert _chunked_post(f"http://127.0.0.1:{port}", body, header) == 413
        with system_scope():
            assert not WebhookEvent.objects.exists()
    finally:
        stop(process)


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("path", ["Procfile.demo", "Dockerfile"])
def test_every_shipped_gunicorn_uses_the_redacting_logger(path):
    [line] = [line for line in (ROOT / path).read_text().splitlines() if "gunicorn" in line]
    assert "bsp.gunicorn.RedactingLogger" in line
