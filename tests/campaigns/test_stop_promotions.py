"""A citizen who taps "Stop promotions" inside WhatsApp (a ``user_preferences`` webhook) is
never sent the marketing templates still waiting for them: queued or held ones are
withdrawn in the same transaction, as an opt-out withdraws them, each with its
``message.status``; other messages to them wait as before."""

from __future__ import annotations

import json
import time

import pytest

from bsp.events import dispatch
from bsp.events.models import DomainEvent
from messaging.campaigns import selectors, services
from messaging.models import Message
from messaging.webhooks import processing, signature
from messaging.webhooks.inbound.preferences import MARKETING_WITHDRAWN_REASON
from messaging.webhooks.receive import store_event
from records.models import AuditEvent
from tenants.scoping import agency_scope, system_scope
from tests.campaigns.factories import ADMIN, campaign, citizen, started

CANADA = "14165550123"  # marketing is delivered to Canada (not to US +1 numbers)


@pytest.fixture(autouse=True)
def _fresh_caches():
    processing.forget_cached_routes()
    signature.forget_cached_secrets()
    yield
    processing.forget_cached_routes()
    signature.forget_cached_secrets()


def preference(number, wa_id: str, value: str, timestamp: int | None = None) -> None:
    """Meta's ``user_preferences`` webhook (cloud-api.md §5.7) through the real path."""
    change = {
        "field": "user_preferences",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": "15550100001",
                "phone_number_id": number.phone_number_id,
            },
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": wa_id}],
            "user_preferences": [
                {
                    "wa_id": wa_id,
                    "detail": "User requested to stop marketing messages",
                    "category": "marketing_messages",
                    "value": value,
                    "timestamp": timestamp or int(time.time()),
                }
            ],
        },
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": number.waba.waba_id, "changes": [change]}],
    }
    event_id = store_event(json.dumps(body).encode(), "sha256=test", "platform")
    with system_scope():
        processing.process_event(event_id)


@pytest.fixture
def waiting(agency_a, number, marketing, utility):
    """Ana has a marketing campaign's message queued, another held (a paused campaign),
    and a utility campaign's message queued."""
    ana = citizen(agency_a, wa_id=CANADA)
    queued = started(campaign(number, marketing, name="Summer fair"))
    held = started(campaign(number, marketing, name="Pool opening"))
    services.pause_campaign(actor=ADMIN, campaign=held)
    notice = started(campaign(number, utility, name="Permit ready"))
    with agency_scope(agency_a):
        messages = {
            m.campaign_id: m for m in Message.objects.filter(contact=ana, campaign_id__isnull=False)
        }
    assert messages[held.pk].status == Message.Status.HELD
    return ana, messages[queued.pk], messages[held.pk], messages[notice.pk], queued


def _status(message: Message) -> tuple[str, str]:
    with agency_scope(message.agency_id):
        message.refresh_from_db()
    return message.status, message.error_reason


def test_stop_promotions_withdraws_waiting_marketing_messages(number, waiting):
    _, queued, held, notice, _ = waiting
    preference(number, CANADA, "stop")
    assert _status(queued) == (Message.Status.CANCELLED, MARKETING_WITHDRAWN_REASON)
    assert _status(held) == (Message.Status.CANCELLED, MARKETING_WITHDRAWN_REASON)
    assert _status(notice) == (Message.Status.QUEUED, "")  # a utility message still goes


def test_each_withdrawn_message_publishes_its_status_and_the_opt_out_is_audited(
    agency_a, number, waiting
):
    _, queued, held, _, campaign_ = waiting
    preference(number, CANADA, "stop")
    with agency_scope(agency_a):
        withdrawn = {
            e.subject["message"]: (e.subject.get("campaign"), e.payload["previous"])
            for e in DomainEvent.objects.filter(type="message.status")
            if e.payload["status"] == "cancelled"
        }
        audit = AuditEvent.objects.get(action="consent.opted_out")
    assert withdrawn == {
        queued.pk: (campaign_.pk, Message.Status.QUEUED),
        held.pk: (held.campaign_id, Message.Status.HELD),
    }
    assert audit.changes["withdrawn_messages"] == 2


def test_the_campaigns_counters_show_the_withdrawn_message_as_cancelled(agency_a, number, waiting):
    _, _, _, _, campaign_ = waiting
    preference(number, CANADA, "stop")
    while dispatch.dispatch_agency(agency_a.pk):
        pass
    progress = selectors.campaign_progress(campaign_)
    assert (progress.queued, progress.cancelled) == (0, 1)


def test_a_redelivered_stop_withdraws_nothing_more(agency_a, number, waiting):
    moment = int(time.time())
    preference(number, CANADA, "stop", moment)
    preference(number, CANADA, "stop", moment)  # Meta delivers at least once
    with agency_scope(agency_a):
        assert AuditEvent.objects.filter(action="consent.opted_out").count() == 1


def test_resuming_promotions_does_not_bring_withdrawn_messages_back(number, waiting):
    _, queued, _, _, _ = waiting
    preference(number, CANADA, "stop", int(time.time()) - 5)
    preference(number, CANADA, "resume")
    assert _status(queued)[0] == Message.Status.CANCELLED


def test_a_message_already_being_sent_is_left_to_go(agency_a, number, waiting):
    _, queued, _, _, _ = waiting
    with agency_scope(agency_a):
        Message.objects.filter(pk=queued.pk).update(status=Message.Status.SENDING)
    preference(number, CANADA, "stop")
    assert _status(queued)[0] == Message.Status.SENDING
