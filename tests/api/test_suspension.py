"""A suspended agency's API reads as before and refuses every state change with 403."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from records.audit import Actor
from tenants import services
from tenants.api.exceptions import exception_handler
from tenants.permissions import Role
from tests.factories import MembershipFactory, PhoneNumberFactory

ACTOR = Actor.system("test")
UNSAFE = ["post", "put", "patch", "delete"]


@pytest.fixture
def raw_key(agency_a) -> str:
    _, key = services.create_api_credential(
        actor=ACTOR, agency=agency_a, created_by=None, name="crm"
    )
    return key


def _suspend(agency) -> None:
    services.set_agency_status(actor=ACTOR, agency=agency, status="suspended")


def _api_urls(agency) -> list[str]:
    number = PhoneNumberFactory(agency=agency)
    member = MembershipFactory(agency=agency, role=Role.AGENT)
    return [
        reverse("api-agency"),
        reverse("api-members"),
        reverse("api-member", args=[member.pk]),
        reverse("api-phone-numbers"),
        reverse("api-phone-number", args=[number.pk]),
        reverse("api-audit-events"),
    ]


@pytest.mark.parametrize("method", UNSAFE)
def test_every_unsafe_method_of_a_suspended_agency_is_refused_with_a_clear_error(
    client, agency_a, raw_key, method
):
    urls = _api_urls(agency_a)
    _suspend(agency_a)
    for url in urls:
        response = getattr(client, method)(
            url, {}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw_key}"
        )
        assert response.status_code == 403, url
        error = response.json()
        assert response["Content-Type"] == "application/problem+json"
        assert error["code"] == "agency_suspended", url
        assert "Agency A is suspended" in error["detail"]


def test_an_active_agency_is_not_refused_by_the_suspension_check(client, agency_a, raw_key):
    response = client.post("/api/v1/agency", {}, HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert response.status_code == 405  # the endpoint has no POST; nothing refused it earlier


def test_a_suspended_agencys_key_still_reads_its_phone_numbers(client, agency_a, raw_key):
    PhoneNumberFactory(agency=agency_a)
    _suspend(agency_a)
    response = client.get("/api/v1/phone-numbers/", HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_staff_signed_in_to_a_suspended_agency_read_but_cannot_write_through_the_api(agency_a):
    staff = Client()
    staff.force_login(MembershipFactory(agency=agency_a, role=Role.AGENT).user)
    _suspend(agency_a)
    assert staff.get("/api/v1/agency").status_code == 200
    response = staff.delete("/api/v1/agency")
    assert response.status_code == 403
    assert response.json()["code"] == "agency_suspended"


def test_a_service_refusal_for_suspension_becomes_the_same_403(agency_a):
    _suspend(agency_a)
    with pytest.raises(services.AgencySuspended) as refused:
        services.create_api_credential(actor=ACTOR, agency=agency_a, created_by=None, name="x")
    response = exception_handler(refused.value, {})
    assert response.status_code == 403
    assert response.data["code"] == "agency_suspended"
    assert response.data["detail"] == services.suspension_reason(agency_a)
