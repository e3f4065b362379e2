"""The campaign list: each campaign's template, status in words, progress, scheduled time
in the agency's time zone and who created it; filtered by status."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from messaging.campaigns.models import Campaign
from tests.campaigns.pages.factories import CampaignFactory, CampaignStatsFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_list_shows_what_each_campaign_is_and_where_it_stands(
    supervisor_client, agency_a, number, approved
):
    creator = UserFactory(first_name="Dana", last_name="Reyes")
    campaign = CampaignFactory(
        agency=agency_a,
        name="Flu clinic",
        phone_number=number,
        template=approved,
        status=Campaign.Status.SCHEDULED,
        # 15:30 UTC is 09:30 in Chicago (agency A's time zone) on March 2.
        scheduled_at=datetime(2026, 3, 2, 15, 30, tzinfo=UTC),
        created_by=creator,
    )
    CampaignStatsFactory(agency=agency_a, campaign=campaign, recipients=4, delivered=2, read=1)
    page = supervisor_client.get(reverse("campaigns:list")).text
    assert "Flu clinic" in page
    assert "appointment_reminder" in page
    assert "<td>Scheduled</td>" in page
    assert "Mar 2, 2026, 9:30 AM" in page
    assert "Dana Reyes" in page
    assert "Delivered: 3 of 4" in page


def test_the_status_filter_keeps_one_status(supervisor_client, agency_a, number):
    CampaignFactory(agency=agency_a, name="Still a draft", phone_number=number)
    CampaignFactory(
        agency=agency_a, name="All done", phone_number=number, status=Campaign.Status.COMPLETED
    )
    page = supervisor_client.get(reverse("campaigns:list"), {"status": "completed"}).text
    assert "All done" in page and "Still a draft" not in page


def test_an_unknown_status_filter_lists_everything(supervisor_client, agency_a, number):
    CampaignFactory(agency=agency_a, name="Still a draft", phone_number=number)
    response = supervisor_client.get(reverse("campaigns:list"), {"status": "<script>"})
    assert response.status_code == 200 and "Still a draft" in response.text


def test_another_agencys_campaigns_are_not_listed(supervisor_client, agency_b):
    CampaignFactory(agency=agency_b, name="B's campaign")
    assert "B's campaign" not in supervisor_client.get(reverse("campaigns:list")).text


def test_only_admins_are_offered_a_new_campaign(supervisor_client, admin_client):
    assert "New campaign" not in supervisor_client.get(reverse("campaigns:list")).text
    assert "New campaign" in admin_client.get(reverse("campaigns:list")).text
