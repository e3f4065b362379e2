"""Replying inside the customer-service window: text, reply-to, idempotency, refusals."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from messaging import delivery
from messaging.models import Message
from tenants.models import Agency
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import AgencyFactory, InboundMessageFactory, MembershipFactory
from tests.frontend.conftest import enroll_totp
from tests.inbox.composer.conftest import outbound
from tests.inbox.composer.factories import CannedResponseFactory, OpenConversationFactory

pytestmark = pytest.mark.django_db


def _send(client, conversation, *, htmx=False, **fields):
    data = {"text": "Your permit is ready.", "idempotency_key": str(uuid.uuid4()), **fields}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("inbox:send", args=[conversation.pk]), data, headers=headers)


def test_a_sent_text_is_queued_with_the_staff_sender_and_the_forms_key(
    agent_client, agent, open_conversation
):
    key = str(uuid.uuid4())
    response = _send(agent_client, open_conversation, idempotency_key=key)

    assert response.status_code == 302
    assert response["Location"].startswith(
        reverse("inbox:conversation", args=[open_conversation.pk])
    )
    (message,) = outbound(open_conversation.agency_id)
    assert message.status == Message.Status.QUEUED
    assert message.content == {
        "type": "text",
        "text": {"body": "Your permit is ready.", "preview_url": False},
    }
    assert (message.sender_type, message.sender_user_id) == ("user", agent.user_id)
    assert message.idempotency_key == f"inbox:{open_conversation.pk}:{key}"


def test_the_same_form_submitted_twice_queues_one_message(agent_client, open_conversation):
    key = str(uuid.uuid4())
    _send(agent_client, open_conversation, idempotency_key=key)
    _send(agent_client, open_conversation, idempotency_key=key)

    assert len(outbound(open_conversation.agency_id)) == 1


def test_emoji_count_as_one_character_each_and_are_stored_as_typed(agent_client, open_conversation):
    text = "👍🏽" * 2048  # 4,096 characters as WhatsApp counts them, 8,192 UTF-16 units
    response = _send(agent_client, open_conversation, text=text)

    assert response.status_code == 302
    (message,) = outbound(open_conversation.agency_id)
    assert message.content["text"]["body"] == text


def test_a_text_over_4096_characters_is_refused_and_kept_in_the_box(
    agent_client, open_conversation
):
    text = "a" * 4097
    response = _send(agent_client, open_conversation, text=text)

    assert response.status_code == 400
    assert "Keep the message to 4,096 characters; it has 4,097." in response.content.decode()
    assert text in response.content.decode()
    assert outbound(open_conversation.agency_id) == []


def test_a_huge_or_nul_laden_text_is_a_form_error(agent_client, open_conversation):
    assert _send(agent_client, open_conversation, text="x" * 2_000_000).status_code == 400
    assert _send(agent_client, open_conversation, text="a\x00b").status_code == 400
    assert outbound(open_conversation.agency_id) == []


def test_a_hostile_idempotency_key_is_a_form_error(agent_client, open_conversation):
    response = _send(agent_client, open_conversation, idempotency_key="'; DROP TABLE")

    assert response.status_code == 400
    assert "This form is out of date" in response.content.decode()


def test_an_empty_reply_asks_for_a_message_or_a_file(agent_client, open_conversation):
    response = _send(agent_client, open_conversation, text="   ")

    assert response.status_code == 400
    assert "Write a message or attach a file." in response.content.decode()


def test_a_reply_to_a_message_is_sent_with_its_wamid_as_context(
    agent_client, open_conversation, window_open_in_simulator, simulator, registered_number
):
    with agency_scope(open_conversation.agency_id):
        quoted = Message.objects.get(conversation=open_conversation)
    _send(agent_client, open_conversation, reply_to=str(quoted.pk))

    (message,) = outbound(open_conversation.agency_id)
    assert message.reply_to_wamid == quoted.wamid
    with agency_scope(message.agency_id):
        assert delivery.deliver(message.pk) == "accepted"
    (received,) = simulator.messages(registered_number.phone_number_id)
    assert received["payload"]["context"] == {"message_id": quoted.wamid}


def test_a_reply_to_a_message_of_another_conversation_is_a_form_error(
    agent_client, agency_a, open_conversation
):
    elsewhere = InboundMessageFactory(agency=agency_a)

    response = _send(agent_client, open_conversation, reply_to=str(elsewhere.pk))

    assert response.status_code == 400
    assert "cannot be quoted" in response.content.decode()
    assert outbound(open_conversation.agency_id) == []


def test_another_agencys_conversation_is_not_found(agent_client):
    theirs = OpenConversationFactory(agency=AgencyFactory())

    assert _send(agent_client, theirs).status_code == 404
    assert agent_client.get(reverse("inbox:composer", args=[theirs.pk])).status_code == 404
    typing = agent_client.post(reverse("inbox:typing", args=[theirs.pk]))
    assert typing.status_code == 404


def test_with_htmx_the_answer_is_a_fresh_composer_and_the_new_message(
    agent_client, open_conversation
):
    key = str(uuid.uuid4())
    response = _send(agent_client, open_conversation, idempotency_key=key, htmx=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'hx-swap-oob="beforeend:#thread-messages"' in html
    assert "Your permit is ready." in html
    assert f'id="composer-{open_conversation.pk}"' in html
    assert "Message queued for sending." in html
    assert key not in html  # the next message gets a key of its own


def test_a_suspended_agency_is_refused_in_words_and_the_text_kept(
    agent_client, agency_a, open_conversation
):
    Agency.objects.filter(pk=agency_a.pk).update(status=Agency.Status.SUSPENDED)

    response = _send(agent_client, open_conversation, text="Still there?")

    html = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in html and "suspended" in html
    assert "Still there?" in html
    assert outbound(open_conversation.agency_id) == []


def test_a_member_who_cannot_reply_is_forbidden(agency_a, client, open_conversation):
    viewer = MembershipFactory(agency=agency_a, role=Role.RECORDS_OFFICER)
    enroll_totp(viewer.user)
    client.force_login(viewer.user)

    assert _send(client, open_conversation).status_code == 403


def test_without_javascript_insert_adds_the_saved_reply_to_the_text(
    agent_client, agency_a, open_conversation
):
    canned = CannedResponseFactory(agency=agency_a, body="Our office opens at 9.")

    response = _send(
        agent_client, open_conversation, text="Hello.", canned=str(canned.pk), action="insert"
    )

    assert response.status_code == 200
    assert "Hello.\nOur office opens at 9." in response.content.decode()
    assert outbound(open_conversation.agency_id) == []


def test_the_reply_goes_to_the_conversations_own_contact(agent_client, open_conversation):
    _send(agent_client, open_conversation)

    (message,) = outbound(open_conversation.agency_id)
    assert message.conversation_id == open_conversation.pk
    assert message.contact_id == open_conversation.contact_id


def test_without_javascript_a_reply_link_starts_a_reply_to_that_message(
    agent_client, open_conversation
):
    with agency_scope(open_conversation.agency_id):
        quoted = Message.objects.get(conversation=open_conversation)
    url = reverse("inbox:composer", args=[open_conversation.pk])

    html = agent_client.get(url, {"reply_to": quoted.pk}).content.decode()

    assert f'name="reply_to" value="{quoted.pk}"' in html
    assert "Replying to: <q data-reply-summary>Hello</q>" in html


def test_another_agencys_saved_reply_is_not_inserted(agent_client, open_conversation):
    theirs = CannedResponseFactory(agency=AgencyFactory(), body="Not ours to send.")

    response = _send(
        agent_client, open_conversation, text="Hi.", canned=str(theirs.pk), action="insert"
    )

    html = response.content.decode()
    assert "Not ours to send." not in html
    assert "Choose a saved reply to insert." in html


def test_with_htmx_a_refusal_is_the_composer_again_with_the_reason(
    agent_client, agency_a, open_conversation
):
    Agency.objects.filter(pk=agency_a.pk).update(status=Agency.Status.SUSPENDED)

    response = _send(agent_client, open_conversation, text="Still there?", htmx=True)

    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert html.lstrip().startswith("<section")
    assert 'role="alert"' in html and "Still there?" in html
