"""Media upload / URL / download / delete round trip and the per-type limits (§3)."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from messaging.whatsapp import InvalidMessageError, PermanentError
from messaging.whatsapp.media import MEDIA_LIMITS

JPEG = b"\xff\xd8\xff\xe0" + b"pixels" * 100


@pytest.fixture
def client(simulator, sim_number):
    return simulator.client(sim_number)


def test_uploaded_media_round_trips_byte_for_byte(client):
    media = client.upload_media(JPEG, "image/jpeg", filename="photo.jpg")
    info = client.get_media(media.id)
    assert client.download_media(info.url) == JPEG


def test_get_media_reports_size_mime_and_sha256(client):
    info = client.get_media(client.upload_media(JPEG, "image/jpeg").id)
    assert (info.mime_type, info.file_size) == ("image/jpeg", len(JPEG))
    assert info.sha256 == hashlib.sha256(JPEG).hexdigest()


def test_media_url_needs_the_bearer_token(client):
    info = client.get_media(client.upload_media(JPEG, "image/jpeg").id)
    assert httpx.get(info.url).status_code == 401


def test_deleted_media_no_longer_exists(client):
    media = client.upload_media(JPEG, "image/jpeg")
    client.delete_media(media.id)
    with pytest.raises(PermanentError) as info:
        client.get_media(media.id)
    assert (info.value.code, info.value.subcode) == (100, 33)


def test_voice_note_mime_with_codec_parameter_is_accepted(client):
    media = client.upload_media(b"OggS" + b"0" * 50, "audio/ogg; codecs=opus")
    assert client.get_media(media.id).mime_type == "audio/ogg; codecs=opus"


def test_upload_rejects_image_over_5_mb_before_sending(simulator, sim_number, client):
    too_big = b"0" * (MEDIA_LIMITS["image"].max_bytes + 1)
    with pytest.raises(InvalidMessageError) as info:
        client.upload_media(too_big, "image/jpeg")
    assert info.value.field == "file.size"


def test_upload_rejects_unsupported_mime_before_sending(client):
    with pytest.raises(InvalidMessageError) as info:
        client.upload_media(b"GIF89a", "image/gif")
    assert info.value.field == "file.mime_type"


def test_upload_rejects_mime_not_allowed_for_requested_kind(client):
    with pytest.raises(InvalidMessageError) as info:
        client.upload_media(JPEG, "image/jpeg", kind="sticker")
    assert info.value.field == "file.mime_type"


def test_simulator_refuses_unsupported_mime_with_graph_error(simulator, sim_number):
    response = httpx.post(
        simulator.graph_url(f"{sim_number['id']}/media"),
        headers={"Authorization": f"Bearer {sim_number['access_token']}"},
        data={"messaging_product": "whatsapp", "type": "image/gif"},
        files={"file": ("a.gif", b"GIF89a", "image/gif")},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


def test_simulator_refuses_oversize_sticker_with_131053(simulator, sim_number):
    response = httpx.post(
        simulator.graph_url(f"{sim_number['id']}/media"),
        headers={"Authorization": f"Bearer {sim_number['access_token']}"},
        data={"messaging_product": "whatsapp", "type": "image/webp"},
        files={"file": ("s.webp", b"0" * (500 * 1024 + 1), "image/webp")},
    )
    assert response.json()["error"]["code"] == 131053


def test_sending_unknown_media_id_is_rejected(simulator, sim_number, client):
    from messaging.whatsapp import builders as b

    with pytest.raises(PermanentError) as info:
        client.send("15551230003", b.image("123456789012345"))
    assert info.value.code == 100


def test_inbound_citizen_media_is_downloadable(simulator, sim_number, client):
    message = simulator.trigger_inbound(
        sim_number["id"], "15551230003", type="image", image={"caption": "pothole"}
    )
    info = client.get_media(message["image"]["id"])
    content = client.download_media(info.url)
    assert hashlib.sha256(content).hexdigest() == message["image"]["sha256"]
