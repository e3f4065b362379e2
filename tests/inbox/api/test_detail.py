"""GET /api/v1/conversations/{id}/: a conversation with its contact, number, workflow
state, labels and the 24-hour customer service window."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from inbox import services
from records.audit import Actor
from tenants.scoping import agency_scope
from tests.factories import ContactFactory, ConversationFactory, PhoneNumberFactory
from tests.inbox.factories import ActiveConversationFactory, LabelFactory, TeamFactory

pytestmark = pytest.mark.django_db


def _get(client, auth, pk):
    return client.get(reverse("api-conversation", args=[pk]), **auth)


def test_the_detail_shows_contact_number_assignee_team_and_labels(client, agency_a, reader, member):
    agent = member(first_name="Sam", last_name="Reyes")
    team = TeamFactory(agency=agency_a, name="Permits")
    contact = ContactFactory(agency=agency_a, wa_id="14155550123", phone_e164="+14155550123")
    number = PhoneNumberFactory(
        agency=agency_a, display_phone_number="+1 555 0100", verified_name="Permits Office"
    )
    conversation = ActiveConversationFactory(
        agency=agency_a, contact=contact, phone_number=number, assignee=agent, team=team
    )
    with agency_scope(agency_a):
        label = LabelFactory(agency=agency_a, name="urgent")
        services.set_labels(actor=Actor.system("t"), conversation=conversation, labels=[label])

    body = _get(client, reader, conversation.pk).json()

    assert body["id"] == conversation.pk
    assert body["status"] == "open"
    assert body["contact"] == {
        "id": contact.pk,
        "phone": "+14155550123",
        "name": contact.profile_name,
    }
    assert body["phone_number"] == {"id": number.pk, "phone": "+15550100", "name": "Permits Office"}
    assert body["assignee"] == {"id": agent.pk, "email": agent.email, "name": "Sam Reyes"}
    assert body["team"] == {"id": team.pk, "name": "Permits"}
    assert body["labels"] == ["urgent"]
    assert body["unread_count"] == 1


def test_times_are_iso_8601_with_an_offset(client, agency_a, reader, conversation):
    body = _get(client, reader, conversation.pk).json()
    for field in ("created_at", "last_message_at", "last_inbound_at", "waiting_since"):
        moment = parse_datetime(body[field])
        assert moment is not None and moment.utcoffset() is not None, field
    assert parse_datetime(body["last_message_at"]) == conversation.last_message_at


def test_the_window_is_open_for_24_hours_after_the_citizen_wrote(client, agency_a, reader):
    wrote = timezone.now() - timedelta(hours=1)
    conversation = ActiveConversationFactory(
        agency=agency_a, last_message_at=wrote, window_expires_at=wrote + timedelta(hours=24)
    )
    window = _get(client, reader, conversation.pk).json()["window"]
    assert window["open"] is True
    assert parse_datetime(window["closes_at"]) == wrote + timedelta(hours=24)
    with time_machine.travel(wrote + timedelta(hours=24, seconds=1)):
        assert _get(client, reader, conversation.pk).json()["window"]["open"] is False


def test_a_conversation_the_citizen_never_wrote_in_has_no_window(client, agency_a, reader):
    conversation = ConversationFactory(agency=agency_a, last_message_at=timezone.now())
    window = _get(client, reader, conversation.pk).json()["window"]
    assert window == {"open": False, "closes_at": None}


def test_unassigned_without_team_are_null(client, agency_a, reader, conversation):
    body = _get(client, reader, conversation.pk).json()
    assert body["assignee"] is None
    assert body["team"] is None
    assert body["labels"] == []


def test_another_agencys_conversation_is_not_found(client, agency_b, reader):
    theirs = ActiveConversationFactory(agency=agency_b)
    response = _get(client, reader, theirs.pk)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("pk", [2**63, 2**64 + 5, 99999999999])
def test_an_id_beyond_any_row_is_a_404_not_a_500(client, reader, pk):
    assert _get(client, reader, pk).status_code == 404
