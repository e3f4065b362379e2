"""The composer under the DLP policy (issue 12 §8): a reply carrying sensitive data is not
sent; the error names the kind next to the message field; a role that may override gets a
justification field, and the justified reply is queued."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from messaging.models import Message
from records.dlp.models import DlpFlag
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.inbox.composer.factories import CaseUpdateTemplateFactory
from tests.inbox.dlp.conftest import SSN

pytestmark = pytest.mark.django_db

WHY = "The citizen asked us to read back the number we hold (case 114)."


def post(client, conversation, *, htmx=False, **fields):
    data = {"text": f"Your SSN is {SSN}", "idempotency_key": str(uuid.uuid4()), **fields}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("inbox:send", args=[conversation.pk]), data, headers=headers)


def outbound(agency) -> list[Message]:
    with agency_scope(agency):
        return list(Message.objects.filter(direction="out"))


def test_an_agents_reply_is_refused_next_to_the_message_field(signed_in, conversation, agency_a):
    client, _ = signed_in(Role.AGENT)
    response = post(client, conversation)
    assert response.status_code == 400
    html = response.content.decode()
    field_error = f'id="composer-{conversation.pk}-text-error"'
    assert field_error in html
    error = html[html.index(field_error) : html.index(field_error) + 400]
    assert "a US Social Security number" in error
    assert 'aria-invalid="true"' in html
    assert "Justification for sending sensitive data" not in html
    assert outbound(agency_a) == []


def test_a_supervisor_gets_a_justification_field_and_the_justified_reply_goes(
    signed_in, conversation, agency_a
):
    client, supervisor = signed_in(Role.SUPERVISOR)
    key = str(uuid.uuid4())
    refused = post(client, conversation, htmx=True, idempotency_key=key)
    assert refused.status_code == 200  # htmx swaps the composer with the error
    html = refused.content.decode()
    assert "Justification for sending sensitive data" in html
    assert f'id="composer-{conversation.pk}-justification"' in html

    sent = post(client, conversation, idempotency_key=key, justification=WHY)

    assert sent.status_code == 302
    [message] = outbound(agency_a)
    assert message.sender_user_id == supervisor.user_id
    with agency_scope(agency_a):
        flag = DlpFlag.objects.get(message=message)
    assert flag.outcome == "justified" and flag.justification == WHY


def test_a_justification_repeating_the_number_is_refused_next_to_it(
    signed_in, conversation, agency_a
):
    client, _ = signed_in(Role.AGENCY_ADMIN)
    response = post(client, conversation, justification=f"it is {SSN}, confirmed")
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="composer-{conversation.pk}-justification-error"' in html
    assert "justification itself" in html
    assert outbound(agency_a) == []


def test_a_template_value_with_an_ssn_is_refused_in_words(signed_in, conversation, agency_a):
    waba = conversation.phone_number.waba
    template = CaseUpdateTemplateFactory(agency=agency_a, waba=waba, language="en_US")
    client, _ = signed_in(Role.AGENT)
    data = {
        "template": str(template.pk),
        "idempotency_key": str(uuid.uuid4()),
        "header_1": "B-7",
        "var_1": "Ana",
        "var_2": SSN,
        "button_0": "B-7",
    }
    response = client.post(reverse("inbox:send_template", args=[conversation.pk]), data)
    assert response.status_code == 400
    assert "a US Social Security number" in response.content.decode()
    assert outbound(agency_a) == []


def test_hostile_input_is_refused_without_a_server_error(signed_in, conversation):
    client, _ = signed_in(Role.SUPERVISOR)
    for fields in (
        {"text": "x\x00" + SSN, "justification": "\x00" * 5000},
        {"text": SSN * 500},
        {"justification": "j" * 100_000},
        {"text": "(a+)+$ " * 600},
    ):
        response = post(client, conversation, **fields)
        assert response.status_code in (302, 400), fields.keys()
