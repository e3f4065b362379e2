"""Queueing a campaign: bulk, through the send path's rules, re-checked at queue time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bsp.events import types
from bsp.events.models import DomainEvent
from messaging import reach
from messaging.campaigns import services
from messaging.campaigns.models import Campaign, CampaignRecipient, SkipReason
from messaging.models import Consent, Conversation, Message
from templates_mgr.models import MessageTemplate
from tenants.models import BusinessPortfolio
from tenants.scoping import agency_scope
from tests.campaigns.factories import (
    ADMIN,
    campaign,
    citizen,
    many_citizens,
    number_with_tier,
    scheduled,
    started,
    template,
)
from tests.factories import ConsentFactory, ConversationFactory

S = Campaign.Status


def test_starting_a_campaign_queues_one_template_message_per_recipient(agency_a, number, utility):
    ana, ben = citizen(agency_a), citizen(agency_a)
    c = started(campaign(number, utility))
    with agency_scope(agency_a):
        messages = list(Message.objects.filter(campaign_id=c.pk).order_by("contact_id"))
        assert c.status == S.SENDING
        assert [m.contact_id for m in messages] == [ana.pk, ben.pk]
        assert {m.status for m in messages} == {Message.Status.QUEUED}
        assert {m.sender_type for m in messages} == {Message.SenderType.CAMPAIGN}
        assert all(m.business_initiated and m.template_id == utility.pk for m in messages)
        body = messages[0].content["template"]["components"][0]["parameters"]
        assert [p["text"] for p in body] == [ana.profile_name, "P-7"]
        assert Conversation.objects.filter(phone_number=number).count() == 2
        recipients = CampaignRecipient.objects.filter(campaign=c)
        assert {(r.status, r.message_id) for r in recipients} == {
            (CampaignRecipient.Status.QUEUED, m.pk) for m in messages
        }


def test_queueing_publishes_message_queued_per_message_and_one_event_per_chunk(
    agency_a, number, utility
):
    citizen(agency_a), citizen(agency_a)
    c = started(campaign(number, utility))
    with agency_scope(agency_a):
        kinds = list(DomainEvent.objects.values_list("type", flat=True))
        queued = DomainEvent.objects.filter(type=types.MESSAGE_QUEUED)
        assert kinds.count(types.MESSAGE_QUEUED) == 2
        assert {e.payload["campaign"] for e in queued} == {c.pk}
        assert kinds.count(types.CAMPAIGN_STARTED) == 1
        assert kinds.count(types.CAMPAIGN_QUEUED) == 1


def test_queued_business_initiated_recipients_count_against_the_messaging_limit(
    agency_a, number, utility
):
    citizen(agency_a), citizen(agency_a)
    started(campaign(number, utility))
    with agency_scope(agency_a):
        assert reach.reached_count(number.waba.portfolio_id, timezone.now()) == 2


def test_a_citizen_whose_window_is_open_gets_it_without_using_the_limit(agency_a, number, utility):
    talking = citizen(agency_a)
    ConversationFactory(
        agency=agency_a,
        phone_number=number,
        contact=talking,
        window_expires_at=timezone.now() + timedelta(hours=3),
    )
    c = started(campaign(number, utility))
    with agency_scope(agency_a):
        message = Message.objects.get(campaign_id=c.pk)
        assert message.business_initiated is False
        assert reach.reached_count(number.waba.portfolio_id, timezone.now()) == 0


def test_an_opt_out_after_scheduling_skips_the_citizen_at_queue_time(agency_a, number, utility):
    stays, leaves = citizen(agency_a), citizen(agency_a)
    c = scheduled(campaign(number, utility))
    ConsentFactory(agency=agency_a, contact=leaves, status=Consent.Status.OPTED_OUT)
    with agency_scope(agency_a):
        services.start_campaign(c.pk)
        services.queue_pending(c.pk)
        skipped = CampaignRecipient.objects.get(contact=leaves)
        assert Message.objects.filter(campaign_id=c.pk).get().contact_id == stays.pk
    assert (skipped.status, skipped.skip_reason) == ("skipped", SkipReason.OPTED_OUT)


def test_an_opt_out_between_planning_and_queueing_a_chunk_is_honoured(agency_a, number, utility):
    leaves = citizen(agency_a)
    c = scheduled(campaign(number, utility))
    with agency_scope(agency_a):
        services.start_campaign(c.pk)
    ConsentFactory(agency=agency_a, contact=leaves, status=Consent.Status.OPTED_OUT)
    with agency_scope(agency_a):
        services.queue_pending(c.pk)
        assert not Message.objects.filter(campaign_id=c.pk).exists()
        assert CampaignRecipient.objects.get(contact=leaves).skip_reason == SkipReason.OPTED_OUT


def test_a_template_paused_by_meta_before_queueing_fails_the_campaign(agency_a, number, utility):
    citizen(agency_a)
    c = scheduled(campaign(number, utility))
    with agency_scope(agency_a):
        services.start_campaign(c.pk)
        MessageTemplate.objects.filter(pk=utility.pk).update(status=MessageTemplate.Status.PAUSED)
        assert services.queue_pending(c.pk) == "stopped"
        c.refresh_from_db()
        recipient = CampaignRecipient.objects.get(campaign=c)
        assert not Message.objects.filter(campaign_id=c.pk).exists()
    assert c.status == S.FAILED and "paused" in c.failure_reason
    assert recipient.skip_reason == SkipReason.TEMPLATE_UNAVAILABLE


def test_starting_twice_queues_once(agency_a, number, utility):
    citizen(agency_a)
    c = scheduled(campaign(number, utility))
    with agency_scope(agency_a):
        assert services.start_campaign(c.pk) == "started"
        assert services.start_campaign(c.pk) == "not_scheduled"
        services.queue_pending(c.pk)
        services.queue_pending(c.pk)
        assert Message.objects.filter(campaign_id=c.pk).count() == 1
        assert CampaignRecipient.objects.filter(campaign=c).count() == 1


def test_a_campaign_scheduled_for_later_does_not_start_early(agency_a, number, utility):
    citizen(agency_a)
    c = scheduled(campaign(number, utility), at=timezone.now() + timedelta(hours=2))
    with agency_scope(agency_a):
        assert services.start_campaign(c.pk) == "not_due"
        assert services.start_campaign(c.pk, now=timezone.now() + timedelta(hours=2)) == "started"


def test_a_campaign_larger_than_the_remaining_limit_is_refused_with_the_numbers(agency_a):
    number = number_with_tier(agency_a, BusinessPortfolio.MessagingLimitTier.TIER_250)
    many_citizens(agency_a, 300)
    c = campaign(number, template(number))
    with pytest.raises(services.CampaignError) as refused:
        scheduled(c)
    assert "300 people" in str(refused.value) and "250" in str(refused.value)
    assert refused.value.field == "split_across_days"


def test_a_split_campaign_sends_todays_share_and_waits_for_tomorrow(agency_a):
    number = number_with_tier(agency_a, BusinessPortfolio.MessagingLimitTier.TIER_250)
    many_citizens(agency_a, 300)
    c = started(campaign(number, template(number)), split_across_days=True)
    with agency_scope(agency_a):
        pending = CampaignRecipient.objects.filter(campaign=c, status="pending").count()
        assert Message.objects.filter(campaign_id=c.pk).count() == 250
    assert pending == 50
    assert c.status == S.SENDING and c.next_run_at is not None
    assert c.next_run_at > timezone.now() + timedelta(hours=23)


def test_tomorrows_share_of_a_split_campaign_is_queued_when_slots_free(agency_a):
    number = number_with_tier(agency_a, BusinessPortfolio.MessagingLimitTier.TIER_250)
    many_citizens(agency_a, 300)
    c = started(campaign(number, template(number)), split_across_days=True)
    tomorrow = timezone.now() + timedelta(hours=24, minutes=1)
    with agency_scope(agency_a):
        assert services.continue_queueing(c.pk, now=tomorrow)
        assert services.queue_chunk(c.pk, now=tomorrow) == "done"
        assert Message.objects.filter(campaign_id=c.pk).count() == 300


def test_recipients_beyond_a_limit_that_shrank_since_scheduling_are_skipped(agency_a):
    number = number_with_tier(agency_a, BusinessPortfolio.MessagingLimitTier.TIER_2K)
    many_citizens(agency_a, 300)
    c = scheduled(campaign(number, template(number)))
    with agency_scope(agency_a):
        BusinessPortfolio.objects.filter(pk=number.waba.portfolio_id).update(
            messaging_limit_tier=BusinessPortfolio.MessagingLimitTier.TIER_250
        )
        services.start_campaign(c.pk)
        services.queue_pending(c.pk)
        skipped = CampaignRecipient.objects.filter(campaign=c, skip_reason="tier_exceeded")
        assert Message.objects.filter(campaign_id=c.pk).count() == 250
        assert skipped.count() == 50


def test_a_marketing_campaign_goes_through_the_marketing_messages_route_when_enabled(
    agency_a, number, marketing
):
    citizen(agency_a, wa_id="5215512345678")
    agency_a.marketing_messages_api = True
    agency_a.save(update_fields=["marketing_messages_api"])
    c = started(campaign(number, marketing))
    with agency_scope(agency_a):
        message = Message.objects.get(campaign_id=c.pk)
    assert message.route == Message.Route.MARKETING_MESSAGES


def test_scheduling_twice_is_a_no_op(agency_a, number, utility):
    citizen(agency_a)
    c = campaign(number, utility)
    first = scheduled(c)
    second = scheduled(c)
    assert first.status == second.status == S.SCHEDULED
    assert first.scheduled_at == second.scheduled_at


def test_a_campaign_without_a_template_cannot_be_scheduled(agency_a, number):
    c = services.create_campaign(actor=ADMIN, agency=agency_a, name="x", phone_number=number)
    with pytest.raises(services.CampaignError, match="approved template"):
        scheduled(c)


def test_an_agency_in_trial_mode_sends_its_campaign_only_to_its_staff_numbers(
    agency_a, number, utility
):
    staff = citizen(agency_a, wa_id="15125550111")
    stranger = citizen(agency_a, wa_id="15125550222")
    agency_a.live_approved = False
    agency_a.contact_phone = "+1 512 555 0111"
    with agency_scope(agency_a):
        agency_a.save(update_fields=["live_approved", "contact_phone"])

    c = started(campaign(number, utility))

    with agency_scope(agency_a):
        rows = dict(
            CampaignRecipient.objects.filter(campaign=c).values_list("contact_id", "skip_reason")
        )
    assert rows[staff.pk] == ""
    assert rows[stranger.pk] == SkipReason.TRIAL_RECIPIENT
