"""GET/POST /api/v1/conversations/{id}/notes/: internal notes, never sent to WhatsApp;
mentions notify colleagues; a retried POST with its Idempotency-Key adds one note."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inbox import services
from inbox.models import Note, Notification
from records.audit import Actor
from records.models import AuditEvent
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory
from tests.frontend.conftest import enroll_totp
from tests.inbox.api.conftest import events_of
from tests.inbox.factories import ActiveConversationFactory

pytestmark = pytest.mark.django_db


def _url(conversation) -> str:
    return reverse("api-conversation-notes", args=[conversation.pk])


def _add(client, auth, conversation, body, **headers):
    return client.post(
        _url(conversation), {"body": body}, content_type="application/json", **auth, **headers
    )


def _notes(conversation) -> list[Note]:
    with agency_scope(conversation.agency_id):
        return list(Note.objects.filter(conversation=conversation).order_by("pk"))


def test_a_key_adds_a_note_without_an_author_and_publishes_the_event(
    client, agency_a, agent_key, conversation
):
    response = _add(client, agent_key, conversation, "  Called back about the permit.  ")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["body"] == "Called back about the permit."
    assert body["author"] is None
    assert body["author_label"] == "API key “crm”"
    assert body["conversation"] == conversation.pk
    [note] = _notes(conversation)
    [event] = events_of(agency_a, "note.added")
    assert event.subject["note"] == note.pk
    assert event.payload == {"author": None, "mentions": []}
    with agency_scope(agency_a):
        assert AuditEvent.objects.get(action="note.added").actor_type == "api"


def test_a_mentioned_colleague_is_told_the_key_mentioned_them(
    client, agency_a, agent_key, conversation, member
):
    sam = member(email="sam@example.gov")
    _add(client, agent_key, conversation, "@sam please send the form")
    with agency_scope(agency_a):
        [notification] = Notification.objects.filter(user=sam)
    assert notification.kind == Notification.Kind.MENTION
    assert notification.text.startswith("API key “crm” mentioned you")
    [event] = events_of(agency_a, "note.added")
    assert event.payload["mentions"] == [sam.pk]


def test_a_member_signed_in_writes_as_themself(client_for, agency_a, conversation):
    agent = MembershipFactory(agency=agency_a)
    response = _add(client_for(agent), {}, conversation, "Seen it.")
    assert response.status_code == 201
    assert response.json()["author"]["id"] == agent.user_id


def test_notes_are_listed_newest_first_by_cursor(client, agency_a, reader, conversation):
    with agency_scope(agency_a):
        made = [
            services.add_note(
                actor=Actor.system("t"), author=None, conversation=conversation, body=f"note {n}"
            )
            for n in range(3)
        ]
    first = client.get(_url(conversation), {"page_size": 2}, **reader).json()
    second = client.get(first["next"], **reader).json()
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == [note.pk for note in reversed(made)]


def test_only_this_conversations_notes_are_listed(client, agency_a, reader, conversation):
    other = ActiveConversationFactory(agency=agency_a)
    with agency_scope(agency_a):
        services.add_note(actor=Actor.system("t"), author=None, conversation=other, body="x")
    assert client.get(_url(conversation), **reader).json()["results"] == []


def test_the_same_idempotency_key_adds_one_note(client, agent_key, conversation):
    first = _add(client, agent_key, conversation, "Once", HTTP_IDEMPOTENCY_KEY="note-1")
    again = _add(client, agent_key, conversation, "Once", HTTP_IDEMPOTENCY_KEY="note-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert len(_notes(conversation)) == 1


@pytest.mark.parametrize("body", ["", "   ", "x" * 4001, None, 42, ["a"]], ids=repr)
def test_a_note_needs_text_of_at_most_4000_characters(client, agent_key, conversation, body):
    response = _add(client, agent_key, conversation, body)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["pointer"] == "/body"
    assert _notes(conversation) == []


def test_another_agencys_conversation_takes_no_note(client, agency_b, agent_key):
    theirs = ActiveConversationFactory(agency=agency_b)
    assert _add(client, agent_key, theirs, "hello").status_code == 404
    assert _notes(theirs) == []


def test_a_records_officer_signed_in_reads_notes_but_writes_none(
    client_for, agency_a, conversation
):
    officer = MembershipFactory(agency=agency_a, role=Role.RECORDS_OFFICER)
    enroll_totp(officer.user)  # the role requires MFA before anything else
    session = client_for(officer)
    assert session.get(_url(conversation)).status_code == 200
    assert _add(session, {}, conversation, "Seen it.").status_code == 403
    assert _notes(conversation) == []
