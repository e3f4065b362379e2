"""The editor: every component as plain form fields, a sample field per variable, buttons
added, moved and removed without JavaScript, each violation next to its field with a
summary linking to it, and the live preview endpoint."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from templates_mgr.models import MessageTemplate, TemplateVersion
from tenants.scoping import agency_scope
from tests.consent.factories import TopicFactory
from tests.templates_mgr.pages.factories import approved_pair, draft_template

pytestmark = pytest.mark.django_db
Status = MessageTemplate.Status


def fields(**overrides: str) -> dict[str, str]:
    """A complete, valid utility template as the editor posts it."""
    data = {
        "name": "permit_ready",
        "language": "en_US",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "topic": "",
        "header_format": "NONE",
        "body_text": "Hello {{1}}, your permit {{2}} is ready for pickup.",
        "sample_body_1": "Ana",
        "sample_body_2": "P-1042",
        "footer_text": "City of Springfield",
        "button_count": "0",
        "action": "save",
    }
    data.update(overrides)
    return data


def _templates(agency) -> list[MessageTemplate]:
    with agency_scope(agency):
        return list(MessageTemplate.objects.order_by("pk"))


def test_the_new_template_page_has_every_component(admin_client, waba):
    page = admin_client.get(reverse("templates_mgr:create", args=[waba.pk])).text

    for label in ("Name", "Language", "Category", "Header", "Message", "Footer", "Add a button"):
        assert label in page
    for option in ("Text", "Image", "Video", "Document (PDF)", "Location"):
        assert f">{option}</option>" in page
    assert 'hx-post="/templates/preview/"' in page


def test_the_opt_in_topic_is_chosen_among_the_agencys_consent_topics(
    admin_client, agency_a, agency_b, waba
):
    TopicFactory(agency=agency_a, slug="alerts", name="Emergency alerts")
    TopicFactory(agency=agency_b, slug="elsewhere", name="Another agency's topic")
    page = admin_client.get(reverse("templates_mgr:create", args=[waba.pk])).text
    topic_select = page[
        page.index('id="id_topic"') : page.index("</select>", page.index('id="id_topic"'))
    ]
    assert '<option value="alerts">Emergency alerts</option>' in topic_select
    assert "Another agency" not in topic_select
    response = admin_client.post(
        reverse("templates_mgr:create", args=[waba.pk]), fields(topic="alerts")
    )
    assert response.status_code == 302
    (template,) = _templates(agency_a)
    assert template.topic == "alerts"


def test_saving_creates_a_draft_in_metas_shape(admin_client, agency_a, waba):
    response = admin_client.post(reverse("templates_mgr:create", args=[waba.pk]), fields())

    [template] = _templates(agency_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("templates_mgr:detail", args=[template.pk])
    assert template.status == Status.DRAFT
    assert template.components == [
        {
            "type": "BODY",
            "text": "Hello {{1}}, your permit {{2}} is ready for pickup.",
            "example": {"body_text": [["Ana", "P-1042"]]},
        },
        {"type": "FOOTER", "text": "City of Springfield"},
    ]


def test_refresh_draws_a_sample_field_for_each_variable_typed(admin_client, waba):
    data = fields(body_text="Dear {{1}}, case {{2}} on {{3}}.", action="refresh")
    del data["sample_body_1"], data["sample_body_2"]

    page = admin_client.post(reverse("templates_mgr:create", args=[waba.pk]), data).text

    for n in ("1", "2", "3"):
        assert f'id="id_sample_body_{n}" name="sample_body_{n}"' in page
    assert "Sample for {{3}}" in page


def test_named_variables_get_named_samples_and_a_named_example(admin_client, agency_a, waba):
    data = fields(
        parameter_format="NAMED",
        body_text="Hello {{first_name}}, your permit is ready.",
        sample_body_first_name="Ana",
    )

    admin_client.post(reverse("templates_mgr:create", args=[waba.pk]), data)

    [template] = _templates(agency_a)
    assert template.components[0]["example"] == {
        "body_text_named_params": [{"param_name": "first_name", "example": "Ana"}]
    }


def test_check_shows_each_violation_next_to_its_field_and_in_a_summary(
    admin_client, agency_a, waba
):
    data = fields(name="Permit Ready!", sample_body_2="", action="check")

    response = admin_client.post(reverse("templates_mgr:create", args=[waba.pk]), data)

    assert response.status_code == 422
    page = response.text
    assert "data-error-summary" in page
    assert 'href="#id_name"' in page and 'href="#id_sample_body_2"' in page
    name_input = re.search(r'<input[^>]*id="id_name"[^>]*>', page)
    assert name_input and 'aria-describedby="id_name-hint id_name-error"' in name_input.group(0)
    assert 'aria-invalid="true"' in name_input.group(0)
    assert 'id="id_sample_body_2-error"' in page
    assert _templates(agency_a) == []  # nothing saved, nothing lost: the values are kept
    assert 'value="Permit Ready!"' in page


def test_check_with_a_valid_template_saves_it_and_opens_the_pre_screen(
    admin_client, agency_a, waba
):
    response = admin_client.post(
        reverse("templates_mgr:create", args=[waba.pk]), fields(action="check")
    )

    [template] = _templates(agency_a)
    assert response["Location"] == reverse("templates_mgr:submit", args=[template.pk])


def test_a_button_is_added_with_its_fields(admin_client, waba):
    page = admin_client.post(
        reverse("templates_mgr:create", args=[waba.pk]), fields(action="add_button")
    ).text

    assert 'name="button_count" value="1"' in page
    assert 'id="id_button_0_type"' in page and 'id="id_button_0_url"' in page
    assert 'data-focus="id_button_0_type"' in page


def _buttons(**extra: str) -> dict[str, str]:
    data = fields(
        button_count="3",
        button_0_type="QUICK_REPLY",
        button_0_text="Yes",
        button_1_type="URL",
        button_1_text="Track it",
        button_1_url="https://permits.example.gov/t/{{1}}",
        button_1_example="P-1042",
        button_2_type="PHONE_NUMBER",
        button_2_text="Call us",
        button_2_phone_number="+12025550143",
    )
    data.update(extra)
    return data


def test_buttons_are_saved_in_order_with_a_dynamic_link_sample(admin_client, agency_a, waba):
    admin_client.post(reverse("templates_mgr:create", args=[waba.pk]), _buttons())

    [template] = _templates(agency_a)
    assert template.components[-1] == {
        "type": "BUTTONS",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Yes"},
            {
                "type": "URL",
                "text": "Track it",
                "url": "https://permits.example.gov/t/{{1}}",
                "example": ["P-1042"],
            },
            {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+12025550143"},
        ],
    }


def test_moving_a_button_up_reorders_the_form(admin_client, waba):
    page = admin_client.post(
        reverse("templates_mgr:create", args=[waba.pk]), _buttons(action="button_up_2")
    ).text

    assert re.search(r'id="id_button_1_text"[^>]*value="Call us"', page)
    assert re.search(r'id="id_button_2_text"[^>]*value="Track it"', page)


def test_removing_a_button_keeps_the_others(admin_client, waba):
    page = admin_client.post(
        reverse("templates_mgr:create", args=[waba.pk]), _buttons(action="remove_button_0")
    ).text

    assert 'name="button_count" value="2"' in page
    assert re.search(r'id="id_button_0_text"[^>]*value="Track it"', page)


def test_a_button_violation_is_shown_on_that_buttons_field(admin_client, waba):
    data = _buttons(button_1_example="", action="check")

    page = admin_client.post(reverse("templates_mgr:create", args=[waba.pk]), data).text

    assert 'id="id_button_1_example-error"' in page
    assert 'href="#id_button_1_example"' in page


def test_editing_an_approved_template_saves_a_new_version_and_keeps_metas(
    admin_client, agency_a, waba
):
    english, _ = approved_pair(agency_a, waba)
    data = fields(body_text="Hi {{1}}, permit {{2}} is ready. Bring ID.")

    response = admin_client.post(reverse("templates_mgr:edit", args=[english.pk]), data)

    assert response.status_code == 302
    with agency_scope(agency_a):
        english.refresh_from_db()
        latest = TemplateVersion.objects.filter(template=english).order_by("-number").first()
    assert english.status == Status.APPROVED
    assert "Bring ID" not in english.components[0]["text"]
    assert latest is not None and "Bring ID" in latest.components[0]["text"]


def test_the_edit_page_starts_from_the_newest_version(admin_client, agency_a, waba):
    english, _ = approved_pair(agency_a, waba)
    admin_client.post(
        reverse("templates_mgr:edit", args=[english.pk]),
        fields(body_text="Hi {{1}}, permit {{2}} is ready. Bring ID."),
    )

    page = admin_client.get(reverse("templates_mgr:edit", args=[english.pk])).text

    assert "Bring ID." in page
    assert re.search(r'id="id_name"[^>]*value="permit_ready"[^>]*readonly', page)


def test_a_translation_keeps_the_name_in_another_language(admin_client, agency_a, waba):
    source = draft_template(agency_a, waba)
    data = fields(
        name="something_else",
        language="es",
        body_text="Hola {{1}}, su permiso {{2}} está listo.",
        footer_text="Ciudad de Springfield",
    )

    admin_client.post(reverse("templates_mgr:translate", args=[source.pk]), data)

    spanish = [t for t in _templates(agency_a) if t.language == "es"]
    assert [t.name for t in spanish] == ["permit_ready"]


def test_a_second_template_with_a_taken_name_is_refused_next_to_the_name(
    admin_client, agency_a, waba
):
    draft_template(agency_a, waba)

    response = admin_client.post(reverse("templates_mgr:create", args=[waba.pk]), fields())

    assert response.status_code == 422
    assert 'id="id_name-error"' in response.text
    assert "already has a template" in response.text


def test_a_supervisor_cannot_open_the_editor(supervisor_client, waba):
    response = supervisor_client.get(reverse("templates_mgr:create", args=[waba.pk]))
    assert response.status_code == 403


# --- the live preview --------------------------------------------------------------------


def test_the_preview_shows_the_message_with_the_samples(admin_client):
    response = admin_client.post(reverse("templates_mgr:preview"), fields(sample_keys="1,2"))

    assert response.status_code == 200
    assert "data-template-preview" in response.text
    assert "<strong>Ana</strong>" in response.text and "<strong>P-1042</strong>" in response.text
    assert "City of Springfield" in response.text
    assert "hx-swap-oob" not in response.text  # the sample fields have not changed


def test_the_preview_sends_new_sample_fields_when_the_variables_change(admin_client):
    data = fields(body_text="Hello {{1}}, permit {{2}}, on {{3}}.", sample_keys="1,2")

    text = admin_client.post(reverse("templates_mgr:preview"), data).text

    assert 'id="body-samples" hx-swap-oob="true"' in text
    assert 'id="id_sample_body_3"' in text
    assert re.search(r'id="id_sample_body_1"[^>]*value="Ana"', text)  # what was typed stays


def test_the_preview_escapes_html_in_the_texts(admin_client):
    data = fields(body_text="<script>alert(1)</script> {{1}} x {{2}}", sample_body_1="<b>Ana</b>")

    text = admin_client.post(reverse("templates_mgr:preview"), data).text

    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;" in text and "&lt;b&gt;Ana&lt;/b&gt;" in text


def test_a_supervisor_may_not_use_the_preview_endpoint(supervisor_client):
    assert supervisor_client.post(reverse("templates_mgr:preview"), fields()).status_code == 403


def test_the_translate_link_starts_in_the_language_asked_for(admin_client, agency_a, waba):
    source = draft_template(agency_a, waba)

    page = admin_client.get(
        reverse("templates_mgr:translate", args=[source.pk]), {"language": "es"}
    ).text

    assert '<option value="es" selected>' in page
    assert "Hello {{1}}, your permit {{2}} is ready for pickup." in page  # to translate


def test_an_authentication_template_has_metas_body_expiry_and_otp_button(
    admin_client, agency_a, waba
):
    data = fields(
        name="sign_in_code",
        category="AUTHENTICATION",
        body_text="",
        footer_text="",
        security_recommendation="1",
        code_expiration_minutes="10",
        button_count="1",
        button_0_type="OTP",
        button_0_otp_type="COPY_CODE",
        button_0_text="Copy code",
        action="check",
    )

    response = admin_client.post(reverse("templates_mgr:create", args=[waba.pk]), data)

    [template] = _templates(agency_a)
    assert response["Location"] == reverse("templates_mgr:submit", args=[template.pk])
    assert template.components == [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 10},
        {
            "type": "BUTTONS",
            "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}],
        },
    ]


def test_a_location_header_needs_no_sample(admin_client, agency_a, waba):
    admin_client.post(
        reverse("templates_mgr:create", args=[waba.pk]), fields(header_format="LOCATION")
    )

    [template] = _templates(agency_a)
    assert template.components[0] == {"type": "HEADER", "format": "LOCATION"}


def test_a_text_header_with_a_variable_keeps_its_sample(admin_client, agency_a, waba):
    admin_client.post(
        reverse("templates_mgr:create", args=[waba.pk]),
        fields(header_format="TEXT", header_text="Permit {{1}}", sample_header="P-1042"),
    )

    [template] = _templates(agency_a)
    assert template.components[0] == {
        "type": "HEADER",
        "format": "TEXT",
        "text": "Permit {{1}}",
        "example": {"header_text": ["P-1042"]},
    }
    page = admin_client.get(reverse("templates_mgr:edit", args=[template.pk])).text
    assert re.search(r'id="id_sample_header"[^>]*value="P-1042"', page)
