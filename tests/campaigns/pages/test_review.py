"""The review before sending: who gets it, who is skipped and why, the estimated Meta cost,
the messaging limit; and the confirmation (once, however often it is clicked)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from bsp.events.models import DomainEvent
from messaging.campaigns.models import Campaign
from messaging.models import Consent, Contact
from templates_mgr.models import MessageTemplate
from tenants.scoping import agency_scope
from tests.campaigns.pages.conftest import opted_in
from tests.campaigns.pages.factories import CampaignFactory
from tests.factories import ConsentFactory, ContactFactory

pytestmark = pytest.mark.django_db

MAPPING = {
    "var_1": {"source": "attribute", "value": "first_name"},
    "var_2": {"source": "fixed", "value": "March 3"},
}


@pytest.fixture
def ready(agency_a, number, approved, admin_a) -> Campaign:
    """A draft with everything chosen: the approved template, all opted-in contacts."""
    return CampaignFactory(
        agency=agency_a,
        name="Flu clinic",
        phone_number=number,
        template=approved,
        created_by=admin_a.user,
        variable_mapping=MAPPING,
    )


def _review(client, campaign: Campaign):
    return client.get(reverse("campaigns:review", args=[campaign.pk]))


def _confirm(client, campaign: Campaign, **extra):
    plan = _review(client, campaign).context["form"]["plan"].value()
    return client.post(reverse("campaigns:review", args=[campaign.pk]), {"plan": plan, **extra})


def _status(campaign: Campaign) -> str:
    with agency_scope(campaign.agency_id):
        return Campaign.objects.get(pk=campaign.pk).status


def test_the_review_counts_who_gets_it_and_who_is_left_out_and_why(admin_client, agency_a, ready):
    opted_in(agency_a, 3)
    opted_out = ContactFactory(agency=agency_a, wa_id="525550009999")
    ConsentFactory(agency=agency_a, contact=opted_out, status=Consent.Status.OPTED_OUT)
    response = _review(admin_client, ready)
    page = response.text
    assert response.context["plan"].will_send == 3
    assert "Opted out" in page
    assert "525550009999" in page  # in the sample list of its reason


def test_the_estimated_cost_is_shown_by_category_and_in_total(admin_client, agency_a, ready):
    opted_in(agency_a, 4)  # Mexican numbers: utility at 0.0085 USD each
    page = _review(admin_client, ready).text
    assert "Estimated Meta cost" in page
    assert "USD 0.03" in page  # 4 times 0.0085 is 0.034
    assert "Utility" in page and "Mexico" in page


def test_marketing_to_us_numbers_is_listed_as_skipped_in_plain_words(
    admin_client, agency_a, ready, approved
):
    with agency_scope(agency_a):
        MessageTemplate.objects.filter(pk=approved.pk).update(
            category=MessageTemplate.Category.MARKETING
        )
    us = ContactFactory(agency=agency_a, wa_id="15125550123", attributes={"first_name": "Al"})
    ConsentFactory(agency=agency_a, contact=us)
    opted_in(agency_a, 1)
    page = _review(admin_client, ready).text
    assert "US number: Meta does not deliver marketing templates to +1" in page


def test_a_campaign_nobody_would_receive_cannot_be_confirmed(admin_client, ready):
    page = _review(admin_client, ready).text
    assert "The campaign cannot be sent yet" in page
    assert "Nobody is in this audience yet." in page
    assert "Confirm: send" not in page


def test_confirming_schedules_the_campaign_and_opens_its_progress(admin_client, agency_a, ready):
    opted_in(agency_a, 2)
    response = _confirm(admin_client, ready)
    assert response.url == reverse("campaigns:detail", args=[ready.pk])
    assert _status(ready) != Campaign.Status.DRAFT


def test_a_double_submitted_confirmation_schedules_once(admin_client, agency_a, ready):
    opted_in(agency_a, 2)
    plan = _review(admin_client, ready).context["form"]["plan"].value()
    url = reverse("campaigns:review", args=[ready.pk])
    first = admin_client.post(url, {"plan": plan})
    second = admin_client.post(url, {"plan": plan})
    assert first.url == second.url == reverse("campaigns:detail", args=[ready.pk])
    with agency_scope(agency_a):
        assert DomainEvent.objects.filter(type="campaign.scheduled").count() == 1


def test_a_confirmation_of_figures_that_changed_shows_the_new_ones_instead(
    admin_client, agency_a, ready
):
    opted_in(agency_a, 2)
    plan = _review(admin_client, ready).context["form"]["plan"].value()
    opted_in(agency_a, 1, county="Travis")  # a third citizen opts in meanwhile
    response = admin_client.post(reverse("campaigns:review", args=[ready.pk]), {"plan": plan})
    assert response.status_code == 200
    assert "changed since the page was shown" in response.text
    assert _status(ready) == Campaign.Status.DRAFT


def _over_the_limit(agency, count: int) -> None:
    """``count`` opted-in citizens at once (more than the 250 a new portfolio may reach)."""
    with agency_scope(agency):
        contacts = Contact.objects.bulk_create(
            Contact(
                agency=agency,
                wa_id=f"5255510{i:05d}",
                phone_e164=f"+5255510{i:05d}",
                attributes={"first_name": f"N{i}"},
            )
            for i in range(count)
        )
        Consent.objects.bulk_create(
            Consent(
                agency=agency,
                contact=c,
                status=Consent.Status.OPTED_IN,
                source=Consent.Source.STAFF,
                recorded_at=timezone.now(),
            )
            for c in contacts
        )


def test_a_campaign_over_the_messaging_limit_is_refused_with_the_numbers(
    admin_client, agency_a, ready
):
    _over_the_limit(agency_a, 251)
    page = _review(admin_client, ready).text
    assert "Over the limit" in page
    assert "251" in page and "250" in page
    response = _confirm(admin_client, ready)
    assert response.status_code == 200
    assert _status(ready) == Campaign.Status.DRAFT


def test_a_campaign_over_the_limit_can_be_split_across_days(admin_client, agency_a, ready):
    _over_the_limit(agency_a, 251)
    assert "Split it across 2 days" in _review(admin_client, ready).text
    _confirm(admin_client, ready, split_across_days="on")
    with agency_scope(agency_a):
        campaign = Campaign.objects.get(pk=ready.pk)
    assert campaign.split_across_days
    assert campaign.status != Campaign.Status.DRAFT


def test_the_review_of_a_confirmed_campaign_goes_to_its_progress(admin_client, agency_a, ready):
    with agency_scope(agency_a):
        Campaign.objects.filter(pk=ready.pk).update(status=Campaign.Status.SCHEDULED)
    response = _review(admin_client, ready)
    assert response.url == reverse("campaigns:detail", args=[ready.pk])
