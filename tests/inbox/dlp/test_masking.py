"""The inbox masks sensitive data (issue 12 §8): everyone sees "•••-••-1234" by default; the
roles the agency names may reveal one message, and each reveal is audited. The record is
never changed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from records.audit import Actor
from records.dlp import services
from records.models import AuditEvent
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.inbox.dlp.conftest import SSN

pytestmark = pytest.mark.django_db

MASKED = "•••-••-1234"


def thread(client, conversation):
    return client.get(reverse("inbox:conversation", args=[conversation.pk]))


def reveal(client, conversation, message, *, htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    url = reverse("inbox:reveal", args=[conversation.pk, message.pk])
    return client.post(url, headers=headers)


def reveals(agency) -> list[AuditEvent]:
    with agency_scope(agency):
        return list(AuditEvent.objects.filter(action="dlp.revealed"))


def test_an_agent_sees_the_number_masked_and_no_reveal(signed_in, conversation, said):
    said(f"my ssn is {SSN}")
    client, _ = signed_in(Role.AGENT)
    html = thread(client, conversation).content.decode()
    assert SSN not in html and SSN.replace("-", "") not in html
    assert MASKED in html
    assert "Sensitive data masked:</strong> a US Social Security number" in html
    assert "Reveal" not in html


def test_a_records_officer_may_reveal_and_the_reveal_is_audited(
    signed_in, conversation, said, agency_a
):
    message = said(f"my ssn is {SSN}")
    client, officer = signed_in(Role.RECORDS_OFFICER)
    page = thread(client, conversation).content.decode()
    assert SSN not in page and "Reveal" in page

    response = reveal(client, conversation, message, htmx=True)

    assert response.status_code == 200
    html = response.content.decode()
    assert SSN in html and "recorded in the audit log" in html
    [audit] = reveals(agency_a)
    assert audit.actor_id == str(officer.user_id)
    assert audit.object_id == str(message.pk)
    assert SSN not in str(audit.changes)
    # Masked again on the next view: a reveal is for one look.
    assert SSN not in thread(client, conversation).content.decode()


def test_without_javascript_the_reveal_is_a_page_of_its_own(signed_in, conversation, said):
    message = said(f"my ssn is {SSN}")
    client, _ = signed_in(Role.AGENCY_ADMIN)
    response = reveal(client, conversation, message)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Message unmasked</h1>" in html and SSN in html
    assert "Back to the conversation" in html


def test_an_agent_cannot_reveal_and_nothing_is_audited(signed_in, conversation, said, agency_a):
    message = said(f"my ssn is {SSN}")
    client, _ = signed_in(Role.AGENT)
    response = reveal(client, conversation, message)
    assert response.status_code == 403
    assert SSN not in response.content.decode()
    assert reveals(agency_a) == []


def test_the_agency_chooses_who_may_reveal(signed_in, conversation, said, agency_a):
    message = said(f"my ssn is {SSN}")
    services.update_policy(agency=agency_a, actor=Actor.system("t"), reveal_roles=["supervisor"])
    officer, _ = signed_in(Role.RECORDS_OFFICER)
    assert reveal(officer, conversation, message).status_code == 403
    supervisor, _ = signed_in(Role.SUPERVISOR)
    assert reveal(supervisor, conversation, message).status_code == 200


def test_with_masking_off_the_inbox_shows_the_text(signed_in, conversation, said, agency_a):
    said(f"my ssn is {SSN}")
    services.update_policy(agency=agency_a, actor=Actor.system("t"), inbound_mask=False)
    client, _ = signed_in(Role.AGENT)
    assert SSN in thread(client, conversation).content.decode()


def test_an_agency_mask_rule_hides_every_letter_of_its_match(
    signed_in, conversation, said, agency_a
):
    services.create_rule(
        agency=agency_a,
        actor=Actor.system("t"),
        name="Informant",
        keywords=["Blue Falcon"],
        action="mask",
    )
    said("the blue falcon told me")
    client, _ = signed_in(Role.AGENT)
    html = thread(client, conversation).content.decode()
    assert "blue falcon" not in html.lower()
    assert "•••• ••••••" in html
    assert "text matching the rule “Informant”" in html


def test_the_stored_message_is_never_changed_by_masking(signed_in, conversation, said, agency_a):
    message = said(f"my ssn is {SSN}")
    client, _ = signed_in(Role.AGENT)
    thread(client, conversation)
    with agency_scope(agency_a):
        message.refresh_from_db()
    assert message.content["text"]["body"] == f"my ssn is {SSN}"


def test_a_reveal_of_another_conversations_message_is_not_found(
    signed_in, conversation, said, agency_a
):
    message = said(f"my ssn is {SSN}")
    from tests.factories import ConversationFactory

    other = ConversationFactory(agency=agency_a, phone_number=conversation.phone_number)
    client, _ = signed_in(Role.AGENCY_ADMIN)
    assert reveal(client, other, message).status_code == 404
    assert reveals(agency_a) == []
