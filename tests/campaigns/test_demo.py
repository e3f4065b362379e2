"""The demo's campaigns: seeded once over the demo's own templates and citizens, coherent
with what the pages read (counters = recipients), and nothing without an approved template."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction

from messaging.campaigns import selectors
from messaging.campaigns.demo import ALERT_NAME, NOTICE_NAME, seed_demo_campaigns
from messaging.campaigns.models import Campaign, CampaignRecipient, PricingRate
from messaging.campaigns.planning import plan_campaign
from messaging.models import Message
from records.audit import Actor
from templates_mgr.models import MessageTemplate
from tenants.models import Agency
from tenants.scoping import agency_scope, system_scope
from tests.factories import PhoneNumberFactory, TemplateFactory

ACTOR = Actor.system("seed_demo")


@pytest.fixture
def demo(db):
    call_command("seed_demo")
    with system_scope():
        return Agency.objects.get(slug="demo-county")


def seed(agency) -> None:
    with agency_scope(agency), transaction.atomic():  # as seed_demo calls it
        seed_demo_campaigns(agency, ACTOR)


def test_the_demo_has_a_completed_campaign_whose_counters_match_its_recipients(demo):
    seed(demo)
    with agency_scope(demo):
        alert = Campaign.objects.get(name=ALERT_NAME)
        recipients = CampaignRecipient.objects.filter(campaign=alert).count()
        messages = Message.objects.filter(campaign_id=alert.pk)
        statuses = sorted(messages.values_list("status", flat=True))
        skipped = CampaignRecipient.objects.filter(
            campaign=alert, status=CampaignRecipient.Status.SKIPPED
        ).count()
    assert alert.status == Campaign.Status.COMPLETED
    assert alert.completed_at is not None and alert.started_at < alert.completed_at
    progress = selectors.campaign_progress(alert)
    assert progress.recipients == recipients > 0
    assert progress.skipped == skipped > 0  # Rosa opted out of alerts
    assert (progress.read, progress.delivered, progress.failed) == (
        statuses.count("read"),
        statuses.count("delivered"),
        statuses.count("failed"),
    )
    assert progress.read > 0


def test_the_demo_has_a_draft_for_next_monday_ready_to_review(demo):
    seed(demo)
    with agency_scope(demo):
        draft = Campaign.objects.get(name=NOTICE_NAME)
    assert draft.status == Campaign.Status.DRAFT
    assert draft.scheduled_at is not None and draft.scheduled_at.weekday() in (0, 6)
    plan = plan_campaign(draft)
    assert plan.problems == [] and plan.will_send > 0


def test_the_demo_has_the_agencys_contract_rates(demo):
    seed(demo)
    with agency_scope(demo):
        assert PricingRate.objects.count() == 2


def test_seeding_twice_changes_nothing(demo):
    seed(demo)
    seed(demo)
    with agency_scope(demo):
        assert Campaign.objects.filter(name=ALERT_NAME).count() == 1
        assert Campaign.objects.filter(name=NOTICE_NAME).count() == 1
        assert PricingRate.objects.count() == 2


def test_without_an_approved_template_nothing_is_seeded(db):
    """An agency whose templates are all pending (seed_demo's own agency already has its
    campaigns: seed_demo calls this function)."""
    number = PhoneNumberFactory()
    agency = number.agency
    TemplateFactory(agency=agency, waba=number.waba, status=MessageTemplate.Status.PENDING)
    seed(agency)
    with agency_scope(agency):
        assert not Campaign.objects.exists()
        assert not PricingRate.objects.exists()
