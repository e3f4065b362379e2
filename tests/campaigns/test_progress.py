"""Live progress: the campaign's counters kept from the event stream, completion, and the
throttled campaign.progress events."""

from __future__ import annotations

import json
import logging

from django.db import transaction

from bsp import events
from bsp.events import dispatch, types
from bsp.events.models import DomainEvent, EventCursor
from messaging import delivery
from messaging.campaigns import selectors, services
from messaging.campaigns.consumers import campaign_consumer, publish_progress
from messaging.campaigns.models import Campaign, CampaignStats
from messaging.consent.services import record_consent
from messaging.models import Consent, Message
from tenants.scoping import agency_scope
from tests.campaigns.factories import ADMIN, campaign, citizen, many_citizens, started

S = Campaign.Status


def stream(agency) -> None:
    """What the dispatcher does after each commit: hand the new events to the consumers."""
    while dispatch.dispatch_agency(agency.pk):
        pass


def stats(c) -> CampaignStats:
    with agency_scope(c.agency_id):
        return CampaignStats.objects.get(campaign=c)


def test_queued_messages_and_skipped_recipients_are_counted_from_the_stream(
    agency_a, number, utility
):
    citizen(agency_a), citizen(agency_a)
    citizen(agency_a, consents=(("", Consent.Status.OPTED_OUT),))
    c = started(campaign(number, utility))
    assert stats(c).queued == 0  # nothing counted before the stream delivers
    stream(agency_a)
    progress = selectors.campaign_progress(c)
    assert (progress.recipients, progress.queued, progress.skipped) == (3, 2, 1)
    assert progress.skipped_by_reason == {"opted_out": 1}


def test_a_redelivered_batch_is_counted_once(agency_a, number, utility):
    citizen(agency_a), citizen(agency_a)
    c = started(campaign(number, utility))
    stream(agency_a)
    with agency_scope(agency_a):
        EventCursor.objects.filter(agency=agency_a).update(dispatched_through=0)
    stream(agency_a)  # at least once: the same events again
    assert stats(c).queued == 2


def test_accepted_messages_move_from_queued_to_sent_and_complete_the_campaign(
    agency_a, registered, sim_utility
):
    citizen(agency_a), citizen(agency_a)
    c = started(campaign(registered, sim_utility))
    with agency_scope(agency_a):
        delivery.drain_phone_number(registered.pk, seconds=10)
    stream(agency_a)
    progress = selectors.campaign_progress(c)
    assert (progress.queued, progress.sent) == (0, 2), progress
    with agency_scope(agency_a):
        c.refresh_from_db()
        assert DomainEvent.objects.filter(type=types.CAMPAIGN_COMPLETED).count() == 1
    assert c.status == S.COMPLETED


def test_a_campaign_is_not_completed_before_the_stream_has_counted_its_messages(
    agency_a, number, utility
):
    citizen(agency_a)
    c = started(campaign(number, utility))
    assert c.status == S.SENDING  # everything queued, nothing counted or sent yet


def test_a_failed_message_is_counted_with_its_reason(agency_a, number, utility):
    citizen(agency_a)
    c = started(campaign(number, utility))
    with agency_scope(agency_a):
        message = Message.objects.get(campaign_id=c.pk)
        delivery.mark_failed(message, code=131026, reason="Message undeliverable")
    stream(agency_a)
    progress = selectors.campaign_progress(c)
    assert (progress.queued, progress.failed) == (0, 1)
    assert progress.failed_by_reason == {"131026: Message undeliverable": 1}


def test_pause_resume_and_cancel_move_the_counters(agency_a, number, utility):
    citizen(agency_a), citizen(agency_a)
    c = started(campaign(number, utility))
    services.pause_campaign(actor=ADMIN, campaign=c)
    stream(agency_a)
    assert (stats(c).queued, stats(c).held) == (0, 2)
    services.resume_campaign(actor=ADMIN, campaign=c)
    stream(agency_a)
    assert (stats(c).queued, stats(c).held) == (2, 0)
    services.cancel_campaign(actor=ADMIN, campaign=c)
    stream(agency_a)
    assert (stats(c).queued, stats(c).held, stats(c).cancelled) == (0, 0, 2)


def test_a_citizens_opt_out_withdrawing_a_queued_message_counts_as_cancelled(
    agency_a, number, utility
):
    leaving = citizen(agency_a)
    citizen(agency_a)
    c = started(campaign(number, utility))
    with agency_scope(agency_a):
        record_consent(
            actor=ADMIN,
            contact=leaving,
            status=Consent.Status.OPTED_OUT,
            source=Consent.Source.STAFF,
        )
    stream(agency_a)
    assert (stats(c).queued, stats(c).cancelled) == (1, 1)


def test_progress_events_carry_the_counters(agency_a, number, utility):
    citizen(agency_a)
    c = started(campaign(number, utility))
    stream(agency_a)
    with agency_scope(agency_a):
        assert publish_progress(c.pk)
        event = DomainEvent.objects.filter(type=types.CAMPAIGN_PROGRESS).get()
    assert event.subject == {"campaign": c.pk}
    assert (event.payload["recipients"], event.payload["queued"]) == (1, 1)


def test_progress_is_throttled_to_one_event_a_second_per_campaign(agency_a, number, utility):
    from bsp.redis import redis_client
    from messaging.campaigns.consumers import _progress_key, schedule_progress

    citizen(agency_a)
    c = started(campaign(number, utility))
    client = redis_client()
    client.delete(_progress_key(c.pk))
    schedule_progress(agency_a.pk, c.pk)
    assert client.pttl(_progress_key(c.pk)) > 0  # the second's slot is taken
    schedule_progress(agency_a.pk, c.pk)  # within the second: no second task
    ttl = client.pttl(_progress_key(c.pk))
    assert 0 < ttl <= 1000


def test_the_counters_never_count_the_messages_table(
    agency_a, number, utility, django_assert_max_num_queries
):
    many_citizens(agency_a, 50)
    c = started(campaign(number, utility))
    stream(agency_a)
    with django_assert_max_num_queries(2):
        assert selectors.campaign_progress(c).queued == 50


def _bad(kind: str, sequence: int, subject: dict, payload: dict) -> str:
    return json.dumps(
        {"agency": 0, "sequence": sequence, "type": kind, "subject": subject, "payload": payload}
    )


def test_an_event_the_consumer_cannot_apply_is_skipped_alone(agency_a, number, utility, caplog):
    citizen(agency_a), citizen(agency_a)
    citizen(agency_a, consents=(("", Consent.Status.OPTED_OUT),))
    c = started(campaign(number, utility))
    with agency_scope(agency_a):
        good = [text for _, text in dispatch._pending(agency_a.pk, 0, 500)]
    first, second = json.loads(good[0])["sequence"], json.loads(good[-1])["sequence"]
    # Placed before the good event of the same sequence, so the good one still counts.
    batch = [
        _bad(types.MESSAGE_QUEUED, first, {}, {"campaign": "not-an-id"}),  # a Python error
        good[0],
        *good[1:-1],
        # A database error (a counter out of range) inside the batch's transaction.
        _bad(types.CAMPAIGN_QUEUED, second, {"campaign": c.pk}, {"skipped": {"x": 10**30}}),
        good[-1],
        "not json",
    ]
    errors = caplog.at_level(logging.ERROR, logger="messaging.campaigns.consumers")
    with errors, agency_scope(agency_a):  # the scope the dispatcher calls it in
        campaign_consumer(agency_a.pk, batch)
    progress = selectors.campaign_progress(c)
    assert (progress.recipients, progress.queued, progress.skipped) == (3, 2, 1)
    skipped = [r.getMessage() for r in caplog.records if "skipped event" in r.getMessage()]
    assert len(skipped) == 2
    with agency_scope(agency_a):
        campaign_consumer(agency_a.pk, batch)  # redelivered: nothing counted twice
    assert stats(c).queued == 2 and stats(c).skipped == 1


def test_a_bad_event_in_the_stream_leaves_the_events_after_it_counted(agency_a, number, utility):
    citizen(agency_a)
    with agency_scope(agency_a), transaction.atomic():
        events.publish(
            agency_id=agency_a.pk,
            type=types.MESSAGE_QUEUED,
            subject={"message": 1},
            payload={"campaign": "not-an-id"},
        )
    c = started(campaign(number, utility))
    stream(agency_a)  # one batch: the bad event first, then the campaign's
    assert stats(c).queued == 1
    assert selectors.campaign_progress(c).recipients == 1
