"""Outside the customer-service window: the indicator, the template picker, a template send."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from messaging import delivery
from messaging.models import Consent
from templates_mgr.models import MessageTemplate
from tenants.scoping import agency_scope
from tests.factories import AgencyFactory, ConsentFactory, TemplateFactory
from tests.inbox.composer.conftest import outbound
from tests.inbox.composer.factories import CaseUpdateTemplateFactory, case_update_components

pytestmark = pytest.mark.django_db

VALUES = {"header_1": "B-7", "var_1": "Ana", "var_2": "B-7", "button_0": "B-7"}


def _composer(client, conversation, **params):
    return client.get(reverse("inbox:composer", args=[conversation.pk]), params)


def _send_template(client, conversation, template, **values):
    data = {"template": str(template.pk), "idempotency_key": str(uuid.uuid4()), **values}
    return client.post(reverse("inbox:send_template", args=[conversation.pk]), data)


def _opt_in(conversation):
    ConsentFactory(agency=conversation.agency, contact=conversation.contact)


def test_an_open_window_shows_the_time_left_in_words(agent_client, open_conversation):
    now = timezone.now()
    with agency_scope(open_conversation.agency_id):
        open_conversation.window_expires_at = now + timedelta(hours=3, minutes=12, seconds=30)
        open_conversation.save()
    with time_machine.travel(now, tick=False):
        html = _composer(agent_client, open_conversation).content.decode()

    assert "<strong>Window open:</strong>" in html
    assert ">3 h 12 min</time> left" in html
    assert 'name="text"' in html


def test_a_closed_window_offers_the_approved_templates_of_the_numbers_waba(
    agent_client, closed_conversation, registered_number
):
    waba = registered_number.waba
    CaseUpdateTemplateFactory(agency=waba.agency, waba=waba, name="case_update", language="en_US")
    CaseUpdateTemplateFactory(agency=waba.agency, waba=waba, name="case_update", language="es_MX")
    TemplateFactory(agency=waba.agency, waba=waba, name="draft_one", status="PENDING")
    TemplateFactory(agency=waba.agency, name="other_waba")  # another WABA of the agency

    html = _composer(agent_client, closed_conversation).content.decode()

    assert "<strong>Window closed:</strong>" in html
    assert 'name="text"' not in html
    assert '<optgroup label="case_update">' in html
    assert "case_update: English (en_US)" in html and "(es_MX)" in html
    assert "draft_one" not in html and "other_waba" not in html


def test_choosing_a_template_shows_one_field_per_variable_and_a_preview(
    agent_client, closed_conversation, registered_number
):
    waba = registered_number.waba
    template = CaseUpdateTemplateFactory(agency=waba.agency, waba=waba)

    html = _composer(agent_client, closed_conversation, template=template.pk).content.decode()

    for key in VALUES:
        assert f'name="{key}"' in html
    assert 'hx-trigger="input changed delay:300ms"' in html
    assert "Hello <mark" in html  # the preview, placeholders marked
    assert "City of Springfield" in html


def test_a_free_form_reply_outside_the_window_is_refused_in_plain_words(
    agent_client, closed_conversation
):
    response = agent_client.post(
        reverse("inbox:send", args=[closed_conversation.pk]),
        {"text": "Are you still there?", "idempotency_key": str(uuid.uuid4())},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert 'class="usa-alert usa-alert--error usa-alert--slim margin-y-1" role="alert"' in html
    assert "More than 24 hours have passed since this person last wrote" in html
    assert "Are you still there?" in html  # kept for the agent
    assert outbound(closed_conversation.agency_id) == []


def test_a_template_without_an_opt_in_is_refused_in_plain_words(
    agent_client, closed_conversation, registered_number
):
    waba = registered_number.waba
    template = CaseUpdateTemplateFactory(agency=waba.agency, waba=waba)

    response = _send_template(agent_client, closed_conversation, template, **VALUES)

    html = response.content.decode()
    assert response.status_code == 400
    assert "has not agreed to receive messages from the agency" in html
    assert 'value="Ana"' in html
    assert outbound(closed_conversation.agency_id) == []


def test_a_template_with_its_values_reaches_the_simulator_with_the_right_parameters(
    agent_client, closed_conversation, registered_number, simulator
):
    waba = registered_number.waba
    template = CaseUpdateTemplateFactory(agency=waba.agency, waba=waba)
    simulator.add_template(
        waba.waba_id, template.name, language="en_US", components=case_update_components()
    )
    _opt_in(closed_conversation)

    response = _send_template(agent_client, closed_conversation, template, **VALUES)

    assert response.status_code == 302
    (message,) = outbound(closed_conversation.agency_id)
    assert (message.type, message.template_id, message.business_initiated) == (
        "template",
        template.pk,
        True,
    )
    with agency_scope(message.agency_id):
        assert delivery.deliver(message.pk) == "accepted"
    (received,) = simulator.messages(registered_number.phone_number_id)
    sent = received["payload"]["template"]
    assert sent["name"] == template.name
    assert sent["components"] == [
        {"type": "header", "parameters": [{"type": "text", "text": "B-7"}]},
        {
            "type": "body",
            "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "B-7"}],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": "B-7"}],
        },
    ]


def test_a_named_template_sends_its_parameter_names(
    agent_client, closed_conversation, registered_number
):
    waba = registered_number.waba
    template = TemplateFactory(
        agency=waba.agency,
        waba=waba,
        parameter_format=MessageTemplate.ParameterFormat.NAMED,
        components=[{"type": "BODY", "text": "Hi {{first_name}}, see you {{day}}."}],
    )
    _opt_in(closed_conversation)

    _send_template(
        agent_client, closed_conversation, template, var_first_name="Ana", var_day="Monday"
    )

    (message,) = outbound(closed_conversation.agency_id)
    assert message.content["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "Ana", "parameter_name": "first_name"},
        {"type": "text", "text": "Monday", "parameter_name": "day"},
    ]


def test_a_missing_or_multiline_value_is_a_form_error(
    agent_client, closed_conversation, registered_number
):
    waba = registered_number.waba
    template = CaseUpdateTemplateFactory(agency=waba.agency, waba=waba)
    _opt_in(closed_conversation)

    response = _send_template(
        agent_client, closed_conversation, template, **{**VALUES, "var_1": "", "var_2": "a\nb"}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Fill in this value." in html
    assert "does not allow line breaks" in html
    field_id = f"template-{closed_conversation.pk}-var_1"
    assert f'aria-describedby="{field_id}-hint {field_id}-error"' in html
    assert f'id="{field_id}-error"' in html
    assert outbound(closed_conversation.agency_id) == []


def test_another_agencys_or_an_unknown_template_is_refused_without_a_send(
    agent_client, closed_conversation
):
    theirs = CaseUpdateTemplateFactory(agency=AgencyFactory())
    _opt_in(closed_conversation)

    for template_id in (str(theirs.pk), "999999999", "abc", "1" * 40):
        response = agent_client.post(
            reverse("inbox:send_template", args=[closed_conversation.pk]),
            {"template": template_id, "idempotency_key": str(uuid.uuid4())},
        )
        assert response.status_code == 400
        assert "That template is not available for this number" in response.content.decode()
    assert outbound(closed_conversation.agency_id) == []


def test_the_preview_of_another_agencys_template_is_not_found(agent_client, closed_conversation):
    theirs = CaseUpdateTemplateFactory(agency=AgencyFactory())
    url = reverse("inbox:template_preview", args=[closed_conversation.pk])

    assert agent_client.get(url, {"template": theirs.pk}).status_code == 404
    assert agent_client.get(url, {"template": "x"}).status_code == 404


def test_the_preview_fills_the_values_escaped(agent_client, closed_conversation, registered_number):
    waba = registered_number.waba
    template = CaseUpdateTemplateFactory(agency=waba.agency, waba=waba)
    url = reverse("inbox:template_preview", args=[closed_conversation.pk])

    response = agent_client.get(url, {"template": template.pk, "var_1": "<b>Ana</b>"})

    html = response.content.decode()
    assert "Hello <strong>&lt;b&gt;Ana&lt;/b&gt;</strong>, your case" in html
    assert "<b>Ana</b>" not in html
    assert "Still to fill: {{1}}, {{2}}, button 1 link" in html


def test_an_opted_out_citizen_is_refused_a_template(
    agent_client, closed_conversation, registered_number
):
    waba = registered_number.waba
    template = CaseUpdateTemplateFactory(agency=waba.agency, waba=waba)
    ConsentFactory(
        agency=closed_conversation.agency,
        contact=closed_conversation.contact,
        status=Consent.Status.OPTED_OUT,
        recorded_at=timezone.now(),
    )

    response = _send_template(agent_client, closed_conversation, template, **VALUES)

    assert "This person opted out of messages from the agency." in response.content.decode()
