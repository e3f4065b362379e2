"""Legal holds: a hold on each kind of selection, later arrivals held on arrival, several
holds on one record, the release (authorised, audited, on the stream)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bsp.events import types
from messaging.models import Message
from records.holds import selectors
from records.holds.models import LegalHold
from records.holds.services import HoldError, place_hold, release_hold
from records.selection import Selection
from tenants.scoping import agency_scope
from tests.factories import ContactFactory, PhoneNumberFactory
from tests.records.holds.conftest import stream
from tests.records.holds.helpers import OFFICER, audit_of, conversation, events_of, label, say

pytestmark = pytest.mark.django_db(transaction=True)


def hold(agency, selection: Selection, matter: str = "LIT-2026-014") -> LegalHold:
    return place_hold(
        agency.pk,
        matter_id=matter,
        reason="Litigation hold: flood claims",
        owner_id=None,
        selection=selection,
        actor=OFFICER,
    )


def held(agency) -> set[int]:
    with agency_scope(agency):
        return set(selectors.held_message_ids(agency.pk))


def test_a_hold_on_a_contact_holds_their_messages_on_every_number(agency_a):
    citizen = ContactFactory(agency=agency_a, wa_id="15125550100")
    first = say(conversation(agency_a, contact=citizen))
    second = say(conversation(agency_a, contact=citizen))
    other = say(conversation(agency_a))
    hold(agency_a, Selection(contact_wa_id="+1 (512) 555-0100"))
    assert held(agency_a) == {first.pk, second.pk}
    assert other.pk not in held(agency_a)


def test_a_hold_on_a_conversation_holds_it_and_nothing_else(agency_a):
    chat = conversation(agency_a)
    messages = [say(chat, "one"), say(chat, "two")]
    say(conversation(agency_a))
    hold(agency_a, Selection(conversation_id=chat.pk))
    assert held(agency_a) == {m.pk for m in messages}
    with agency_scope(agency_a):
        assert selectors.is_conversation_held(chat.pk)
        assert [h.matter_id for h in selectors.open_holds_for_conversation(chat.pk)] == [
            "LIT-2026-014"
        ]


def test_a_hold_on_a_phone_number_holds_every_conversation_on_it(agency_a):
    number = PhoneNumberFactory(agency=agency_a)
    on_it = [say(conversation(agency_a, phone_number=number)) for _ in range(2)]
    say(conversation(agency_a))
    hold(agency_a, Selection(phone_number_id=number.pk))
    assert held(agency_a) == {m.pk for m in on_it}


def test_a_hold_on_a_date_range_holds_what_was_said_within_it(agency_a):
    chat = conversation(agency_a)
    before = say(chat, at=datetime(2026, 1, 31, 23, 59, tzinfo=UTC))
    within = say(chat, at=datetime(2026, 2, 1, 0, 0, tzinfo=UTC))
    last = say(chat, at=datetime(2026, 2, 28, 23, 0, tzinfo=UTC))
    after = say(chat, at=datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    hold(
        agency_a,
        Selection(since=datetime(2026, 2, 1, tzinfo=UTC), until=datetime(2026, 3, 1, tzinfo=UTC)),
    )
    assert held(agency_a) == {within.pk, last.pk}
    assert not held(agency_a) & {before.pk, after.pk}


def test_a_hold_on_a_full_text_query_holds_the_messages_that_match(agency_a):
    chat = conversation(agency_a)
    flood = say(chat, "My basement flooded on Elm street")
    say(chat, "When is trash pickup?")
    hold(agency_a, Selection(query="flooded elm"))
    assert held(agency_a) == {flood.pk}


def test_a_hold_on_a_label_holds_the_labelled_conversations(agency_a):
    labelled = conversation(agency_a)
    claims = label(labelled)
    message = say(labelled)
    say(conversation(agency_a))
    hold(agency_a, Selection(label_id=claims.pk))
    assert held(agency_a) == {message.pk}


def test_a_message_that_arrives_later_and_matches_an_open_hold_is_held_on_arrival(agency_a):
    chat = conversation(agency_a)
    placed = hold(agency_a, Selection(conversation_id=chat.pk))
    assert held(agency_a) == set()
    later = say(chat)
    _publish_arrival(agency_a, later)  # as the webhook path publishes it
    stream(agency_a)
    assert held(agency_a) == {later.pk}
    changed = events_of(agency_a, types.LEGAL_HOLD_CHANGED)
    assert [(e.subject, e.payload) for e in changed] == [
        ({"hold": placed.pk}, {"messages_added": 1})
    ]


def test_a_later_arrival_through_the_real_capture_path_is_held(agency_a):
    """The webhook batch publishes message.received; the stream brings it to the holds."""
    from tests.records.holds.capture import receive

    number = PhoneNumberFactory(agency=agency_a)
    hold(agency_a, Selection(phone_number_id=number.pk))
    message = receive(number, "15125550123", "Water in my street again")
    stream(agency_a)
    assert message.pk in held(agency_a)


def test_a_redelivered_batch_holds_nothing_twice(agency_a):
    from bsp.events.models import EventCursor

    chat = conversation(agency_a)
    hold(agency_a, Selection(conversation_id=chat.pk))
    _publish_arrival(agency_a, say(chat))
    stream(agency_a)
    with agency_scope(agency_a):
        EventCursor.objects.filter(agency=agency_a).update(dispatched_through=0)
    stream(agency_a)
    assert len(events_of(agency_a, types.LEGAL_HOLD_CHANGED)) == 1


def test_an_arrival_outside_every_selection_is_not_held(agency_a):
    hold(agency_a, Selection(conversation_id=conversation(agency_a).pk))
    _publish_arrival(agency_a, say(conversation(agency_a)))
    stream(agency_a)
    assert held(agency_a) == set()
    assert events_of(agency_a, types.LEGAL_HOLD_CHANGED) == []


def test_a_record_under_two_holds_stays_held_until_both_are_released(agency_a):
    chat = conversation(agency_a)
    message = say(chat, "flooded basement")
    first = hold(agency_a, Selection(conversation_id=chat.pk), matter="LIT-1")
    second = hold(agency_a, Selection(query="flooded"), matter="FOIA-2026-3")
    with agency_scope(agency_a):
        assert {h.matter_id for h in selectors.open_holds_for_conversation(chat.pk)} == {
            "LIT-1",
            "FOIA-2026-3",
        }
    release_hold(first.pk, reason="Case settled", actor=OFFICER)
    assert held(agency_a) == {message.pk}
    release_hold(second.pk, reason="Request closed", actor=OFFICER)
    assert held(agency_a) == set()


def test_a_release_is_audited_and_published_with_its_reason(agency_a):
    placed = hold(agency_a, Selection(conversation_id=conversation(agency_a).pk))
    released = release_hold(placed.pk, reason="Case dismissed with prejudice", actor=OFFICER)
    assert released.status == LegalHold.Status.RELEASED
    assert released.released_by_label == "officer@example.gov"
    assert released.released_at is not None
    [event] = audit_of(agency_a, "records.legal_hold_released")
    assert event.object_id == str(placed.pk)
    assert event.changes == {"matter_id": "LIT-2026-014", "reason": "Case dismissed with prejudice"}
    assert event.actor_label == "officer@example.gov"
    [published] = events_of(agency_a, types.LEGAL_HOLD_RELEASED)
    assert published.subject == {"hold": placed.pk}


def test_placing_a_hold_is_audited_with_its_selection_and_published(agency_a):
    chat = conversation(agency_a)
    say(chat)
    placed = hold(agency_a, Selection(conversation_id=chat.pk))
    [event] = audit_of(agency_a, "records.legal_hold_placed")
    assert event.changes["selection"] == {"conversation_id": chat.pk}
    assert event.changes["messages_held"] == 1
    [published] = events_of(agency_a, types.LEGAL_HOLD_PLACED)
    assert published.subject == {"hold": placed.pk}


def test_a_hold_needs_a_matter_and_a_reason_and_a_release_a_reason(agency_a):
    with pytest.raises(HoldError, match="matter"):
        place_hold(
            agency_a.pk,
            matter_id=" ",
            reason="x",
            owner_id=None,
            selection=Selection(),
            actor=OFFICER,
        )
    with pytest.raises(HoldError, match="why"):
        place_hold(
            agency_a.pk,
            matter_id="M-1",
            reason="",
            owner_id=None,
            selection=Selection(),
            actor=OFFICER,
        )
    placed = hold(agency_a, Selection())
    with pytest.raises(HoldError, match="why"):
        release_hold(placed.pk, reason="  ", actor=OFFICER)
    release_hold(placed.pk, reason="done", actor=OFFICER)
    with pytest.raises(HoldError, match="already released"):
        release_hold(placed.pk, reason="again", actor=OFFICER)


def test_another_agencys_messages_are_never_held(agency_a, agency_b):
    say(conversation(agency_b), "flooded")
    hold(agency_a, Selection(query="flooded"))
    assert held(agency_a) == set()
    with agency_scope(agency_b):
        assert (
            not Message.objects.filter(agency=agency_b)
            .filter(pk__in=selectors.held_message_ids(agency_b.pk))
            .exists()
        )


def _publish_arrival(agency, message: Message) -> None:
    from django.db import transaction

    from bsp import events

    with agency_scope(agency), transaction.atomic():
        events.publish(
            agency_id=agency.pk,
            type=types.MESSAGE_RECEIVED,
            subject={"message": message.pk, "conversation": message.conversation_id},
        )


def test_a_conversation_labelled_later_comes_under_the_label_hold(agency_a):
    from inbox.models import Label
    from inbox.services import set_labels

    with agency_scope(agency_a):
        claims = Label.objects.create(agency=agency_a, name="Flood claims")
    placed = hold(agency_a, Selection(label_id=claims.pk))
    chat = conversation(agency_a)
    older = say(chat, "Water everywhere")
    with agency_scope(agency_a):
        set_labels(actor=OFFICER, conversation=chat, labels=[claims])
    stream(agency_a)
    assert held(agency_a) == {older.pk}
    [changed] = events_of(agency_a, types.LEGAL_HOLD_CHANGED)
    assert changed.subject == {"hold": placed.pk}
