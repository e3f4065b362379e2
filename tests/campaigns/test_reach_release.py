"""A business-initiated message that Meta reports failed gives its messaging-limit slot back
as soon as the event stream carries the status, not at the next reconcile (Meta's limit
counts people delivered to); a failure later reported delivered takes the slot again."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bsp.events import dispatch
from messaging import delivery, reach
from messaging.models import Message, ReachedContact
from messaging.webhooks import processing, signature
from messaging.webhooks.receive import store_event
from tenants.scoping import agency_scope, system_scope
from tests.campaigns.factories import campaign, citizen, started
from tests.messaging.webhooks.payloads import encode, envelope, messages_change, status

# Meta's failed status (cloud-api.md §5.6): 131049, "not delivered to maintain healthy
# ecosystem engagement" (per-user marketing caps).
CAPPED = {
    "code": 131049,
    "title": "This message was not delivered to maintain healthy ecosystem engagement.",
    "message": "This message was not delivered to maintain healthy ecosystem engagement.",
    "error_data": {"details": "In order to maintain a healthy ecosystem engagement."},
}


@pytest.fixture(autouse=True)
def _fresh_caches():
    processing.forget_cached_routes()
    signature.forget_cached_secrets()
    yield
    processing.forget_cached_routes()
    signature.forget_cached_secrets()


def stream(agency) -> None:
    while dispatch.dispatch_agency(agency.pk):
        pass


def webhook(number, *statuses: dict) -> None:
    """Meta's status webhook through the real path (stored, then processed)."""
    change = messages_change(number.phone_number_id, statuses=list(statuses))
    event_id = store_event(
        encode(envelope(change, waba_id=number.waba.waba_id)), "sha256=test", "platform"
    )
    with system_scope():
        processing.process_event(event_id)


@pytest.fixture
def sent(agency_a, registered, sim_utility):
    """Two citizens sent a campaign's business-initiated message (accepted by Meta)."""
    ana, ben = citizen(agency_a), citizen(agency_a)
    started(campaign(registered, sim_utility))
    with agency_scope(agency_a):
        delivery.drain_phone_number(registered.pk, seconds=10)
        messages = {m.contact_id: m for m in Message.objects.filter(campaign_id__isnull=False)}
    stream(agency_a)
    assert {m.status for m in messages.values()} == {Message.Status.ACCEPTED}
    return messages[ana.pk], messages[ben.pk]


def reached(number) -> set[int]:
    with agency_scope(number.agency_id):
        return set(
            ReachedContact.objects.filter(reached_at__gt=timezone.now() - reach.WINDOW).values_list(
                "contact_id", flat=True
            )
        )


def remaining(number) -> int:
    with agency_scope(number.agency_id):
        left = reach.remaining(number.waba.portfolio_id, timezone.now())
    assert left is not None  # the fixtures' tier is limited
    return left


def test_a_failed_status_webhook_gives_the_slot_back_without_a_reconcile(registered, sent):
    ana, ben = sent
    before = remaining(registered)
    assert reached(registered) == {ana.contact_id, ben.contact_id}
    webhook(registered, status(ana.wamid, "failed", "x", errors=[CAPPED]))
    assert reached(registered) == {ana.contact_id, ben.contact_id}  # not before the stream
    stream(registered.agency)
    assert reached(registered) == {ben.contact_id}
    assert remaining(registered) == before + 1


def test_a_redelivered_failure_frees_the_slot_once(registered, sent):
    ana, _ = sent
    before = remaining(registered)
    failed = status(ana.wamid, "failed", "x", errors=[CAPPED])
    webhook(registered, failed)
    webhook(registered, failed)  # Meta delivers webhooks at least once
    stream(registered.agency)
    assert remaining(registered) == before + 1


def test_a_failure_later_delivered_on_another_device_takes_the_slot_again(registered, sent):
    ana, ben = sent
    webhook(registered, status(ana.wamid, "failed", "x", errors=[CAPPED]))
    stream(registered.agency)
    assert reached(registered) == {ben.contact_id}
    webhook(registered, status(ana.wamid, "delivered", "x"))
    stream(registered.agency)
    assert reached(registered) == {ana.contact_id, ben.contact_id}


def test_a_citizen_still_counted_by_another_message_keeps_the_slot(
    agency_a, registered, sim_utility, sent
):
    ana, _ = sent
    started(campaign(registered, sim_utility, name="Second notice"))  # Ana again, queued
    webhook(registered, status(ana.wamid, "failed", "x", errors=[CAPPED]))
    stream(agency_a)
    assert ana.contact_id in reached(registered)


def test_a_delivered_message_keeps_its_slot(registered, sent):
    ana, ben = sent
    webhook(registered, status(ana.wamid, "delivered", "x"), status(ben.wamid, "read", "x"))
    stream(registered.agency)
    assert reached(registered) == {ana.contact_id, ben.contact_id}


def test_the_consumer_ignores_malformed_events_and_other_agencies_ids(agency_a, registered, sent):
    ana, ben = sent
    with agency_scope(agency_a):
        reach.reach_consumer(
            agency_a.pk,
            [
                "not json",
                '{"type": "message.status", "subject": {}, "payload": {"status": "failed"}}',
                '{"type": "message.status", "subject": {"message": "x"}, "payload": {}}',
                # A message id of no message of this agency (RLS hides other agencies').
                '{"type": "message.status", "subject": {"message": 999999999},'
                ' "payload": {"status": "failed", "previous": "sent"}}',
            ],
        )
    assert reached(registered) == {ana.contact_id, ben.contact_id}
