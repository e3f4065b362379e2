"""Platform operators land on a console (agencies, webhook health, links to the admin);
staff learn on the API keys page how to authenticate."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from messaging.models import WebhookEvent
from tenants.models import Agency
from tenants.permissions import Role
from tests.factories import AgencyFactory, PhoneNumberFactory, UserFactory
from tests.frontend.conftest import enroll_totp


@pytest.fixture
def operator_client(db) -> Client:
    operator = UserFactory(is_superuser=True, is_staff=True)
    enroll_totp(operator)
    client = Client()
    client.force_login(operator)
    return client


def _webhook_event(status: str) -> WebhookEvent:
    return WebhookEvent.objects.create(
        received_at=timezone.now(), body=b"{}", verified_with="platform", status=status
    )


def test_an_operator_without_an_agency_lands_on_the_console(operator_client):
    response = operator_client.get("/", follow=True)
    assert response.redirect_chain == [("/console/", 302)]
    assert "Platform console" in response.text
    assert "ask your agency admin" not in response.text.lower()


def test_the_console_lists_every_agency_with_its_status_and_a_link_to_the_admin(
    operator_client, agency_a, make_member
):
    make_member(Role.AGENT)
    PhoneNumberFactory(agency=agency_a)
    suspended = AgencyFactory(name="Parks Board", status=Agency.Status.SUSPENDED)
    response = operator_client.get("/console/")
    rows = {agency.agency.name: agency for agency in response.context["agencies"]}
    assert (rows["Agency A"].member_count, rows["Agency A"].phone_number_count) == (1, 1)
    assert "Suspended" in response.text
    assert f"/admin/tenants/agency/{suspended.pk}/change/" in response.text


def test_the_console_counts_webhook_events_and_flags_those_that_need_an_operator(
    operator_client,
):
    for status in ("processed", "processed", "received", "quarantined", "failed"):
        _webhook_event(status)
    response = operator_client.get("/console/")
    health = response.context["webhooks"]
    assert health.counts["processed"] == 2
    assert health.counts["received"] == 1
    assert health.counts["retrying"] == 0
    assert health.needs_attention == 2
    assert "2 events need an operator" in response.text
    assert "/admin/messaging/webhookevent/?status__exact=failed" in response.text


def test_agency_staff_cannot_open_the_console(client_for, admin_a):
    assert client_for(admin_a).get("/console/").status_code == 403


def test_the_api_keys_page_says_how_to_authenticate_and_links_to_the_docs(client_for, make_member):
    response = client_for(make_member(Role.INTEGRATOR)).get("/api-keys/")
    assert "Authorization: Bearer cr_…" in response.text
    assert 'href="/api/docs/"' in response.text
    assert "http://testserver/api/v1/agency" in response.text


def test_the_console_shows_each_agencys_files_not_captured_and_last_checkpoint(
    operator_client, agency_a, settings, tmp_path
):
    from messaging.models import MediaObject
    from records import checkpoints
    from records.signing import write_new_key
    from tenants.scoping import agency_scope
    from tests.factories import InboundMessageFactory

    key = tmp_path / "key.pem"
    write_new_key(key)
    settings.RECORDS_SIGNING_KEY, settings.RECORDS_SIGNING_KEY_FILE = "", str(key)
    settings.RECORDS_ARCHIVE_BACKEND, settings.RECORDS_ARCHIVE_DIR = "local", str(tmp_path)
    quiet = AgencyFactory(name="Parks Board")
    number = PhoneNumberFactory(agency=agency_a)
    InboundMessageFactory(agency=agency_a)
    with agency_scope(agency_a):
        for status in ("failed", "rejected", "pending", "stored"):
            MediaObject.objects.create(
                agency=agency_a,
                phone_number=number,
                meta_media_id=f"m-{status}",
                kind="image",
                status=status,
            )
    checkpoints.sign_checkpoint(agency_id=agency_a.pk)

    response = operator_client.get("/console/")

    rows = {row.agency.name: row for row in response.context["records"]}
    assert (rows["Agency A"].media_missing, rows["Agency A"].media_pending) == (2, 1)
    assert rows["Agency A"].last_checkpoint_number == 1
    assert (rows[quiet.name].media_missing, rows[quiet.name].last_checkpoint_number) == (0, None)
    assert "Files not captured" in response.text and "None yet" in response.text
