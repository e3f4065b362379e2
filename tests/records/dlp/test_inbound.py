"""Inbound DLP (issue 12 §8): a citizen's message with sensitive data is stored as sent (the
record), flagged beside it (kinds and offsets, never values) and published; the agency may
answer once per conversation per N hours asking not to send such data."""

from __future__ import annotations

import time
from datetime import timedelta

import time_machine
from django.utils import timezone

from bsp.events import types
from messaging.models import Conversation, Message
from records.dlp.models import DlpAutoReply, DlpFlag
from tenants.scoping import agency_scope
from tests.records.dlp.conftest import CARD, SSN, events_of, everything_recorded, receive

REPLY = "Please do not send Social Security numbers here; call us at 555-0100 instead."


def inbound(agency) -> list[Message]:
    with agency_scope(agency):
        return list(Message.objects.filter(direction="in").order_by("pk"))


def flags(agency) -> list[DlpFlag]:
    with agency_scope(agency):
        return list(DlpFlag.objects.order_by("pk"))


def replies(agency) -> list[Message]:
    with agency_scope(agency):
        return list(Message.objects.filter(direction="out", sender_type="system").order_by("pk"))


def test_a_citizens_ssn_is_flagged_beside_the_untouched_record(agency_a, number):
    body = f"hi, my ssn is {SSN} and my card {CARD}"
    receive(number, body)

    [message] = inbound(agency_a)
    assert message.content["text"]["body"] == body  # the record as received
    [flag] = flags(agency_a)
    assert flag.message_id == message.pk and flag.direction == "in"
    assert flag.kinds == ["card_number", "ssn"]
    assert flag.detector_version == "1"
    spans = {f["kind"]: body[f["start"] : f["end"]] for f in flag.findings}
    assert spans == {"ssn": SSN, "card_number": CARD}
    assert all(f["field"] == "text.body" for f in flag.findings)
    [event] = events_of(agency_a, types.DLP_FLAGGED)
    assert event.subject == {
        "message": message.pk,
        "conversation": message.conversation_id,
        "dlp_flag": flag.pk,
    }
    assert event.payload == {
        "direction": "in",
        "outcome": "flagged",
        "kinds": ["card_number", "ssn"],
    }
    assert SSN not in everything_recorded(agency_a)


def test_a_clean_message_is_not_flagged(agency_a, number):
    receive(number, "When is the office open on Saturday?", "Thanks! Case 12345.")
    assert flags(agency_a) == []
    assert events_of(agency_a, types.DLP_FLAGGED) == []


def test_the_conversation_lists_snippet_hides_the_number(agency_a, number):
    receive(number, f"my ssn is {SSN}")
    with agency_scope(agency_a):
        [conversation] = Conversation.objects.all()
    assert SSN not in conversation.last_preview
    assert "•••-••-1234" in conversation.last_preview


def test_with_flagging_off_nothing_is_stored(agency_a, number, set_policy):
    set_policy(inbound_flag=False)
    receive(number, f"my ssn is {SSN}")
    assert flags(agency_a) == []


def test_health_hints_are_flagged_only_when_the_agency_asks(agency_a, number, set_policy):
    receive(number, "I was diagnosed with diabetes last year")
    assert flags(agency_a) == []
    set_policy(phi_hints=True)
    receive(number, "my insulin prescription ran out")
    [flag] = flags(agency_a)
    assert flag.kinds == ["phi_hint"]


def test_no_automatic_reply_unless_the_agency_turns_it_on(agency_a, number, conversation):
    receive(number, f"my ssn is {SSN}")
    assert replies(agency_a) == []


def test_the_automatic_reply_goes_once_per_conversation_per_period(
    agency_a, number, conversation, set_policy
):
    set_policy(auto_reply_enabled=True, auto_reply_text=REPLY, auto_reply_hours=24)
    receive(number, f"my ssn is {SSN}", f"and my card {CARD}")
    [reply] = replies(agency_a)
    assert reply.content["text"]["body"] == REPLY
    assert reply.status == Message.Status.QUEUED  # the normal send path: queued for delivery
    assert reply.conversation_id == conversation.pk
    receive(number, f"again: {SSN}")
    assert len(replies(agency_a)) == 1  # within 24 h: not again
    assert len(flags(agency_a)) == 3  # every message is still flagged

    later = timezone.now() + timedelta(hours=25)
    with time_machine.travel(later, tick=False):
        receive(number, f"one more time {SSN}", timestamp=int(time.time()))
    assert len(replies(agency_a)) == 2
    with agency_scope(agency_a):
        [cooldown] = DlpAutoReply.objects.all()
    assert cooldown.message_id == replies(agency_a)[-1].pk


def test_a_clean_message_gets_no_automatic_reply(agency_a, number, conversation, set_policy):
    set_policy(auto_reply_enabled=True, auto_reply_text=REPLY)
    receive(number, "hello")
    assert replies(agency_a) == []


def test_a_late_webhook_gets_no_automatic_reply(agency_a, number, conversation, set_policy):
    set_policy(auto_reply_enabled=True, auto_reply_text=REPLY)
    receive(number, f"my ssn is {SSN}", timestamp=int(time.time()) - 3 * 3600)
    assert replies(agency_a) == []
    assert len(flags(agency_a)) == 1


def test_a_redelivered_webhook_flags_and_replies_once(agency_a, number, conversation, set_policy):
    from messaging.webhooks.changes import Change, Route
    from messaging.webhooks.inbound import handle_messages
    from tests.messaging.webhooks.payloads import contact, inbound_text, messages_change

    set_policy(auto_reply_enabled=True, auto_reply_text=REPLY)
    message = inbound_text("14155550100", f"ssn {SSN}")
    value = messages_change(
        number.phone_number_id, messages=[message], contacts=[contact("14155550100")]
    )["value"]
    route = Route(number.agency_id, number.waba_id, number.waba.waba_id, number.pk, "")
    for _ in range(2):
        with agency_scope(agency_a):
            handle_messages(Change(0, "messages", value, route, None))
    assert len(flags(agency_a)) == 1
    assert len(replies(agency_a)) == 1


def test_an_edit_that_adds_an_ssn_is_flagged_and_the_original_kept(agency_a, number):
    from django.db import transaction

    from messaging.webhooks.changes import Change, Route
    from messaging.webhooks.inbound import handle_messages
    from tests.messaging.webhooks.payloads import contact, inbound_text, messages_change, wamid

    first = inbound_text("14155550100", "my number is coming")
    edit = {
        "from": "14155550100",
        "id": wamid(),
        "timestamp": str(int(time.time())),
        "type": "edit",
        "edit": {
            "original_message_id": first["id"],
            "message": {"type": "text", "text": {"body": f"my number is {SSN}"}},
        },
    }
    route = Route(number.agency_id, number.waba_id, number.waba.waba_id, number.pk, "")
    for message in (first, edit):
        value = messages_change(
            number.phone_number_id, messages=[message], contacts=[contact("14155550100")]
        )["value"]
        with agency_scope(agency_a), transaction.atomic():
            handle_messages(Change(0, "messages", value, route, None))

    with agency_scope(agency_a):
        original = Message.objects.get(wamid=first["id"])
        edit_row = Message.objects.get(wamid=edit["id"])
    assert original.content["text"]["body"] == "my number is coming"
    [flag] = flags(agency_a)
    assert flag.message_id == edit_row.pk and flag.kinds == ["ssn"]
    assert flag.findings[0]["field"] == "edit.message.text.body"


def test_fifty_flagged_messages_cost_one_more_query_than_fifty_clean_ones(
    agency_a, number, django_assert_max_num_queries
):
    """The policy comes with the agency (joined), the rules from the process cache: the
    scan adds no query; the flags are one INSERT (their events join the change's)."""
    from django.db import transaction

    from messaging.webhooks.changes import Change, Route
    from messaging.webhooks.inbound import handle_messages
    from tests.messaging.webhooks.payloads import contact, inbound_text, messages_change

    def change(body: str, start: int) -> Change:
        wa_ids = [f"1415557{n:04d}" for n in range(start, start + 50)]
        value = messages_change(
            number.phone_number_id,
            messages=[inbound_text(w, body) for w in wa_ids],
            contacts=[contact(w) for w in wa_ids],
        )["value"]
        return Change(
            0,
            "messages",
            value,
            Route(agency_a.pk, number.waba_id, number.waba.waba_id, number.pk, ""),
            None,
        )

    def queries(c: Change) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with agency_scope(agency_a), transaction.atomic(), CaptureQueriesContext(connection) as q:
            handle_messages(c)
        return len(q)

    clean = queries(change("When is the office open?", 0))
    flagged = queries(change(f"my ssn is {SSN}", 100))
    assert len(flags(agency_a)) == 50
    assert flagged == clean + 1
