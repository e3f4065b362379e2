"""WORM archive tests: a conversation with messages, a note, a status change and a stored
media file; the archive on the local disk, or in an Object Lock bucket of a real
S3-compatible server (moto in server mode)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from bsp.celery import app as celery_app
from bsp.events.dispatch import register_consumer
from inbox import services as inbox
from messaging.models import Conversation, MediaObject, Message
from records.audit import Actor
from records.worm.consumers import worm_consumer
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import ConversationFactory, InboundMessageFactory, UserFactory
from tests.frontend.conftest import (  # noqa: F401  (fixtures)
    admin_a,
    agent_a,
    client_for,
    make_member,
)

ACTOR = Actor.system("test")
PICTURE = b"\x89PNG a photo of the pothole on 5th Street"


@dataclass
class Bucket:
    """The Object Lock bucket the archive writes to, and a client of the same server."""

    name: str
    client: Any

    def head(self, key: str, version_id: str) -> dict[str, Any]:
        return self.client.head_object(Bucket=self.name, Key=key, VersionId=version_id)

    def versions(self, prefix: str) -> list[dict[str, Any]]:
        listed = self.client.list_object_versions(Bucket=self.name, Prefix=prefix)
        return listed.get("Versions", [])


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def lock_bucket(s3_server, settings) -> Bucket:
    """A fresh bucket created with Object Lock, the WORM archive pointed at it."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    name = f"civic-worm-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    settings.AWS_S3_ENDPOINT_URL = s3_server
    settings.AWS_ACCESS_KEY_ID = "test"
    settings.AWS_SECRET_ACCESS_KEY = "test"
    settings.RECORDS_WORM_BACKEND = "s3"
    settings.RECORDS_WORM_BUCKET = name
    return Bucket(name, client)


@pytest.fixture(params=["local", "s3"])
def backend(request, settings) -> str:
    """Each test using it runs against the local disk and against the S3 server."""
    if request.param == "s3":
        request.getfixturevalue("lock_bucket")
    else:
        settings.RECORDS_WORM_BACKEND = "local"
    return str(request.param)


@pytest.fixture
def worm_consumer_registered():
    """The consumer as ``records.apps`` registers it (idempotent)."""
    register_consumer(worm_consumer)


@pytest.fixture
def eager() -> Iterator[None]:
    """Run what a task enqueues in-process, for this test only."""
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False


def stored_media(agency, number, data: bytes = PICTURE) -> MediaObject:
    digest = hashlib.sha256(data).hexdigest()
    key = default_storage.save(f"agencies/{agency.pk}/media/{digest}.png", ContentFile(data))
    with agency_scope(agency):
        return MediaObject.objects.create(
            agency=agency,
            phone_number=number,
            meta_media_id=f"m-{uuid.uuid4().hex[:8]}",
            kind="image",
            mime_type="image/png",
            status=MediaObject.Status.STORED,
            storage_key=key,
            size_bytes=len(data),
            sha256=digest,
            stored_at=timezone.now(),
        )


def another_message(conversation: Conversation) -> Message:
    """A citizen writes again in the conversation."""
    with agency_scope(conversation.agency_id):
        return InboundMessageFactory(agency=conversation.agency, conversation=conversation)


def resolve(conversation: Conversation) -> Conversation:
    with agency_scope(conversation.agency_id):
        return inbox.set_status(actor=ACTOR, by=None, conversation=conversation, status="resolved")


@pytest.fixture
def conversation(agency_a, media_root) -> Conversation:
    """A resolved conversation: a citizen's text and photo, a staff reply that was read, a
    staff note, its status change in the audit trail."""
    conversation = ConversationFactory(agency=agency_a)
    InboundMessageFactory(agency=agency_a, conversation=conversation)
    media = stored_media(agency_a, conversation.phone_number)
    InboundMessageFactory(
        agency=agency_a,
        conversation=conversation,
        type="image",
        content={"type": "image", "image": {"id": media.meta_media_id}},
        media=media,
    )
    staff = UserFactory(email="clerk@example.gov")
    with agency_scope(agency_a):
        Message.objects.create(
            agency=agency_a,
            conversation=conversation,
            phone_number=conversation.phone_number,
            contact=conversation.contact,
            direction=Message.Direction.OUTBOUND,
            type="text",
            content={"type": "text", "text": {"body": "We will fix it this week."}},
            status=Message.Status.READ,
            sender_type=Message.SenderType.USER,
            sender_user=staff,
            wamid="wamid.reply0001",
            sent_at=timezone.now(),
            delivered_at=timezone.now(),
            read_at=timezone.now(),
        )
        inbox.add_note(actor=ACTOR, author=staff, conversation=conversation, body="Crew notified.")
    return resolve(conversation)


@pytest.fixture
def officer(make_member):  # noqa: F811
    return make_member(Role.RECORDS_OFFICER)


@pytest.fixture
def officer_client(client_for, officer):  # noqa: F811
    return client_for(officer)
