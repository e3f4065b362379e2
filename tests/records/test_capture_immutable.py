"""A stored message's content is immutable (issue 12 §1): the database refuses to change it
for the application role, whatever the code path (ORM or raw SQL); status transitions
still move; a citizen's edit is recorded beside the original, which stays as received."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from messaging.models import Message
from messaging.webhooks import inbound
from messaging.webhooks.changes import Change, Route
from records.capture.versions import current_content, earlier_versions, versions
from tenants.scoping import agency_scope
from tests.factories import PhoneNumberFactory
from tests.messaging.webhooks.payloads import at, contact, inbound_text, messages_change, wamid

CITIZEN = "14155550100"
T0 = int(time.time()) - 3600


@pytest.fixture
def number(agency_a):
    return PhoneNumberFactory(agency=agency_a)


def handle(number, *messages: dict) -> None:
    """As the webhook worker does: one change, in the agency's scope and a transaction."""
    value = messages_change(
        number.phone_number_id, messages=list(messages), contacts=[contact(CITIZEN, "Ana")]
    )["value"]
    route = Route(number.agency_id, number.waba_id, number.waba.waba_id, number.pk, "")
    with agency_scope(number.agency_id), transaction.atomic():
        inbound.handle_messages(Change(0, "messages", value, route, None))


def edit(original_id: str, body: str, *, timestamp: int) -> dict:
    return {
        "from": CITIZEN,
        "id": wamid(),
        "timestamp": str(timestamp),
        "type": "edit",
        "edit": {
            "original_message_id": original_id,
            "message": {"type": "text", "text": {"body": body}},
        },
    }


@pytest.fixture
def stored(number) -> Message:
    message = inbound_text(CITIZEN, "My SSN is on the form", timestamp=T0)
    handle(number, message)
    with agency_scope(number.agency_id):
        return Message.objects.get(wamid=message["id"])


def refused(number, **changes) -> str:
    """Try the UPDATE as the application role; the database's error text."""
    scope = agency_scope(number.agency_id)
    with scope, pytest.raises(DatabaseError) as caught, transaction.atomic():
        Message.objects.filter(wamid__isnull=False).update(**changes)
    return str(caught.value)


def test_the_tests_run_as_the_application_role_not_the_owner(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == "civic_app"


def test_updating_a_messages_text_is_refused(stored, number):
    error = refused(number, content={"type": "text", "text": {"body": "rewritten"}})
    assert "a stored message's content cannot be changed" in error
    with agency_scope(number.agency_id):
        assert Message.objects.get(pk=stored.pk).content["text"]["body"] == "My SSN is on the form"


def test_raw_sql_cannot_rewrite_the_text_either(stored, number):
    refusal = pytest.raises(DatabaseError, match="content")
    with agency_scope(number.agency_id), refusal, transaction.atomic(), connection.cursor() as c:
        c.execute(
            "UPDATE messaging_message SET content = jsonb_set(content, '{text,body}', '\"x\"') "
            "WHERE id = %s",
            [stored.pk],
        )


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("type", "image"),
        ("direction", "out"),
        ("reply_to_wamid", "wamid.other"),
        ("context", {"id": "wamid.other"}),
        ("sender_type", "user"),
        ("received_at", timezone.now()),
    ],
)
def test_transmission_data_cannot_be_changed(stored, number, column, value):
    assert f"a stored message's {column} cannot be changed" in refused(number, **{column: value})


def test_the_sender_and_recipient_cannot_be_moved_to_another_contact_or_number(
    stored, number, agency_a
):
    other = PhoneNumberFactory(agency=agency_a)
    assert "phone_number_id" in refused(number, phone_number_id=other.pk)
    with agency_scope(agency_a):
        other_contact = type(stored.contact).objects.create(agency=agency_a, wa_id="14155550999")
    assert "contact_id" in refused(number, contact_id=other_contact.pk)


def test_created_at_is_our_clock_and_may_be_dated_back(stored, number):
    """Not a transmission time (Meta's is ``received_at``): records migration 0011."""
    earlier = timezone.now() - timedelta(days=1)
    with agency_scope(number.agency_id), transaction.atomic():
        Message.objects.filter(pk=stored.pk).update(created_at=earlier)


def test_status_transitions_are_still_recorded(stored, number):
    now = timezone.now()
    with agency_scope(number.agency_id), transaction.atomic():
        Message.objects.filter(pk=stored.pk).update(
            status=Message.Status.READ, read_at=now, error_reason="", pricing={"billable": False}
        )
    with agency_scope(number.agency_id):
        assert Message.objects.get(pk=stored.pk).read_at == now


def test_a_wamid_is_written_once(number, agency_a):
    from tests.factories import ConversationFactory

    with agency_scope(agency_a):
        conversation = ConversationFactory(agency=agency_a, phone_number=number)
        queued = Message.objects.create(
            agency=agency_a,
            conversation=conversation,
            phone_number=number,
            contact=conversation.contact,
            direction=Message.Direction.OUTBOUND,
            type="text",
            content={"type": "text", "text": {"body": "hello"}},
            status=Message.Status.QUEUED,
            sender_type=Message.SenderType.SYSTEM,
        )
        with transaction.atomic():  # accepted by Meta: the wamid arrives
            Message.objects.filter(pk=queued.pk).update(wamid="wamid.first")
        with pytest.raises(DatabaseError, match="wamid"), transaction.atomic():
            Message.objects.filter(pk=queued.pk).update(wamid="wamid.second")


def test_a_revocation_is_not_undone(stored, number):
    with agency_scope(number.agency_id), transaction.atomic():
        Message.objects.filter(pk=stored.pk).update(revoked_at=timezone.now())
    assert "revoked_at" in refused(number, revoked_at=None)


def test_a_recorded_edit_cannot_be_dropped_from_the_history(stored, number):
    handle(number, edit(stored.wamid, "v2", timestamp=T0 + 60))
    assert "content_history" in refused(number, content_history=[])


def test_an_edit_webhook_keeps_the_original_and_records_the_new_version(stored, number):
    notice = edit(stored.wamid, "My case number is on the form", timestamp=T0 + 60)
    handle(number, notice)
    with agency_scope(number.agency_id):
        row = Message.objects.get(pk=stored.pk)
        notice_row = Message.objects.get(wamid=notice["id"])
    assert row.content == {"type": "text", "text": {"body": "My SSN is on the form"}}
    assert current_content(row)["text"]["body"] == "My case number is on the form"
    assert row.edited_at == at(T0 + 60)
    assert [v.edit_wamid for v in versions(row)] == ["", notice["id"]]
    assert earlier_versions(row)[0]["content"]["text"]["body"] == "My SSN is on the form"
    assert notice_row.type == "edit"  # the edit is also a row of its own


def test_the_trigger_is_installed_and_enabled_for_every_role(db):
    """Enabled ("O": origin and local) rather than disabled or replica-only: getting around
    it takes an ALTER TABLE by the schema owner, which shows in the database's logs."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = 'message_content_immutable' "
            "AND tgrelid = 'messaging_message'::regclass"
        )
        assert cursor.fetchall() == [("O",)]


# --- legacy rows ----------------------------------------------------------------------------------


def test_rows_edited_before_the_change_read_with_their_latest_version_in_content():
    class Legacy:
        content = {"type": "text", "text": {"body": "v2"}}
        content_history = [
            {
                "content": {"type": "text", "text": {"body": "v1"}},
                "at": "2026-01-01T10:00:00+00:00",
                "replaced_at": "2026-01-01T10:05:00+00:00",
            }
        ]
        received_at = at(0)
        edited_at = at(0)
        created_at = at(0)

    assert current_content(Legacy())["text"]["body"] == "v2"
    assert [v["content"]["text"]["body"] for v in earlier_versions(Legacy())] == ["v1"]
