"""Canary (issue 12 §8): a citizen's or an agent's sensitive values never reach the logs,
Celery's task messages, the audit trail or the event stream. A canary SSN and card number
go through the services path (sent with a justification: queue, deliver to the simulator),
the DLP refusal of the same message, and the inbound webhook path (signed POST, processing
with the DLP flag and the automatic reply, media download); every log record of every
logger at DEBUG and every task message published to the real broker (Celery's
``before_task_publish``: headers and body) are searched for them."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery.signals import before_task_publish
from django.test import Client

from bsp.events.models import DomainEvent
from messaging import delivery, services
from messaging.models import Message, WebhookEvent
from messaging.policy import SendRefused
from messaging.webhooks import processing
from messaging.whatsapp import builders
from records.audit import Actor
from records.dlp import services as dlp_services
from records.dlp.models import DlpFlag
from records.models import AuditEvent
from tenants.permissions import Role
from tenants.scoping import agency_scope, system_scope
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    MembershipFactory,
    PhoneNumberFactory,
)
from tests.messaging.webhooks.payloads import (
    contact,
    encode,
    envelope,
    messages_change,
    signed_headers,
    wamid,
)

CITIZEN = "14155550100"
CANARY_SSN = "536-22-1234"  # valid shape and ranges: what DLP would flag
CANARY_CARD = "4111 1111 1111 1111"
CANARIES = (CANARY_SSN, CANARY_SSN.replace("-", ""), CANARY_CARD, CANARY_CARD.replace(" ", ""))


class _Everything(logging.Handler):
    """Keeps every record with everything a formatter or a JSON handler could print."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(logging.Formatter().format(record))
        self.texts.append(repr(record.__dict__))


@pytest.fixture
def every_log(monkeypatch) -> Iterator[_Everything]:
    """Every record of every logger at DEBUG: existing loggers are set to DEBUG (new ones
    inherit the root's), and each record is seen where it is made, whether or not its
    logger propagates or has handlers."""
    handler = _Everything()
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
    ]
    levels = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    original = logging.Logger.handle

    def handle(self: logging.Logger, record: logging.LogRecord) -> None:
        handler.handle(record)
        original(self, record)

    monkeypatch.setattr(logging.Logger, "handle", handle)
    yield handler
    for lg, level in levels:
        lg.setLevel(level)


@pytest.fixture
def published() -> Iterator[list[str]]:
    """Every task message published to the broker, as serialized text."""
    seen: list[str] = []

    def keep(sender: Any = None, body: Any = None, headers: Any = None, **_: Any) -> None:
        seen.append(json.dumps({"task": sender, "body": body, "headers": headers}, default=str))

    before_task_publish.connect(keep, weak=False)
    yield seen
    before_task_publish.disconnect(keep)


@pytest.fixture
def number(agency_a, simulator, settings):
    settings.GRAPH_API_BASE_URL = simulator.base_url
    settings.GRAPH_API_VERSION = "v23.0"
    number = PhoneNumberFactory(agency=agency_a)
    with agency_scope(agency_a):
        simulator.register_number(
            number.phone_number_id,
            display_phone_number="15550100001",
            access_token=number.bearer_token(),
            waba_id=number.waba.waba_id,
        )
    return number


def assert_no_canary(texts: list[str], where: str) -> None:
    assert texts, f"nothing was captured from {where}: the test would prove nothing"
    for text in texts:
        for canary in CANARIES:
            assert canary not in text, f"{where} carries {canary!r}: {text[:300]}"


def recorded(agency) -> list[str]:
    """The agency's audit events and domain events, as text."""
    with agency_scope(agency):
        audit = [json.dumps(row, default=str) for row in AuditEvent.objects.values()]
        stream = [json.dumps(row, default=str) for row in DomainEvent.objects.values()]
    return audit + stream


def _open_conversation(agency_a, number, simulator) -> None:
    from datetime import timedelta

    from django.utils import timezone

    with agency_scope(agency_a):
        citizen = ContactFactory(agency=agency_a, wa_id=CITIZEN, phone_e164=f"+{CITIZEN}")
        ConversationFactory(
            agency=agency_a,
            phone_number=number,
            contact=citizen,
            last_inbound_at=timezone.now() - timedelta(hours=1),
            window_expires_at=timezone.now() + timedelta(hours=23),
        )
    simulator.open_window(number.phone_number_id, CITIZEN)


def test_an_outbound_message_with_a_canary_leaks_into_no_log_and_no_task(
    number, agency_a, simulator, every_log, published, django_capture_on_commit_callbacks
):
    """Sent anyway by a supervisor with a justification (the DLP policy's override)."""
    _open_conversation(agency_a, number, simulator)
    supervisor = MembershipFactory(agency=agency_a, role=Role.SUPERVISOR)
    body = f"We have your SSN {CANARY_SSN} and card {CANARY_CARD} on file."

    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_message(
            agency=agency_a,
            sender=services.Sender.staff(supervisor.user, Actor.system("canary")),
            to=CITIZEN,
            message=builders.Text(body),
            justification="The citizen asked us to confirm what we hold.",
        )
    with agency_scope(agency_a):
        assert delivery.deliver(message.pk) == "accepted"
        stored = Message.objects.get(pk=message.pk)
    # The canary really went through: stored as the record, and sent to Meta.
    assert stored.content["text"]["body"] == body
    [sent] = simulator.messages(number.phone_number_id)
    assert sent["payload"]["text"]["body"] == body

    with agency_scope(agency_a):
        assert DlpFlag.objects.get(message=message).kinds == ["card_number", "ssn"]

    assert published, "the send path published no task: the broker check would prove nothing"
    assert_no_canary(published, "a Celery task message")
    assert_no_canary(every_log.texts, "a log record")
    assert_no_canary(recorded(agency_a), "an audit or domain event")


def test_a_refused_outbound_message_with_a_canary_leaks_nowhere(
    number, agency_a, simulator, every_log, published, django_capture_on_commit_callbacks
):
    """The DLP refusal (an agent, no override): its error, audit event and stream event."""
    _open_conversation(agency_a, number, simulator)
    agent = MembershipFactory(agency=agency_a, role=Role.AGENT)
    body = f"Your SSN {CANARY_SSN}, card {CANARY_CARD}"
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(SendRefused) as refused:
        services.send_message(
            agency=agency_a,
            sender=services.Sender.staff(agent.user, Actor.system("canary")),
            to=CITIZEN,
            message=builders.Text(body),
        )
    assert_no_canary([refused.value.message, json.dumps(refused.value.details)], "the refusal")
    assert_no_canary([*every_log.texts, "(no log is fine)"], "a log record")
    assert_no_canary([*published, "(no task is fine)"], "a Celery task message")
    assert_no_canary(recorded(agency_a), "an audit or domain event")


def test_an_inbound_message_with_a_canary_leaks_into_no_log_and_no_task(
    number, agency_a, every_log, published, django_capture_on_commit_callbacks
):
    """With the DLP flags and the automatic reply (queued: its delivery task carries ids)."""
    dlp_services.update_policy(
        agency=agency_a,
        actor=Actor.system("canary"),
        auto_reply_enabled=True,
        auto_reply_text="Please do not send such numbers here.",
    )
    text = {
        "from": CITIZEN,
        "id": wamid(),
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": f"my ssn is {CANARY_SSN}, card {CANARY_CARD}"},
    }
    photo = {
        "from": CITIZEN,
        "id": wamid(),
        "timestamp": str(int(time.time())),
        "type": "image",
        "image": {"id": "990000000000001", "mime_type": "image/jpeg", "caption": CANARY_SSN},
    }
    change = messages_change(
        number.phone_number_id, messages=[text, photo], contacts=[contact(CITIZEN)]
    )
    body = encode(envelope(change, waba_id=number.waba.waba_id))

    with django_capture_on_commit_callbacks(execute=True):
        signature = signed_headers(body)["HTTP_X_HUB_SIGNATURE_256"]
        response = Client().post(
            "/webhooks/whatsapp",
            body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": signature},
        )
    assert response.status_code == 200
    with system_scope():
        [event] = WebhookEvent.objects.all()
    with django_capture_on_commit_callbacks(execute=True), system_scope():
        processing.process_event(event.pk)
    with agency_scope(agency_a):
        stored = Message.objects.get(wamid=text["id"])
        image = Message.objects.select_related("media").get(wamid=photo["id"])
    assert CANARY_SSN in stored.content["text"]["body"]  # the record keeps what was sent
    assert image.media is not None
    with agency_scope(agency_a):
        flags = list(DlpFlag.objects.values())
        [auto_reply] = Message.objects.filter(direction="out", sender_type="system")
    assert len(flags) == 2  # the text and the photo's caption
    assert_no_canary([json.dumps(flags, default=str)], "a DLP flag")
    assert any(
        "deliver_message" in p and f'"message_id": {auto_reply.pk}' in p for p in published
    ), "the automatic reply's delivery task was not published"

    # The media download (the simulator refuses the id: an alert, logged) by its task.
    from messaging import tasks

    tasks.download_inbound_media.run(media_id=image.media.pk, agency_id=agency_a.pk)

    tasks_published = [p for p in published if "download_inbound_media" in p]
    assert tasks_published, "no media download task was published"
    assert_no_canary(published, "a Celery task message")
    assert_no_canary(every_log.texts, "a log record")
    assert_no_canary(recorded(agency_a), "an audit or domain event")


def test_the_harness_catches_a_leak_from_a_quiet_logger_and_a_task_message(every_log, published):
    """The two tests above can fail: a DEBUG line of a non-propagating logger and a task
    message are both seen."""
    quiet = logging.getLogger("civic.canary.quiet")
    quiet.propagate = False
    try:
        quiet.debug("body: %s", CANARY_SSN)
    finally:
        quiet.propagate = True
    before_task_publish.send(sender="x", body=((), {"text": CANARY_CARD}, {}), headers={})
    with pytest.raises(AssertionError, match="a log record carries"):
        assert_no_canary(every_log.texts, "a log record")
    with pytest.raises(AssertionError, match="a task carries"):
        assert_no_canary(published, "a task")
