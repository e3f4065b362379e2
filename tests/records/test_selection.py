"""The shared selection (records.selection), criterion by criterion, on PostgreSQL: each
narrows, they combine, the JSON form round-trips and hostile JSON is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from records.selection import InvalidSelection, Selection, conversation_ids, messages
from tenants.scoping import agency_scope
from tests.factories import ContactFactory, PhoneNumberFactory
from tests.records.holds.helpers import conversation, label, say

pytestmark = pytest.mark.django_db


def found(agency, selection: Selection) -> set[int]:
    with agency_scope(agency):
        return set(messages(agency.pk, selection).values_list("pk", flat=True))


def test_an_empty_selection_is_every_message_of_the_agency(agency_a, agency_b):
    mine = say(conversation(agency_a))
    say(conversation(agency_b))
    assert Selection().is_empty()
    assert found(agency_a, Selection()) == {mine.pk}
    assert Selection().describe() == "every message"


def test_contact_by_wa_id_or_as_people_type_their_number(agency_a):
    ana = ContactFactory(agency=agency_a, wa_id="15125550100")
    hers = say(conversation(agency_a, contact=ana))
    say(conversation(agency_a))
    assert found(agency_a, Selection(contact_wa_id="15125550100")) == {hers.pk}
    assert found(agency_a, Selection(contact_wa_id="+1 (512) 555-0100")) == {hers.pk}
    assert found(agency_a, Selection(contact_wa_id="no digits")) == set()


def test_conversation(agency_a):
    chat = conversation(agency_a)
    inside = {say(chat).pk, say(chat).pk}
    say(conversation(agency_a))
    assert found(agency_a, Selection(conversation_id=chat.pk)) == inside


def test_phone_number(agency_a):
    hotline = PhoneNumberFactory(agency=agency_a)
    on_it = say(conversation(agency_a, phone_number=hotline))
    say(conversation(agency_a))
    assert found(agency_a, Selection(phone_number_id=hotline.pk)) == {on_it.pk}


def test_since_is_inclusive_and_until_exclusive(agency_a):
    chat = conversation(agency_a)
    edge = datetime(2026, 2, 1, tzinfo=UTC)
    at_since = say(chat, at=edge)
    at_until = say(chat, at=datetime(2026, 3, 1, tzinfo=UTC))
    selection = Selection(since=edge, until=datetime(2026, 3, 1, tzinfo=UTC))
    assert found(agency_a, selection) == {at_since.pk}
    assert at_until.pk not in found(agency_a, selection)


def test_label(agency_a):
    labelled = conversation(agency_a)
    claims = label(labelled)
    label(labelled, "Urgent")  # a second label does not repeat its messages
    hers = say(labelled)
    say(conversation(agency_a))
    assert found(agency_a, Selection(label_id=claims.pk)) == {hers.pk}
    with agency_scope(agency_a):
        assert messages(agency_a.pk, Selection(label_id=claims.pk)).count() == 1


def test_full_text_with_phrases_or_and_exclusions(agency_a):
    chat = conversation(agency_a)
    flood = say(chat, "Water in the basement after the flood")
    trash = say(chat, "When is trash pickup on Elm?")
    assert found(agency_a, Selection(query="basement flood")) == {flood.pk}
    assert found(agency_a, Selection(query='"trash pickup"')) == {trash.pk}
    assert found(agency_a, Selection(query="flood or trash")) == {flood.pk, trash.pk}
    assert found(agency_a, Selection(query="water -basement")) == set()


@pytest.mark.parametrize("query", ["a\x00b", "& | ! ( ) :*", "'", "   "])
def test_full_text_never_raises_on_a_users_input(agency_a, query):
    say(conversation(agency_a))
    found(agency_a, Selection(query=query))


def test_a_blank_query_does_not_narrow(agency_a):
    message = say(conversation(agency_a))
    assert found(agency_a, Selection(query="   ")) == {message.pk}


def test_chosen_messages(agency_a):
    chat = conversation(agency_a)
    first, _ = say(chat), say(chat)
    assert found(agency_a, Selection(message_ids=(first.pk,))) == {first.pk}


def test_criteria_combine(agency_a):
    chat = conversation(agency_a)
    hit = say(chat, "flood", at=datetime(2026, 2, 2, tzinfo=UTC))
    say(chat, "flood", at=datetime(2025, 2, 2, tzinfo=UTC))
    say(conversation(agency_a), "flood", at=datetime(2026, 2, 2, tzinfo=UTC))
    selection = Selection(
        conversation_id=chat.pk, query="flood", since=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert found(agency_a, selection) == {hit.pk}
    with agency_scope(agency_a):
        assert list(conversation_ids(agency_a.pk, selection)) == [chat.pk]


def test_the_json_form_round_trips():
    selection = Selection(
        contact_wa_id="15125550100",
        conversation_id=3,
        phone_number_id=4,
        since=datetime(2026, 1, 1, tzinfo=UTC),
        until=datetime(2026, 2, 1, tzinfo=UTC),
        label_id=5,
        query="flood",
        message_ids=(7, 8),
    )
    assert Selection.from_json(selection.to_json()) == selection
    assert "contact 15125550100" in selection.describe()


def test_a_date_without_zone_is_read_as_utc():
    read = Selection.from_json({"since": "2026-01-01T00:00:00"})
    assert read.since == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "data",
    [
        {"everything": True},
        {"since": "yesterday"},
        {"conversation_id": "three"},
        {"message_ids": "12"},
        {"message_ids": ["a"]},
        {"query": ["flood"]},
        {"since": 12},
    ],
)
def test_hostile_json_is_refused(data):
    with pytest.raises(InvalidSelection):
        Selection.from_json(data)


def test_a_hold_selects_what_it_holds_and_keeps_it_once_released(agency_a):
    from records.holds.services import place_hold, release_hold
    from tests.records.holds.helpers import OFFICER

    chat = conversation(agency_a)
    held = say(chat, "flood claim")
    say(conversation(agency_a), "other business")
    with agency_scope(agency_a):
        hold = place_hold(
            agency_a.pk,
            matter_id="LIT-2026-014",
            reason="Litigation",
            owner_id=None,
            selection=Selection(conversation_id=chat.pk),
            actor=OFFICER,
        )
    by_hold = Selection(hold_id=hold.pk)
    assert found(agency_a, by_hold) == {held.pk}
    assert Selection.from_json(by_hold.to_json()) == by_hold
    assert "legal hold" in by_hold.describe()
    with agency_scope(agency_a):
        release_hold(hold.pk, reason="Settled", actor=OFFICER)
    assert found(agency_a, by_hold) == {held.pk}
