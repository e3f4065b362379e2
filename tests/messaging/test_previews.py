"""The conversation list's snippet of every message type, inbound and outbound: one short
line in plain words, whatever a citizen put in the content."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from messaging.previews import MAX_LENGTH, preview
from messaging.webhooks.inbound import stored_form
from messaging.whatsapp import builders as b


def inbound(kind: str, payload: Any) -> str:
    """The snippet of a citizen's message, stored as the webhook path stores it."""
    return preview(kind, stored_form(kind, {"type": kind, kind: payload}))


def outbound(message: b.OutboundMessage) -> str:
    return preview(message.message_type, b.stored_form(message))


# --- inbound ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "payload", "snippet"),
    [
        ("text", {"body": "Is the library open today?"}, "Is the library open today?"),
        ("image", {"id": "1", "caption": "The pothole"}, "📷 Photo: The pothole"),
        ("image", {"id": "1"}, "📷 Photo"),
        ("video", {"id": "1", "caption": "Flooding"}, "🎥 Video: Flooding"),
        ("audio", {"id": "1", "voice": True}, "🎤 Voice message"),
        ("audio", {"id": "1"}, "🎵 Audio"),
        ("document", {"id": "1", "filename": "lease.pdf"}, "📄 Document: lease.pdf"),
        ("document", {"id": "1", "caption": "My lease"}, "📄 Document: My lease"),
        ("sticker", {"id": "1", "animated": False}, "Sticker"),
        (
            "location",
            {"latitude": 1, "longitude": 2, "name": "City Hall"},
            "📍 Location: City Hall",
        ),
        ("location", {"latitude": 1, "longitude": 2}, "📍 Location"),
        ("reaction", {"message_id": "wamid.x", "emoji": "👍"}, "Reacted 👍"),
        ("reaction", {"message_id": "wamid.x"}, "Removed a reaction"),
        ("button", {"payload": "yes-1", "text": "Yes, keep me posted"}, "Yes, keep me posted"),
        ("order", {"catalog_id": "1", "product_items": [{}, {}]}, "🛒 Order of 2 items"),
        ("unsupported", {"errors": [{"code": 131051}]}, "Unsupported message"),
        ("a_type_of_2030", {}, "Unsupported message"),
        ("request_welcome", {}, "Opened the chat"),
        ("revoke", {"original_message_id": "wamid.x"}, "Message deleted"),
    ],
)
def test_a_citizens_message_is_described_in_words(kind, payload, snippet):
    assert inbound(kind, payload) == snippet


def test_a_contact_card_names_the_people_shared():
    cards = [
        {"name": {"formatted_name": "Ana Ruiz"}},
        {"name": {"first_name": "Ben", "last_name": "Okafor"}},
    ]
    assert inbound("contacts", cards) == "👤 Contacts: Ana Ruiz, Ben Okafor"


def test_a_tapped_reply_button_shows_its_title():
    reply = {"type": "button_reply", "button_reply": {"id": "b1", "title": "Report a problem"}}
    assert inbound("interactive", reply) == "Report a problem"


def test_a_chosen_list_row_shows_its_title():
    reply = {"type": "list_reply", "list_reply": {"id": "r1", "title": "Trash pickup"}}
    assert inbound("interactive", reply) == "Trash pickup"


def test_a_sent_form_says_so():
    reply = {"type": "nfm_reply", "nfm_reply": {"name": "flow", "response_json": "{}"}}
    assert inbound("interactive", reply) == "📝 Form sent"


def test_an_edit_shows_the_new_text():
    edit = {"original_message_id": "wamid.x", "message": {"type": "text", "text": {"body": "5 pm"}}}
    assert inbound("edit", edit) == "Edited: 5 pm"


def test_text_is_one_line_without_control_characters():
    body = "  Line one\r\n\tline\x1b[31m two\u2028three \u202ereversed\u0007  "
    assert inbound("text", {"body": body}) == "Line one line[31m two three reversed"


def test_long_text_is_cut_with_an_ellipsis():
    snippet = inbound("text", {"body": "word " * 1_000})
    assert len(snippet) == MAX_LENGTH
    assert snippet.endswith("word…")


def test_an_emoji_sequence_is_kept_whole():
    family = "👩\u200d👩\u200d👧"
    assert inbound("text", {"body": f"{family} thanks"}) == f"{family} thanks"


# --- outbound ---------------------------------------------------------------------------


def test_a_reply_shows_its_text():
    assert outbound(b.Text("We fixed the light.")) == "We fixed the light."


def test_a_sent_photo_shows_its_caption():
    assert outbound(b.image(link="https://e.gov/a.jpg", caption="Map")) == "📷 Photo: Map"


def test_a_sent_voice_note_is_a_voice_message():
    assert outbound(b.audio("123", voice=True)) == "🎤 Voice message"


def test_a_template_shows_its_name():
    template = b.Template("road_closure", "en_US", body=[b.TextParam("Main St")])
    assert outbound(template) == "Template: road_closure"


def test_a_template_stored_with_its_text_shows_the_text():
    content = {"type": "template", "template": {"name": "x", "body": "Your case is closed."}}
    assert preview("template", content) == "Your case is closed."


def test_interactive_buttons_show_their_body():
    buttons = b.ReplyButtons("Was this helpful?", [b.ReplyButton("y", "Yes")])
    assert outbound(buttons) == "Was this helpful?"


def test_a_reaction_we_sent_says_reacted():
    assert outbound(b.Reaction("wamid.x", "❤️")) == "Reacted ❤️"


def test_a_location_we_sent_shows_its_name():
    assert outbound(b.Location(1.0, 2.0, name="Clinic")) == "📍 Location: Clinic"


# --- hostile content --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("text", {"type": "text", "text": "not an object"}),
        ("text", {"type": "text", "text": {"body": ["a", "list"]}}),
        ("image", {"type": "image", "image": {"caption": {"nested": True}}}),
        ("contacts", {"type": "contacts", "contacts": {"name": "not a list"}}),
        ("contacts", {"type": "contacts", "contacts": [None, 3, {"name": "Ana"}]}),
        ("interactive", {"type": "interactive", "interactive": {"type": ["list_reply"]}}),
        ("order", {"type": "order", "order": {"product_items": "many"}}),
        ("reaction", {"type": "reaction", "reaction": {"emoji": 7}}),
        ("edit", {"type": "edit", "edit": {"message": {"type": "edit", "edit": {}}}}),
        ("text", {}),
    ],
)
def test_malformed_content_gives_a_label_never_an_error(kind, content):
    snippet = preview(kind, content)
    assert 0 < len(snippet) <= MAX_LENGTH


def test_content_that_is_not_an_object_reads_as_unsupported():
    assert preview("text", None) == "Message"  # type: ignore[arg-type]
    assert preview(None, "text") == "Unsupported message"  # type: ignore[arg-type]


def test_a_lone_surrogate_never_reaches_the_database():
    snippet = inbound("text", {"body": "bad \ud800 half"})
    snippet.encode("utf-8")  # raises if a surrogate were left
    assert snippet == "bad half"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)
KINDS = [
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
    "reaction",
    "order",
    "system",
    "edit",
    "revoke",
    "errors",
    "unsupported",
]


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(KINDS) | st.text(max_size=20), payload=json_values)
def test_any_json_gives_one_short_line(kind, payload):
    snippet = preview(kind, {"type": kind, kind: payload})
    assert 0 < len(snippet) <= MAX_LENGTH
    assert "\n" not in snippet and snippet == snippet.strip()
    snippet.encode("utf-8")


@settings(max_examples=100, deadline=None)
@given(content=json_values)
def test_any_json_as_the_whole_content_never_raises(content):
    assert len(preview("text", content)) <= MAX_LENGTH
