"""The preview is faithful for every component, from a draft with its samples or from a
template with real values; the variables it lists are what a send fills."""

from __future__ import annotations

from templates_mgr.drafts import TemplateDraft
from templates_mgr.models import MessageTemplate
from templates_mgr.preview import (
    PreviewButton,
    render_draft_preview,
    render_preview,
    template_variables,
)
from tests.templates_mgr.factories import (
    COPY_CODE,
    FLOW,
    PHONE,
    QUICK,
    authentication_draft,
    named_draft,
    url_button,
    utility_draft,
    with_buttons,
)


def text(segments) -> str:
    return "".join(s.text for s in segments)


def test_a_draft_previews_with_its_samples():
    preview = render_draft_preview(utility_draft())
    assert text(preview.body) == "Hello Ana, your permit P-1042 is ready for pickup at City Hall."
    assert preview.footer == "City of Springfield"
    assert preview.complete


def test_real_values_replace_the_samples():
    preview = render_draft_preview(utility_draft(), {"var_1": "Luis", "var_2": "P-9"})
    assert text(preview.body) == "Hello Luis, your permit P-9 is ready for pickup at City Hall."


def test_a_missing_value_shows_its_placeholder_and_is_listed():
    preview = render_draft_preview(utility_draft(), {"var_1": "Luis"})
    assert [s.text for s in preview.body if s.missing] == ["{{2}}"]
    assert preview.missing == ("{{2}}",)


def test_named_parameters_preview_with_their_samples():
    preview = render_draft_preview(named_draft())
    assert text(preview.body) == "Hello Ana, your hearing is on May 3 at the court."
    assert [v.key for v in template_variables(named_draft())] == [
        "var_first_name",
        "var_hearing_date",
    ]


def test_a_text_header_previews_with_its_sample():
    draft = utility_draft(header_format="TEXT", header_text="Permit {{1}}", header_example="P-1")
    assert text(render_draft_preview(draft).header_text) == "Permit P-1"


def test_a_media_header_shows_its_kind_and_the_samples_file_name():
    draft = utility_draft(header_format="DOCUMENT", header_handle="4::x")
    preview = render_draft_preview(draft, sample_name="notice.pdf (PDF)")
    assert (preview.header_media, preview.header_media_name) == ("document", "notice.pdf (PDF)")
    assert preview.complete  # the editor's sample stands in for the file


def test_a_media_header_without_a_file_is_still_to_fill_when_sending():
    template = MessageTemplate(
        name="notice",
        language="en_US",
        category="UTILITY",
        components=[{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Hi there."}],
    )
    assert render_preview(template, {}).missing == ("header image",)
    link = "https://files.city.gov/a.jpg"
    assert render_preview(template, {"header_media": link}).header_media_link == link


def test_a_location_header_shows_the_place():
    draft = utility_draft(header_format="LOCATION")
    values = {
        "var_1": "Ana",
        "var_2": "P-1",
        "header_latitude": "39.78",
        "header_longitude": "-89.65",
        "header_location_name": "City Hall",
        "header_location_address": "300 S 2nd St",
    }
    preview = render_draft_preview(draft, values)
    assert preview.header_media == "location"
    assert preview.header_location == ("City Hall", "300 S 2nd St", "39.78, -89.65")
    assert render_draft_preview(draft, {"var_1": "Ana", "var_2": "P-1"}).missing == (
        "header location",
    )


def test_every_button_kind_previews_with_its_target():
    draft = with_buttons(
        utility_draft(category="MARKETING"), QUICK, url_button(), PHONE, COPY_CODE, FLOW
    )
    buttons = render_draft_preview(draft).buttons
    assert buttons == (
        PreviewButton("QUICK_REPLY", "Stop reminders"),
        PreviewButton("URL", "Track my case", "https://city.gov/case/C-1042"),
        PreviewButton("PHONE_NUMBER", "Call us", "+1 555 010 0100"),
        PreviewButton("COPY_CODE", "Copy offer code", "FALL25"),
        PreviewButton("FLOW", "Book a slot"),
    )


def test_an_authentication_template_shows_whatsapps_own_text():
    preview = render_draft_preview(authentication_draft())
    assert text(preview.body) == (
        "123456 is your verification code. For your security, do not share this code."
    )
    assert preview.footer == "This code expires in 10 minutes."
    assert preview.buttons == (PreviewButton("OTP", "Copy code", "123456"),)


def test_an_authentication_preview_without_the_code_says_so():
    draft = authentication_draft()
    preview = render_preview(draft, {})
    assert preview.missing == ("one-time code",)
    assert preview.body[0].text == "{{code}}"


def test_a_saved_template_previews_like_its_draft():
    draft = utility_draft()
    template = MessageTemplate(
        name=draft.name,
        language=draft.language,
        category=draft.category,
        components=list(draft.components),
    )
    values = {"var_1": "Ana", "var_2": "P-1042"}
    assert render_preview(template, values).body == render_draft_preview(draft).body


def test_a_malformed_draft_previews_what_it_can():
    draft = TemplateDraft("x", "en", "UTILITY", components=({"type": "BODY"}, "junk"))  # type: ignore[arg-type]
    preview = render_draft_preview(draft)
    assert preview.body == () and preview.complete
