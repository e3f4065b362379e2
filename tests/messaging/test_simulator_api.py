"""The simulator validates raw Graph requests and answers with Meta's error shapes (§2, §6)."""

from __future__ import annotations

import httpx
import pytest

CITIZEN = "15551230004"


@pytest.fixture
def post(simulator, sim_number):
    def _post(body, *, token=None, number_id=None):
        return httpx.post(
            simulator.graph_url(f"{number_id or sim_number['id']}/messages"),
            headers={"Authorization": f"Bearer {token or sim_number['access_token']}"},
            json=body,
        )

    return _post


def text(**overrides):
    return {
        "messaging_product": "whatsapp",
        "to": CITIZEN,
        "type": "text",
        "text": {"body": "hi"},
    } | overrides


def error_of(response):
    return response.json()["error"]


def test_valid_send_answers_with_contacts_and_messages(post):
    body = post(text(to="+1 555-123-0004")).json()
    assert body["contacts"] == [{"input": "+1 555-123-0004", "wa_id": CITIZEN}]
    assert body["messages"][0]["id"].startswith("wamid.")


def test_error_body_has_meta_fields(post):
    error = error_of(post(text(messaging_product=None)))
    assert error["type"] == "OAuthException"
    assert error["message"].startswith("(#100)")
    assert error["fbtrace_id"]


def test_missing_messaging_product_is_100(post):
    body = text()
    del body["messaging_product"]
    assert error_of(post(body))["message"] == "(#100) The parameter messaging_product is required."


def test_bad_token_is_190_with_http_401(post):
    response = post(text(), token="nope")
    assert (response.status_code, error_of(response)["code"]) == (401, 190)


def test_unknown_phone_number_id_is_100_with_subcode_33(post):
    response = post(text(), number_id="123456789012345")
    error = error_of(response)
    assert (error["code"], error["error_subcode"], error["type"]) == (
        100,
        33,
        "GraphMethodException",
    )


def test_unknown_message_type_is_100_naming_the_allowed_types(post):
    # 131051 is the inbound "unsupported message type" error, never a send's answer (§10).
    error = error_of(post(text(type="poll", poll={})))
    assert error["code"] == 100
    assert error["message"] == (
        "(#100) Param type must be one of {AUDIO, CONTACTS, DOCUMENT, IMAGE, INTERACTIVE, "
        'LOCATION, REACTION, STICKER, TEMPLATE, TEXT, VIDEO} - got "poll"'
    )


def test_missing_text_body_is_131008(post):
    assert error_of(post(text(text={})))["code"] == 131008


def test_text_over_4096_characters_is_131009(post):
    assert error_of(post(text(text={"body": "x" * 4097})))["code"] == 131009


def test_caption_on_audio_is_refused_in_strict_mode(post):
    body = text(type="audio", audio={"link": "https://x.example/a.ogg", "caption": "no"})
    del body["text"]
    error = error_of(post(body))
    assert error["code"] == 100
    assert "audio['caption']" in error["error_data"]["details"]


def test_more_than_3_reply_buttons_is_131009(post):
    buttons = [{"type": "reply", "reply": {"id": f"b{i}", "title": f"B{i}"}} for i in range(4)]
    body = text(
        type="interactive",
        interactive={"type": "button", "body": {"text": "Pick"}, "action": {"buttons": buttons}},
    )
    del body["text"]
    assert error_of(post(body))["code"] == 131009


def test_list_with_more_than_10_rows_is_131009(post):
    rows = [{"id": f"r{i}", "title": f"Row {i}"} for i in range(11)]
    body = text(
        type="interactive",
        interactive={
            "type": "list",
            "body": {"text": "Pick"},
            "action": {"button": "Open", "sections": [{"title": "All", "rows": rows}]},
        },
    )
    del body["text"]
    assert error_of(post(body))["code"] == 131009


def test_recipient_equal_to_sender_is_131021(post, sim_number):
    assert error_of(post(text(to=sim_number["display_phone_number"])))["code"] == 131021


def test_malformed_json_is_100(simulator, sim_number):
    response = httpx.post(
        simulator.graph_url(f"{sim_number['id']}/messages"),
        headers={"Authorization": f"Bearer {sim_number['access_token']}"},
        content=b"{not json",
    )
    assert error_of(response)["code"] == 100


def test_mark_read_answers_success_true(post):
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.abc"}
    assert post(body).json() == {"success": True}


def test_unknown_template_is_132001_with_http_404(post):
    body = text(type="template", template={"name": "nope", "language": {"code": "en"}})
    del body["text"]
    response = post(body)
    assert (response.status_code, error_of(response)["code"]) == (404, 132001)


def test_phone_number_node_reports_cloud_api_fields(simulator, sim_number):
    response = httpx.get(
        simulator.graph_url(sim_number["id"]),
        headers={"Authorization": f"Bearer {sim_number['access_token']}"},
    )
    assert response.json()["platform_type"] == "CLOUD_API"
    assert response.json()["display_phone_number"] == sim_number["display_phone_number"]


def test_control_api_registers_number_with_generated_ids(simulator):
    number = simulator.register_number(display_phone_number="+1 555 000 7777")
    assert number["display_phone_number"] == "15550007777"
    assert number["id"].isdigit() and number["waba_id"].isdigit()
    assert number["access_token"]


def test_reset_forgets_numbers_and_messages(simulator, sim_number, post):
    post(text())
    simulator.reset()
    response = httpx.get(f"{simulator.base_url}/_sim/phone_numbers")
    assert response.json() == {"data": []}
