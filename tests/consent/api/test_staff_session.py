"""Staff signed in to the site use the same API as their role allows: a supervisor reads
contacts and consent but changes neither; an admin records consent as themself."""

from __future__ import annotations

import pytest
from django.urls import reverse

from messaging.models import Consent
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.consent.api.conftest import send_json
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def citizen(agency_a):
    return ContactFactory(agency=agency_a, wa_id="14155550100")


def test_a_supervisor_reads_but_does_not_record(client_for, make_member, agency_a, citizen):
    session = client_for(make_member(Role.SUPERVISOR))
    url = reverse("api-contact-consent", args=[citizen.pk])
    assert session.get(url).status_code == 200
    assert send_json(session, "post", url, {"status": "opted_out"}, {}).status_code == 403
    with agency_scope(agency_a):
        assert not Consent.objects.exists()


def test_a_supervisor_may_not_create_a_contact(client_for, make_member, citizen):
    session = client_for(make_member(Role.SUPERVISOR))
    body = {"phone": "+14155550101"}
    assert send_json(session, "post", reverse("api-contacts"), body, {}).status_code == 403


def test_an_admin_records_consent_as_themself(client_for, admin_a, agency_a, citizen):
    url = reverse("api-contact-consent", args=[citizen.pk])
    response = send_json(client_for(admin_a), "post", url, {"status": "opted_in"}, {})
    assert response.status_code == 201, response.content
    assert response.json()["event"]["recorded_by"] == admin_a.user.email
    assert response.json()["event"]["evidence"] == {"note": ""}
