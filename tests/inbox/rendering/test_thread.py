"""The thread around the messages: replies, reactions, edits, deletions, delivery, days,
and a fixed number of queries whatever its length."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from inbox.rendering import thread_items
from messaging.models import Message
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory, TemplateFactory
from tests.inbox.rendering.factories import (
    inbound,
    outbound,
    reaction,
    stored_media,
    template_message,
)

pytestmark = pytest.mark.django_db


def articles(html: str) -> int:
    return len(re.findall(r"<article\b", html))


def test_a_reply_shows_the_quoted_message_and_links_to_it(render, conversation):
    question = outbound(conversation, "text", {"body": "Which street is it?"})
    answer = inbound(
        conversation,
        "text",
        {"body": "Main St"},
        context={"from": "15550100", "id": question.wamid},
        reply_to_wamid=question.wamid,
    )
    html = render(question, answer)
    assert f'In reply to\n        <a class="usa-link" href="#message-{question.pk}">' in html
    assert "Which street is it?</p>" in html


def test_a_reply_to_a_message_outside_the_page_is_summarized_from_the_record(render, conversation):
    earlier = inbound(conversation, "location", {"latitude": 1, "longitude": 2, "name": "Park"})
    reply = outbound(conversation, "text", {"body": "Thanks"}, reply_to_wamid=earlier.wamid)
    html = render(reply)
    assert "In reply to\n        Ana Souza" in html
    assert "Location Park" in html


def test_a_reply_to_an_unknown_message_says_it_is_not_in_the_record(render, conversation):
    html = render(inbound(conversation, "text", {"body": "yes"}, context={"id": "wamid.gone"}))
    assert "An earlier message that is not in this record." in html


def test_reactions_are_folded_onto_their_message_latest_per_reactor(render, conversation, agent):
    message = outbound(conversation, "text", {"body": "Fixed today."})
    noon = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    later = reaction(conversation, message, "❤️", received_at=noon + timedelta(minutes=1))
    first = reaction(conversation, message, "👍", received_at=noon)
    ours = reaction(conversation, message, "🙏", direction="out", sender_user=agent.user)
    html = render(message, first, later, ours)
    assert articles(html) == 1
    assert '❤️ <span class="text-base-dark">Ana Souza</span>' in html
    assert "👍" not in html
    assert '🙏 <span class="text-base-dark">Jane Doe</span>' in html


def test_a_removed_reaction_is_not_shown(render, conversation):
    message = outbound(conversation, "text", {"body": "Fixed today."})
    noon = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    added = reaction(conversation, message, "👍", received_at=noon)
    removed = reaction(conversation, message, "", received_at=noon + timedelta(minutes=1))
    assert 'aria-label="Reactions"' not in render(message, added, removed)


def test_an_edited_message_shows_the_latest_text_and_every_earlier_version(render, conversation):
    message = inbound(
        conversation,
        "text",
        {"body": "The lights on Main St are out."},
        edited_at=datetime(2026, 12, 1, 15, 5, tzinfo=UTC),
        content_history=[
            {
                "content": {"type": "text", "text": {"body": "The light is out."}},
                "at": "2026-12-01T15:00:00+00:00",
                "replaced_at": "2026-12-01T15:02:00+00:00",
            },
            {
                "content": {"type": "text", "text": {"body": "The light on Main is out."}},
                "at": "2026-12-01T15:02:00+00:00",
                "replaced_at": "2026-12-01T15:05:00+00:00",
            },
        ],
    )
    notice = inbound(conversation, "edit", {"original_message_id": message.wamid, "message": {}})
    html = render(message, notice)
    assert articles(html) == 1
    assert "The lights on Main St are out." in html
    assert ">Edited</span>" in html
    assert "2 earlier versions" in html
    assert "The light is out." in html and "The light on Main is out." in html
    assert '<time datetime="2026-12-01T09:00:00-06:00">9:00 AM, December 1</time>' in html


def test_an_edit_recorded_beside_the_original_shows_the_edit_and_keeps_the_original(
    render, conversation
):
    """Since records keep the message as received (issue 12 §1), ``content`` is the original
    and each edit is an entry of the history: the thread shows the edit as current."""
    message = inbound(
        conversation,
        "text",
        {"body": "The light is out."},
        received_at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
        edited_at=datetime(2026, 12, 1, 15, 5, tzinfo=UTC),
        content_history=[
            {
                "content": {"type": "text", "text": {"body": "The lights on Main St are out."}},
                "at": "2026-12-01T15:05:00+00:00",
                "edit_wamid": "wamid.EDIT1",
            }
        ],
    )
    html = render(message)
    current, _, disclosure = html.partition("1 earlier version")
    assert "The lights on Main St are out." in current
    assert "The light is out." not in current
    assert "The light is out." in disclosure


def test_a_deleted_message_says_so_and_keeps_the_original_for_staff(render, conversation):
    message = inbound(
        conversation,
        "text",
        {"body": "My address is 12 Elm St"},
        revoked_at=datetime(2026, 12, 1, 16, 0, tzinfo=UTC),
    )
    notice = inbound(conversation, "revoke", {"original_message_id": message.wamid})
    html = render(message, notice)
    assert articles(html) == 1
    assert "This message was deleted by the citizen at" in html
    assert "<summary>Show the deleted message (kept in the record)</summary>" in html
    assert "My address is 12 Elm St" in html.split('<details class="message__original">')[1]


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (Message.Status.QUEUED, "Queued"),
        (Message.Status.SENDING, "Sending"),
        (Message.Status.ACCEPTED, "Accepted by WhatsApp"),
        (Message.Status.SENT, "Sent"),
        (Message.Status.DELIVERED, "Delivered"),
        (Message.Status.READ, "Read"),
    ],
)
def test_an_outbound_message_says_its_delivery_state_in_words(render, conversation, status, label):
    message = outbound(conversation, "text", {"body": "Hi"}, status=status)
    html = render(message)
    assert f'id="message-{message.pk}-status"' in html
    assert f'<span class="usa-sr-only">Delivery: </span>{label}' in html


def test_a_failed_message_says_why_in_plain_words(render, conversation):
    message = outbound(
        conversation,
        "text",
        {"body": "Hi"},
        status=Message.Status.FAILED,
        error_code=131026,
        error_reason="",
        failed_at=datetime(2026, 12, 1, 18, 0, tzinfo=UTC),
    )
    html = render(message)
    assert (
        "Failed — The recipient cannot receive this message (not on WhatsApp or outdated app)."
        in html
    )


def test_each_delivery_step_is_listed_with_its_time(render, conversation, scope_a):
    created = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    message = outbound(
        conversation,
        "text",
        {"body": "Hi"},
        status=Message.Status.READ,
        sending_at=created + timedelta(seconds=1),
        sent_at=created + timedelta(seconds=2),
        delivered_at=created + timedelta(seconds=3),
        read_at=created + timedelta(minutes=5),
    )
    Message.objects.filter(pk=message.pk).update(created_at=created)
    message.refresh_from_db()
    html = render(message)
    assert 'Read · <time datetime="2026-12-01T12:05:00-06:00">12:05 PM</time>' in html
    for step in ("Queued", "Sending", "Sent", "Delivered", "Read"):
        assert f"<li>{step}: <time" in html
    assert "<li>Failed:" not in html


def test_days_are_separated_in_the_agencys_time_zone(render, conversation):
    # America/Chicago: 05:30 UTC on 2 December is still 1 December, 11:30 PM.
    late = inbound(
        conversation, "text", {"body": "late"}, received_at=datetime(2026, 12, 2, 5, 30, tzinfo=UTC)
    )
    after = inbound(
        conversation,
        "text",
        {"body": "after"},
        received_at=datetime(2026, 12, 2, 6, 30, tzinfo=UTC),
    )
    same = inbound(
        conversation, "text", {"body": "same"}, received_at=datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    )
    html = render(late, after, same)
    headings = re.findall(r'<h2 class="thread__day[^>]*>([^<]+)</h2>', html)
    assert headings == ["Tuesday, December 1, 2026", "Wednesday, December 2, 2026"]
    assert '<time datetime="2026-12-01T23:30:00-06:00">11:30 PM</time>' in html
    assert (
        html.index("Tuesday") < html.index("late") < html.index("Wednesday") < html.index("after")
    )


def test_an_empty_thread_says_so(render):
    assert "No messages yet." in render()


def _mixed_thread(conversation, agent, agency, rounds: int) -> list[Message]:
    template = TemplateFactory(agency=agency, waba=conversation.phone_number.waba)
    rows: list[Message] = []
    for _ in range(rounds):
        question = outbound(conversation, "text", {"body": "Which street?"}, sender_user=agent.user)
        media = stored_media(agency)
        photo = inbound(
            conversation, "image", {"id": "1"}, media=media, reply_to_wamid=question.wamid
        )
        sent = template_message(
            conversation,
            template,
            [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "7"}],
                }
            ],
        )
        rows += [question, photo, sent, reaction(conversation, sent, "👍")]
        rows.append(inbound(conversation, "text", {"body": "ok"}, reply_to_wamid="wamid.elsewhere"))
    return rows


def _queries(messages: list[Message], agency) -> int:
    """The queries thread_items makes for ``messages`` as a view loads them (no relations)."""
    with agency_scope(agency):
        fresh = list(Message.objects.filter(pk__in=[m.pk for m in messages]).order_by("pk"))
        with CaptureQueriesContext(connection) as queries:
            views = thread_items(fresh)
    assert len(views) == len(messages) - len(messages) // 5  # reactions are no bubbles
    return len(queries)


def test_a_thread_takes_the_same_number_of_queries_for_5_or_60_messages(
    conversation, agent, agency_a
):
    short = _mixed_thread(conversation, agent, agency_a, 1)
    other = ConversationFactory(agency=agency_a, phone_number=conversation.phone_number)
    long = _mixed_thread(other, agent, agency_a, 12)
    assert len(short) == 5 and len(long) == 60
    assert _queries(short, agency_a) == _queries(long, agency_a) <= 10


def test_one_message_rendered_alone_keeps_the_agencys_time_zone(conversation, agency_a):
    message = inbound(
        conversation, "text", {"body": "hi"}, received_at=datetime(2026, 12, 2, 5, 30, tzinfo=UTC)
    )
    with agency_scope(agency_a):
        view = thread_items([message])[0]
    html = render_to_string("inbox/messages/message.html", {"view": view})
    assert '<time datetime="2026-12-01T23:30:00-06:00">11:30 PM</time>' in html
    status = outbound(
        conversation, "text", {"body": "ok"}, sent_at=datetime(2026, 12, 2, 5, 30, tzinfo=UTC)
    )
    with agency_scope(agency_a):
        view = thread_items([status])[0]
    html = render_to_string("inbox/messages/status.html", {"view": view})
    assert f'id="message-{status.pk}-status"' in html
    assert "December 1, 2026, 11:30:00 PM" in html


def test_a_reply_never_quotes_another_conversations_message(render, conversation, agency_a):
    elsewhere = ConversationFactory(agency=agency_a, phone_number=conversation.phone_number)
    secret = inbound(elsewhere, "text", {"body": "my other case"})
    html = render(inbound(conversation, "text", {"body": "yes"}, reply_to_wamid=secret.wamid))
    assert "my other case" not in html
    assert "An earlier message that is not in this record." in html
