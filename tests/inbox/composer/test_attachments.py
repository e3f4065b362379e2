"""Attachments: checked by their real type and WhatsApp's size limits before any upload; a
good file is uploaded to the Cloud API (the simulator), kept, and sent as a media message."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inbox.composer.attachments import AttachmentRefused, check_attachment
from messaging import delivery
from messaging.models import MediaObject
from tenants.scoping import agency_scope
from tests.inbox.composer.conftest import outbound, uploads

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
MB = 1024 * 1024


def _post(client, conversation, upload, **fields):
    data = {"text": "", "idempotency_key": str(uuid.uuid4()), "attachment": upload, **fields}
    return client.post(reverse("inbox:send", args=[conversation.pk]), data)


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.django_db
def test_an_image_is_uploaded_to_the_cloud_api_kept_and_sent_as_an_image(
    agent_client,
    open_conversation,
    window_open_in_simulator,
    simulator,
    registered_number,
    cloud_api_simulator_server,
):
    upload = SimpleUploadedFile("permit.png", PNG, content_type="image/png")

    response = _post(agent_client, open_conversation, upload, caption="Your permit")

    assert response.status_code == 302
    assert uploads(cloud_api_simulator_server) == 1
    (message,) = outbound(open_conversation.agency_id)
    media = message.media
    assert media is not None and media.status == MediaObject.Status.STORED
    assert (media.kind, media.mime_type, media.size_bytes) == ("image", "image/png", len(PNG))
    assert default_storage.open(media.storage_key).read() == PNG
    assert message.content["image"] == {"id": media.meta_media_id, "caption": "Your permit"}
    with agency_scope(message.agency_id):
        assert delivery.deliver(message.pk) == "accepted"
    (received,) = simulator.messages(registered_number.phone_number_id)
    assert received["payload"]["type"] == "image"
    assert received["payload"]["image"]["id"] == media.meta_media_id


@pytest.mark.django_db
def test_a_file_and_a_text_are_sent_as_two_messages_the_file_first(
    agent_client, open_conversation, cloud_api_simulator_server
):
    upload = SimpleUploadedFile("permit.png", PNG, content_type="image/png")

    _post(agent_client, open_conversation, upload, text="Here it is.")

    assert [m.type for m in outbound(open_conversation.agency_id)] == ["image", "text"]


@pytest.mark.django_db
def test_an_image_over_5_mb_is_refused_before_any_upload(
    agent_client, open_conversation, cloud_api_simulator_server
):
    upload = SimpleUploadedFile("big.png", PNG + bytes(5 * MB), content_type="image/png")

    response = _post(agent_client, open_conversation, upload)

    assert response.status_code == 400
    assert "WhatsApp takes images up to 5 MB" in response.content.decode()
    assert uploads(cloud_api_simulator_server) == 0
    assert outbound(open_conversation.agency_id) == []


@pytest.mark.django_db
def test_a_page_disguised_as_a_jpeg_is_refused_before_any_upload(
    agent_client, open_conversation, cloud_api_simulator_server
):
    upload = SimpleUploadedFile(
        "photo.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg"
    )

    response = _post(agent_client, open_conversation, upload)

    assert response.status_code == 400
    assert "is not a type of file WhatsApp can send" in response.content.decode()
    assert uploads(cloud_api_simulator_server) == 0


@pytest.mark.django_db
def test_a_file_outside_the_window_is_refused_before_any_upload(
    agent_client, closed_conversation, cloud_api_simulator_server
):
    upload = SimpleUploadedFile("permit.png", PNG, content_type="image/png")

    response = _post(agent_client, closed_conversation, upload)

    assert "More than 24 hours have passed" in response.content.decode()
    assert uploads(cloud_api_simulator_server) == 0


@pytest.mark.django_db
def test_audio_cannot_have_a_caption(agent_client, open_conversation, cloud_api_simulator_server):
    upload = SimpleUploadedFile("note.mp3", b"ID3\x04" + bytes(64), content_type="audio/mpeg")

    response = _post(agent_client, open_conversation, upload, caption="Listen")

    assert "Audio files cannot have a caption on WhatsApp." in response.content.decode()
    assert uploads(cloud_api_simulator_server) == 0


def _check(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return check_attachment(SimpleUploadedFile(name, content, content_type=content_type))


@pytest.mark.parametrize(
    ("name", "content", "kind", "mime"),
    [
        ("a.jpg", b"\xff\xd8\xff\xe0" + bytes(16), "image", "image/jpeg"),
        ("a.png", PNG, "image", "image/png"),
        ("a.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "sticker", "image/webp"),
        ("a.mp4", b"\x00\x00\x00\x18ftypisom" + bytes(16), "video", "video/mp4"),
        ("a.3gp", b"\x00\x00\x00\x18ftyp3gp4" + bytes(16), "video", "video/3gpp"),
        ("a.m4a", b"\x00\x00\x00\x18ftypM4A " + bytes(16), "audio", "audio/mp4"),
        ("a.ogg", b"OggS" + bytes(24) + b"OpusHead" + bytes(8), "audio", "audio/ogg"),
        ("a.mp3", b"\xff\xfb\x90\x00" + bytes(16), "audio", "audio/mpeg"),
        ("a.aac", b"\xff\xf1\x50\x80" + bytes(16), "audio", "audio/aac"),
        ("a.amr", b"#!AMR\n" + bytes(16), "audio", "audio/amr"),
        ("a.pdf", b"%PDF-1.7\n" + bytes(16), "document", "application/pdf"),
        (
            "a.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16),
            "document",
            "application/msword",
        ),
        (
            "a.docx",
            _docx(),
            "document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("notes.txt", "Café ☕ hours\n".encode(), "document", "text/plain"),
    ],
)
def test_the_type_is_read_from_the_bytes(name, content, kind, mime):
    attachment = _check(name, content)

    assert (attachment.kind, attachment.mime_type) == (kind, mime)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.png", b"", "The file is empty."),
        ("report.pdf", PNG, "named as a .pdf file but it is a PNG image"),
        ("vorbis.ogg", b"OggS" + bytes(24) + b"\x01vorbis" + bytes(8), "not a type of file"),
        ("tool.exe", b"MZ\x90\x00" + bytes(16), "not a type of file"),
        ("binary.txt", b"\x00\x01\x02" * 10, "not a type of file"),
        ("broken.docx", b"PK\x03\x04" + bytes(30), "not a type of file"),
        ("huge.pdf", b"%PDF-" + bytes(101 * MB), "WhatsApp takes files up to 100 MB"),
        ("big.webp", b"RIFF\x00\x00\x00\x00WEBP" + bytes(600 * 1024), "stickers up to 500 KB"),
    ],
)
def test_files_whatsapp_would_refuse_are_refused_with_the_reason(name, content, reason):
    with pytest.raises(AttachmentRefused, match=reason):
        _check(name, content)
