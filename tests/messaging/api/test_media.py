"""POST /api/v1/media stores a file as the composer does; GET downloads it."""

from __future__ import annotations

import hashlib

import pytest

from messaging.models import MediaObject
from messaging.simulator.sample_media import JPEG
from tenants.scoping import agency_scope
from tests.factories import PhoneNumberFactory


@pytest.fixture
def uploaded(api, registered_number):
    answer = api.upload(JPEG, "permit.jpg")
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_an_upload_is_answered_with_its_type_size_and_digest(uploaded):
    assert uploaded["mime_type"] == "image/jpeg"
    assert uploaded["size"] == len(JPEG)
    assert uploaded["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert uploaded["filename"] == "permit.jpg"


def test_the_file_is_uploaded_to_the_cloud_api_for_the_number(uploaded, agency_a):
    with agency_scope(agency_a):
        media = MediaObject.objects.get(pk=uploaded["id"])
    assert media.meta_media_id and not media.meta_media_id.startswith("sandbox")
    assert media.status == "stored"


def test_the_bytes_come_back_as_an_attachment(api, uploaded):
    answer = api.get(f"/api/v1/media/{uploaded['id']}")
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == JPEG
    assert answer["Content-Type"] == "image/jpeg"
    assert answer["Content-Disposition"].startswith("attachment")


def test_a_script_named_jpg_is_415(api, registered_number):
    answer = api.upload(b"#!/bin/sh\nrm -rf /\n", "photo.jpg")
    assert (answer.status_code, answer.json()["code"]) == (415, "unsupported_file_type")


def test_an_executable_is_415(api, registered_number):
    answer = api.upload(b"MZ\x90\x00" + bytes(100), "setup.exe")
    assert answer.status_code == 415


def test_an_empty_file_is_400(api, registered_number):
    assert api.upload(b"", "empty.pdf").status_code == 400


def test_an_image_over_5_mb_is_413(api, registered_number):
    answer = api.upload(JPEG + bytes(6 * 1024 * 1024), "big.jpg")
    assert (answer.status_code, answer.json()["code"]) == (413, "file_too_large")


def test_no_file_is_400(api, registered_number):
    from tests.api.helpers import bearer

    answer = api.client.post("/api/v1/media", {}, **bearer(api.key))
    assert answer.status_code == 400


def test_a_json_body_is_415(api, registered_number):
    from tests.api.helpers import bearer

    answer = api.client.post(
        "/api/v1/media", "{}", content_type="application/json", **bearer(api.key)
    )
    assert answer.status_code == 415


def test_another_agency_s_number_is_400(api, registered_number, agency_b):
    theirs = PhoneNumberFactory(agency=agency_b)
    answer = api.upload(JPEG, "a.jpg", phone_number_id=theirs.pk)
    assert answer.status_code == 400


def test_another_agency_s_media_is_404(client, uploaded, agency_b):
    from tests.api.helpers import make_key
    from tests.messaging.api.conftest import SCOPES, Api

    _, raw = make_key(agency_b, *SCOPES)
    assert Api(client, raw).get(f"/api/v1/media/{uploaded['id']}").status_code == 404


def test_media_still_downloading_from_meta_is_409(api, registered_number, agency_a):
    with agency_scope(agency_a):
        pending = MediaObject.objects.create(
            agency=agency_a, phone_number=registered_number, meta_media_id="m1", kind="image"
        )
    answer = api.get(f"/api/v1/media/{pending.pk}")
    assert (answer.status_code, answer.json()["code"]) == (409, "media_not_stored")
