"""``/inbox/media/<pk>/``: citizens' files, for members of the agency only, never run in
our origin."""

from __future__ import annotations

import pytest
from django.test import Client

from messaging.models import MediaObject
from tenants.permissions import Role
from tests.factories import MembershipFactory
from tests.inbox.rendering.factories import PNG, MediaObjectFactory, stored_media

pytestmark = pytest.mark.django_db

SANDBOX = "sandbox; default-src 'none'"


def url(media: MediaObject, query: str = "") -> str:
    return f"/inbox/media/{media.pk}/{query}"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_member_gets_an_image_inline_with_protective_headers(member_client, agency_a):
    media = stored_media(agency_a)
    response = member_client.get(url(media))
    assert response.status_code == 200
    assert body(response) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == "inline"
    assert response["Content-Length"] == str(len(PNG))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_download_forces_an_attachment_named_after_the_file(member_client, agency_a):
    media = stored_media(agency_a)
    response = member_client.get(url(media, "?download=1"))
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"image-{media.pk}.png\"; filename*=UTF-8''image-{media.pk}.png"
    )
    assert response["Content-Type"] == "image/png"


def test_a_document_is_always_a_download_with_its_own_type(member_client, agency_a):
    media = stored_media(
        agency_a,
        data=b"%PDF-1.4\n%%EOF",
        kind="document",
        mime_type="application/pdf",
        filename="Permit ñ 2026.pdf",
    )
    response = member_client.get(url(media))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"Permit n 2026.pdf\"; filename*=UTF-8''Permit%20%C3%B1%202026.pdf"
    )
    assert response["Content-Security-Policy"] == SANDBOX


def test_a_hostile_filename_cannot_break_the_header_or_name_a_path(member_client, agency_a):
    media = stored_media(
        agency_a,
        data=b"hello",
        kind="document",
        mime_type="text/plain",
        filename='../../etc/passwd\r\nSet-Cookie: x=1;".txt',
    )
    response = member_client.get(url(media))
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert "/" not in disposition.split("filename=")[1].split(";")[0]
    assert disposition.startswith('attachment; filename="etc_passwd_Set-Cookie_ x=1_.txt"')


@pytest.mark.parametrize(
    ("mime", "data"),
    [
        (
            "image/svg+xml",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        ),
        ("text/html", b"<html><script>alert(document.cookie)</script></html>"),
        ("application/xml", b"<?xml version='1.0'?><x/>"),
        ("", b"<script>alert(1)</script>"),
    ],
)
def test_markup_is_served_as_an_opaque_attachment_in_a_sandbox(member_client, agency_a, mime, data):
    media = stored_media(agency_a, data=data, kind="image", mime_type=mime)
    response = member_client.get(url(media))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["X-Content-Type-Options"] == "nosniff"


def test_another_agencys_media_is_not_found(member_client, agency_b):
    theirs = stored_media(agency_b)
    assert member_client.get(url(theirs)).status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(client, agency_a):
    media = stored_media(agency_a)
    response = client.get(url(media))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"] or "login" in response["Location"]


def test_a_member_without_the_inbox_permission_is_refused(agency_a):
    integrator = MembershipFactory(agency=agency_a, role=Role.INTEGRATOR)
    client = Client()
    client.force_login(integrator.user)
    assert client.get(url(stored_media(agency_a))).status_code == 403


@pytest.mark.parametrize(
    "status", [MediaObject.Status.PENDING, MediaObject.Status.REJECTED, MediaObject.Status.FAILED]
)
def test_media_that_is_not_stored_is_not_found(member_client, agency_a, status):
    media = MediaObjectFactory(agency=agency_a, status=status)
    assert member_client.get(url(media)).status_code == 404


def test_a_stored_row_whose_file_is_gone_is_not_found(member_client, agency_a, media_root):
    media = stored_media(agency_a)
    (media_root / media.storage_key).unlink()
    assert member_client.get(url(media)).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/inbox/media/99999999999999999999999/",
        "/inbox/media/9223372036854775807/",
        "/inbox/media/-1/",
        "/inbox/media/1%00/",
        "/inbox/media/abc/",
    ],
)
def test_a_hostile_id_is_not_found(member_client, path):
    assert member_client.get(path).status_code == 404


def test_only_reading_is_allowed(member_client, agency_a):
    assert member_client.post(url(stored_media(agency_a))).status_code == 405


def test_a_player_can_ask_for_a_range_of_an_audio_file(member_client, agency_a):
    data = bytes(range(256)) * 4
    media = stored_media(agency_a, data=data, kind="audio", mime_type="audio/ogg")
    response = member_client.get(url(media), HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert body(response) == data[100:200]
    assert response["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert response["Content-Length"] == "100"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Security-Policy"] == SANDBOX


def test_the_last_bytes_of_a_video_can_be_asked_for(member_client, agency_a):
    data = b"0123456789" * 10
    media = stored_media(agency_a, data=data, kind="video", mime_type="video/mp4")
    response = member_client.get(url(media), HTTP_RANGE="bytes=-10")
    assert response.status_code == 206
    assert body(response) == data[-10:]


def test_a_range_beyond_the_file_is_unsatisfiable(member_client, agency_a):
    media = stored_media(agency_a, data=b"short", kind="audio", mime_type="audio/mpeg")
    response = member_client.get(url(media), HTTP_RANGE="bytes=500-")
    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */5"


def test_a_hostile_range_header_gets_the_whole_file(member_client, agency_a):
    media = stored_media(agency_a, data=b"whole", kind="audio", mime_type="audio/mpeg")
    response = member_client.get(url(media), HTTP_RANGE="bytes=0-1,3-4;\r\nX: y")
    assert response.status_code == 200
    assert body(response) == b"whole"
