"""What the inbox lists about a conversation, kept by the webhook path itself in the UPDATE
that moves the window: the snippet of the latest message, how many of the citizen's
messages no agent has read, since when the oldest unanswered one waits, and the status
(a citizen writing reopens it, and ``conversation.status`` says so)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from bsp.events.models import DomainEvent
from inbox.models import Team
from messaging.models import Conversation
from tenants.scoping import agency_scope
from tests.factories import ContactFactory, ConversationFactory, UserFactory
from tests.messaging.webhooks.conftest import CITIZEN
from tests.messaging.webhooks.payloads import at, contact, inbound_text, wamid
from tests.messaging.webhooks.test_inbound_batches import a_change, citizens, handle, texts

NEIGHBOUR = "14155550124"
T0 = int(time.time()) - 3600


def published(agency, type_: str | None = None) -> list[DomainEvent]:
    with agency_scope(agency):
        rows = DomainEvent.objects.order_by("sequence")
        return list(rows.filter(type=type_) if type_ else rows)


def a_reaction(wa_id: str, to: str, emoji: str = "👍") -> dict:
    return {
        "from": wa_id,
        "id": wamid(),
        "timestamp": str(T0 + 60),
        "type": "reaction",
        "reaction": {"message_id": to, "emoji": emoji},
    }


@pytest.fixture
def citizen(agency_a):
    return ContactFactory(agency=agency_a, wa_id=CITIZEN)


def conversation_in(status: str, citizen, wa_number, **fields) -> Conversation:
    return ConversationFactory(
        agency=citizen.agency, phone_number=wa_number, contact=citizen, status=status, **fields
    )


# --- unread, waiting, snippet ----------------------------------------------------------


def test_each_message_of_a_batch_counts_as_unread_and_the_latest_is_the_snippet(deliver, scope_a):
    deliver(
        inbound_text(CITIZEN, "My street light is out", timestamp=T0),
        inbound_text(CITIZEN, "It is on Elm St", timestamp=T0 + 5),
        inbound_text(CITIZEN, "Near number 12", timestamp=T0 + 9),
    )
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 3
    assert conversation.waiting_since == at(T0)
    assert conversation.last_preview == "Near number 12"


def test_a_batch_for_several_conversations_counts_each_on_its_own(wa_number, scope_a):
    first, second, third = citizens(3, start=40)
    messages = [
        *texts([first, second, first], timestamp=T0),
        *texts([first], timestamp=T0 + 30),
        *texts([third], timestamp=T0 + 60),
    ]
    handle(a_change(wa_number, messages))
    counts = {
        c.contact.wa_id: (c.unread_count, c.waiting_since, c.last_preview)
        for c in Conversation.objects.select_related("contact")
    }
    assert counts == {
        first: (3, at(T0), f"Question from {first}"),
        second: (1, at(T0), f"Question from {second}"),
        third: (1, at(T0 + 60), f"Question from {third}"),
    }


def test_messages_add_to_what_an_agent_has_not_read_yet(deliver, citizen, wa_number, scope_a):
    conversation = conversation_in("open", citizen, wa_number, unread_count=2)
    deliver(inbound_text(CITIZEN, "Any news?"))
    conversation.refresh_from_db()
    assert conversation.unread_count == 3


def test_a_redelivered_webhook_does_not_count_its_messages_again(deliver, scope_a):
    first, second = inbound_text(CITIZEN, "one"), inbound_text(CITIZEN, "two")
    deliver(first, second)
    deliver(first, second)  # Meta retries the same POST
    deliver(second)
    assert Conversation.objects.get().unread_count == 2


def test_the_conversation_keeps_waiting_since_the_earliest_unanswered_message(deliver, scope_a):
    deliver(inbound_text(CITIZEN, "Hello?", timestamp=T0))
    deliver(inbound_text(CITIZEN, "Anyone there?", timestamp=T0 + 600))
    conversation = Conversation.objects.get()
    assert conversation.waiting_since == at(T0)
    assert conversation.unread_count == 2


def test_a_conversation_answered_waits_again_from_the_next_message(
    deliver, citizen, wa_number, scope_a
):
    conversation = conversation_in("open", citizen, wa_number, waiting_since=None)
    deliver(inbound_text(CITIZEN, "One more question", timestamp=T0 + 120))
    conversation.refresh_from_db()
    assert conversation.waiting_since == at(T0 + 120)


def test_a_reaction_moves_the_snippet_but_adds_nothing_unread(deliver, citizen, wa_number, scope_a):
    conversation = conversation_in("open", citizen, wa_number, last_message_at=at(T0))
    deliver(a_reaction(CITIZEN, to="wamid.ours", emoji="🙏"))
    conversation.refresh_from_db()
    assert conversation.last_preview == "Reacted 🙏"
    assert (conversation.unread_count, conversation.waiting_since) == (0, None)


def test_a_late_old_message_does_not_replace_the_snippet_of_a_newer_one(deliver, scope_a):
    deliver(inbound_text(CITIZEN, "Newest", timestamp=T0 + 600))
    deliver(inbound_text(CITIZEN, "Written earlier, delivered late", timestamp=T0))
    conversation = Conversation.objects.get()
    assert conversation.last_preview == "Newest"
    assert conversation.unread_count == 2


def test_an_answer_within_the_second_of_our_reply_becomes_the_snippet(
    deliver, citizen, wa_number, scope_a
):
    replied = timezone.now()  # Meta's times are whole seconds: the answer's is earlier
    conversation = conversation_in(
        "open", citizen, wa_number, last_message_at=replied, last_preview="Our reply"
    )
    deliver(inbound_text(CITIZEN, "Thank you!", timestamp=int(replied.timestamp())))
    conversation.refresh_from_db()
    assert conversation.last_preview == "Thank you!"


def test_the_snippet_of_a_photo_says_photo_and_its_caption(deliver, scope_a):
    photo = {
        "from": CITIZEN,
        "id": wamid(),
        "timestamp": str(T0),
        "type": "image",
        "image": {"id": "1234", "mime_type": "image/jpeg", "sha256": "x", "caption": "Pothole"},
    }
    deliver(photo)
    assert Conversation.objects.get().last_preview == "📷 Photo: Pothole"


def test_hostile_text_gives_a_short_clean_snippet(deliver, scope_a):
    deliver(inbound_text(CITIZEN, "\u202eHELLO\x1b\n\n\t" + "spam " * 5_000))
    snippet = Conversation.objects.get().last_preview
    assert snippet.startswith("HELLO spam spam")
    assert len(snippet) == 160 and snippet.endswith("…")


def test_whatsapp_notices_neither_count_nor_move_the_snippet(deliver, citizen, wa_number, scope_a):
    conversation = conversation_in("open", citizen, wa_number, last_preview="Thanks")
    notice = {
        "from": CITIZEN,
        "id": wamid(),
        "timestamp": str(T0),
        "type": "system",
        "system": {"body": "Security code changed", "type": "customer_identity_changed"},
    }
    deliver(notice)
    conversation.refresh_from_db()
    assert (conversation.last_preview, conversation.unread_count) == ("Thanks", 0)


def test_a_keyword_message_on_its_own_path_counts_like_any_other(
    deliver, citizen, wa_number, scope_a
):
    conversation = conversation_in("resolved", citizen, wa_number)
    deliver(inbound_text(CITIZEN, "STOP", timestamp=T0))
    conversation.refresh_from_db()
    assert conversation.status == "open"
    assert (conversation.unread_count, conversation.waiting_since) == (1, at(T0))
    [reopened] = published(citizen.agency, "conversation.status")
    assert reopened.payload["previous"] == "resolved"


# --- reopening --------------------------------------------------------------------------


def test_a_message_reopens_a_resolved_conversation_and_says_so(
    deliver, agency_a, citizen, wa_number, scope_a
):
    agent = UserFactory()
    team = Team.objects.create(agency=agency_a, name="Roads")
    conversation = conversation_in(
        "resolved",
        citizen,
        wa_number,
        assignee=agent,
        team=team,
        resolved_at=timezone.now() - timedelta(days=1),
    )
    deliver(inbound_text(CITIZEN, "It is broken again"))
    conversation.refresh_from_db()
    assert (conversation.status, conversation.resolved_at) == ("open", None)
    [event] = published(agency_a, "conversation.status")
    assert event.subject == {"conversation": conversation.pk, "contact": citizen.pk}
    assert event.payload == {
        "status": "open",
        "previous": "resolved",
        "snoozed_until": None,
        "assignee": agent.pk,
        "team": team.pk,
        "by": None,
        "reason": "citizen_wrote",
    }


def test_a_message_wakes_a_snoozed_conversation_and_clears_the_snooze(
    deliver, agency_a, citizen, wa_number, scope_a
):
    conversation = conversation_in(
        "snoozed", citizen, wa_number, snoozed_until=timezone.now() + timedelta(days=2)
    )
    deliver(inbound_text(CITIZEN, "Actually, it is urgent"))
    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until) == ("open", None)
    [event] = published(agency_a, "conversation.status")
    assert (event.payload["previous"], event.payload["snoozed_until"]) == ("snoozed", None)
    assert event.payload["reason"] == "citizen_wrote"


def test_a_message_in_an_open_conversation_publishes_no_status_change(
    deliver, agency_a, citizen, wa_number, scope_a
):
    conversation_in("open", citizen, wa_number)
    deliver(inbound_text(CITIZEN, "one"), inbound_text(CITIZEN, "two"))
    assert published(agency_a, "conversation.status") == []


def test_a_new_conversation_publishes_no_status_change(deliver, agency_a, scope_a):
    deliver(inbound_text(CITIZEN, "First time writing"))
    assert published(agency_a, "conversation.status") == []


def test_several_messages_reopen_a_conversation_once_after_its_messages_are_received(
    deliver, agency_a, citizen, wa_number, scope_a
):
    conversation_in("pending", citizen, wa_number)
    deliver(inbound_text(CITIZEN, "one"), inbound_text(CITIZEN, "two"))
    kinds = [event.type for event in published(agency_a)]
    assert kinds == [
        "message.received",
        "message.received",
        "conversation.window_opened",
        "conversation.status",
    ]


def test_each_reopened_conversation_of_a_batch_publishes_its_own_status_change(
    agency_a, wa_number, scope_a
):
    wa_ids = citizens(3, start=60)
    previous = {}
    for wa_id, status in zip(wa_ids, ["resolved", "snoozed", "open"], strict=True):
        known = ContactFactory(agency=agency_a, wa_id=wa_id)
        previous[conversation_in(status, known, wa_number).pk] = status
    handle(a_change(wa_number, texts(wa_ids)))
    reopened = {
        event.subject["conversation"]: event.payload["previous"]
        for event in published(agency_a, "conversation.status")
    }
    assert reopened == {pk: status for pk, status in previous.items() if status != "open"}


def test_a_redelivered_message_publishes_no_second_status_change(deliver, agency_a, scope_a):
    message = inbound_text(CITIZEN, "thanks!")
    deliver(message)
    Conversation.objects.update(status="resolved")
    deliver(message)
    assert published(agency_a, "conversation.status") == []
    assert Conversation.objects.get().status == "resolved"


def test_a_revoke_neither_reopens_nor_counts(deliver, agency_a, citizen, wa_number, scope_a):
    conversation = conversation_in("resolved", citizen, wa_number, last_preview="Bye")
    revoke = {
        "from": CITIZEN,
        "id": wamid(),
        "timestamp": str(T0),
        "type": "revoke",
        "revoke": {"original_message_id": "wamid.gone"},
    }
    deliver(revoke, contacts=[contact(CITIZEN)])
    conversation.refresh_from_db()
    assert (conversation.status, conversation.unread_count) == ("resolved", 0)
    assert conversation.last_preview == "Bye"
    assert published(agency_a, "conversation.status") == []
