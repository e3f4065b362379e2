"""A held record asked to be deleted through the API is a 409 problem ``record_held`` naming
the matter (``records.holds.HeldRecordError``), not a 500 nor a generic 422."""

from __future__ import annotations

import pytest

from records.audit import Actor
from records.holds.services import place_hold, release_hold
from records.selection import Selection
from tests.factories import ConversationFactory, InboundMessageFactory
from tests.records.api.conftest import records_key

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.records.api.urls")]
ACTOR = Actor.system("test")


@pytest.fixture
def held(agency_a):
    conversation = ConversationFactory(agency=agency_a)
    InboundMessageFactory(agency=agency_a, conversation=conversation)
    hold = place_hold(
        agency_a.pk,
        matter_id="LIT-2026-014",
        reason="Litigation",
        owner_id=None,
        selection=Selection(conversation_id=conversation.pk),
        actor=ACTOR,
    )
    return conversation, hold


def test_deleting_a_held_conversation_is_409_record_held(client, agency_a, held):
    conversation, _ = held

    response = client.delete(
        f"/api/v1/test/conversations/{conversation.pk}/", **records_key(agency_a)
    )

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "record_held"
    assert body["type"] == "urn:civic-relay:problem:record_held"
    assert body["context"] == {"matters": ["LIT-2026-014"]}
    assert "LIT-2026-014" in body["detail"]


def test_once_the_hold_is_released_the_delete_goes_through(client, agency_a, held):
    conversation, hold = held
    release_hold(hold.pk, reason="Case closed", actor=ACTOR)

    response = client.delete(
        f"/api/v1/test/conversations/{conversation.pk}/", **records_key(agency_a)
    )

    assert response.status_code == 204
