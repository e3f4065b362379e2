"""Meta's 2026 shapes in the simulator (cloud-api.md §10): contacts with user_id on inbound
messages and status changes, enum case, voice audio, the newer interactive types, Graph paths
with a trailing slash, the template list's fields/summary, and reactions' statuses."""

from __future__ import annotations

import httpx
import pytest

from messaging.whatsapp import builders
from tests.simulator_fixture import wait_until

CITIZEN = "15551230007"


@pytest.fixture
def receiving(simulator, sim_number, webhook_receiver):
    simulator.register_number(sim_number["id"], callback_url=webhook_receiver.url)
    simulator.open_window(sim_number["id"], CITIZEN)
    return sim_number


@pytest.fixture
def post(simulator, sim_number):
    def _post(body):
        payload = {"messaging_product": "whatsapp", "to": CITIZEN, **body}
        return httpx.post(
            simulator.graph_url(f"{sim_number['id']}/messages"),
            headers={"Authorization": f"Bearer {sim_number['access_token']}"},
            json=payload,
        )

    return _post


def _status_values(webhook_receiver, wamid):
    return [
        value
        for value in webhook_receiver.changes()
        if any(s["id"] == wamid for s in value.get("statuses", []))
    ]


# --- contacts and user_id -------------------------------------------------------------------


def test_inbound_contacts_carry_the_citizens_user_id(simulator, receiving, webhook_receiver):
    simulator.trigger_inbound(receiving["id"], CITIZEN, type="text", text="Hi", name="Ana")
    wait_until(webhook_receiver.inbound_messages)
    [value] = [v for v in webhook_receiver.changes() if v.get("messages")]
    [contact] = value["contacts"]
    assert contact["wa_id"] == CITIZEN
    assert contact["profile"] == {"name": "Ana"}
    region, digits = contact["user_id"].split(".")
    assert region == "US" and digits.isdigit()


def test_the_user_id_is_stable_for_one_citizen(simulator, receiving, webhook_receiver):
    for text in ("one", "two"):
        simulator.trigger_inbound(receiving["id"], CITIZEN, type="text", text=text)
    wait_until(lambda: len(webhook_receiver.inbound_messages()) == 2)
    ids = {c["user_id"] for v in webhook_receiver.changes() for c in v.get("contacts", [])}
    assert len(ids) == 1


def test_status_changes_carry_contacts_with_wa_id_and_user_id(
    simulator, receiving, webhook_receiver
):
    inbound = simulator.trigger_inbound(receiving["id"], CITIZEN, type="text", text="Hi")
    wamid = simulator.client(receiving).send_text(CITIZEN, "Hello").wamid
    webhook_receiver.wait_for_statuses(wamid, 3)
    inbound_contact = next(
        v["contacts"][0] for v in webhook_receiver.changes() if v.get("messages")
    )
    assert inbound["from"] == CITIZEN
    for value in _status_values(webhook_receiver, wamid):
        assert value["contacts"] == [{"wa_id": CITIZEN, "user_id": inbound_contact["user_id"]}]


def test_an_undeliverable_status_names_only_the_wa_id(simulator, receiving, webhook_receiver):
    simulator.not_on_whatsapp(CITIZEN)
    wamid = simulator.client(receiving).send_text(CITIZEN, "Hello").wamid
    assert webhook_receiver.wait_for_statuses(wamid, 1) == ["failed"]
    [value] = _status_values(webhook_receiver, wamid)
    assert value["contacts"] == [{"wa_id": CITIZEN}]
    assert value["statuses"][0]["errors"][0]["code"] == 131026


# --- template components in any case --------------------------------------------------------


@pytest.fixture
def button_template(simulator, sim_number):
    return simulator.add_template(
        sim_number["waba_id"],
        "appointment_reminder",
        components=[
            {"type": "BODY", "text": "Your appointment is on {{1}} at the office."},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Cancel"}]},
        ],
    )


@pytest.mark.parametrize(
    ("body_type", "button_type", "sub_type"),
    [
        ("body", "button", "quick_reply"),
        ("BODY", "BUTTON", "QUICK_REPLY"),
        ("Body", "button", "Quick_Reply"),
    ],
)
def test_template_component_type_and_sub_type_are_read_in_any_case(
    post, button_template, body_type, button_type, sub_type
):
    response = post(
        {
            "type": "template",
            "template": {
                "name": "appointment_reminder",
                "language": {"code": "en_US"},
                "components": [
                    {"type": body_type, "parameters": [{"type": "text", "text": "Monday"}]},
                    {
                        "type": button_type,
                        "sub_type": sub_type,
                        "index": "0",
                        "parameters": [{"type": "payload", "payload": "CANCEL"}],
                    },
                ],
            },
        }
    )
    assert response.status_code == 200, response.json()


def test_an_unknown_template_component_type_is_refused(post, button_template):
    response = post(
        {
            "type": "template",
            "template": {
                "name": "appointment_reminder",
                "language": {"code": "en_US"},
                "components": [{"type": "FOOTNOTE", "parameters": []}],
            },
        }
    )
    assert response.json()["error"]["code"] == 131009


def test_an_unknown_button_sub_type_is_refused(post, button_template):
    response = post(
        {
            "type": "template",
            "template": {
                "name": "appointment_reminder",
                "language": {"code": "en_US"},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": "Monday"}]},
                    {"type": "button", "sub_type": "TELEPORT", "index": "0", "parameters": []},
                ],
            },
        }
    )
    assert response.json()["error"]["code"] == 131009


# --- audio voice, newer interactive types ---------------------------------------------------


def test_audio_can_be_sent_as_a_voice_note(post):
    link = "https://cdn.example.gov/note.ogg"
    assert post({"type": "audio", "audio": {"link": link, "voice": True}}).status_code == 200


def test_audio_voice_must_be_a_boolean(post):
    response = post({"type": "audio", "audio": {"link": "https://x.example/a.ogg", "voice": "y"}})
    assert response.json()["error"]["code"] == 131009


def test_a_location_request_is_accepted(post):
    interactive = {
        "type": "location_request_message",
        "body": {"text": "Where is the pothole?"},
        "action": {"name": "send_location"},
    }
    assert post({"type": "interactive", "interactive": interactive}).status_code == 200


def test_a_location_request_needs_the_send_location_action(post):
    interactive = {
        "type": "location_request_message",
        "body": {"text": "Where is the pothole?"},
        "action": {"name": "share"},
    }
    response = post({"type": "interactive", "interactive": interactive})
    assert response.json()["error"]["code"] == 131009


def test_a_contact_info_request_is_accepted(post):
    interactive = {
        "type": "request_contact_info",
        "body": {"text": "Please share your phone number so we can call you back."},
        "action": {"name": "request_contact_info"},
    }
    assert post({"type": "interactive", "interactive": interactive}).status_code == 200


def _card(index, header="image", kind="cta_url"):
    card = {
        "card_index": index,
        "type": kind,
        "header": {"type": header, header: {"link": f"https://cdn.example.gov/{index}.jpg"}},
        "body": {"text": f"Park {index}"},
    }
    if kind == "cta_url":
        card["action"] = {
            "name": "cta_url",
            "parameters": {"display_text": "Open map", "url": f"https://city.example/{index}"},
        }
    else:
        card["action"] = {
            "buttons": [{"type": "quick_reply", "quick_reply": {"id": f"p{index}", "title": "Go"}}]
        }
    return card


def _carousel(cards):
    return {
        "type": "interactive",
        "interactive": {
            "type": "carousel",
            "body": {"text": "Parks near you"},
            "action": {"cards": cards},
        },
    }


@pytest.mark.parametrize("count", [2, 10])
def test_a_carousel_of_2_to_10_cards_is_accepted(post, count):
    assert post(_carousel([_card(i) for i in range(count)])).status_code == 200


def test_a_carousel_of_quick_reply_cards_is_accepted(post):
    assert post(_carousel([_card(i, kind="button") for i in range(3)])).status_code == 200


@pytest.mark.parametrize("count", [1, 11])
def test_a_carousel_needs_2_to_10_cards(post, count):
    response = post(_carousel([_card(i) for i in range(count)]))
    assert response.json()["error"]["code"] == 131009


def test_carousel_cards_must_share_their_header_type(post):
    response = post(_carousel([_card(0, "image"), _card(1, "video")]))
    assert response.json()["error"]["code"] == 131009


# --- Graph paths ----------------------------------------------------------------------------


def test_a_trailing_slash_names_the_same_node_without_a_redirect(simulator, sim_number):
    headers = {"Authorization": f"Bearer {sim_number['access_token']}"}
    plain = httpx.get(simulator.graph_url(sim_number["id"]), headers=headers)
    slashed = httpx.get(simulator.graph_url(f"{sim_number['id']}/"), headers=headers)
    assert slashed.status_code == 200
    assert slashed.json() == plain.json()


def test_a_send_to_a_path_with_a_trailing_slash_is_accepted(simulator, sim_number):
    simulator.open_window(sim_number["id"], CITIZEN)
    response = httpx.post(
        simulator.graph_url(f"{sim_number['id']}/messages/"),
        headers={"Authorization": f"Bearer {sim_number['access_token']}"},
        json={"messaging_product": "whatsapp", "to": CITIZEN, "text": {"body": "hi"}},
    )
    assert response.status_code == 200
    assert response.json()["messages"][0]["id"].startswith("wamid.")


# --- template list: fields and summary ------------------------------------------------------


@pytest.fixture
def list_templates(simulator, sim_number):
    def _list(**params):
        response = httpx.get(
            simulator.graph_url(f"{sim_number['waba_id']}/message_templates"),
            headers={"Authorization": f"Bearer {sim_number['access_token']}"},
            params=params,
        )
        assert response.status_code == 200, response.json()
        return response.json()

    return _list


def test_the_template_list_returns_only_the_requested_fields(simulator, sim_number, list_templates):
    simulator.add_template(sim_number["waba_id"], "permit_ready")
    [item] = list_templates(fields="name,status")["data"]
    assert set(item) == {"id", "name", "status"}


def test_the_template_list_accepts_fields_graph_knows_but_the_simulator_does_not_model(
    simulator, sim_number, list_templates
):
    """pywa's ``get_templates`` asks for these on every call."""
    simulator.add_template(sim_number["waba_id"], "permit_ready")
    fields = "name,status,cta_url_link_tracking_opted_out,degrees_of_freedom_spec"
    [item] = list_templates(fields=fields)["data"]
    assert set(item) == {"id", "name", "status"}


def test_the_template_list_refuses_a_field_templates_do_not_have(simulator, sim_number):
    response = httpx.get(
        simulator.graph_url(f"{sim_number['waba_id']}/message_templates"),
        headers={"Authorization": f"Bearer {sim_number['access_token']}"},
        params={"fields": "name,colour"},
    )
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (400, 100)
    assert "(colour)" in error["message"]


def test_the_template_list_answers_a_summary_next_to_data_and_paging(
    simulator, sim_number, list_templates
):
    waba = sim_number["waba_id"]
    simulator.add_template(waba, "permit_ready", language="en_US")
    simulator.add_template(waba, "permit_ready", language="es")
    simulator.add_template(waba, "hearing_date", language="en_US")
    body = list_templates(
        limit=2,
        summary="total_count,message_template_count,message_template_limit,"
        "are_translations_complete",
    )
    assert len(body["data"]) == 2 and "paging" in body
    assert body["summary"] == {
        "total_count": 3,
        "message_template_count": 2,
        "message_template_limit": 250,
        "are_translations_complete": False,
    }


# --- reactions ------------------------------------------------------------------------------


def test_a_reaction_gets_only_a_sent_status(simulator, receiving, webhook_receiver):
    inbound = simulator.trigger_inbound(receiving["id"], CITIZEN, type="text", text="Hi")
    client = simulator.client(receiving)
    wamid = client.send(CITIZEN, builders.Reaction(inbound["id"], "\U0001f44d")).wamid
    webhook_receiver.wait_for_statuses(wamid, 1)
    simulator.wait_webhooks_idle()
    assert [s["status"] for s in webhook_receiver.statuses(wamid)] == ["sent"]


def test_a_reaction_to_a_message_outside_the_thread_fails_with_131009(
    simulator, receiving, webhook_receiver
):
    other = simulator.trigger_inbound(receiving["id"], "15551230099", type="text", text="Hi")
    client = simulator.client(receiving)
    wamid = client.send(CITIZEN, builders.Reaction(other["id"], "\U0001f44d")).wamid
    assert webhook_receiver.wait_for_statuses(wamid, 1) == ["failed"]
    [failed] = webhook_receiver.statuses(wamid)
    assert failed["errors"][0]["code"] == 131009
