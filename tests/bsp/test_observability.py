"""Request ids: on every response, on every log line, and carried into Celery tasks."""

from __future__ import annotations

import json
import logging
import time

from celery import shared_task

from bsp.celery import app as celery_app
from bsp.observability import current_request_id

CAPTURE_QUEUE = "test_observability"


def test_each_response_carries_a_generated_request_id(client):
    response = client.get("/healthz")
    assert len(response["X-Request-ID"]) == 32


def test_a_sane_incoming_request_id_is_kept(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-abc-12345678")
    assert response["X-Request-ID"] == "lb-abc-12345678"


def test_a_malformed_incoming_request_id_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert response["X-Request-ID"] != "<script>alert(1)</script>"


def test_log_lines_are_json_with_the_request_id():
    from django.conf import settings
    from pythonjsonlogger.json import JsonFormatter

    from bsp.observability import RequestIdFilter, _request_id

    fmt = settings.LOGGING["formatters"]["json"]
    formatter = JsonFormatter(fmt["fmt"], rename_fields=fmt["rename_fields"])
    record = logging.LogRecord("civic", logging.INFO, __file__, 1, "hello", None, None)
    token = _request_id.set("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        _request_id.reset(token)
    line = json.loads(formatter.format(record))
    assert line["message"] == "hello"
    assert line["request_id"] == "req-42"
    assert line["level"] == "INFO"


SEEN_REQUEST_IDS: list[str] = []


@shared_task(name="tests.record_request_id")
def record_request_id() -> None:
    SEEN_REQUEST_IDS.append(current_request_id())


def test_the_request_id_travels_to_the_task_through_the_real_broker():
    """A real worker thread consumes from Redis and runs the task with the publisher's id."""
    from celery.contrib.testing.worker import start_worker

    from bsp.observability import _request_id

    SEEN_REQUEST_IDS.clear()
    token = _request_id.set("req-from-web-1")
    try:
        record_request_id.apply_async(queue=CAPTURE_QUEUE)
    finally:
        _request_id.reset(token)
    with start_worker(
        celery_app,
        pool="solo",
        queues=[CAPTURE_QUEUE],
        perform_ping_check=False,
        shutdown_timeout=10,
    ):
        deadline = time.monotonic() + 10
        while not SEEN_REQUEST_IDS and time.monotonic() < deadline:
            time.sleep(0.05)
    assert SEEN_REQUEST_IDS == ["req-from-web-1"]
