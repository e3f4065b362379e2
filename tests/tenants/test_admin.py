"""The platform operators' console: superusers only, MFA first, every save audited."""

from __future__ import annotations

from typing import Any

from records.models import AuditEvent
from tenants.models import Agency, WhatsAppBusinessAccount
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory, UserFactory, WabaFactory


def test_an_operator_without_mfa_is_sent_to_enrollment(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url == "/accounts/2fa/totp/activate/"


def test_agency_staff_cannot_reach_the_console(client, agency_a):
    member = MembershipFactory(agency=agency_a, role=Role.SUPERVISOR)
    client.force_login(member.user)
    response = client.get("/admin/tenants/agency/")
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_an_operator_creates_an_agency_and_it_is_audited(client, operator):
    client.force_login(operator)
    response = client.post(
        "/admin/tenants/agency/add/",
        {
            "name": "Harbor City",
            "slug": "harbor-city",
            "timezone": "America/New_York",
            "status": "active",
        },
    )
    assert response.status_code == 302, response.content
    agency = Agency.objects.get(slug="harbor-city")
    with agency_scope(agency):
        event = AuditEvent.objects.get()
    assert (event.action, event.actor_type, event.actor_label) == (
        "agency.created_by_operator",
        "operator",
        operator.email,
    )


def test_an_operator_sees_every_agency_phone_numbers(client, operator, agency_a, agency_b):
    WabaFactory(agency=agency_a, name="A waba")
    WabaFactory(agency=agency_b, name="B waba")
    client.force_login(operator)
    page = client.get("/admin/tenants/whatsappbusinessaccount/").content.decode()
    assert "A waba" in page and "B waba" in page


def test_tokens_are_write_only_in_the_console(client, operator, agency_a):
    waba = WabaFactory(agency=agency_a, access_token="EAAG-secret-token")
    client.force_login(operator)
    page = client.get(f"/admin/tenants/whatsappbusinessaccount/{waba.pk}/change/")
    assert "EAAG-secret-token" not in page.content.decode()


def test_leaving_a_token_empty_in_the_console_keeps_it(client, operator, agency_a):
    waba = WabaFactory(agency=agency_a, access_token="EAAG-keep-me")
    client.force_login(operator)
    response = client.post(
        f"/admin/tenants/whatsappbusinessaccount/{waba.pk}/change/",
        {
            "portfolio": waba.portfolio_id,
            "waba_id": waba.waba_id,
            "name": "Renamed",
            "access_token": "",
            "app_secret": "",
            "agency": agency_a.pk,
        },
    )
    assert response.status_code == 302, response.content
    with agency_scope(agency_a):
        stored = WhatsAppBusinessAccount.objects.get(pk=waba.pk)
    assert (stored.name, stored.access_token) == ("Renamed", "EAAG-keep-me")


def _resubmitted(client, url: str, **changes: object) -> Any:
    """Post the console's change form back as it was rendered, with ``changes``."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is not None and not isinstance(value, bool):
            data[name] = value
        elif value is True:
            data[name] = "on"
    data.update(changes)
    return client.post(url, data)


def test_a_number_banned_in_the_console_goes_through_the_service(client, operator, agency_a):
    from bsp.events.models import DomainEvent
    from tenants.models import PhoneNumber
    from tests.factories import PhoneNumberFactory

    number = PhoneNumberFactory(agency=agency_a, status="flagged")
    client.force_login(operator)
    response = _resubmitted(
        client, f"/admin/tenants/phonenumber/{number.pk}/change/", status="banned"
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    with agency_scope(agency_a):
        stored = PhoneNumber.objects.get(pk=number.pk)
        [event] = DomainEvent.objects.filter(type="phone_number.changed")
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert (stored.status, stored.status_before_ban) == ("banned", "flagged")
    assert event.payload["changed"]["status"] == ["flagged", "banned"]
    assert "phone_number.status_changed" in actions


def test_an_agency_suspended_in_the_console_goes_through_the_service(client, operator, agency_a):
    client.force_login(operator)
    response = _resubmitted(
        client, f"/admin/tenants/agency/{agency_a.pk}/change/", status="suspended"
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    agency_a.refresh_from_db()
    with agency_scope(agency_a):
        [event] = AuditEvent.objects.filter(action="agency.status_changed")
    assert agency_a.status == "suspended"
    assert event.changes["status"] == ["active", "suspended"]
