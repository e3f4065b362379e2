"""Agency isolation of the campaign pages: another agency's campaign id is a 404 on every
page and action taking one, and nothing of it changes."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, reverse

from messaging.campaigns import urls as campaign_urls
from messaging.campaigns.models import Campaign
from tenants.scoping import agency_scope
from tests.campaigns.pages.factories import CampaignFactory, CampaignStatsFactory

pytestmark = pytest.mark.django_db

# Every campaign URL taking an id: (url name, method, POST data).
ID_URL_MATRIX = [
    ("detail", "get", {}),
    ("progress", "get", {}),
    ("report", "get", {}),
    ("edit", "get", {}),
    ("edit", "post", {"name": "Renamed"}),
    ("template", "get", {}),
    ("template", "post", {}),
    ("audience", "get", {}),
    ("audience", "post", {"source": "contacts"}),
    ("variables", "get", {}),
    ("variables", "post", {}),
    ("schedule", "get", {}),
    ("schedule", "post", {"when": "now"}),
    ("review", "get", {}),
    ("review", "post", {"plan": "x"}),
    ("pause", "post", {}),
    ("resume", "post", {}),
    ("cancel", "get", {}),
    ("cancel", "post", {}),
]


@pytest.fixture
def campaign_of_b(agency_b) -> Campaign:
    campaign = CampaignFactory(agency=agency_b, name="B's campaign")
    CampaignStatsFactory(agency=agency_b, campaign=campaign)
    return campaign


@pytest.mark.parametrize(("name", "method", "data"), ID_URL_MATRIX)
def test_another_agencys_campaign_is_not_found(admin_client, campaign_of_b, name, method, data):
    url = reverse(f"campaigns:{name}", args=[campaign_of_b.pk])
    response = getattr(admin_client, method)(url, data)
    assert response.status_code == 404


def test_another_agencys_campaign_is_unchanged_after_the_attempts(
    admin_client, agency_b, campaign_of_b
):
    for name, method, data in ID_URL_MATRIX:
        getattr(admin_client, method)(reverse(f"campaigns:{name}", args=[campaign_of_b.pk]), data)
    with agency_scope(agency_b):
        campaign = Campaign.objects.get(pk=campaign_of_b.pk)
    assert (campaign.name, campaign.status) == ("B's campaign", Campaign.Status.DRAFT)


def test_every_campaign_url_with_an_id_is_in_the_isolation_matrix():
    with_ids = {
        pattern.name
        for pattern in campaign_urls.urlpatterns
        if isinstance(pattern, URLPattern) and pattern.pattern.converters
    }
    assert with_ids == {name for name, *_ in ID_URL_MATRIX}
