"""Meta's template rules, one by one: each broken rule is one violation, named next to its
field with a stable code; a valid draft of each kind has none."""

from __future__ import annotations

from templates_mgr.drafts import TemplateDraft, compose
from templates_mgr.validation import Violation, validate, violations_by_field
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
    with_component,
)


def codes(draft: TemplateDraft) -> set[tuple[str, str]]:
    return {(v.field, v.code) for v in validate(draft)}


# ---- valid drafts ---------------------------------------------------------------------------


def test_a_complete_utility_draft_is_valid():
    assert validate(utility_draft()) == []


def test_a_named_draft_with_its_samples_is_valid():
    assert validate(named_draft()) == []


def test_a_marketing_draft_with_every_button_kind_is_valid():
    draft = with_buttons(
        utility_draft(category="MARKETING"), QUICK, dict(QUICK, text="More"), url_button(), PHONE
    )
    draft = with_buttons(draft, *draft.buttons, COPY_CODE)
    assert validate(draft) == []


def test_a_copy_code_authentication_draft_is_valid():
    assert validate(authentication_draft()) == []


def test_violations_group_by_field_for_the_form():
    grouped = violations_by_field(
        [Violation("name", "a", "first"), Violation("name", "b", "second")]
    )
    assert grouped == {"name": ["first", "second"]}


# ---- name, language, category ---------------------------------------------------------------


def test_a_name_with_capitals_or_spaces_is_refused():
    assert ("name", "name_format") in codes(utility_draft(name="Permit Ready"))


def test_a_name_longer_than_512_characters_is_refused():
    assert ("name", "name_too_long") in codes(utility_draft(name="a" * 513))


def test_a_missing_name_is_refused():
    assert ("name", "name_required") in codes(utility_draft(name=""))


def test_a_language_must_be_a_whatsapp_code():
    assert ("language", "language_format") in codes(utility_draft(language="English"))


def test_a_category_must_be_one_of_metas_three():
    assert ("category", "category_invalid") in codes(utility_draft(category="NEWS"))


def test_a_topic_must_be_a_slug():
    assert ("topic", "topic_format") in codes(utility_draft(topic="Road works!"))


# ---- header ---------------------------------------------------------------------------------


def test_a_text_header_longer_than_60_characters_is_refused():
    draft = utility_draft(header_format="TEXT", header_text="x" * 61)
    assert ("header.text", "header_too_long") in codes(draft)


def test_a_text_header_has_at_most_one_variable():
    draft = utility_draft(
        header_format="TEXT", header_text="Case {{1}} for {{2}}", header_example="C-1"
    )
    assert ("header.text", "header_variables") in codes(draft)


def test_a_header_variable_needs_a_sample():
    draft = utility_draft(header_format="TEXT", header_text="Case {{1}} update")
    assert ("header.example", "sample_missing") in codes(draft)


def test_an_unknown_header_format_is_refused():
    draft = with_component(utility_draft(), {"type": "HEADER", "format": "STICKER"})
    assert ("header.format", "header_format") in codes(draft)


def test_a_media_header_needs_an_uploaded_sample():
    draft = utility_draft(header_format="IMAGE")
    assert ("header.example", "header_sample_missing") in codes(draft)


def test_a_media_header_with_an_uploaded_sample_is_valid():
    draft = utility_draft(header_format="DOCUMENT", header_handle="4::aGFuZGxl")
    assert validate(draft) == []


def test_a_location_header_is_allowed_in_utility_templates():
    assert validate(utility_draft(header_format="LOCATION")) == []


def test_a_location_header_is_refused_outside_utility_and_marketing():
    draft = authentication_draft()
    draft = with_component(draft, {"type": "HEADER", "format": "LOCATION"})
    assert ("header.format", "authentication_header") in codes(draft)


# ---- body -----------------------------------------------------------------------------------


def test_a_body_is_required():
    assert ("body.text", "body_required") in codes(utility_draft(body_text="", body_examples=[]))


def test_a_body_longer_than_1024_characters_is_refused():
    draft = utility_draft(body_text="word " * 210, body_examples=[])
    assert ("body.text", "body_too_long") in codes(draft)


def test_positional_variables_must_be_sequential_without_gaps():
    draft = utility_draft(
        body_text="Hello {{1}}, your permit {{3}} is ready at City Hall.",
        body_examples=["Ana", "x", "P-1"],
    )
    assert ("body.text", "variables_not_sequential") in codes(draft)


def test_a_positional_variable_used_twice_counts_once():
    draft = utility_draft(
        body_text="Hello {{1}}, permit {{2}} is ready; {{1}}, bring your ID please.",
    )
    assert validate(draft) == []


def test_a_positional_template_cannot_use_names():
    draft = utility_draft(body_text="Hello {{name}}, your permit is ready for pickup today.")
    assert ("body.text", "variable_not_numbered") in codes(draft)


def test_named_parameters_must_be_lowercase_with_underscores():
    draft = named_draft(
        body_text="Hello {{First Name}}, your hearing is on {{hearing_date}} at the court.",
    )
    assert ("body.text", "variable_name") in codes(draft)


def test_a_named_parameter_needs_its_sample():
    draft = named_draft(body_examples={"first_name": "Ana"})
    found = [v for v in validate(draft) if v.code == "sample_missing"]
    assert [v.field for v in found] == ["body.example"]
    assert "{{hearing_date}}" in found[0].message


def test_the_body_cannot_start_with_a_variable():
    draft = utility_draft(body_text="{{1}}, your permit {{2}} is ready for pickup at City Hall.")
    assert ("body.text", "variable_at_edge") in codes(draft)


def test_the_body_cannot_end_with_a_variable():
    draft = utility_draft(body_text="Hello there, your permit is ready: {{1}} {{2}}")
    assert ("body.text", "variable_at_edge") in codes(draft)


def test_two_variables_cannot_be_adjacent():
    draft = utility_draft(body_text="Hello {{1}}{{2}}, your permit is ready for pickup today.")
    assert ("body.text", "variables_adjacent") in codes(draft)


def test_every_body_variable_needs_a_sample():
    draft = utility_draft(body_examples=["Ana"])
    found = {v.code: v for v in validate(draft)}
    assert found["sample_missing"].field == "body.example"
    assert "{{2}}" in found["sample_missing"].message


def test_too_many_variables_for_a_short_body_is_refused():
    draft = utility_draft(body_text="Hi {{1}} and {{2}} or {{3}} ok", body_examples=["a", "b", "c"])
    assert ("body.text", "too_many_variables") in codes(draft)


# ---- footer ---------------------------------------------------------------------------------


def test_a_footer_longer_than_60_characters_is_refused():
    assert ("footer.text", "footer_too_long") in codes(utility_draft(footer_text="f" * 61))


def test_a_footer_cannot_have_variables():
    assert ("footer.text", "footer_variables") in codes(utility_draft(footer_text="From {{1}}"))


# ---- buttons --------------------------------------------------------------------------------


def test_at_most_ten_buttons():
    draft = with_buttons(utility_draft(), *[dict(QUICK, text=f"Option {i}") for i in range(11)])
    assert ("buttons", "too_many_buttons") in codes(draft)


def test_quick_replies_must_be_grouped_together():
    draft = with_buttons(utility_draft(), QUICK, url_button(), dict(QUICK, text="Other"))
    assert ("buttons", "quick_replies_not_grouped") in codes(draft)


def test_at_most_two_url_buttons():
    draft = with_buttons(utility_draft(), url_button(), url_button(), url_button())
    assert ("buttons", "too_many_url") in codes(draft)


def test_at_most_one_phone_button():
    draft = with_buttons(utility_draft(), PHONE, PHONE)
    assert ("buttons", "too_many_phone_number") in codes(draft)


def test_at_most_one_copy_code_button():
    draft = with_buttons(utility_draft(category="MARKETING"), COPY_CODE, COPY_CODE)
    assert ("buttons", "too_many_copy_code") in codes(draft)


def test_a_copy_code_button_is_for_marketing_templates_only():
    draft = with_buttons(utility_draft(), COPY_CODE)
    assert ("buttons.0.type", "copy_code_not_marketing") in codes(draft)


def test_a_button_label_is_at_most_25_characters():
    draft = with_buttons(utility_draft(), dict(QUICK, text="x" * 26))
    assert ("buttons.0.text", "button_text_too_long") in codes(draft)


def test_a_button_needs_a_label():
    draft = with_buttons(utility_draft(), dict(QUICK, text=""))
    assert ("buttons.0.text", "button_text_required") in codes(draft)


def test_a_url_buttons_variable_must_be_at_the_end_of_the_link():
    draft = with_buttons(utility_draft(), url_button(url="https://city.gov/{{1}}/status"))
    assert ("buttons.0.url", "url_variable_not_at_end") in codes(draft)


def test_a_url_button_has_one_variable_at_most():
    draft = with_buttons(utility_draft(), url_button(url="https://city.gov/{{1}}/{{2}}"))
    assert ("buttons.0.url", "url_variables") in codes(draft)


def test_a_dynamic_url_needs_a_sample():
    draft = with_buttons(utility_draft(), url_button(example=[]))
    assert ("buttons.0.example", "sample_missing") in codes(draft)


def test_a_url_must_be_a_full_web_address():
    draft = with_buttons(utility_draft(), url_button(url="city.gov/case"))
    assert ("buttons.0.url", "url_invalid") in codes(draft)


def test_a_phone_button_needs_a_number_with_its_country_code():
    draft = with_buttons(utility_draft(), dict(PHONE, phone_number="call me"))
    assert ("buttons.1.phone_number", "phone_invalid") in codes(
        with_buttons(utility_draft(), QUICK, dict(PHONE, phone_number="call me"))
    )
    assert ("buttons.0.phone_number", "phone_invalid") in codes(draft)


def test_a_flow_button_needs_its_flow():
    draft = with_buttons(utility_draft(), dict(FLOW, flow_id=""))
    assert ("buttons.0.flow_id", "flow_required") in codes(draft)


def test_a_flow_button_that_navigates_needs_its_first_screen():
    draft = with_buttons(utility_draft(), dict(FLOW, navigate_screen=""))
    assert ("buttons.0.navigate_screen", "flow_screen_required") in codes(draft)


def test_a_complete_flow_button_is_valid():
    assert validate(with_buttons(utility_draft(), FLOW)) == []


def test_an_otp_button_belongs_in_authentication_templates_only():
    draft = with_buttons(utility_draft(), {"type": "OTP", "otp_type": "COPY_CODE"})
    assert ("buttons.0.otp_type", "otp_outside_authentication") in codes(draft)


# ---- authentication -------------------------------------------------------------------------


def test_an_authentication_template_has_no_text_of_its_own():
    draft = compose(
        name="login_code",
        language="en_US",
        category="AUTHENTICATION",
        body_text="Your code is {{1}} today friend",
        buttons=[{"type": "OTP", "otp_type": "COPY_CODE"}],
    )
    assert ("body.text", "authentication_body_text") in codes(draft)


def test_the_code_expiry_is_between_1_and_90_minutes():
    draft = compose(
        name="login_code",
        language="en_US",
        category="AUTHENTICATION",
        add_security_recommendation=True,
        code_expiration_minutes=91,
        buttons=[{"type": "OTP", "otp_type": "COPY_CODE"}],
    )
    assert ("footer.code_expiration_minutes", "code_expiration") in codes(draft)


def test_an_authentication_template_has_exactly_one_otp_button():
    draft = with_buttons(authentication_draft(), QUICK)
    assert ("buttons", "authentication_buttons") in codes(draft)


def test_an_otp_button_needs_a_known_otp_type():
    assert ("buttons.0.otp_type", "otp_type") in codes(authentication_draft(otp_type="SMS"))


def test_one_tap_autofill_needs_the_apps_package_and_signature():
    draft = authentication_draft(otp_type="ONE_TAP")
    assert ("buttons.0.package_name", "otp_app") in codes(draft)
    complete = authentication_draft(
        otp_type="ONE_TAP",
        supported_apps=[{"package_name": "gov.city.app", "signature_hash": "K8a/AINcGX7"}],
    )
    assert validate(complete) == []


def test_zero_tap_needs_metas_terms_accepted():
    draft = authentication_draft(
        otp_type="ZERO_TAP", package_name="gov.city.app", signature_hash="K8a/AINcGX7"
    )
    assert ("buttons.0.zero_tap_terms_accepted", "zero_tap_terms") in codes(draft)


# ---- hostile shapes -------------------------------------------------------------------------


def test_a_malformed_component_list_is_one_violation_not_a_crash():
    draft = TemplateDraft("x", "en", "UTILITY", components=("not a component",))  # type: ignore[arg-type]
    assert codes(draft) == {("components", "component_invalid")}


def test_a_draft_without_a_body_says_so():
    draft = TemplateDraft("permit_ready", "en_US", "UTILITY", components=())
    assert ("body.text", "body_required") in codes(draft)


def test_messages_are_plain_language():
    for violation in validate(utility_draft(name="Bad!", body_text="{{1}}{{2}}")):
        assert violation.message[0].isupper() and violation.message.endswith((".", ")"))
