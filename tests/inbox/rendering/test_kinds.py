"""Each kind of message, in and out, renders what staff need to see."""

from __future__ import annotations

import re

import pytest

from messaging.models import MediaObject, Message
from tests.factories import ApiCredentialFactory, TemplateFactory
from tests.inbox.rendering.factories import (
    MediaObjectFactory,
    inbound,
    outbound,
    reaction,
    stored_media,
    template_message,
)

pytestmark = pytest.mark.django_db


def articles(html: str) -> int:
    return len(re.findall(r"<article\b", html))


def test_a_citizens_text_names_the_citizen_and_says_in_words_who_wrote(render, conversation):
    message = inbound(conversation, "text", {"body": "The street light on Main St is out."})
    html = render(message)
    assert "The street light on Main St is out." in html
    assert f'<article id="message-{message.pk}"' in html
    assert f'aria-labelledby="message-{message.pk}-heading"' in html
    assert f'id="message-{message.pk}-heading"' in html
    assert '<span class="usa-sr-only">Message from </span>Ana Souza' in html
    assert "(citizen)" in html


def test_links_in_a_citizens_text_are_clickable_and_nofollow(render, conversation):
    message = inbound(conversation, "text", {"body": "See https://city.gov/roads?a=1&b=2 now"})
    html = render(message)
    assert '<a href="https://city.gov/roads?a=1&amp;b=2" rel="nofollow noopener noreferrer"' in html


def test_line_breaks_in_a_text_are_kept(render, conversation):
    html = render(inbound(conversation, "text", {"body": "line one\nline two"}))
    assert "line one<br>line two" in html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "javascript:alert(document.cookie)",
        "<a href='javascript:alert(1)'>click</a>",
        'https://example.com/"onmouseover="alert(1)',
    ],
)
def test_hostile_text_is_escaped_and_never_becomes_markup(render, conversation, hostile):
    html = render(inbound(conversation, "text", {"body": hostile}))
    assert "<script" not in html
    assert "<img src=x" not in html
    assert 'href="javascript' not in html
    assert "href='javascript" not in html
    assert '"onmouseover' not in html.replace("&quot;onmouseover", "")


def test_a_stored_image_shows_a_thumbnail_linking_to_the_full_image(render, conversation, agency_a):
    media = stored_media(agency_a)
    message = inbound(
        conversation, "image", {"id": media.meta_media_id, "caption": "The pole"}, media=media
    )
    html = render(message)
    url = f"/inbox/media/{media.pk}/"
    assert f'<a class="message__media-link display-inline-block" href="{url}"><img' in html
    assert f'src="{url}" alt="The pole" width="320" height="240"' in html
    assert f'href="{url}?download=1"' in html
    assert "The pole" in html


def test_an_image_without_a_caption_is_described_by_its_sender(render, conversation, agency_a):
    media = stored_media(agency_a)
    html = render(inbound(conversation, "image", {"id": "1"}, media=media))
    assert 'alt="Image from Ana Souza"' in html


@pytest.mark.parametrize(
    ("status", "error", "shown"),
    [
        (MediaObject.Status.PENDING, "", "Downloading from WhatsApp"),
        (MediaObject.Status.REJECTED, "WhatsApp does not accept image/gif files.", "Not kept"),
        (MediaObject.Status.FAILED, "Meta no longer has this file.", "Meta no longer has"),
    ],
)
def test_an_image_not_stored_says_why_and_links_nothing(
    render, conversation, agency_a, status, error, shown
):
    media = MediaObjectFactory(agency=agency_a, status=status, error=error)
    html = render(inbound(conversation, "image", {"id": media.meta_media_id}, media=media))
    assert shown in html
    assert "/inbox/media/" not in html
    assert "<img" not in html


def test_a_video_plays_in_a_player(render, conversation, agency_a):
    media = stored_media(
        agency_a, data=b"\x00\x00\x00\x18ftypmp42", kind="video", mime_type="video/mp4"
    )
    html = render(inbound(conversation, "video", {"id": "1", "caption": "Flooding"}, media=media))
    assert "<video " in html
    assert f'controls preload="metadata" src="/inbox/media/{media.pk}/"' in html
    assert "Flooding" in html


def test_a_voice_note_plays_in_an_audio_player_and_says_it_is_a_voice_message(
    render, conversation, agency_a
):
    media = stored_media(
        agency_a, data=b"OggS\x00", kind="audio", mime_type="audio/ogg; codecs=opus"
    )
    html = render(inbound(conversation, "audio", {"id": "1", "voice": True}, media=media))
    assert "<audio " in html
    assert f'controls preload="metadata" src="/inbox/media/{media.pk}/"' in html
    assert "Voice message" in html


def test_a_document_shows_its_name_size_and_a_download_link(render, conversation, agency_a):
    media = stored_media(
        agency_a,
        data=b"%PDF-1.4\n" + b"x" * 2000,
        kind="document",
        mime_type="application/pdf",
        filename="permit.pdf",
    )
    html = render(
        inbound(conversation, "document", {"id": "1", "filename": "permit.pdf"}, media=media)
    )
    assert "permit.pdf" in html
    assert "application/pdf" in html
    assert "2.0\xa0KB" in html
    assert f'href="/inbox/media/{media.pk}/?download=1" download>Download permit.pdf' in html


def test_a_sticker_is_an_image_described_as_a_sticker(render, conversation, agency_a):
    media = stored_media(agency_a, data=b"RIFF\x00WEBP", kind="sticker", mime_type="image/webp")
    html = render(inbound(conversation, "sticker", {"id": "1", "animated": False}, media=media))
    assert f'src="/inbox/media/{media.pk}/" alt="Sticker from Ana Souza" width="128"' in html


def test_an_agents_attachment_kept_by_the_composer_shows_like_a_citizens(
    render, conversation, agency_a, agent
):
    media = stored_media(agency_a)
    message = outbound(conversation, "image", {"id": "meta-9"}, media=media, sender_user=agent.user)
    html = render(message)
    assert f'src="/inbox/media/{media.pk}/" alt="Image from Jane Doe"' in html


def test_an_outbound_attachment_without_a_kept_copy_says_so(render, conversation):
    html = render(
        outbound(conversation, "image", {"id": "meta-123", "caption": "Map of the works"})
    )
    assert "Civic Relay keeps no copy" in html
    assert "Map of the works" in html


def test_a_location_shows_name_address_coordinates_and_a_map_link(render, conversation):
    payload = {
        "latitude": 41.8781,
        "longitude": -87.6298,
        "name": "City Hall",
        "address": "121 N LaSalle St",
    }
    html = render(inbound(conversation, "location", payload))
    assert "City Hall" in html
    assert "121 N LaSalle St" in html
    assert "41.878100, -87.629800" in html
    assert (
        'href="https://www.openstreetmap.org/?mlat=41.878100&amp;mlon=-87.629800#map=17/41.878100/-87.629800"'
        in html
    )


def test_a_location_with_unreadable_coordinates_has_no_map_link(render, conversation):
    html = render(inbound(conversation, "location", {"latitude": "north", "longitude": 500}))
    assert "The coordinates could not be read." in html
    assert "openstreetmap" not in html


def test_a_contact_card_shows_names_phones_and_emails(render, conversation):
    card = {
        "name": {"formatted_name": "Maria Silva", "first_name": "Maria"},
        "phones": [{"phone": "+1 555-010-0199", "wa_id": "15550100199", "type": "CELL"}],
        "emails": [{"email": "maria@example.org", "type": "WORK"}],
        "org": {"company": "Water Dept"},
    }
    html = render(inbound(conversation, "contacts", [card]))
    assert "Maria Silva" in html
    assert '<a class="usa-link" href="tel:+15550100199">+1 555-010-0199</a>' in html
    assert '<a class="usa-link" href="mailto:maria@example.org">maria@example.org</a>' in html
    assert "Water Dept" in html


def test_a_contact_card_with_a_hostile_phone_is_not_linked(render, conversation):
    card = {"name": {"formatted_name": "X"}, "phones": [{"phone": "javascript:alert(1)"}]}
    html = render(inbound(conversation, "contacts", [card]))
    assert "Phone: javascript:alert(1)" in html
    assert 'href="javascript' not in html


def test_a_tapped_reply_button_shows_what_the_citizen_chose(render, conversation):
    payload = {"type": "button_reply", "button_reply": {"id": "yes-confirm", "title": "Yes"}}
    html = render(inbound(conversation, "interactive", payload))
    assert "Chose: <strong" in html
    assert ">Yes</strong>" in html
    assert "(yes-confirm)" in html


def test_a_chosen_list_row_shows_its_title_and_description(render, conversation):
    reply = {"id": "pothole", "title": "Pothole", "description": "Holes in the road"}
    html = render(inbound(conversation, "interactive", {"type": "list_reply", "list_reply": reply}))
    assert ">Pothole</strong>" in html
    assert "(Holes in the road)" in html


def test_a_submitted_form_shows_its_answers(render, conversation):
    reply = {
        "name": "flow",
        "body": "Sent",
        "response_json": '{"street": "Main St", "flow_token": "t"}',
        "response": {"street": "Main St", "urgent": True, "flow_token": "t"},
    }
    html = render(inbound(conversation, "interactive", {"type": "nfm_reply", "nfm_reply": reply}))
    assert "Submitted the form" in html
    assert "street</dt>" in html and ">Main St</dd>" in html
    assert ">yes</dd>" in html
    assert "flow_token" not in html


def test_a_template_quick_reply_shows_the_button_tapped(render, conversation):
    html = render(
        inbound(conversation, "button", {"text": "Stop reminders", "payload": "STOP_REM"})
    )
    assert ">Stop reminders</strong>" in html
    assert "(STOP_REM)" in html


def test_an_outbound_list_shows_its_body_and_rows(render, conversation):
    payload = {
        "type": "list",
        "header": {"type": "text", "text": "Report a problem"},
        "body": {"text": "What is it about?"},
        "footer": {"text": "City services"},
        "action": {
            "button": "Choose",
            "sections": [{"title": "Streets", "rows": [{"id": "p", "title": "Pothole"}]}],
        },
    }
    html = render(outbound(conversation, "interactive", payload))
    assert "Report a problem" in html
    assert "What is it about?" in html
    assert "City services" in html
    assert "Choose:" in html
    assert "Streets: Pothole" in html


def test_an_outbound_button_message_lists_its_buttons(render, conversation):
    buttons = [
        {"type": "reply", "reply": {"id": "y", "title": "Yes"}},
        {"type": "reply", "reply": {"id": "n", "title": "No"}},
    ]
    payload = {"type": "button", "body": {"text": "Was it fixed?"}, "action": {"buttons": buttons}}
    html = render(outbound(conversation, "interactive", payload))
    assert "Was it fixed?" in html
    assert '<li dir="auto">Yes' in html and '<li dir="auto">No' in html


def test_a_template_shows_what_the_citizen_saw_with_the_values_filled_in(
    render, conversation, agency_a
):
    template = TemplateFactory(
        agency=agency_a,
        waba=conversation.phone_number.waba,
        name="case_update",
        components=[
            {"type": "HEADER", "format": "TEXT", "text": "Case {{1}}"},
            {"type": "BODY", "text": "Hello {{1}}, your case {{2}} was updated."},
            {"type": "FOOTER", "text": "Reply STOP to opt out"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Thanks"},
                    {"type": "URL", "text": "Track", "url": "https://city.gov/case/{{1}}"},
                ],
            },
        ],
    )
    components = [
        {"type": "header", "parameters": [{"type": "text", "text": "A-17"}]},
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Ana"},
                {"type": "text", "text": "<b>A-17</b>"},
            ],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": "1",
            "parameters": [{"type": "text", "text": "A17"}],
        },
    ]
    html = render(template_message(conversation, template, components))
    assert "Template <span" in html and "case_update" in html
    assert "Case A-17" in html
    assert "Hello Ana, your case &lt;b&gt;A-17&lt;/b&gt; was updated." in html
    assert "Reply STOP to opt out" in html
    assert "Thanks" in html
    assert "(https://city.gov/case/A17)" in html


def test_a_named_template_fills_in_named_values(render, conversation, agency_a):
    template = TemplateFactory(
        agency=agency_a,
        waba=conversation.phone_number.waba,
        parameter_format="NAMED",
        components=[{"type": "BODY", "text": "Hi {{first_name}}, pickup on {{day}}."}],
    )
    params = [
        {"type": "text", "text": "Ana", "parameter_name": "first_name"},
        {"type": "date_time", "date_time": {"fallback_value": "Friday"}, "parameter_name": "day"},
    ]
    html = render(
        template_message(conversation, template, [{"type": "body", "parameters": params}])
    )
    assert "Hi Ana, pickup on Friday." in html


def test_a_template_whose_row_is_gone_shows_its_name_and_the_values_sent(render, conversation):
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]
    html = render(template_message(conversation, None, components, name="old_notice"))
    assert "old_notice" in html
    assert "no longer in Civic Relay" in html
    assert ">Ana</li>" in html


def test_an_order_lists_its_items(render, conversation):
    payload = {
        "catalog_id": "1",
        "text": "Two bins please",
        "product_items": [
            {"product_retailer_id": "BIN-96", "quantity": 2, "item_price": 40, "currency": "USD"}
        ],
    }
    html = render(inbound(conversation, "order", payload))
    assert "Two bins please" in html
    assert '<td class="message__text">BIN-96</td><td>2</td><td>40 USD</td>' in html


def test_whatsapp_notices_render_as_notices(render, conversation):
    welcome = inbound(conversation, "request_welcome", {})
    changed = inbound(
        conversation,
        "system",
        {"type": "user_changed_number", "body": "User changed", "wa_id": "1"},
        sender_type=Message.SenderType.SYSTEM,
    )
    html = render(welcome, changed)
    assert "The citizen opened the chat." in html
    assert "The citizen changed their phone number." in html
    assert '<span class="usa-sr-only">Message from </span>WhatsApp' in html


def test_an_unsupported_message_says_so_with_its_type(render, conversation):
    message = inbound(
        conversation,
        "unsupported",
        {"type": "poll"},
        error_code=131051,
        error_reason="Message type unknown: Message type is currently not supported.",
    )
    html = render(message)
    assert "Unsupported message (poll)" in html
    assert "WhatsApp reported:</strong> Message type unknown" in html


def test_a_type_nobody_knows_renders_as_unsupported(render, conversation):
    html = render(inbound(conversation, "hologram", {"beam": [1, 2]}))
    assert "Unsupported message (hologram)" in html


@pytest.mark.parametrize(
    "kind",
    [
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "template",
        "order",
        "system",
        "unsupported",
        "unknown",
    ],
)
@pytest.mark.parametrize(
    "payload",
    [
        None,
        "a string",
        42,
        ["a", {"b": None}],
        {
            "body": {"x": 1},
            "latitude": [],
            "caption": 7,
            "type": {},
            "components": "x",
            "product_items": [None, 3],
        },
    ],
)
def test_hostile_content_of_any_kind_renders_without_error(render, conversation, kind, payload):
    for direction in ("in", "out"):
        make = inbound if direction == "in" else outbound
        message = make(
            conversation, kind, payload, context={"id": ["x"]}, content_history=[None, {"at": 5}]
        )
        assert articles(render(message)) == 1


def test_content_that_is_not_an_object_renders_without_error(render, conversation):
    message = inbound(conversation, "text", {})
    message.content = ["not", "an", "object"]
    assert articles(render(message)) == 1


def test_who_sent_an_outbound_message_is_named(render, conversation, agent, agency_a):
    credential = ApiCredentialFactory(agency=agency_a, name="Permits system")
    by_agent = outbound(conversation, "text", {"body": "a"}, sender_user=agent.user)
    by_campaign = outbound(
        conversation, "text", {"body": "b"}, sender_type="campaign", campaign_id=42
    )
    by_automation = outbound(conversation, "text", {"body": "c"}, sender_type="automation")
    by_api = outbound(
        conversation, "text", {"body": "d"}, sender_type="api", sender_credential=credential
    )
    html = render(by_agent, by_campaign, by_automation, by_api)
    assert '<span class="usa-sr-only">Message sent by </span>Jane Doe' in html
    assert "Campaign #42" in html
    assert "</span>Automation" in html
    assert "API: Permits system" in html


def test_hostile_values_outside_the_text_are_escaped_too(render, conversation, agency_a):
    evil = '"><img src=x onerror=alert(1)>'
    location = inbound(conversation, "location", {"latitude": 1, "longitude": 2, "name": evil})
    media = stored_media(agency_a, kind="document", mime_type="text/plain", filename=evil)
    document = inbound(conversation, "document", {"id": "1", "filename": evil}, media=media)
    reply = {"type": "button_reply", "button_reply": {"id": evil, "title": evil}}
    tapped = inbound(conversation, "interactive", reply)
    html = render(location, document, tapped, reaction(conversation, location, "<b>"))
    assert "<img src=x" not in html
    assert "<b>" not in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
