"""Fixtures for the messages API: keys with the messages scopes, and a JSON poster."""

from __future__ import annotations

import json
from typing import Any

import pytest

from messaging import delivery
from messaging.models import Message
from tenants.api.scopes import Scope
from tenants.scoping import agency_scope
from tests.api.helpers import bearer, make_key

SCOPES = (Scope.MESSAGES_SEND, Scope.MESSAGES_READ)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def live_key(agency_a) -> str:
    _, raw = make_key(agency_a, *SCOPES)
    return raw


@pytest.fixture
def test_key(agency_a) -> str:
    _, raw = make_key(agency_a, *SCOPES, kind="test")
    return raw


class Api:
    def __init__(self, client: Any, key: str) -> None:
        self.client, self.key = client, key

    def send(self, body: Any, **headers: str) -> Any:
        raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return self.client.post(
            "/api/v1/messages", raw, content_type="application/json", **bearer(self.key), **headers
        )

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, **bearer(self.key))

    def upload(self, content: bytes, name: str, **fields: Any) -> Any:
        from django.core.files.uploadedfile import SimpleUploadedFile

        data = {"file": SimpleUploadedFile(name, content), **fields}
        return self.client.post("/api/v1/media", data, **bearer(self.key))


@pytest.fixture
def api(client, live_key) -> Api:
    return Api(client, live_key)


@pytest.fixture
def test_api(client, test_key) -> Api:
    return Api(client, test_key)


def deliver(agency, message_id: int) -> Message:
    """Run the delivery worker's step for the message, then read it back."""
    with agency_scope(agency):
        delivery.deliver(message_id)
        return Message.objects.get(pk=message_id)
