"""Hostile input is normal input: huge fields, markup, NUL bytes, forged counts and actions,
wrong or empty files — each gets a clear message next to its field, never a 500."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from templates_mgr.models import HeaderSample, MessageTemplate
from tenants.scoping import agency_scope
from tests.templates_mgr.pages.test_editor import fields

pytestmark = pytest.mark.django_db
# The smallest valid PNG (one pixel).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _create(client, waba, **overrides):
    return client.post(reverse("templates_mgr:create", args=[waba.pk]), fields(**overrides))


def _count(agency) -> int:
    with agency_scope(agency):
        return MessageTemplate.objects.count()


def test_a_huge_body_is_refused_by_name_not_stored(admin_client, agency_a, waba):
    response = _create(admin_client, waba, body_text="A" * 200_000)

    assert response.status_code == 422
    assert "far too long (200,000 characters)" in response.text
    assert 'id="id_body_text-error"' in response.text
    assert _count(agency_a) == 0


def test_markup_in_the_name_is_a_named_problem_and_shown_escaped(admin_client, agency_a, waba):
    response = _create(admin_client, waba, name="<script>alert(1)</script>", action="check")

    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text
    assert 'id="id_name-error"' in response.text


def test_markup_in_the_body_is_stored_as_text_and_escaped_on_every_page(
    admin_client, agency_a, waba
):
    body = "Hi {{1}}, <img src=x onerror=alert(1)> permit {{2}} ready."
    _create(admin_client, waba, body_text=body)
    with agency_scope(agency_a):
        template = MessageTemplate.objects.get()

    for name in ("detail", "edit", "submit"):
        page = admin_client.get(reverse(f"templates_mgr:{name}", args=[template.pk])).text
        assert "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_nul_bytes_are_dropped_not_a_database_error(admin_client, agency_a, waba):
    response = _create(admin_client, waba, footer_text="City\x00 of Springfield")

    assert response.status_code == 302
    with agency_scope(agency_a):
        assert MessageTemplate.objects.get().components[-1]["text"] == "City of Springfield"


@pytest.mark.parametrize("count", ["999999", "-3", "many", ""])
def test_a_forged_button_count_is_bounded(admin_client, waba, count):
    response = _create(admin_client, waba, button_count=count, action="refresh")

    assert response.status_code == 200


def test_more_buttons_than_meta_allows_is_a_named_problem(admin_client, waba):
    response = _create(admin_client, waba, button_count="11", action="save")

    assert response.status_code == 422
    assert "at most 10 buttons" in response.text


@pytest.mark.parametrize("action", ["button_up_x", "remove_button_99", "<b>", "x" * 500])
def test_an_unknown_action_is_a_plain_save(admin_client, agency_a, waba, action):
    response = _create(admin_client, waba, action=action)

    assert response.status_code == 302
    assert _count(agency_a) == 1


def test_an_unknown_choice_is_named_next_to_its_field(admin_client, waba):
    response = _create(admin_client, waba, category="LOTTERY", header_format="<svg>")

    assert response.status_code == 422
    assert 'id="id_category-error"' in response.text
    assert 'id="id_header_format-error"' in response.text


def test_a_file_of_the_wrong_type_is_refused_next_to_the_file_input(admin_client, waba):
    upload = SimpleUploadedFile("evil.html", b"<script>alert(1)</script>", "text/html")
    data = fields(header_format="IMAGE", action="upload")

    response = admin_client.post(
        reverse("templates_mgr:create", args=[waba.pk]), {**data, "header_file": upload}
    )

    assert response.status_code == 200
    assert 'id="id_header_file-error"' in response.text
    assert "must be one of: image/jpeg, image/png" in response.text


def test_an_empty_file_is_refused(admin_client, waba):
    upload = SimpleUploadedFile("empty.png", b"", "image/png")
    data = {**fields(header_format="IMAGE", action="upload"), "header_file": upload}

    page = admin_client.post(reverse("templates_mgr:create", args=[waba.pk]), data).text

    assert "The sample file is empty." in page


def test_a_file_without_a_media_header_is_refused(admin_client, waba):
    upload = SimpleUploadedFile("a.png", PNG, "image/png")
    data = {**fields(header_format="TEXT", action="upload"), "header_file": upload}

    page = admin_client.post(reverse("templates_mgr:create", args=[waba.pk]), data).text

    assert "Choose an image, video or document header" in page


def test_an_image_sample_is_uploaded_to_meta_and_its_handle_kept(
    admin_client, agency_a, registered_number
):
    waba = registered_number.waba
    upload = SimpleUploadedFile("permit.png", PNG, "image/png")
    data = {**fields(header_format="IMAGE", action="upload"), "header_file": upload}

    page = admin_client.post(reverse("templates_mgr:create", args=[waba.pk]), data).text

    with agency_scope(agency_a):
        sample = HeaderSample.objects.get()
    assert "Uploaded: permit.png." in page
    assert re.search(rf'name="header_handle" value="{re.escape(sample.handle)}"', page)
    admin_client.post(
        reverse("templates_mgr:create", args=[waba.pk]),
        fields(header_format="IMAGE", header_handle=sample.handle),
    )
    with agency_scope(agency_a):
        header = MessageTemplate.objects.get().components[0]
    assert header == {
        "type": "HEADER",
        "format": "IMAGE",
        "example": {"header_handle": [sample.handle]},
    }


def test_an_image_over_metas_limit_is_refused_before_any_upload(admin_client, agency_a, waba):
    upload = SimpleUploadedFile("big.png", PNG + b"\0" * (6 * 1024 * 1024), "image/png")
    data = {**fields(header_format="IMAGE", action="upload"), "header_file": upload}

    page = admin_client.post(reverse("templates_mgr:create", args=[waba.pk]), data).text

    assert "A header image can be at most 5 MB." in page
    with agency_scope(agency_a):
        assert not HeaderSample.objects.exists()


def test_a_request_larger_than_the_platform_takes_is_a_400_not_a_500(admin_client, waba):
    response = admin_client.post(
        reverse("templates_mgr:create", args=[waba.pk]), fields(body_text="A" * 3_000_000)
    )

    assert response.status_code == 400
