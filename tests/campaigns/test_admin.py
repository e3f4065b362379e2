"""Campaigns in the operators' console: every agency's, read-only, operators only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from messaging.campaigns.models import Campaign, PricingRate
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.campaigns.pages.factories import CampaignFactory
from tests.factories import MembershipFactory

PAGES = [
    "/admin/campaigns/campaign/",
    "/admin/campaigns/campaignrecipient/",
    "/admin/campaigns/audienceupload/",
    "/admin/campaigns/pricingrate/",
]


@pytest.fixture
def campaigns(agency_a, agency_b):
    return CampaignFactory(agency=agency_a, name="Flood alert A"), CampaignFactory(
        agency=agency_b, name="Road works B"
    )


@pytest.mark.parametrize("url", PAGES)
def test_an_operator_lists_campaign_data(client, operator, campaigns, url):
    client.force_login(operator)
    assert client.get(url).status_code == 200


def test_an_operator_sees_every_agencys_campaigns(client, operator, campaigns):
    client.force_login(operator)
    page = client.get("/admin/campaigns/campaign/").content.decode()
    assert "Flood alert A" in page and "Road works B" in page


def test_a_campaign_opens_read_only_with_its_counters(client, operator, campaigns):
    client.force_login(operator)
    page = client.get(f"/admin/campaigns/campaign/{campaigns[0].pk}/change/").content.decode()
    assert "Flood alert A" in page
    assert 'name="name"' not in page  # no editable field
    assert "Delivered" in page  # the stats inline


def test_nothing_can_be_added_changed_or_deleted(client, operator, campaigns, agency_a):
    client.force_login(operator)
    pk = campaigns[0].pk
    assert client.get("/admin/campaigns/campaign/add/").status_code == 403
    assert client.post(f"/admin/campaigns/campaign/{pk}/change/", {"name": "x"}).status_code == 403
    assert (
        client.post(f"/admin/campaigns/campaign/{pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert client.get("/admin/campaigns/pricingrate/add/").status_code == 403
    with agency_scope(agency_a):
        assert Campaign.objects.get(pk=pk).name == "Flood alert A"
        assert not PricingRate.objects.filter(rate=Decimal("1")).exists()


@pytest.mark.parametrize("url", PAGES)
def test_agency_staff_cannot_reach_campaigns_in_the_console(client, agency_a, campaigns, url):
    member = MembershipFactory(agency=agency_a, role=Role.SUPERVISOR)
    client.force_login(member.user)
    response = client.get(url)
    assert response.status_code == 302
    assert "/admin/login/" in response.url
