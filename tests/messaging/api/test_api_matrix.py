"""The messages and media API in the authorization matrix of ``tests/api/matrix.py``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from messaging.models import MediaObject
from tenants.api.scopes import Scope
from tests.api.matrix import CASES, Endpoint, check
from tests.factories import ConversationFactory, InboundMessageFactory, PhoneNumberFactory


def a_message(agency) -> list[int]:
    return [InboundMessageFactory(agency=agency).pk]


def a_conversation(agency) -> list[int]:
    return [InboundMessageFactory(agency=agency).conversation_id]


def a_file(agency) -> list[int]:
    number = PhoneNumberFactory(agency=agency)
    key = default_storage.save(f"agencies/{agency.pk}/matrix.txt", ContentFile(b"hello"))
    media = MediaObject.objects.create(
        agency=agency,
        phone_number=number,
        meta_media_id=f"m-{agency.pk}",
        kind="document",
        mime_type="text/plain",
        status=MediaObject.Status.STORED,
        storage_key=key,
    )
    return [media.pk]


def a_text(agency, args: list[Any]) -> dict[str, Any]:
    """A reply inside an open window of a fresh conversation (each case sends once)."""
    conversation = ConversationFactory(
        agency=agency, window_expires_at=timezone.now() + timedelta(hours=1)
    )
    return {
        "to": conversation.contact.phone_e164,
        "type": "text",
        "text": {"body": "Hi"},
        "phone_number_id": conversation.phone_number_id,
    }


ENDPOINTS = [
    Endpoint(
        "api-messages", "POST", Scope.MESSAGES_SEND, body=a_text, expect=202, wrong_agency=400
    ),
    Endpoint("api-message", "GET", Scope.MESSAGES_READ, target=a_message),
    Endpoint("api-conversation-messages", "GET", Scope.MESSAGES_READ, target=a_conversation),
    Endpoint("api-media-file", "GET", Scope.MESSAGES_READ, target=a_file),
    # The matrix posts JSON; the upload takes multipart only, so past authentication and the
    # scope a JSON body is a 415. The multipart cases are below.
    Endpoint("api-media", "POST", Scope.MESSAGES_SEND, body=lambda a, args: {}, expect=415),
]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("case", CASES)
def test_authorization_matrix(client, agency_a, agency_b, endpoint, case):
    check(client, agency_a, agency_b, endpoint, case)


def _upload(client, raw: str | None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from messaging.simulator.sample_media import JPEG
    from tests.api.helpers import bearer

    auth = bearer(raw) if raw else {}
    data = {"file": SimpleUploadedFile("a.jpg", JPEG)}
    return client.post("/api/v1/media", data, **auth)


def test_a_multipart_upload_needs_a_credential(client, agency_a):
    assert _upload(client, None).status_code in (401, 403)


def test_a_multipart_upload_needs_messages_send(client, agency_a):
    from tests.api.helpers import make_key

    _, raw = make_key(agency_a, *[s for s in Scope if s != Scope.MESSAGES_SEND])
    assert _upload(client, raw).json()["code"] == "insufficient_scope"


def test_a_multipart_upload_with_messages_send_is_stored(client, agency_a, registered_number):
    from tests.api.helpers import make_key

    _, raw = make_key(agency_a, Scope.MESSAGES_SEND)
    assert _upload(client, raw).status_code == 201
