"""Many citizens' messages in one change (the worker merges a number's changes across
events): stored together in a fixed number of queries, whatever their count, with the same
rows, contacts, conversations and windows as one by one; the messages that act on others
(edits, keywords) still act in their place in the change's order."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging.models import Consent, Contact, Conversation, MediaObject, Message
from messaging.webhooks import inbound
from messaging.webhooks import media as inbound_media
from messaging.webhooks.changes import Change, Route
from records.capture.versions import current_content, earlier_versions
from tenants.scoping import agency_scope
from tests.factories import ContactFactory, ConversationFactory
from tests.messaging.webhooks.payloads import (
    at,
    contact,
    envelope,
    inbound_text,
    messages_change,
    wamid,
)

HOUR = 3600
T0 = int(time.time()) - 2 * HOUR
# The queries of a change of common messages, however many. New citizens: the wamids
# already stored, the agency (its keywords), the contacts, then inserts of contacts,
# conversations and messages, and the windows' UPDATE. Known citizens: the wamids, the
# agency, the contacts, their conversations, the messages' insert, the windows' UPDATE and
# the edits or revokes that may be waiting in those conversations. Then, for both, the one
# INSERT of their events (bsp.events); and, once per change when a message is short enough
# to be a keyword, the agency's consent-topic keywords ("ALERTS").
MAX_QUERIES = 9


def citizens(count: int, start: int = 0) -> list[str]:
    return [f"1415557{n:04d}" for n in range(start, start + count)]


def texts(wa_ids: list[str], *, timestamp: int = T0) -> list[dict]:
    return [inbound_text(wa_id, f"Question from {wa_id}", timestamp=timestamp) for wa_id in wa_ids]


def a_change(number, messages: list[dict], contacts: list[dict] | None = None) -> Change:
    """What the worker hands ``handle_messages``: one number's messages, routed."""
    if contacts is None:
        senders = dict.fromkeys(m["from"] for m in messages)
        contacts = [contact(wa_id, f"Citizen {wa_id}") for wa_id in senders]
    value = messages_change(number.phone_number_id, messages=messages, contacts=contacts)["value"]
    route = Route(number.agency_id, number.waba_id, number.waba.waba_id, number.pk, "")
    return Change(0, "messages", value, route, None)


def handle(change: Change) -> None:
    """As the worker calls the handler: in the agency's scope and a transaction."""
    with agency_scope(change.route.agency_id), transaction.atomic():
        inbound.handle_messages(change)


# --- a fixed number of queries ------------------------------------------------------------------


def test_fifty_messages_from_fifty_new_citizens_take_a_fixed_number_of_queries(
    agency_a, wa_number, django_assert_max_num_queries, scope_a
):
    messages = texts(citizens(50))
    change = a_change(wa_number, messages)
    # The worker's scope and transaction around it, as in ``handle``; counted: the handler.
    with (
        agency_scope(agency_a),
        transaction.atomic(),
        django_assert_max_num_queries(MAX_QUERIES),
    ):
        inbound.handle_messages(change)
    rows = Message.objects.select_related("contact", "conversation").order_by("pk")
    assert [row.wamid for row in rows] == [m["id"] for m in messages]
    assert Contact.objects.count() == Conversation.objects.count() == 50
    for row in rows:
        assert (row.direction, row.status, row.type) == ("in", "received", "text")
        assert row.contact.profile_name == f"Citizen {row.contact.wa_id}"
        assert row.contact.phone_e164 == f"+{row.contact.wa_id}"
        assert row.content["text"]["body"] == f"Question from {row.contact.wa_id}"
        assert row.conversation.contact_id == row.contact_id
        assert row.conversation.window_expires_at == at(T0) + timedelta(hours=24)
        assert row.conversation.status == "open"


def test_fifty_messages_from_fifty_known_citizens_take_a_fixed_number_of_queries(
    agency_a, wa_number, django_assert_max_num_queries, scope_a
):
    known = {
        wa_id: ConversationFactory(
            agency=agency_a,
            phone_number=wa_number,
            contact=ContactFactory(agency=agency_a, wa_id=wa_id, profile_name=f"Citizen {wa_id}"),
            status="resolved",
            last_inbound_at=at(T0 - 30 * HOUR),
            window_expires_at=at(T0 - 6 * HOUR),
            last_message_at=at(T0 - 30 * HOUR),
        )
        for wa_id in citizens(50)
    }
    messages = texts(list(known))
    change = a_change(wa_number, messages)
    # The worker's scope and transaction around it, as in ``handle``; counted: the handler.
    with (
        agency_scope(agency_a),
        transaction.atomic(),
        django_assert_max_num_queries(MAX_QUERIES),
    ):
        inbound.handle_messages(change)
    assert Contact.objects.count() == Conversation.objects.count() == 50
    for row in Message.objects.select_related("contact", "conversation"):
        assert row.conversation_id == known[row.contact.wa_id].pk
        assert row.conversation.status == "open"
        assert row.conversation.last_inbound_at == at(T0)
        assert row.conversation.window_expires_at == at(T0) + timedelta(hours=24)


def test_a_change_of_fifty_messages_takes_as_many_queries_as_one_of_five(
    ingest, wa_number, scope_a
):
    def queries_for(wa_ids: list[str]) -> int:
        change = messages_change(
            wa_number.phone_number_id,
            messages=texts(wa_ids),
            contacts=[contact(wa_id) for wa_id in wa_ids],
        )
        with CaptureQueriesContext(connection) as queries:
            assert ingest(envelope(change)).status == "processed"
        return len(queries)

    queries_for(citizens(1, start=99))  # the number's route is looked up once, then cached
    assert queries_for(citizens(5)) == queries_for(citizens(50, start=5))
    assert Message.objects.count() == 56


# --- the same as one by one ----------------------------------------------------------------------


def test_a_citizen_writing_several_times_has_one_contact_and_the_window_of_the_latest(
    wa_number, scope_a
):
    wa_id = citizens(1)[0]
    sent = [T0, T0 + HOUR, T0 - HOUR]  # the last one was written first, delivered late
    messages = [inbound_text(wa_id, f"part {n}", timestamp=t) for n, t in enumerate(sent)]
    handle(a_change(wa_number, messages))
    conversation = Conversation.objects.get()
    assert Contact.objects.get().messages.count() == 3
    assert conversation.last_inbound_at == conversation.last_message_at == at(T0 + HOUR)
    assert conversation.window_expires_at == at(T0 + HOUR) + timedelta(hours=24)


def test_a_batch_never_moves_a_window_backwards(agency_a, wa_number, scope_a):
    later = timezone.now() - timedelta(minutes=5)
    conversation = ConversationFactory(
        agency=agency_a,
        phone_number=wa_number,
        contact=ContactFactory(agency=agency_a, wa_id=citizens(1)[0]),
        last_inbound_at=later,
        window_expires_at=later + timedelta(hours=24),
        last_message_at=later,
    )
    handle(a_change(wa_number, texts(citizens(3))))  # written two hours ago
    conversation.refresh_from_db()
    assert (conversation.last_inbound_at, conversation.last_message_at) == (later, later)
    assert conversation.window_expires_at == later + timedelta(hours=24)


def test_known_citizens_get_their_new_profile_names_and_are_reachable_again(
    agency_a, wa_number, scope_a
):
    renamed, unreachable, unchanged = citizens(3)
    ContactFactory(agency=agency_a, wa_id=renamed, profile_name="Old name")
    ContactFactory(
        agency=agency_a,
        wa_id=unreachable,
        profile_name=f"Citizen {unreachable}",
        unreachable_at=timezone.now(),
    )
    ContactFactory(agency=agency_a, wa_id=unchanged, profile_name=f"Citizen {unchanged}")
    handle(a_change(wa_number, texts([renamed, unreachable, unchanged])))
    contacts = {c.wa_id: c for c in Contact.objects.all()}
    assert len(contacts) == 3
    assert contacts[renamed].profile_name == f"Citizen {renamed}"
    assert contacts[unreachable].unreachable_at is None
    assert contacts[unchanged].profile_name == f"Citizen {unchanged}"


def test_a_phone_contact_and_a_username_user_in_one_batch_stay_two_contacts(wa_number, scope_a):
    phone, user_id = citizens(1)[0], "US.13491208655302741918"
    username = inbound_text("", "from a username", timestamp=T0, from_user_id=user_id)
    del username["from"]
    contacts = [contact(phone, "Ana"), {"profile": {"name": "Ben"}, "user_id": user_id}]
    handle(a_change(wa_number, [*texts([phone]), username], contacts))
    stored = {(c.wa_id, c.business_scoped_user_id, c.profile_name) for c in Contact.objects.all()}
    assert stored == {(phone, None, "Ana"), (None, user_id, "Ben")}


def test_a_citizen_who_learns_a_user_id_in_a_batch_keeps_one_contact(agency_a, wa_number, scope_a):
    phone, user_id = citizens(1)[0], "US.13491208655302741918"
    known = ContactFactory(agency=agency_a, wa_id=phone, profile_name="Ana")
    with_id = inbound_text(phone, "now with a user id", timestamp=T0, from_user_id=user_id)
    contacts = [{"profile": {"name": "Ana"}, "wa_id": phone, "user_id": user_id}]
    handle(a_change(wa_number, [*texts([phone]), with_id], contacts))
    known.refresh_from_db()
    assert known.business_scoped_user_id == user_id
    assert Contact.objects.count() == 1
    assert known.messages.count() == 2


def test_messages_already_stored_are_skipped_and_the_others_stored(wa_number, scope_a):
    first = texts(citizens(3))
    handle(a_change(wa_number, first))
    Conversation.objects.update(status="resolved")
    handle(a_change(wa_number, [*first, *texts(citizens(2, start=3))]))  # Meta redelivers
    assert Message.objects.count() == 5
    # The redelivered ones reopen nothing; the new citizens' conversations are open.
    statuses = dict(Conversation.objects.values_list("contact__wa_id", "status"))
    assert statuses == {
        **dict.fromkeys(citizens(3), "resolved"),
        **dict.fromkeys(citizens(2, 3), "open"),
    }


# --- media --------------------------------------------------------------------------------------


def image(wa_id: str, media_id: str) -> dict:
    return {
        "from": wa_id,
        "id": wamid(),
        "timestamp": str(T0),
        "type": "image",
        "image": {"id": media_id, "mime_type": "image/jpeg", "sha256": "aW1n"},
    }


def test_the_same_image_from_two_citizens_is_one_media_object_downloaded_once(
    wa_number, scope_a, monkeypatch, django_capture_on_commit_callbacks
):
    scheduled: list[MediaObject] = []
    monkeypatch.setattr(inbound_media, "schedule_download", scheduled.append)
    ana, ben = citizens(2)
    with django_capture_on_commit_callbacks(execute=True):
        handle(a_change(wa_number, [image(ana, "9001"), image(ben, "9001"), image(ana, "9002")]))
    media = {m.meta_media_id: m for m in MediaObject.objects.all()}
    assert sorted(media) == ["9001", "9002"]
    assert sorted(m.meta_media_id for m in scheduled) == ["9001", "9002"]
    rows = Message.objects.order_by("pk")
    assert [row.media_id for row in rows] == [media["9001"].pk, media["9001"].pk, media["9002"].pk]
    assert (media["9001"].kind, media["9001"].status, media["9001"].mime_type) == (
        "image",
        "pending",
        "image/jpeg",
    )


def test_a_media_object_already_known_is_linked_and_not_downloaded_again(
    wa_number, scope_a, monkeypatch, django_capture_on_commit_callbacks
):
    scheduled: list[MediaObject] = []
    monkeypatch.setattr(inbound_media, "schedule_download", scheduled.append)
    ana, ben = citizens(2)
    with django_capture_on_commit_callbacks(execute=True):
        handle(a_change(wa_number, [image(ana, "9101")]))
        handle(a_change(wa_number, [image(ben, "9101"), *texts([ana])]))
    known = MediaObject.objects.get()
    assert [m.pk for m in scheduled] == [known.pk]
    assert Message.objects.filter(media=known).count() == 2


# --- what acts on others, in its place ----------------------------------------------------------


def edit(wa_id: str, original_id: str, body: str, *, timestamp: int) -> dict:
    return {
        "from": wa_id,
        "id": wamid(),
        "timestamp": str(timestamp),
        "type": "edit",
        "edit": {
            "original_message_id": original_id,
            "message": {"type": "text", "text": {"body": body}},
        },
    }


def test_an_edit_in_a_batch_applies_to_the_message_before_it(wa_number, scope_a):
    ana, ben = citizens(2)
    original = inbound_text(ana, "draft", timestamp=T0)
    handle(
        a_change(
            wa_number,
            [original, edit(ana, original["id"], "final", timestamp=T0 + 60), *texts([ben])],
        )
    )
    edited = Message.objects.get(wamid=original["id"])
    assert current_content(edited)["text"]["body"] == "final"
    assert [v["content"]["text"]["body"] for v in earlier_versions(edited)] == ["draft"]
    assert Message.objects.count() == 3


def test_an_edit_before_its_message_in_the_same_batch_applies_when_it_is_stored(wa_number, scope_a):
    ana, ben = citizens(2)
    original = inbound_text(ana, "draft", timestamp=T0)
    handle(
        a_change(
            wa_number,
            [*texts([ben]), edit(ana, original["id"], "final", timestamp=T0 + 60), original],
        )
    )
    assert current_content(Message.objects.get(wamid=original["id"]))["text"]["body"] == "final"


def test_an_edit_that_came_in_an_earlier_webhook_applies_to_its_message_in_a_batch(
    wa_number, scope_a
):
    ana, ben, cleo = citizens(3)
    original = inbound_text(ana, "draft", timestamp=T0)
    handle(a_change(wa_number, [edit(ana, original["id"], "final", timestamp=T0 + 60)]))
    handle(a_change(wa_number, [*texts([ben]), original, *texts([cleo])]))
    edited = Message.objects.get(wamid=original["id"])
    assert current_content(edited)["text"]["body"] == "final"
    assert edited.edited_at == at(T0 + 60)


def test_a_keyword_in_a_batch_opts_out_only_its_sender(wa_number, scope_a):
    ana, ben, cleo = citizens(3)
    stop = inbound_text(ben, "STOP", timestamp=T0)
    handle(a_change(wa_number, [*texts([ana]), stop, *texts([cleo])]))
    consent = Consent.objects.get()
    assert (consent.contact.wa_id, consent.status) == (ben, "opted_out")
    assert consent.evidence["wamid"] == stop["id"]
    reply = Message.objects.get(direction="out")
    assert reply.contact.wa_id == ben
    assert Message.objects.filter(direction="in").count() == 3


# --- concurrent workers -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_storing_the_same_batch_at_once_store_each_message_once(agency_a, wa_number):
    """Worker A has stored a batch but not committed; worker B, given the same messages and
    more (Meta redelivered while A was busy), waits for A's rows, then stores only its own.
    One contact and one conversation per citizen, whichever worker created them."""
    shared = texts(citizens(20))
    extra = texts(citizens(5, start=20))
    a_stored, errors = threading.Event(), []

    def worker(messages: list[dict], *, hold: bool) -> None:
        try:
            if not hold:
                a_stored.wait(5)
            handle_and_hold = a_change(wa_number, messages)
            with agency_scope(agency_a), transaction.atomic():
                inbound.handle_messages(handle_and_hold)
                if hold:
                    a_stored.set()
                    time.sleep(0.5)  # B is now blocked on A's uncommitted rows
        except Exception as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            connection.close()

    a = threading.Thread(target=worker, args=(shared,), kwargs={"hold": True})
    b = threading.Thread(
        target=worker, args=(extra[:2] + shared[::-1] + extra[2:],), kwargs={"hold": False}
    )
    a.start()
    b.start()
    a.join(10)
    b.join(10)
    assert errors == []
    with agency_scope(agency_a):
        assert sorted(Message.objects.values_list("wamid", flat=True)) == sorted(
            m["id"] for m in shared + extra
        )
        assert Contact.objects.count() == Conversation.objects.count() == 25
        assert {c.messages.count() for c in Contact.objects.all()} == {1}
