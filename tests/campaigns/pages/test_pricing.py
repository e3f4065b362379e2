"""The agency's Meta pricing rates: shown per category and market, changed by an admin,
and refused in words when they are not amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from messaging.campaigns.models import PricingRate
from tenants.scoping import agency_scope

pytestmark = pytest.mark.django_db
URL = "campaigns:pricing"


def test_the_page_shows_every_market_and_category(admin_client):
    page = admin_client.get(reverse(URL)).text
    assert "Mexico" in page and "North America (US, Canada)" in page
    assert "Marketing" in page and "Utility" in page and "Authentication" in page
    assert 'value="0.0085"' in page  # Mexico, utility


def test_an_admin_changes_one_rate(admin_client, agency_a):
    response = admin_client.post(reverse(URL), {"mexico__UTILITY": "0.0100"})
    assert response.url == reverse(URL)
    with agency_scope(agency_a):
        rate = PricingRate.objects.get()
    assert (rate.market, rate.category, rate.rate) == ("mexico", "UTILITY", Decimal("0.0100"))


def test_a_rate_that_is_not_an_amount_is_refused_next_to_its_field(admin_client, agency_a):
    response = admin_client.post(reverse(URL), {"mexico__UTILITY": "=1+1"})
    assert response.status_code == 200
    assert 'id="id_mexico__UTILITY_error"' in response.text
    with agency_scope(agency_a):
        assert not PricingRate.objects.exists()


def test_a_negative_rate_is_refused(admin_client):
    response = admin_client.post(reverse(URL), {"mexico__UTILITY": "-0.01"})
    assert 'id="id_mexico__UTILITY_error"' in response.text


def test_meta_s_rates_can_be_restored(admin_client, agency_a):
    admin_client.post(reverse(URL), {"mexico__UTILITY": "0.0100"})
    admin_client.post(reverse(URL), {"reset": "1"})
    with agency_scope(agency_a):
        assert not PricingRate.objects.exists()


def test_a_supervisor_may_not_change_rates(supervisor_client):
    assert supervisor_client.get(reverse(URL)).status_code == 403
