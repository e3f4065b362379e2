"""Templates of every shape are sendable: the declared parameters (media and location
headers, copy-code and URL buttons, authentication codes, named and repeated variables)
agree with what ``build_template_message`` sends, the send policy lets them through, and
the simulator (Meta's rules) accepts them. A missing value is still refused."""

from __future__ import annotations

from typing import Any

import pytest

from messaging import delivery, services
from messaging.policy import Rule, SendRefused
from messaging.whatsapp import builders as b
from templates_mgr.models import MessageTemplate
from templates_mgr.preview import build_template_message, template_variables
from tenants.scoping import agency_scope
from tests.factories import ConsentFactory, ContactFactory, TemplateFactory

CITIZEN = "14155550100"
CANADIAN = "16135550123"
SENDER = services.Sender.system("test")
LINK = "https://files.city.gov/notice.pdf"


@pytest.fixture
def opted_in(agency_a):
    contact = ContactFactory(agency=agency_a, wa_id=CITIZEN, phone_e164=f"+{CITIZEN}")
    ConsentFactory(agency=agency_a, contact=contact)
    return contact


def _template(number, simulator, components, **fields: Any) -> MessageTemplate:
    """The same approved template here and at Meta."""
    fields.setdefault("name", "notice")
    template = TemplateFactory(
        agency=number.agency, waba=number.waba, components=components, **fields
    )
    simulator.add_template(
        number.waba.waba_id,
        template.name,
        language=template.language,
        category=template.category,
        parameter_format=template.parameter_format,
        components=components,
    )
    return template


def _send_and_deliver(number, simulator, template, values, to=CITIZEN) -> dict[str, Any]:
    message = build_template_message(template, values)
    row = services.send_message(agency=number.agency, sender=SENDER, to=to, message=message)
    with agency_scope(number.agency_id):
        assert delivery.deliver(row.pk) == "accepted"
    (received,) = simulator.messages(number.phone_number_id)
    return received


BODY = {"type": "BODY", "text": "Hello {{1}}, here is your notice for case {{2}} today."}
VALUES = {"var_1": "Ana", "var_2": "C-7"}


def test_a_document_header_template_is_sent_with_its_file(registered_number, simulator, opted_in):
    header = {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": ["4::x"]}}
    template = _template(registered_number, simulator, [header, BODY])
    assert template.declared_parameters()["header"] == ["document"]
    received = _send_and_deliver(
        registered_number, simulator, template, {**VALUES, "header_media": LINK}
    )
    header_params = received["payload"]["template"]["components"][0]
    assert header_params == {
        "type": "header",
        "parameters": [{"type": "document", "document": {"link": LINK}}],
    }


def test_a_media_header_template_without_its_file_is_refused(registered_number, opted_in):
    header = {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::x"]}}
    TemplateFactory(
        agency=registered_number.agency,
        waba=registered_number.waba,
        name="notice",
        components=[header, BODY],
    )
    bare = b.Template("notice", "en_US", body=[b.TextParam("Ana"), b.TextParam("C-7")])
    with pytest.raises(SendRefused) as refused:
        services.send_message(
            agency=registered_number.agency, sender=SENDER, to=CITIZEN, message=bare
        )
    assert refused.value.rule == Rule.TEMPLATE_PARAMS
    assert "header" in str(refused.value)


def test_a_location_header_template_is_sent_with_the_place(registered_number, simulator, opted_in):
    template = _template(
        registered_number, simulator, [{"type": "HEADER", "format": "LOCATION"}, BODY]
    )
    values = {
        **VALUES,
        "header_latitude": "39.7817",
        "header_longitude": "-89.6501",
        "header_location_name": "City Hall",
        "header_location_address": "300 S 2nd St",
    }
    received = _send_and_deliver(registered_number, simulator, template, values)
    header = received["payload"]["template"]["components"][0]["parameters"][0]
    assert header["type"] == "location"
    assert header["location"]["name"] == "City Hall"
    assert header["location"]["latitude"] == pytest.approx(39.7817)


def test_a_copy_code_template_is_sent_with_its_code(registered_number, simulator, agency_a):
    # Marketing templates are not delivered to US numbers: a citizen in Ottawa.
    canadian = ContactFactory(agency=agency_a, wa_id=CANADIAN, phone_e164=f"+{CANADIAN}")
    ConsentFactory(agency=agency_a, contact=canadian)
    buttons = {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "FALL25"}]}
    template = _template(registered_number, simulator, [BODY, buttons], category="MARKETING")
    assert template.declared_parameters()["button:0"] == ["coupon_code"]
    received = _send_and_deliver(
        registered_number, simulator, template, {**VALUES, "button_0": "PARK10"}, to=CANADIAN
    )
    button = received["payload"]["template"]["components"][-1]
    assert button == {
        "type": "button",
        "sub_type": "copy_code",
        "index": "0",
        "parameters": [{"type": "coupon_code", "coupon_code": "PARK10"}],
    }


def test_an_authentication_template_sends_the_code_in_the_body_and_the_button(
    registered_number, simulator, opted_in
):
    components = [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 10},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
    ]
    template = _template(
        registered_number, simulator, components, category="AUTHENTICATION", name="login_code"
    )
    assert [v.key for v in template_variables(template)] == ["otp_code"]
    received = _send_and_deliver(registered_number, simulator, template, {"otp_code": "482913"})
    sent = received["payload"]["template"]["components"]
    assert sent == [
        {"type": "body", "parameters": [{"type": "text", "text": "482913"}]},
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": "482913"}],
        },
    ]


def test_a_positional_variable_used_twice_takes_one_value(registered_number, simulator, opted_in):
    body = {"type": "BODY", "text": "Hello {{1}}, case {{2}} is ready; {{1}}, bring your ID."}
    template = _template(registered_number, simulator, [body])
    assert template.declared_parameters() == {"body": ["1", "2"]}
    received = _send_and_deliver(registered_number, simulator, template, VALUES)
    assert received["rendered_text"] == "Hello Ana, case C-7 is ready; Ana, bring your ID."


def test_a_named_template_with_a_url_button_is_sent(registered_number, simulator, opted_in):
    components = [
        {
            "type": "BODY",
            "text": "Hello {{first_name}}, your hearing is on {{hearing_date}} at court.",
            "example": {
                "body_text_named_params": [
                    {"param_name": "first_name", "example": "Ana"},
                    {"param_name": "hearing_date", "example": "May 3"},
                ]
            },
        },
        {
            "type": "BUTTONS",
            "buttons": [{"type": "URL", "text": "Details", "url": "https://court.gov/{{1}}"}],
        },
    ]
    template = _template(registered_number, simulator, components, parameter_format="NAMED")
    values = {"var_first_name": "Ana", "var_hearing_date": "May 3", "button_0": "H-12"}
    received = _send_and_deliver(registered_number, simulator, template, values)
    assert received["rendered_text"] == "Hello Ana, your hearing is on May 3 at court."
