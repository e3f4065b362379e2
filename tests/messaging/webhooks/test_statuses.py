"""Status webhooks: the outbound message keeps the highest status reached, each
transition's first time, Meta's reason for a failure, whatever the order and however often
Meta delivers them; statuses that beat our own wamid write are parked, then applied."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import factory
import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging.models import Contact, Conversation, Message, ParkedStatus
from messaging.webhooks import statuses
from messaging.webhooks.changes import Change, Route
from tenants.models import PhoneNumber
from tenants.permissions import Role
from tenants.scoping import agency_scope, system_scope
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    InboundMessageFactory,
    MembershipFactory,
    PhoneNumberFactory,
)
from tests.messaging.webhooks.payloads import envelope, messages_change, status

T_SENT, T_DELIVERED, T_READ = 1750857384, 1750857390, 1750857461
CITIZEN = "16505551234"

CONVERSATION = {
    "id": "a75d17ad06104c51166f948319b03c6a",
    "expiration_timestamp": "1750943820",
    "origin": {"type": "service"},
}
PRICING = {
    "billable": False,
    "pricing_model": "PMP",
    "type": "free_customer_service",
    "category": "service",
}


class OutboundMessageFactory(InboundMessageFactory):
    """A message our send task handed to Meta: accepted, with the wamid Meta answered."""

    direction = Message.Direction.OUTBOUND
    status = Message.Status.ACCEPTED
    sender_type = Message.SenderType.USER
    wamid = factory.Sequence(lambda n: f"wamid.HBgLout{n:010d}")
    received_at: Any = None
    accepted_at = factory.LazyFunction(timezone.now)


def at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, tz=UTC)


def webhook_error(code: int, title: str, details: str) -> dict[str, Any]:
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


WINDOW_CLOSED = webhook_error(
    131047,
    "Re-engagement message",
    "Message failed to send because more than 24 hours have passed since the customer last "
    "replied to this number.",
)
UNDELIVERABLE = webhook_error(131026, "Message undeliverable", "Message undeliverable.")
TOKEN_EXPIRED = webhook_error(190, "Access token has expired", "Error validating access token")
GENERIC = webhook_error(131000, "Something went wrong", "Something went wrong")


@pytest.fixture
def citizen(agency_a):
    return ContactFactory(agency=agency_a, wa_id=CITIZEN, phone_e164=f"+{CITIZEN}")


@pytest.fixture
def conversation(agency_a, wa_number, citizen):
    now = timezone.now()
    return ConversationFactory(
        agency=agency_a,
        phone_number=wa_number,
        contact=citizen,
        last_inbound_at=now - timedelta(hours=1),
        window_expires_at=now + timedelta(hours=23),
    )


@pytest.fixture
def sent_message(agency_a, conversation) -> Message:
    return OutboundMessageFactory(agency=agency_a, conversation=conversation)


def statuses_of(number: PhoneNumber, *items: dict[str, Any]) -> dict[str, Any]:
    return envelope(messages_change(number.phone_number_id, statuses=list(items)))


def reload(message: Message) -> Message:
    with agency_scope(message.agency_id):
        return Message.objects.get(pk=message.pk)


def parked(agency) -> list[tuple[str, str]]:
    with agency_scope(agency):
        return sorted(ParkedStatus.objects.values_list("wamid", "status"))


def snapshot(message: Message) -> dict[str, Any]:
    row = reload(message)
    return {
        name: getattr(row, name)
        for name in (
            "status",
            "sent_at",
            "delivered_at",
            "read_at",
            "failed_at",
            "error_code",
            "error_reason",
            "error_details",
            "pricing",
            "meta_conversation",
        )
    }


# --- each status ------------------------------------------------------------------------------


def test_sent_records_the_time_and_keeps_meta_conversation_and_pricing(
    ingest, wa_number, sent_message
):
    event = ingest(
        statuses_of(
            wa_number,
            status(
                sent_message.wamid,
                "sent",
                CITIZEN,
                timestamp=T_SENT,
                biz_opaque_callback_data=f"civic-relay:{sent_message.pk}",
                conversation=CONVERSATION,
                pricing=PRICING,
            ),
        )
    )
    stored = reload(sent_message)
    assert event.status == "processed"
    assert (stored.status, stored.sent_at) == ("sent", at(T_SENT))
    assert (stored.delivered_at, stored.read_at, stored.failed_at) == (None, None, None)
    assert stored.meta_conversation == CONVERSATION
    assert stored.pricing == PRICING


def test_delivered_records_the_time_and_implies_sent(ingest, wa_number, sent_message):
    ingest(
        statuses_of(
            wa_number, status(sent_message.wamid, "delivered", CITIZEN, timestamp=T_DELIVERED)
        )
    )
    stored = reload(sent_message)
    assert (stored.status, stored.delivered_at) == ("delivered", at(T_DELIVERED))
    assert stored.sent_at == at(T_DELIVERED)


def test_read_records_the_time(ingest, wa_number, sent_message):
    ingest(statuses_of(wa_number, status(sent_message.wamid, "read", CITIZEN, timestamp=T_READ)))
    stored = reload(sent_message)
    assert (stored.status, stored.read_at) == ("read", at(T_READ))


def test_a_played_voice_message_counts_as_read(ingest, wa_number, sent_message):
    ingest(statuses_of(wa_number, status(sent_message.wamid, "played", CITIZEN, timestamp=T_READ)))
    stored = reload(sent_message)
    assert (stored.status, stored.read_at) == ("read", at(T_READ))


def test_a_later_status_keeps_the_conversation_expiry_of_the_first(ingest, wa_number, sent_message):
    without_expiry = {"id": CONVERSATION["id"], "origin": CONVERSATION["origin"]}
    ingest(
        statuses_of(
            wa_number,
            status(
                sent_message.wamid, "sent", CITIZEN, timestamp=T_SENT, conversation=CONVERSATION
            ),
        )
    )
    ingest(
        statuses_of(
            wa_number,
            status(
                sent_message.wamid,
                "delivered",
                CITIZEN,
                timestamp=T_DELIVERED,
                conversation=without_expiry,
                pricing=PRICING,
            ),
        )
    )
    stored = reload(sent_message)
    assert stored.meta_conversation["expiration_timestamp"] == CONVERSATION["expiration_timestamp"]
    assert stored.pricing == PRICING


# --- failures -----------------------------------------------------------------------------------


def failed(message: Message, error: dict[str, Any] | None, *, timestamp: int = T_SENT) -> dict:
    extra = {"errors": [error]} if error is not None else {}
    return status(message.wamid, "failed", CITIZEN, timestamp=timestamp, **extra)


def test_failure_131047_keeps_the_reason_and_closes_the_conversation_window(
    ingest, wa_number, sent_message, conversation
):
    now = int(timezone.now().timestamp())
    ingest(statuses_of(wa_number, failed(sent_message, WINDOW_CLOSED, timestamp=now)))
    stored = reload(sent_message)
    assert (stored.status, stored.error_code, stored.failed_at) == ("failed", 131047, at(now))
    assert "24 hours" in stored.error_reason
    assert stored.error_details["details"] == WINDOW_CLOSED["error_data"]["details"]
    with agency_scope(conversation.agency_id):
        window = Conversation.objects.get(pk=conversation.pk).window_expires_at
    assert window <= timezone.now()


def test_failure_131047_leaves_a_window_the_citizen_reopened_after_it(
    ingest, wa_number, sent_message, conversation
):
    # The citizen's last message (1 hour ago) came after the failure Meta reports.
    stale = int((timezone.now() - timedelta(hours=2)).timestamp())
    ingest(statuses_of(wa_number, failed(sent_message, WINDOW_CLOSED, timestamp=stale)))
    assert reload(sent_message).error_code == 131047
    with agency_scope(conversation.agency_id):
        stored = Conversation.objects.get(pk=conversation.pk)
    assert stored.window_expires_at == conversation.window_expires_at


def test_failure_131026_marks_the_contact_unreachable(ingest, wa_number, sent_message, citizen):
    ingest(statuses_of(wa_number, failed(sent_message, UNDELIVERABLE)))
    stored = reload(sent_message)
    assert (stored.status, stored.error_code) == ("failed", 131026)
    assert stored.error_reason.startswith("The recipient cannot receive")
    with agency_scope(citizen.agency_id):
        assert Contact.objects.get(pk=citizen.pk).unreachable_at is not None


def test_failure_190_disconnects_the_number_and_alerts_the_admins(
    ingest, wa_number, sent_message, agency_a, django_capture_on_commit_callbacks
):
    admin = MembershipFactory(agency=agency_a, role=Role.AGENCY_ADMIN)
    with django_capture_on_commit_callbacks(execute=True):  # the email leaves after commit
        ingest(statuses_of(wa_number, failed(sent_message, TOKEN_EXPIRED)))
    assert (reload(sent_message).status, reload(sent_message).error_code) == ("failed", 190)
    with agency_scope(agency_a):
        assert PhoneNumber.objects.get(pk=wa_number.pk).status == "disconnected"
    (alert,) = mail.outbox
    assert alert.to == [admin.user.email]


def test_a_generic_failure_keeps_meta_words_and_touches_nothing_else(
    ingest, wa_number, sent_message, conversation, citizen, agency_a
):
    ingest(statuses_of(wa_number, failed(sent_message, GENERIC)))
    stored = reload(sent_message)
    assert (stored.status, stored.error_code) == ("failed", 131000)
    assert stored.error_reason == "WhatsApp could not deliver the message: Something went wrong"
    with agency_scope(agency_a):
        assert Conversation.objects.get(pk=conversation.pk).window_expires_at > timezone.now()
        assert Contact.objects.get(pk=citizen.pk).unreachable_at is None
        assert PhoneNumber.objects.get(pk=wa_number.pk).status == wa_number.status


def test_a_failure_without_an_error_object_still_fails_the_message(ingest, wa_number, sent_message):
    ingest(statuses_of(wa_number, failed(sent_message, None)))
    stored = reload(sent_message)
    assert (stored.status, stored.error_code) == ("failed", None)
    assert stored.error_reason == "WhatsApp reported that the message could not be delivered."


# --- duplicates and order ----------------------------------------------------------------------


def test_the_same_status_twice_changes_nothing_the_second_time(ingest, wa_number, sent_message):
    payload = statuses_of(
        wa_number,
        status(
            sent_message.wamid,
            "delivered",
            CITIZEN,
            timestamp=T_DELIVERED,
            conversation=CONVERSATION,
            pricing=PRICING,
        ),
    )
    ingest(payload)
    first = snapshot(sent_message)
    ingest(payload)
    assert snapshot(sent_message) == first
    assert first["delivered_at"] == at(T_DELIVERED)


def test_a_redelivered_failure_does_not_close_a_window_reopened_since(
    ingest, wa_number, sent_message, conversation
):
    now = int(timezone.now().timestamp())
    payload = statuses_of(wa_number, failed(sent_message, WINDOW_CLOSED, timestamp=now))
    ingest(payload)
    with agency_scope(conversation.agency_id):
        assert Conversation.objects.get(pk=conversation.pk).window_expires_at <= timezone.now()
    reopened = timezone.now() + timedelta(hours=24)
    with agency_scope(conversation.agency_id):
        Conversation.objects.filter(pk=conversation.pk).update(window_expires_at=reopened)
    ingest(payload)
    with agency_scope(conversation.agency_id):
        assert Conversation.objects.get(pk=conversation.pk).window_expires_at == reopened


def test_a_later_duplicate_of_a_status_keeps_the_first_time(ingest, wa_number, sent_message):
    ingest(statuses_of(wa_number, status(sent_message.wamid, "sent", CITIZEN, timestamp=T_SENT)))
    ingest(statuses_of(wa_number, status(sent_message.wamid, "sent", CITIZEN, timestamp=T_READ)))
    assert reload(sent_message).sent_at == at(T_SENT)


@pytest.mark.parametrize(
    "order", list(itertools.permutations(["sent", "delivered", "read"])), ids="-".join
)
def test_every_arrival_order_ends_read_with_every_time(ingest, wa_number, sent_message, order):
    times = {"sent": T_SENT, "delivered": T_DELIVERED, "read": T_READ}
    for state in order:
        ingest(
            statuses_of(
                wa_number, status(sent_message.wamid, state, CITIZEN, timestamp=times[state])
            )
        )
    stored = reload(sent_message)
    assert stored.status == "read"
    assert (stored.sent_at, stored.delivered_at, stored.read_at) == (
        at(T_SENT),
        at(T_DELIVERED),
        at(T_READ),
    )


def test_every_status_of_a_message_in_one_batch_in_reverse_order(ingest, wa_number, sent_message):
    ingest(
        statuses_of(
            wa_number,
            status(sent_message.wamid, "read", CITIZEN, timestamp=T_READ),
            status(sent_message.wamid, "delivered", CITIZEN, timestamp=T_DELIVERED),
            status(sent_message.wamid, "sent", CITIZEN, timestamp=T_SENT),
        )
    )
    stored = reload(sent_message)
    assert (stored.status, stored.sent_at, stored.delivered_at, stored.read_at) == (
        "read",
        at(T_SENT),
        at(T_DELIVERED),
        at(T_READ),
    )


def test_read_without_delivered_implies_delivery_at_the_read_time(ingest, wa_number, sent_message):
    ingest(statuses_of(wa_number, status(sent_message.wamid, "sent", CITIZEN, timestamp=T_SENT)))
    ingest(statuses_of(wa_number, status(sent_message.wamid, "read", CITIZEN, timestamp=T_READ)))
    stored = reload(sent_message)
    assert (stored.status, stored.sent_at, stored.read_at) == ("read", at(T_SENT), at(T_READ))
    assert stored.delivered_at == at(T_READ)


def test_a_failure_after_sent_fails_the_message_and_keeps_the_sent_time(
    ingest, wa_number, sent_message
):
    ingest(statuses_of(wa_number, status(sent_message.wamid, "sent", CITIZEN, timestamp=T_SENT)))
    ingest(statuses_of(wa_number, failed(sent_message, GENERIC, timestamp=T_DELIVERED)))
    stored = reload(sent_message)
    assert (stored.status, stored.sent_at, stored.failed_at) == (
        "failed",
        at(T_SENT),
        at(T_DELIVERED),
    )


def test_sent_arriving_after_the_failure_does_not_undo_it(ingest, wa_number, sent_message):
    ingest(statuses_of(wa_number, failed(sent_message, GENERIC, timestamp=T_DELIVERED)))
    ingest(statuses_of(wa_number, status(sent_message.wamid, "sent", CITIZEN, timestamp=T_SENT)))
    stored = reload(sent_message)
    assert (stored.status, stored.error_code, stored.sent_at) == ("failed", 131000, at(T_SENT))


@pytest.mark.parametrize(
    "failure_first", [True, False], ids=["failed-then-delivered", "delivered-then-failed"]
)
def test_delivery_on_another_device_wins_over_a_failure_which_stays_recorded(
    ingest, wa_number, sent_message, failure_first
):
    events = [
        failed(sent_message, GENERIC, timestamp=T_SENT),
        status(sent_message.wamid, "delivered", CITIZEN, timestamp=T_DELIVERED),
    ]
    for event in events if failure_first else reversed(events):
        ingest(statuses_of(wa_number, event))
    stored = reload(sent_message)
    assert (stored.status, stored.delivered_at) == ("delivered", at(T_DELIVERED))
    assert (stored.error_code, stored.failed_at) == (131000, at(T_SENT))


# --- statuses before our wamid: parking ------------------------------------------------------


@pytest.fixture
def unrecorded(agency_a, conversation) -> Message:
    """Meta accepted it, but our send task has not written the wamid yet."""
    return OutboundMessageFactory(
        agency=agency_a, conversation=conversation, status="accepted", wamid=None
    )


EARLY_WAMID = "wamid.HBgLearly000000001"


def record_wamid(message: Message, wamid: str) -> None:
    with agency_scope(message.agency_id):
        Message.objects.filter(pk=message.pk).update(wamid=wamid)


def test_a_status_for_an_unknown_wamid_is_parked_once(ingest, wa_number, agency_a):
    payload = statuses_of(wa_number, status(EARLY_WAMID, "sent", CITIZEN, timestamp=T_SENT))
    ingest(payload)
    event = ingest(payload)
    assert event.status == "processed"
    assert parked(agency_a) == [(EARLY_WAMID, "sent")]


def test_parked_statuses_apply_when_the_send_records_the_wamid(
    ingest, wa_number, unrecorded, agency_a
):
    ingest(
        statuses_of(
            wa_number,
            status(EARLY_WAMID, "delivered", CITIZEN, timestamp=T_DELIVERED, pricing=PRICING),
            status(EARLY_WAMID, "sent", CITIZEN, timestamp=T_SENT, conversation=CONVERSATION),
        )
    )
    assert reload(unrecorded).status == "accepted"
    record_wamid(unrecorded, EARLY_WAMID)
    with agency_scope(agency_a):
        applied = statuses.apply_parked_for(wa_number.pk, [EARLY_WAMID])
    stored = reload(unrecorded)
    assert applied == 2
    assert (stored.status, stored.sent_at, stored.delivered_at) == (
        "delivered",
        at(T_SENT),
        at(T_DELIVERED),
    )
    assert (stored.pricing, stored.meta_conversation) == (PRICING, CONVERSATION)
    assert parked(agency_a) == []


def test_a_parked_failure_applies_with_its_side_effects(ingest, wa_number, unrecorded, citizen):
    ingest(
        statuses_of(
            wa_number,
            status(EARLY_WAMID, "failed", CITIZEN, timestamp=T_SENT, errors=[UNDELIVERABLE]),
        )
    )
    record_wamid(unrecorded, EARLY_WAMID)
    with agency_scope(citizen.agency_id):
        statuses.apply_parked_for(wa_number.pk, [EARLY_WAMID])
        assert Contact.objects.get(pk=citizen.pk).unreachable_at is not None
    assert (reload(unrecorded).status, reload(unrecorded).error_code) == ("failed", 131026)


def test_looking_for_parked_statuses_costs_one_query_when_none_are_parked(
    wa_number, agency_a, django_assert_num_queries
):
    wamids = [f"wamid.HBgLnone{i:06d}" for i in range(200)]
    with agency_scope(agency_a), django_assert_num_queries(1):
        assert statuses.apply_parked_for(wa_number.pk, wamids) == 0


def test_the_periodic_job_applies_parked_statuses_whose_wamid_exists(
    ingest, wa_number, unrecorded, agency_a
):
    ingest(statuses_of(wa_number, status(EARLY_WAMID, "read", CITIZEN, timestamp=T_READ)))
    ingest(statuses_of(wa_number, status("wamid.HBgLnever", "sent", CITIZEN, timestamp=T_SENT)))
    record_wamid(unrecorded, EARLY_WAMID)
    with system_scope():
        assert statuses.apply_parked() == 1
    assert (reload(unrecorded).status, reload(unrecorded).read_at) == ("read", at(T_READ))
    assert parked(agency_a) == [("wamid.HBgLnever", "sent")]


def test_the_periodic_job_drops_statuses_parked_for_more_than_7_days(
    ingest, wa_number, agency_a, caplog
):
    ingest(statuses_of(wa_number, status("wamid.HBgLnever", "sent", CITIZEN, timestamp=T_SENT)))
    with system_scope():
        assert statuses.apply_parked(now=timezone.now() + timedelta(days=6)) == 0
        assert parked(agency_a) == [("wamid.HBgLnever", "sent")]
        statuses.apply_parked(now=timezone.now() + timedelta(days=7, minutes=1))
    assert parked(agency_a) == []
    (record,) = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert record.count == 1


# --- reconciliation through our opaque callback data -------------------------------------------


def test_a_status_proves_a_send_whose_worker_died_after_the_http_call(
    ingest, wa_number, agency_a, conversation
):
    stuck = OutboundMessageFactory(
        agency=agency_a, conversation=conversation, status="sending", wamid=None, accepted_at=None
    )
    ingest(
        statuses_of(
            wa_number,
            status(
                EARLY_WAMID,
                "sent",
                CITIZEN,
                timestamp=T_SENT,
                biz_opaque_callback_data=f"civic-relay:{stuck.pk}",
            ),
        )
    )
    stored = reload(stuck)
    assert (stored.wamid, stored.status, stored.sent_at) == (EARLY_WAMID, "sent", at(T_SENT))
    assert parked(agency_a) == []


def test_a_status_clears_the_outcome_unknown_verdict_of_the_reconciler(
    ingest, wa_number, agency_a, conversation
):
    given_up = OutboundMessageFactory(
        agency=agency_a,
        conversation=conversation,
        status="failed",
        wamid=None,
        failed_at=timezone.now(),
        error_reason="The outcome of the send is unknown (no answer from WhatsApp).",
    )
    ingest(
        statuses_of(
            wa_number,
            status(
                EARLY_WAMID,
                "delivered",
                CITIZEN,
                timestamp=T_DELIVERED,
                biz_opaque_callback_data=f"civic-relay:{given_up.pk}",
            ),
        )
    )
    stored = reload(given_up)
    assert (stored.wamid, stored.status, stored.delivered_at) == (
        EARLY_WAMID,
        "delivered",
        at(T_DELIVERED),
    )
    assert (stored.failed_at, stored.error_reason) == (None, "")


def test_a_queued_message_named_by_opaque_data_is_not_claimed(
    ingest, wa_number, agency_a, conversation
):
    queued = OutboundMessageFactory(
        agency=agency_a, conversation=conversation, status="queued", wamid=None, accepted_at=None
    )
    ingest(
        statuses_of(
            wa_number,
            status(
                EARLY_WAMID, "sent", CITIZEN, biz_opaque_callback_data=f"civic-relay:{queued.pk}"
            ),
        )
    )
    assert (reload(queued).status, reload(queued).wamid) == ("queued", None)
    assert parked(agency_a) == [(EARLY_WAMID, "sent")]


def test_a_message_that_already_has_a_wamid_is_not_reassigned(
    ingest, wa_number, agency_a, sent_message
):
    ingest(
        statuses_of(
            wa_number,
            status(
                EARLY_WAMID,
                "read",
                CITIZEN,
                biz_opaque_callback_data=f"civic-relay:{sent_message.pk}",
            ),
        )
    )
    assert snapshot(sent_message)["status"] == "accepted"
    assert reload(sent_message).wamid == sent_message.wamid
    assert parked(agency_a) == [(EARLY_WAMID, "read")]


@pytest.mark.parametrize("opaque", ["my-tracking-id", "civic-relay:", "civic-relay:12x", "x" * 600])
def test_a_status_with_foreign_opaque_data_stays_parked(
    ingest, wa_number, agency_a, unrecorded, opaque
):
    ingest(
        statuses_of(
            wa_number, status(EARLY_WAMID, "sent", CITIZEN, biz_opaque_callback_data=opaque)
        )
    )
    assert reload(unrecorded).wamid is None
    assert parked(agency_a) == [(EARLY_WAMID, "sent")]


def test_opaque_data_naming_another_agencys_message_does_nothing_to_it(
    ingest, wa_number, agency_a, agency_b
):
    foreign = OutboundMessageFactory(agency=agency_b, status="sending", wamid=None)
    ingest(
        statuses_of(
            wa_number,
            status(
                EARLY_WAMID,
                "read",
                CITIZEN,
                biz_opaque_callback_data=f"civic-relay:{foreign.pk}",
            ),
        )
    )
    stored = reload(foreign)
    assert (stored.status, stored.wamid, stored.read_at) == ("sending", None, None)
    assert parked(agency_a) == [(EARLY_WAMID, "read")]
    assert parked(agency_b) == []


def test_opaque_data_naming_a_message_of_another_number_does_nothing_to_it(
    ingest, wa_number, agency_a
):
    other_number = PhoneNumberFactory(agency=agency_a)
    elsewhere = OutboundMessageFactory(
        agency=agency_a,
        conversation=ConversationFactory(agency=agency_a, phone_number=other_number),
        status="sending",
        wamid=None,
    )
    ingest(
        statuses_of(
            wa_number,
            status(
                EARLY_WAMID, "sent", CITIZEN, biz_opaque_callback_data=f"civic-relay:{elsewhere.pk}"
            ),
        )
    )
    assert (reload(elsewhere).status, reload(elsewhere).wamid) == ("sending", None)


# --- what a status must never touch ---------------------------------------------------------


def test_a_status_naming_an_inbound_message_leaves_it_alone(
    ingest, wa_number, agency_a, conversation
):
    inbound = InboundMessageFactory(agency=agency_a, conversation=conversation)
    ingest(statuses_of(wa_number, status(inbound.wamid, "read", CITIZEN, timestamp=T_READ)))
    stored = reload(inbound)
    assert (stored.status, stored.read_at) == ("received", None)


def test_a_status_from_another_number_leaves_its_namesake_alone(
    ingest, wa_number, agency_a, sent_message
):
    other_number = PhoneNumberFactory(agency=agency_a)
    ingest(statuses_of(other_number, status(sent_message.wamid, "read", CITIZEN, timestamp=T_READ)))
    assert reload(sent_message).status == "accepted"


def test_odd_items_are_skipped_and_the_others_applied(ingest, wa_number, sent_message, agency_a):
    event = ingest(
        statuses_of(
            wa_number,
            "not an object",  # type: ignore[arg-type]  # hostile on purpose
            {"status": "read"},
            {"id": sent_message.wamid, "status": ["read"]},
            status(sent_message.wamid, "deleted", CITIZEN),
            status(sent_message.wamid, "delivered", CITIZEN, timestamp="yesterday"),  # type: ignore[arg-type]
        )
    )
    stored = reload(sent_message)
    assert event.status == "processed"
    assert stored.status == "delivered" and stored.delivered_at is not None
    assert parked(agency_a) == []


def test_a_status_whose_pricing_holds_a_nul_is_applied_with_a_replacement(
    ingest, wa_number, sent_message
):
    event = ingest(
        statuses_of(
            wa_number,
            status(sent_message.wamid, "read", CITIZEN, pricing={"category": "a\x00b"}),
        )
    )
    stored = reload(sent_message)
    assert event.status == "processed"
    assert (stored.status, stored.pricing) == ("read", {"category": "a\ufffdb"})


def test_statuses_that_are_not_a_list_quarantine_the_change(ingest, wa_number):
    payload = envelope(messages_change(wa_number.phone_number_id))
    payload["entry"][0]["changes"][0]["value"]["statuses"] = {"id": "wamid.x"}
    event = ingest(payload)
    assert event.status == "quarantined"
    assert event.problems[0]["reason"] == "`statuses` is not a list"


# --- batching ----------------------------------------------------------------------------------


def test_200_statuses_in_one_change_apply_in_a_few_queries(
    ingest, wa_number, agency_a, conversation, django_assert_max_num_queries
):
    messages = OutboundMessageFactory.create_batch(200, agency=agency_a, conversation=conversation)
    items = [
        status(m.wamid, state, CITIZEN, timestamp=T_SENT + i, pricing=PRICING)
        for i, m in enumerate(messages)
        for state in (["read"] if i % 2 else ["sent", "delivered"])
    ]
    items.append(failed(messages[0], GENERIC, timestamp=T_SENT))
    items.append(status(EARLY_WAMID, "sent", CITIZEN))  # one to park
    # The 302 statuses take 3 statements (apply all, record the new failure, park the unknown
    # one); storing, claiming, routing and recording the event take about a dozen more.
    with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(16):
        ingest(statuses_of(wa_number, *items))
    status_sql = [
        q["sql"]
        for q in queries.captured_queries
        if "messaging_message" in q["sql"] or "messaging_parkedstatus" in q["sql"]
    ]
    assert len(status_sql) == 3
    with agency_scope(agency_a):
        counts = sorted(
            Message.objects.filter(conversation=conversation)
            .values_list("status", flat=True)
            .distinct()
        )
    assert counts == ["delivered", "read"]
    assert reload(messages[0]).error_code == 131000
    assert parked(agency_a) == [(EARLY_WAMID, "sent")]


# --- concurrent workers --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_merge_into_the_latest_row_not_a_stale_read(
    agency_a, wa_number, conversation
):
    """Worker A has applied `delivered` to 50 messages but not committed; worker B applies
    `read` (in the opposite order) meanwhile. B waits for A's row locks and merges into the
    row A committed: both times survive, whatever B's snapshot said."""
    messages = OutboundMessageFactory.create_batch(50, agency=agency_a, conversation=conversation)
    route = Route(agency_a.pk, wa_number.waba_id, wa_number.waba.waba_id, wa_number.pk, "")

    def change(state: str, timestamp: int, order: list[Message]) -> Change:
        items = [status(m.wamid, state, CITIZEN, timestamp=timestamp) for m in order]
        return Change(0, "messages", {"statuses": items}, route, None)

    a_applied, errors = threading.Event(), []

    def worker(change: Change, *, hold: bool) -> None:
        try:
            with agency_scope(agency_a), transaction.atomic():
                if not hold:
                    a_applied.wait(5)
                statuses.handle_statuses(change)
                if hold:
                    a_applied.set()
                    time.sleep(0.5)  # B is now blocked on A's locks
        except Exception as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            connection.close()

    a = threading.Thread(
        target=worker, args=(change("delivered", T_DELIVERED, messages),), kwargs={"hold": True}
    )
    b = threading.Thread(
        target=worker, args=(change("read", T_READ, messages[::-1]),), kwargs={"hold": False}
    )
    a.start()
    b.start()
    a.join(10)
    b.join(10)
    assert errors == []
    with agency_scope(agency_a):
        rows = set(
            Message.objects.filter(pk__in=[m.pk for m in messages]).values_list(
                "status", "delivered_at", "read_at"
            )
        )
    assert rows == {("read", at(T_DELIVERED), at(T_READ))}
