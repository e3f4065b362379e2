"""POST /api/v1/messages: each outbound type is queued through send_message and, delivered
by the worker, reaches the Cloud API (the simulator) as Meta's message object."""

from __future__ import annotations

import pytest

from messaging.models import Message
from messaging.simulator.sample_media import JPEG
from tenants.scoping import agency_scope
from tests.factories import ConsentFactory, TemplateFactory
from tests.messaging.api.conftest import deliver
from tests.messaging.conftest import CITIZEN

TO = f"+{CITIZEN}"


@pytest.fixture
def window(registered_number, open_conversation, simulator):
    simulator.open_window(registered_number.phone_number_id, CITIZEN)
    return open_conversation


def _sent(simulator, number) -> dict:
    (received,) = simulator.messages(number.phone_number_id)
    return received["payload"]


def test_a_text_is_queued_and_answered_202_with_the_message(api, window):
    answer = api.send({"to": TO, "type": "text", "text": {"body": "Your permit is ready."}})
    assert answer.status_code == 202
    body = answer.json()
    assert (body["status"], body["to"], body["type"], body["wamid"]) == (
        "queued",
        TO,
        "text",
        None,
    )
    assert body["conversation"] == window.pk
    assert body["links"]["self"] == f"/api/v1/messages/{body['id']}"
    assert body["created_at"].endswith("Z") or "+00:00" in body["created_at"]


def test_a_text_reaches_the_cloud_api_when_the_worker_delivers_it(
    api, window, simulator, registered_number, agency_a
):
    body = api.send({"to": TO, "type": "text", "text": {"body": "Your permit is ready."}}).json()
    stored = deliver(agency_a, body["id"])
    payload = _sent(simulator, registered_number)
    assert payload["to"] == CITIZEN
    assert payload["text"]["body"] == "Your permit is ready."
    assert (stored.status, stored.sandbox, stored.sender_type) == ("accepted", False, "api")


def test_an_approved_template_goes_out_with_its_parameters(
    api, registered_number, citizen, simulator, agency_a
):
    template = TemplateFactory(agency=agency_a, waba=registered_number.waba, name="case_update")
    simulator.add_template(
        registered_number.waba.waba_id,
        "case_update",
        language="en_US",
        components=template.components,
    )
    ConsentFactory(agency=agency_a, contact=citizen)
    params = [{"type": "text", "text": "Maria"}, {"type": "text", "text": "B-2291"}]
    answer = api.send(
        {
            "to": TO,
            "type": "template",
            "template": {
                "name": template.name,
                "language": {"code": "en_US"},
                "components": [{"type": "body", "parameters": params}],
            },
        }
    )
    assert answer.status_code == 202, answer.json()
    stored = deliver(agency_a, answer.json()["id"])
    payload = _sent(simulator, registered_number)
    assert payload["template"]["components"][0]["parameters"] == params
    assert (stored.status, stored.business_initiated) == ("accepted", True)


def test_an_image_uploaded_first_is_sent_by_its_media_id(
    api, window, simulator, registered_number, agency_a
):
    media = api.upload(JPEG, "permit.jpg").json()
    answer = api.send(
        {"to": TO, "type": "image", "image": {"id": str(media["id"]), "caption": "Permit"}}
    )
    assert answer.status_code == 202, answer.json()
    stored = deliver(agency_a, answer.json()["id"])
    payload = _sent(simulator, registered_number)
    with agency_scope(agency_a):
        meta_id = stored.media.meta_media_id
    assert payload["image"] == {"id": meta_id, "caption": "Permit"}
    assert stored.media_id == media["id"]


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("video", {"link": "https://example.gov/briefing.mp4", "caption": "Briefing"}),
        ("document", {"link": "https://example.gov/form.pdf", "filename": "form.pdf"}),
        ("audio", {"link": "https://example.gov/notice.mp3"}),
        ("sticker", {"link": "https://example.gov/thanks.webp"}),
        ("location", {"latitude": 41.88, "longitude": -87.63, "name": "City Hall"}),
        ("reaction", {"message_id": "wamid.HBgLMTQxNTU1NTAxMDA", "emoji": "👍"}),
    ],
)
def test_each_simple_type_is_stored_as_meta_s_object(api, window, agency_a, kind, content):
    answer = api.send({"to": TO, "type": kind, kind: content})
    assert answer.status_code == 202, answer.json()
    assert answer.json()["content"] == {"type": kind, kind: content}


def test_a_contact_card_is_sent_as_a_list_of_contacts(api, window):
    card = {"name": {"formatted_name": "Permits Office"}, "phones": [{"phone": "+13125550100"}]}
    answer = api.send({"to": TO, "type": "contacts", "contacts": [card]})
    assert answer.status_code == 202, answer.json()
    assert answer.json()["content"]["contacts"] == [card]


def test_reply_buttons_are_sent_as_an_interactive_message(
    api, window, simulator, registered_number, agency_a
):
    buttons = [
        {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
        {"type": "reply", "reply": {"id": "no", "title": "No"}},
    ]
    interactive = {
        "type": "button",
        "body": {"text": "Is the pothole fixed?"},
        "action": {"buttons": buttons},
    }
    answer = api.send({"to": TO, "type": "interactive", "interactive": interactive})
    assert answer.status_code == 202, answer.json()
    deliver(agency_a, answer.json()["id"])
    assert _sent(simulator, registered_number)["interactive"]["action"]["buttons"] == buttons


def test_a_list_message_keeps_its_sections_and_rows(api, window):
    interactive = {
        "type": "list",
        "body": {"text": "Which service?"},
        "action": {
            "button": "Services",
            "sections": [{"title": "Permits", "rows": [{"id": "p1", "title": "Building"}]}],
        },
    }
    answer = api.send({"to": TO, "type": "interactive", "interactive": interactive})
    assert answer.status_code == 202, answer.json()
    assert answer.json()["content"]["interactive"]["action"]["sections"][0]["rows"] == [
        {"id": "p1", "title": "Building"}
    ]


def test_a_reply_quotes_the_citizen_s_message(api, window, agency_a):
    body = {"to": TO, "type": "text", "text": {"body": "Yes."}, "reply_to": "wamid.ABC"}
    answer = api.send(body)
    assert answer.json()["reply_to"] == "wamid.ABC"


def test_a_wa_id_without_plus_is_accepted_and_answered_in_e164(api, window):
    answer = api.send({"to": CITIZEN, "type": "text", "text": {"body": "Hi"}})
    assert answer.json()["to"] == TO


def test_another_number_of_the_agency_sends_when_named(api, window, agency_a):
    from tests.factories import PhoneNumberFactory

    other = PhoneNumberFactory(agency=agency_a)
    body = {"to": TO, "type": "template", "phone_number_id": other.pk}
    body["template"] = {"name": "missing_one", "language": {"code": "en_US"}}
    answer = api.send(body)
    # The template is looked up on the named number's WABA (none there).
    assert answer.status_code == 422
    assert answer.json()["code"] == "template_not_found"


def test_the_send_is_audited_as_the_api_key(api, window, agency_a):
    from records.models import AuditEvent

    answer = api.send({"to": TO, "type": "text", "text": {"body": "Hi"}})
    with agency_scope(agency_a):
        event = AuditEvent.objects.get(action="message.queued")
        message = Message.objects.get(pk=answer.json()["id"])
    assert event.actor_type == "api"
    assert message.sender_credential_id is not None
