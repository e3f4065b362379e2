"""A small agency record to export: a conversation with text, a staff reply that was
delivered and read, a photo (stored file), a reply, a reaction, an edited and a deleted
message; and another agency's message that must never appear."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from messaging.models import MediaObject, Message
from records.capture.versions import edit_entry
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    ConversationFactory,
    InboundMessageFactory,
    MembershipFactory,
)

T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
SECRET = "SSN 536-22-1234"


@dataclass
class Record:
    agency: object
    conversation: object
    other_agency: object
    messages: dict[str, Message]
    media: MediaObject
    officer: object


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _message(conversation, at: dt.datetime, **fields) -> Message:
    message = InboundMessageFactory(
        agency=conversation.agency, conversation=conversation, received_at=at, **fields
    )
    with agency_scope(conversation.agency):
        Message.objects.filter(pk=message.pk).update(created_at=at)
        message.refresh_from_db()
    return message


@pytest.fixture
def record(settings, tmp_path) -> Record:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    agency = AgencyFactory(slug="dmv", name="Department of Motor Vehicles")
    officer = MembershipFactory(agency=agency, role=Role.RECORDS_OFFICER).user
    contact = ContactFactory(agency=agency, wa_id="14155550100", profile_name="Ana Pérez")
    conversation = ConversationFactory(agency=agency, contact=contact)
    data = png_bytes()
    digest = hashlib.sha256(data).hexdigest()
    key = default_storage.save(
        f"agencies/{agency.pk}/media/2026/03/{digest}.png", ContentFile(data)
    )
    with agency_scope(agency):
        media = MediaObject.objects.create(
            agency=agency,
            phone_number=conversation.phone_number,
            meta_media_id="media-1",
            kind="image",
            mime_type="image/png",
            filename="licence photo.png",
            status=MediaObject.Status.STORED,
            storage_key=key,
            size_bytes=len(data),
            sha256=digest,
        )
    m = {}
    m["hello"] = _message(
        conversation,
        T0,
        wamid="wamid.hello",
        content={"type": "text", "text": {"body": f"Hello, my {SECRET}, renew please"}},
    )
    m["reply"] = _message(
        conversation,
        T0 + dt.timedelta(minutes=1),
        wamid="wamid.reply",
        direction=Message.Direction.OUTBOUND,
        sender_type=Message.SenderType.USER,
        sender_user=officer,
        status=Message.Status.READ,
        content={"type": "text", "text": {"body": "We can help. Send a photo."}},
        reply_to_wamid="wamid.hello",
        delivered_at=T0 + dt.timedelta(minutes=2),
        read_at=T0 + dt.timedelta(minutes=3),
    )
    m["photo"] = _message(
        conversation,
        T0 + dt.timedelta(minutes=4),
        wamid="wamid.photo",
        type="image",
        content={"type": "image", "image": {"id": "media-1", "caption": "my licence"}},
        media=media,
    )
    m["reaction"] = _message(
        conversation,
        T0 + dt.timedelta(minutes=5),
        wamid="wamid.reaction",
        type="reaction",
        content={"type": "reaction", "reaction": {"message_id": "wamid.reply", "emoji": "👍"}},
    )
    m["edited"] = _message(
        conversation,
        T0 + dt.timedelta(minutes=6),
        wamid="wamid.edited",
        content={"type": "text", "text": {"body": "Thanks a lot"}},
        content_history=[
            edit_entry(
                {"type": "text", "text": {"body": "Thanks a lot, From now on I drive"}},
                T0 + dt.timedelta(minutes=7),
                "wamid.edit1",
            )
        ],
        edited_at=T0 + dt.timedelta(minutes=7),
    )
    m["deleted"] = _message(
        conversation,
        T0 + dt.timedelta(days=1),
        wamid="wamid.deleted",
        content={"type": "text", "text": {"body": "oops wrong chat"}},
        revoked_at=T0 + dt.timedelta(days=1, minutes=1),
    )
    other = AgencyFactory(slug="parks")
    InboundMessageFactory(
        agency=other, content={"type": "text", "text": {"body": "other agency secret"}}
    )
    return Record(agency, conversation, other, m, media, officer)


@pytest.fixture(autouse=True)
def per_day_slices(settings):
    """These tests read one RSMF/EML file per conversation per day (the record spans two
    days); the default slice is the calendar month (test_rsmf checks it)."""
    settings.RECORDS_EXPORT_SLICE = "day"
