"""Status webhooks and our own sends publish each forward transition once, with its time
and error; duplicates and statuses that do not advance publish nothing; two workers on the
same conversation keep its events in the order their transitions were made."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from django.db import connection, connections

from bsp.events import services as event_services
from messaging import delivery
from messaging.models import Message, ParkedStatus
from messaging.webhooks import statuses
from messaging.webhooks.processing import process_event
from messaging.webhooks.receive import store_event
from tenants.scoping import agency_scope, system_scope
from tests.factories import ContactFactory, ConversationFactory
from tests.messaging.webhooks.payloads import at, encode, envelope, messages_change, status
from tests.messaging.webhooks.test_statuses import (
    CITIZEN,
    UNDELIVERABLE,
    OutboundMessageFactory,
)

pytestmark = pytest.mark.django_db

T_SENT, T_DELIVERED, T_READ = 1750857390, 1750857400, 1750857460


@pytest.fixture
def conversation(agency_a, wa_number):
    citizen = ContactFactory(agency=agency_a, wa_id=CITIZEN, phone_e164=f"+{CITIZEN}")
    return ConversationFactory(agency=agency_a, phone_number=wa_number, contact=citizen)


@pytest.fixture
def sent(agency_a, conversation) -> Message:
    return OutboundMessageFactory(agency=agency_a, conversation=conversation)


def _statuses(number, *items):
    return envelope(messages_change(number.phone_number_id, statuses=list(items)))


def _status_events(stream, agency):
    return [
        (subject["message"], payload["previous"], payload["status"], payload["at"])
        for kind, subject, payload in stream(agency)
        if kind == "message.status"
    ]


def _iso(unix: int) -> str:
    return at(unix).isoformat().replace("+00:00", "Z")


def test_each_forward_status_publishes_its_transition_with_its_time(
    agency_a, wa_number, sent, ingest, stream
):
    ingest(_statuses(wa_number, status(sent.wamid, "sent", CITIZEN, timestamp=T_SENT)))
    ingest(_statuses(wa_number, status(sent.wamid, "delivered", CITIZEN, timestamp=T_DELIVERED)))
    ingest(_statuses(wa_number, status(sent.wamid, "read", CITIZEN, timestamp=T_READ)))

    assert _status_events(stream, agency_a) == [
        (sent.pk, "accepted", "sent", _iso(T_SENT)),
        (sent.pk, "sent", "delivered", _iso(T_DELIVERED)),
        (sent.pk, "delivered", "read", _iso(T_READ)),
    ]
    (_, subject, _), *_ = stream(agency_a)
    assert subject == {
        "message": sent.pk,
        "conversation": sent.conversation_id,
        "contact": sent.contact_id,
    }


def test_duplicates_and_statuses_that_do_not_advance_publish_nothing(
    agency_a, wa_number, sent, ingest, stream
):
    read = status(sent.wamid, "read", CITIZEN, timestamp=T_READ)
    ingest(_statuses(wa_number, read))
    ingest(_statuses(wa_number, read))  # Meta redelivers
    ingest(_statuses(wa_number, status(sent.wamid, "delivered", CITIZEN, timestamp=T_DELIVERED)))
    ingest(_statuses(wa_number, status(sent.wamid, "sent", CITIZEN, timestamp=T_SENT)))

    # One transition, accepted → read (it proves delivered and sent; their times are filled).
    assert _status_events(stream, agency_a) == [(sent.pk, "accepted", "read", _iso(T_READ))]


def test_a_failure_publishes_its_error(agency_a, wa_number, sent, ingest, stream):
    failed = status(sent.wamid, "failed", CITIZEN, timestamp=T_SENT, errors=[UNDELIVERABLE])
    ingest(_statuses(wa_number, failed))

    ((kind, _, payload),) = stream(agency_a)
    assert kind == "message.status"
    assert (payload["previous"], payload["status"], payload["error_code"]) == (
        "accepted",
        "failed",
        131026,
    )
    assert payload["at"] == _iso(T_SENT) and payload["error_reason"]


def test_one_change_for_many_messages_publishes_one_transition_each(
    agency_a, wa_number, conversation, ingest, stream
):
    messages = [
        OutboundMessageFactory(agency=agency_a, conversation=conversation) for _ in range(4)
    ]
    ingest(_statuses(wa_number, *[status(m.wamid, "delivered", CITIZEN) for m in messages]))

    assert [e[:3] for e in _status_events(stream, agency_a)] == [
        (m.pk, "accepted", "delivered") for m in messages
    ]


def test_a_parked_status_publishes_when_the_wamid_is_recorded(
    agency_a, wa_number, conversation, ingest, stream
):
    # Accepted, but the send task has not written its wamid yet (a wamid is written once).
    sent = OutboundMessageFactory(agency=agency_a, conversation=conversation, wamid=None)
    early = "wamid.HBgLearly000001"
    ingest(_statuses(wa_number, status(early, "delivered", CITIZEN, timestamp=T_DELIVERED)))
    assert _status_events(stream, agency_a) == []

    with agency_scope(agency_a):
        Message.objects.filter(pk=sent.pk).update(wamid=early)
        assert statuses.apply_parked_for(wa_number.pk, [early]) == 1
        assert not ParkedStatus.objects.exists()

    assert _status_events(stream, agency_a) == [
        (sent.pk, "accepted", "delivered", _iso(T_DELIVERED))
    ]


def test_the_portable_path_publishes_the_same_transitions(
    agency_a, wa_number, sent, ingest, stream, monkeypatch
):
    monkeypatch.setattr(statuses, "connection", SimpleNamespace(vendor="sqlite"))
    monkeypatch.setattr(event_services, "on_postgresql", lambda: False)
    read = status(sent.wamid, "read", CITIZEN, timestamp=T_READ)
    ingest(_statuses(wa_number, status(sent.wamid, "sent", CITIZEN, timestamp=T_SENT)))
    ingest(_statuses(wa_number, read))
    ingest(_statuses(wa_number, read))

    assert _status_events(stream, agency_a) == [
        (sent.pk, "accepted", "sent", _iso(T_SENT)),
        (sent.pk, "sent", "read", _iso(T_READ)),
    ]


def test_a_send_we_give_up_on_publishes_its_failure_once(agency_a, conversation, stream):
    queued = OutboundMessageFactory(
        agency=agency_a, conversation=conversation, status=Message.Status.SENDING, wamid=None
    )
    with agency_scope(agency_a):
        delivery.give_up(queued.pk, "Meta kept answering 503")
        delivery.give_up(queued.pk, "Meta kept answering 503")

    ((kind, subject, payload),) = stream(agency_a)
    assert (kind, subject["message"], payload["previous"], payload["status"]) == (
        "message.status",
        queued.pk,
        "sending",
        "failed",
    )
    assert "503" in payload["error_reason"]


# --- two workers at once ------------------------------------------------------------------


def _process_in_thread(body: bytes, barrier: threading.Barrier, errors: list) -> None:
    try:
        event_id = store_event(body, "sha256=test", "platform")
        barrier.wait(timeout=10)
        with system_scope():
            process_event(event_id)
    except Exception as exc:  # reported by the test
        errors.append(exc)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_conversation_publish_its_transitions_in_the_order_made(
    agency_a, wa_number, conversation, stream
):
    now, everyone = int(time.time()), []
    for _ in range(3):
        messages = [
            OutboundMessageFactory(agency=agency_a, conversation=conversation) for _ in range(8)
        ]
        everyone += messages
        # Worker 1 gets each message's `delivered`, worker 2 its `read`, at the same moment.
        bodies = [
            encode(
                _statuses(
                    wa_number, *[status(m.wamid, word, CITIZEN, timestamp=now) for m in messages]
                )
            )
            for word in ("delivered", "read")
        ]
        barrier, errors = threading.Barrier(2), list[BaseException]()
        threads = [
            threading.Thread(target=_process_in_thread, args=(body, barrier, errors))
            for body in bodies
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
    connection.close()

    # In sequence order, each message's transitions start where the previous one left it:
    # delivered then read, or read alone (a later `delivered` does not move it back).
    chains: dict[int, list[tuple[str, str]]] = {m.pk: [] for m in everyone}
    for message_pk, previous, current, _ in _status_events(stream, agency_a):
        chains[message_pk].append((previous, current))
    for chain in chains.values():
        assert chain in (
            [("accepted", "delivered"), ("delivered", "read")],
            [("accepted", "read")],
        )
