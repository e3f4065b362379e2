"""WhatsApp connection page: WABAs and numbers, tokens that are never shown back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.test import Client
from django.urls import reverse

from tenants.models import PhoneNumber, WhatsAppBusinessAccount
from tenants.scoping import agency_scope
from tests.factories import PhoneNumberFactory, WabaFactory

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

TOKEN = "EAAG-secret-token-never-shown"


def _connect(client: Client, **overrides: str) -> TestResponse:
    data = {"waba_id": "1234567", "name": "County WABA", "access_token": TOKEN, **overrides}
    return client.post(reverse("frontend:connect_waba"), data, follow=True)


def test_the_page_lists_numbers_with_status_quality_and_throughput(admin_client, agency_a):
    PhoneNumberFactory(agency=agency_a, display_phone_number="+1 555 0100")
    page = admin_client.get(reverse("frontend:whatsapp")).text
    assert "+1 555 0100" in page
    assert "Connected" in page
    assert "Unknown" in page
    assert "80 messages/second" in page


def test_connecting_a_waba_stores_the_token_but_only_says_it_is_set(admin_client, agency_a):
    response = _connect(admin_client, app_secret="app-secret-value")
    assert "Token set" in response.text
    assert "Secret set" in response.text
    assert TOKEN not in response.text
    assert "app-secret-value" not in response.text
    with agency_scope(agency_a):
        assert WhatsAppBusinessAccount.objects.get(waba_id="1234567").access_token == TOKEN


def test_a_rejected_form_does_not_echo_the_token(admin_client):
    response = _connect(admin_client, waba_id="not digits")
    assert "contains only digits" in response.text
    assert TOKEN not in response.text


def test_a_waba_of_another_agency_is_a_form_error_that_names_no_agency(admin_client, agency_b):
    WabaFactory(agency=agency_b, waba_id="7654321")
    response = _connect(admin_client, waba_id="7654321")
    assert "already connected to an account on Civic Relay" in response.text
    assert 'aria-describedby="id_waba_id_helptext id_waba_id_error"' in response.text
    assert "Agency B" not in response.text


def test_adding_a_number_shows_its_detail_page(admin_client, agency_a):
    waba = WabaFactory(agency=agency_a)
    data = {
        "waba": waba.pk,
        "phone_number_id": "5551234",
        "display_phone_number": "+1 555 0199",
        "verified_name": "County Help",
        "throughput_tier": 1000,
    }
    response = admin_client.post(reverse("frontend:add_phone_number"), data, follow=True)
    assert "<h1>+1 555 0199</h1>" in response.text
    with agency_scope(agency_a):
        assert PhoneNumber.objects.get(phone_number_id="5551234").throughput_tier == 1000


def test_a_number_taken_by_another_agency_is_a_form_error(admin_client, agency_a, agency_b):
    PhoneNumberFactory(agency=agency_b, phone_number_id="5559999")
    data = {
        "waba": WabaFactory(agency=agency_a).pk,
        "phone_number_id": "5559999",
        "display_phone_number": "+1 555 0199",
        "verified_name": "County Help",
        "throughput_tier": 80,
    }
    response = admin_client.post(reverse("frontend:add_phone_number"), data)
    assert "This phone number is already connected" in response.text


def test_another_agencys_waba_is_not_a_valid_choice(admin_client, agency_a, agency_b):
    WabaFactory(agency=agency_a)
    data = {
        "waba": WabaFactory(agency=agency_b).pk,
        "phone_number_id": "5551111",
        "display_phone_number": "+1 555 0111",
        "verified_name": "X",
        "throughput_tier": 80,
    }
    response = admin_client.post(reverse("frontend:add_phone_number"), data)
    assert "Select a valid choice" in response.text
    with agency_scope(agency_a):
        assert not PhoneNumber.objects.exists()


def test_an_agent_sees_the_connection_without_the_forms(agent_client):
    page = agent_client.get(reverse("frontend:whatsapp")).text
    assert "Connect a WhatsApp Business Account" not in page
