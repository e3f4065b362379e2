"""Sending rules refuse with 422 and the rule's code (the one send path, send_message),
and Idempotency-Key makes a send safe to retry."""

from __future__ import annotations

import pytest

from messaging.models import Message
from tenants.scoping import agency_scope
from tests.factories import TemplateFactory
from tests.messaging.conftest import CITIZEN

TO = f"+{CITIZEN}"
TEXT = {"to": TO, "type": "text", "text": {"body": "Hello"}}


def _messages(agency) -> int:
    with agency_scope(agency):
        return Message.objects.count()


def test_a_text_outside_the_window_is_422_window_closed(api, number, citizen, agency_a):
    answer = api.send(TEXT)
    assert answer.status_code == 422
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == "window_closed"
    assert _messages(agency_a) == 0


def test_a_template_to_a_citizen_who_never_opted_in_is_422_no_opt_in(api, number, citizen):
    template = TemplateFactory(agency=number.agency, waba=number.waba, components=[])
    answer = api.send(
        {
            "to": TO,
            "type": "template",
            "template": {"name": template.name, "language": {"code": "en_US"}},
        }
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "no_opt_in")


def test_a_template_with_missing_values_is_422_template_params(api, number, citizen):
    template = TemplateFactory(agency=number.agency, waba=number.waba)
    body = {"name": template.name, "language": {"code": "en_US"}}
    answer = api.send({"to": TO, "type": "template", "template": body})
    assert (answer.status_code, answer.json()["code"]) == (422, "template_params")
    assert answer.json()["context"]["component"] == "body"


def test_a_group_is_422_invalid_recipient(api, number):
    answer = api.send({**TEXT, "to": "120363025246125486@g.us"})
    assert (answer.status_code, answer.json()["code"]) == (422, "invalid_recipient")


def test_an_agency_without_a_number_is_422_sender_unavailable(api):
    assert api.send(TEXT).json()["code"] == "sender_unavailable"


def test_a_card_number_is_refused_by_the_dlp_policy(api, open_conversation):
    body = {**TEXT, "text": {"body": "Your card 4111 1111 1111 1111 is on file."}}
    answer = api.send(body)
    assert (answer.status_code, answer.json()["code"]) == (422, "sensitive_data")
    assert "4111" not in answer.content.decode()


def test_the_same_key_and_body_answer_the_same_message_once(api, open_conversation, agency_a):
    first = api.send(TEXT, HTTP_IDEMPOTENCY_KEY="send-1")
    again = api.send(TEXT, HTTP_IDEMPOTENCY_KEY="send-1")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert _messages(agency_a) == 1


def test_the_same_key_with_another_body_is_409(api, open_conversation, agency_a):
    api.send(TEXT, HTTP_IDEMPOTENCY_KEY="send-2")
    other = api.send({**TEXT, "text": {"body": "Something else"}}, HTTP_IDEMPOTENCY_KEY="send-2")
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    assert _messages(agency_a) == 1


def test_a_refusal_is_not_stored_as_a_success_for_the_key(api, number, citizen, agency_a):
    first = api.send(TEXT, HTTP_IDEMPOTENCY_KEY="send-3")
    again = api.send(TEXT, HTTP_IDEMPOTENCY_KEY="send-3")
    assert (first.status_code, again.status_code) == (422, 422)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"type": "text", "text": {"body": "x"}}, "/to"),
        ({**TEXT, "type": "fax"}, "/type"),
        ({**TEXT, "text": {"body": 5}}, "/text/body"),
        ({**TEXT, "to": 14155550100}, "/to"),
        ({**TEXT, "text": "just a string"}, "/text"),
        ({**TEXT, "text": {"body": "x" * 5000}}, "/text/body"),
        ({"to": TO, "type": "image", "image": {}}, "/image/id"),
        ({"to": TO, "type": "image", "image": {"id": "not-a-number"}}, "/image/id"),
        ({"to": TO, "type": "text"}, "/text"),
        ({**TEXT, "image": {"link": "https://example.gov/a.jpg"}}, "/image"),
        ({**TEXT, "phone_number_id": "three"}, "/phone_number_id"),
        ({**TEXT, "phone_number_id": 10**30}, "/phone_number_id"),
        ({"to": TO, "type": "location", "location": {"latitude": 99, "longitude": 0}}, None),
        ({"to": TO, "type": "contacts", "contacts": []}, "/contacts"),
        (
            {
                "to": TO,
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": "Pick"},
                    "action": {"buttons": [{"reply": {"id": "a", "title": "x" * 21}}]},
                },
            },
            None,
        ),
        (
            {
                "to": TO,
                "type": "interactive",
                "interactive": {"type": "list", "body": {"text": "Pick"}, "action": {}},
            },
            "/interactive/action/button",
        ),
        (
            {
                "to": TO,
                "type": "template",
                "template": {"name": "Bad Name", "language": {"code": "en"}},
            },
            "/template/name",
        ),
        ([1, 2, 3], None),
    ],
)
def test_a_malformed_body_is_400_with_a_pointer(api, open_conversation, body, pointer):
    answer = api.send(body)
    assert answer.status_code == 400, answer.content
    problem = answer.json()
    assert problem["code"] == "validation_error"
    if pointer is not None:
        assert pointer in [e["pointer"] for e in problem["errors"]]


def test_bad_json_is_400(api, open_conversation):
    answer = api.send('{"to": ')
    assert answer.status_code == 400


def test_a_form_body_is_415(client, live_key, open_conversation):
    from tests.api.helpers import bearer

    answer = client.post("/api/v1/messages", {"to": TO}, **bearer(live_key))
    assert answer.status_code == 415


def test_another_agency_s_phone_number_id_is_400(api, open_conversation, agency_b):
    from tests.factories import PhoneNumberFactory

    theirs = PhoneNumberFactory(agency=agency_b)
    answer = api.send({**TEXT, "phone_number_id": theirs.pk})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["pointer"] == "/phone_number_id"


def test_another_agency_s_media_id_is_400_media_not_found(api, open_conversation, agency_b, client):
    from messaging.simulator.sample_media import JPEG
    from tests.api.helpers import make_key
    from tests.factories import PhoneNumberFactory
    from tests.messaging.api.conftest import SCOPES, Api

    PhoneNumberFactory(agency=agency_b)
    _, raw = make_key(agency_b, *SCOPES)
    theirs = Api(client, raw).upload(JPEG, "a.jpg", phone_number_id="")
    media_id = theirs.json().get("id", 999999) if theirs.status_code == 201 else 999999
    answer = api.send({"to": TO, "type": "image", "image": {"id": str(media_id)}})
    assert (answer.status_code, answer.json()["code"]) == (400, "media_not_found")
