"""The client sends every outbound message type in the shape cloud-api.md §2 documents;
assertions are on what the simulator received over HTTP."""

from __future__ import annotations

import asyncio
import base64

import pytest

from messaging.whatsapp import builders as b
from messaging.whatsapp import close_shared_http_client

CITIZEN = "15551230001"

MESSAGES = {
    "text": (
        b.Text("See https://example.com", preview_url=True),
        {"body": "See https://example.com", "preview_url": True},
    ),
    "image_by_link": (
        b.image(link="https://cdn.example.com/a.jpg", caption="Invoice"),
        {"link": "https://cdn.example.com/a.jpg", "caption": "Invoice"},
    ),
    "video_by_link": (
        b.video(link="https://cdn.example.com/a.mp4", caption="Demo"),
        {"link": "https://cdn.example.com/a.mp4", "caption": "Demo"},
    ),
    "audio_by_link": (
        b.audio(link="https://cdn.example.com/a.ogg"),
        {"link": "https://cdn.example.com/a.ogg"},
    ),
    "audio_voice_note": (
        b.audio(link="https://cdn.example.com/note.ogg", voice=True),
        {"link": "https://cdn.example.com/note.ogg", "voice": True},
    ),
    "document_by_link": (
        b.document(link="https://cdn.example.com/r.pdf", caption="Receipt", filename="r.pdf"),
        {"link": "https://cdn.example.com/r.pdf", "caption": "Receipt", "filename": "r.pdf"},
    ),
    "sticker_by_link": (
        b.sticker(link="https://cdn.example.com/s.webp"),
        {"link": "https://cdn.example.com/s.webp"},
    ),
    "location": (
        b.Location(37.4847, -122.1477, name="HQ", address="1 Hacker Way"),
        {"latitude": 37.4847, "longitude": -122.1477, "name": "HQ", "address": "1 Hacker Way"},
    ),
    "contacts": (
        b.Contacts(
            [
                b.Contact(
                    "Jane Doe",
                    first_name="Jane",
                    last_name="Doe",
                    phones=[b.ContactPhone("+1 650 555 1234", "CELL", "16505551234")],
                    emails=[b.ContactEmail("jane@example.com", "WORK")],
                    org=b.ContactOrg(company="Acme"),
                    birthday="1990-01-31",
                )
            ]
        ),
        [
            {
                "name": {"formatted_name": "Jane Doe", "first_name": "Jane", "last_name": "Doe"},
                "phones": [{"phone": "+1 650 555 1234", "type": "CELL", "wa_id": "16505551234"}],
                "emails": [{"email": "jane@example.com", "type": "WORK"}],
                "org": {"company": "Acme"},
                "birthday": "1990-01-31",
            }
        ],
    ),
    "reply_buttons": (
        b.ReplyButtons(
            "Confirm your slot?", [b.ReplyButton("slot_yes", "Yes"), b.ReplyButton("slot_no", "No")]
        ),
        {
            "type": "button",
            "body": {"text": "Confirm your slot?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "slot_yes", "title": "Yes"}},
                    {"type": "reply", "reply": {"id": "slot_no", "title": "No"}},
                ]
            },
        },
    ),
    "list": (
        b.ListMessage(
            "Pick one",
            "Options",
            [b.ListSection([b.ListRow("burger", "Burger", "Beef, 200g")], "Mains")],
            header=b.Header("text", "Menu"),
            footer="Powered by X",
        ),
        {
            "type": "list",
            "header": {"type": "text", "text": "Menu"},
            "body": {"text": "Pick one"},
            "footer": {"text": "Powered by X"},
            "action": {
                "button": "Options",
                "sections": [
                    {
                        "title": "Mains",
                        "rows": [{"id": "burger", "title": "Burger", "description": "Beef, 200g"}],
                    }
                ],
            },
        },
    ),
    "cta_url": (
        b.CtaUrl("Track your order", "Open tracker", "https://example.com/t/123"),
        {
            "type": "cta_url",
            "body": {"text": "Track your order"},
            "action": {
                "name": "cta_url",
                "parameters": {"display_text": "Open tracker", "url": "https://example.com/t/123"},
            },
        },
    ),
    "product": (
        b.Product("354160437058781", "SKU-1", body="Try this"),
        {
            "type": "product",
            "body": {"text": "Try this"},
            "action": {"catalog_id": "354160437058781", "product_retailer_id": "SKU-1"},
        },
    ),
    "product_list": (
        b.ProductList(
            "Picks", "For you", "354160437058781", [b.ProductSection("Snacks", ["SKU-1", "SKU-2"])]
        ),
        {
            "type": "product_list",
            "header": {"type": "text", "text": "Picks"},
            "body": {"text": "For you"},
            "action": {
                "catalog_id": "354160437058781",
                "sections": [
                    {
                        "title": "Snacks",
                        "product_items": [
                            {"product_retailer_id": "SKU-1"},
                            {"product_retailer_id": "SKU-2"},
                        ],
                    }
                ],
            },
        },
    ),
    "flow": (
        b.Flow(
            "Book an appointment",
            "1234567890",
            "opaque-token",
            "Book",
            screen="WELCOME",
            data={"name": "Jim"},
        ),
        {
            "type": "flow",
            "body": {"text": "Book an appointment"},
            "action": {
                "name": "flow",
                "parameters": {
                    "flow_message_version": "3",
                    "flow_token": "opaque-token",
                    "flow_id": "1234567890",
                    "flow_cta": "Book",
                    "flow_action": "navigate",
                    "flow_action_payload": {"screen": "WELCOME", "data": {"name": "Jim"}},
                },
            },
        },
    ),
    "location_request": (
        b.LocationRequest("Where is the pothole?"),
        {
            "type": "location_request_message",
            "body": {"text": "Where is the pothole?"},
            "action": {"name": "send_location"},
        },
    ),
    "contact_info_request": (
        b.ContactInfoRequest("Please share your number so the clerk can call you."),
        {
            "type": "request_contact_info",
            "body": {"text": "Please share your number so the clerk can call you."},
            "action": {"name": "request_contact_info"},
        },
    ),
    "carousel_of_url_cards": (
        b.Carousel(
            "Parks near you",
            [
                b.CarouselCard(
                    b.Header("image", link=f"https://cdn.example.com/{n}.jpg"),
                    body=f"Park {n}",
                    display_text="Open map",
                    url=f"https://city.example/parks/{n}",
                )
                for n in (1, 2)
            ],
        ),
        {
            "type": "carousel",
            "body": {"text": "Parks near you"},
            "action": {
                "cards": [
                    {
                        "card_index": i,
                        "type": "cta_url",
                        "header": {
                            "type": "image",
                            "image": {"link": f"https://cdn.example.com/{n}.jpg"},
                        },
                        "body": {"text": f"Park {n}"},
                        "action": {
                            "name": "cta_url",
                            "parameters": {
                                "display_text": "Open map",
                                "url": f"https://city.example/parks/{n}",
                            },
                        },
                    }
                    for i, n in enumerate((1, 2))
                ]
            },
        },
    ),
    "carousel_of_quick_reply_cards": (
        b.Carousel(
            "Which office?",
            [
                b.CarouselCard(
                    b.Header("video", media_id=f"10{n}"),
                    quick_replies=[b.ReplyButton(f"office_{n}", "This one")],
                )
                for n in (1, 2, 3)
            ],
        ),
        {
            "type": "carousel",
            "body": {"text": "Which office?"},
            "action": {
                "cards": [
                    {
                        "card_index": i,
                        "type": "button",
                        "header": {"type": "video", "video": {"id": f"10{n}"}},
                        "action": {
                            "buttons": [
                                {
                                    "type": "quick_reply",
                                    "quick_reply": {"id": f"office_{n}", "title": "This one"},
                                }
                            ]
                        },
                    }
                    for i, n in enumerate((1, 2, 3))
                ]
            },
        },
    ),
}


@pytest.fixture
def client(simulator, sim_number):
    simulator.open_window(sim_number["id"], CITIZEN)
    return simulator.client(sim_number)


@pytest.mark.parametrize("name", list(MESSAGES))
def test_send_delivers_documented_payload_shape(simulator, sim_number, client, name):
    message, expected = MESSAGES[name]
    client.send(CITIZEN, message)
    received = simulator.messages(sim_number["id"])[-1]["payload"]
    assert received["messaging_product"] == "whatsapp"
    assert received["to"] == CITIZEN
    assert received[received["type"]] == expected


def test_send_returns_wamid_and_normalized_wa_id(client):
    result = client.send_text("+1 (555) 123-0001", "hello")
    assert result.wamid.startswith("wamid.")
    assert result.wa_id == CITIZEN
    assert result.message_status == "accepted"


def test_outbound_wamid_encodes_recipient_like_meta(client):
    raw = base64.b64decode(client.send_text(CITIZEN, "hi").wamid.removeprefix("wamid."))
    assert raw[:3] == bytes([0x1C, 0x18, len(CITIZEN)])
    assert raw[3 : 3 + len(CITIZEN)] == CITIZEN.encode()
    assert raw[-1] == 0


def test_send_media_by_uploaded_id(simulator, sim_number, client):
    media = client.upload_media(b"\xff\xd8\xff" + b"0" * 64, "image/jpeg", filename="a.jpg")
    client.send(CITIZEN, b.image(media.id, caption="Invoice"))
    payload = simulator.messages(sim_number["id"])[-1]["payload"]
    assert payload["image"] == {"id": media.id, "caption": "Invoice"}


def test_send_reaction_refers_to_message(simulator, sim_number, client):
    target = client.send_text(CITIZEN, "hello").wamid
    client.send(CITIZEN, b.Reaction(target, "\U0001f600"))
    assert simulator.messages(sim_number["id"])[-1]["payload"]["reaction"] == {
        "message_id": target,
        "emoji": "\U0001f600",
    }


def test_send_reply_context_quotes_message(simulator, sim_number, client):
    inbound = simulator.trigger_inbound(sim_number["id"], CITIZEN, type="text", text="Hi")
    client.send_text(CITIZEN, "Hello back", context_message_id=inbound["id"])
    payload = simulator.messages(sim_number["id"])[-1]["payload"]
    assert payload["context"] == {"message_id": inbound["id"]}


def test_send_passes_biz_opaque_callback_data(simulator, sim_number, client):
    client.send_text(CITIZEN, "hi", biz_opaque_callback_data="msg-42")
    assert (
        simulator.messages(sim_number["id"])[-1]["payload"]["biz_opaque_callback_data"] == "msg-42"
    )


def test_send_template_with_positional_parameters(simulator, sim_number, client):
    simulator.add_template(
        sim_number["waba_id"],
        "order_confirmation",
        language="en_US",
        components=[
            {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": ["4::x"]}},
            {"type": "BODY", "text": "Hi {{1}}, you paid {{2}} on {{3}}."},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Stop promos"},
                    {"type": "URL", "text": "Track", "url": "https://shop.example/{{1}}"},
                ],
            },
        ],
    )
    template = b.Template(
        "order_confirmation",
        "en_US",
        header=b.MediaParam("document", link="https://cdn.example.com/r.pdf", filename="r.pdf"),
        body=[
            b.TextParam("Pablo"),
            b.CurrencyParam("$100.99", "USD", 100990),
            b.DateTimeParam("February 25, 1977"),
        ],
        buttons=[b.QuickReplyButton(0, "STOP_PROMOS"), b.UrlButton(1, "order/860198")],
    )
    client.send_template(CITIZEN, template)
    sent = simulator.messages(sim_number["id"])[-1]
    assert sent["rendered_text"] == "Hi Pablo, you paid $100.99 on February 25, 1977."
    assert sent["payload"]["template"]["components"][3] == {
        "type": "button",
        "sub_type": "url",
        "index": "1",
        "parameters": [{"type": "text", "text": "order/860198"}],
    }


def test_send_template_with_named_parameters(simulator, sim_number, client):
    simulator.add_template(
        sim_number["waba_id"],
        "welcome_named",
        language="en",
        parameter_format="NAMED",
        components=[{"type": "BODY", "text": "Hello {{first_name}}, welcome aboard."}],
    )
    client.send_template(
        CITIZEN, b.Template("welcome_named", "en", body=[b.TextParam("Jim", name="first_name")])
    )
    assert simulator.messages(sim_number["id"])[-1]["rendered_text"] == "Hello Jim, welcome aboard."


def test_mark_read_is_recorded_without_a_message(simulator, sim_number, client):
    inbound = simulator.trigger_inbound(sim_number["id"], CITIZEN, type="text", text="Hi")
    client.mark_read(inbound["id"])
    assert simulator.reads(sim_number["id"])[0]["message_id"] == inbound["id"]
    assert simulator.messages(sim_number["id"]) == []


def test_typing_indicator_is_sent_with_mark_read(simulator, sim_number, client):
    inbound = simulator.trigger_inbound(sim_number["id"], CITIZEN, type="text", text="Hi")
    client.send_typing_indicator(inbound["id"])
    assert simulator.reads(sim_number["id"])[0]["typing_indicator"] is True


def test_async_client_keeps_many_sends_in_flight(simulator, sim_number):
    recipients = [f"1555999{i:04d}" for i in range(40)]

    async def send_all():
        client = simulator.async_client(sim_number)
        try:
            return await asyncio.gather(*(client.send_text(r, "hi") for r in recipients))
        finally:
            await close_shared_http_client()  # this loop's pool, before asyncio.run ends it

    results = asyncio.run(send_all())
    assert len({r.wamid for r in results}) == 40
    assert len(simulator.messages(sim_number["id"])) == 40


def test_client_reads_base_url_and_version_from_explicit_values(simulator, sim_number):
    client = simulator.client(sim_number)
    assert client.aio.graph_url("x/messages") == f"{simulator.base_url}/v23.0/x/messages"


def test_client_repr_hides_the_token(simulator, sim_number):
    assert sim_number["access_token"] not in repr(simulator.client(sim_number))
