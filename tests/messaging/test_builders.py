"""Builders reject invalid input before any HTTP call, naming the field at fault."""

from __future__ import annotations

from typing import Literal

import pytest

from messaging.whatsapp import InvalidMessageError
from messaging.whatsapp import builders as b


def _field_of(make) -> str:
    with pytest.raises(InvalidMessageError) as info:
        make()
    return info.value.field


def test_text_rejects_empty_body():
    assert _field_of(lambda: b.Text("  ")) == "text.body"


def test_text_rejects_body_over_4096_characters():
    assert _field_of(lambda: b.Text("x" * 4097)) == "text.body"


def test_audio_rejects_caption():
    assert _field_of(lambda: b.Media("audio", "123", caption="hi")) == "audio.caption"


def test_sticker_rejects_caption():
    assert _field_of(lambda: b.Media("sticker", "123", caption="hi")) == "sticker.caption"


def test_image_rejects_filename():
    assert _field_of(lambda: b.Media("image", "123", filename="a.jpg")) == "image.filename"


def test_media_requires_exactly_one_of_id_or_link():
    assert _field_of(lambda: b.image("1", link="https://x.example/a.jpg")) == "image.id"


def test_media_link_must_be_http_url():
    assert _field_of(lambda: b.video(link="ftp://x.example/a.mp4")) == "video.link"


def test_caption_over_1024_characters_is_rejected():
    assert _field_of(lambda: b.image("1", caption="x" * 1025)) == "image.caption"


def test_location_rejects_latitude_out_of_range():
    assert _field_of(lambda: b.Location(91, 0)) == "location.latitude"


def test_contacts_require_formatted_name():
    assert _field_of(lambda: b.Contacts([b.Contact("")])) == "contacts[0].name.formatted_name"


def test_reply_buttons_reject_more_than_3_buttons():
    buttons = [b.ReplyButton(f"id{i}", f"T{i}") for i in range(4)]
    assert _field_of(lambda: b.ReplyButtons("Pick", buttons)) == "interactive.action.buttons"


def test_reply_buttons_reject_title_over_20_characters():
    assert (
        _field_of(lambda: b.ReplyButtons("Pick", [b.ReplyButton("a", "x" * 21)]))
        == "interactive.action.buttons[0].reply.title"
    )


def test_reply_buttons_reject_duplicate_ids():
    buttons = [b.ReplyButton("same", "A"), b.ReplyButton("same", "B")]
    assert _field_of(lambda: b.ReplyButtons("Pick", buttons)) == "interactive.action.buttons"


def test_reply_button_id_rejects_surrounding_spaces():
    assert (
        _field_of(lambda: b.ReplyButtons("Pick", [b.ReplyButton(" a", "A")]))
        == "interactive.action.buttons[0].reply.id"
    )


def test_list_rejects_more_than_10_rows():
    rows = [b.ListRow(f"r{i}", f"Row {i}") for i in range(11)]
    assert (
        _field_of(lambda: b.ListMessage("Pick", "Options", [b.ListSection(rows)]))
        == "interactive.action.sections"
    )


def test_list_requires_section_titles_when_several_sections():
    sections = [b.ListSection([b.ListRow("a", "A")]), b.ListSection([b.ListRow("b", "B")], "S")]
    assert (
        _field_of(lambda: b.ListMessage("Pick", "Options", sections))
        == "interactive.action.sections[0].title"
    )


def test_list_rejects_media_header():
    section = [b.ListSection([b.ListRow("a", "A")])]
    header = b.Header("image", media_id="1")
    assert (
        _field_of(lambda: b.ListMessage("Pick", "Options", section, header=header))
        == "interactive.header.type"
    )


def test_list_row_description_over_72_characters_is_rejected():
    rows = [b.ListRow("a", "A", "d" * 73)]
    assert (
        _field_of(lambda: b.ListMessage("Pick", "Options", [b.ListSection(rows)]))
        == "interactive.action.sections[0].rows[0].description"
    )


def test_footer_over_60_characters_is_rejected():
    assert (
        _field_of(lambda: b.CtaUrl("Body", "Open", "https://x.example", footer="f" * 61))
        == "interactive.footer.text"
    )


def test_product_list_rejects_more_than_30_products():
    section = b.ProductSection("All", [f"SKU-{i}" for i in range(31)])
    assert (
        _field_of(lambda: b.ProductList("Picks", "For you", "1", [section]))
        == "interactive.action.sections"
    )


def test_flow_navigate_requires_screen():
    assert (
        _field_of(lambda: b.Flow("Book", "1", "token", "Book", flow_action="navigate"))
        == "interactive.action.parameters.flow_action_payload.screen"
    )


def test_flow_cta_over_20_characters_is_rejected():
    assert (
        _field_of(lambda: b.Flow("Book", "1", "t", "x" * 21, flow_action="data_exchange"))
        == "interactive.action.parameters.flow_cta"
    )


def test_template_rejects_mixed_named_and_positional_parameters():
    body = [b.TextParam("Jim", name="first_name"), b.TextParam("Doe")]
    assert _field_of(lambda: b.Template("welcome", "en", body=body)) == "template.components"


def test_template_rejects_uppercase_name():
    assert _field_of(lambda: b.Template("Welcome", "en")) == "template.name"


def test_template_rejects_invalid_named_parameter():
    body = [b.TextParam("Jim", name="First-Name")]
    assert (
        _field_of(lambda: b.Template("welcome", "en", body=body))
        == "template.components.body.parameters[0].parameter_name"
    )


def test_template_rejects_duplicate_button_indexes():
    buttons: list[b.ButtonParam] = [b.QuickReplyButton(0, "A"), b.UrlButton(0, "x")]
    assert (
        _field_of(lambda: b.Template("promo", "en", buttons=buttons))
        == "template.components.buttons"
    )


def test_currency_parameter_requires_iso_code():
    body = [b.CurrencyParam("$1", "dollars", 1000)]
    assert (
        _field_of(lambda: b.Template("promo", "en", body=body))
        == "template.components.body.parameters[0].currency.code"
    )


def test_recipient_must_be_a_phone_number():
    assert _field_of(lambda: b.build_message_payload("not-a-number", b.Text("x"))) == "to"


def test_biz_opaque_callback_data_over_512_bytes_is_rejected():
    with pytest.raises(InvalidMessageError) as info:
        b.build_message_payload("15551230001", b.Text("x"), biz_opaque_callback_data="x" * 513)
    assert info.value.field == "biz_opaque_callback_data"


def test_reaction_allows_empty_emoji_to_remove_reaction():
    assert b.Reaction("wamid.abc", "").payload() == {"message_id": "wamid.abc", "emoji": ""}


def test_invalid_input_never_reaches_the_simulator(simulator, sim_number):
    client = simulator.client(sim_number)
    with pytest.raises(InvalidMessageError):
        client.send("15551230001", b.Media("audio", "123", caption="nope"))
    assert simulator.messages(sim_number["id"]) == []


# --- 2026 types: voice notes, location and contact-info requests, carousels -----------------


def test_only_audio_can_be_a_voice_note():
    assert _field_of(lambda: b.Media("image", "123", voice=True)) == "image.voice"


def test_a_voice_note_is_audio_with_voice_true():
    assert b.audio("123", voice=True).payload() == {"id": "123", "voice": True}


def test_a_location_request_needs_a_body():
    assert _field_of(lambda: b.LocationRequest(" ")) == "interactive.body.text"


def test_a_contact_info_request_body_is_at_most_1024_characters():
    assert _field_of(lambda: b.ContactInfoRequest("x" * 1025)) == "interactive.body.text"


def _url_card(n: int, header: Literal["image", "video"] = "image") -> b.CarouselCard:
    return b.CarouselCard(
        b.Header(header, link=f"https://cdn.example.com/{n}.jpg"),
        display_text="Open",
        url=f"https://city.example/{n}",
    )


@pytest.mark.parametrize("count", [1, 11])
def test_a_carousel_needs_2_to_10_cards(count):
    cards = [_url_card(n) for n in range(count)]
    assert _field_of(lambda: b.Carousel("Parks", cards)) == "interactive.action.cards"


def test_carousel_cards_share_one_header_type():
    cards = [_url_card(0, "image"), _url_card(1, "video")]
    assert _field_of(lambda: b.Carousel("Parks", cards)) == "interactive.action.cards"


def test_carousel_cards_share_one_kind_of_button():
    quick = b.CarouselCard(
        b.Header("image", link="https://cdn.example.com/q.jpg"),
        quick_replies=[b.ReplyButton("q", "Pick")],
    )
    assert _field_of(lambda: b.Carousel("Parks", [_url_card(0), quick])) == (
        "interactive.action.cards"
    )


def test_a_carousel_card_takes_an_image_or_video_header_only():
    card = b.CarouselCard(b.Header("text", "Hi"), display_text="Open", url="https://x.example")
    assert _field_of(lambda: b.Carousel("Parks", [card, card])) == (
        "interactive.action.cards[0].header.type"
    )


def test_a_carousel_card_has_a_url_button_or_quick_replies_not_both():
    card = b.CarouselCard(
        b.Header("image", link="https://cdn.example.com/q.jpg"),
        display_text="Open",
        url="https://x.example",
        quick_replies=[b.ReplyButton("q", "Pick")],
    )
    assert _field_of(lambda: b.Carousel("Parks", [card, card])) == (
        "interactive.action.cards[0].action"
    )


def test_a_carousel_card_text_is_at_most_160_characters():
    card = b.CarouselCard(
        b.Header("image", link="https://cdn.example.com/q.jpg"),
        body="x" * 161,
        display_text="Open",
        url="https://x.example",
    )
    assert _field_of(lambda: b.Carousel("Parks", [card, card])) == (
        "interactive.action.cards[0].body.text"
    )
