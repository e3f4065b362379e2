"""Messages of every kind as the webhooks (inbound) and ``send_message`` (outbound) store
them: ``content`` is the stored form ``{"type": kind, kind: payload}``."""

from __future__ import annotations

import hashlib
import mimetypes
import struct
import zlib
from datetime import datetime
from typing import Any

import factory
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from messaging.models import MediaObject, Message
from messaging.whatsapp.media import base_mime
from templates_mgr.models import MessageTemplate
from tests.factories import AgencyOwnedFactory, InboundMessageFactory


def _png() -> bytes:
    """A real one-pixel PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = _png()


class OutboundMessageFactory(InboundMessageFactory):
    """A message the agency sent (by default an agent's text, delivered)."""

    direction = Message.Direction.OUTBOUND
    content = factory.LazyFunction(lambda: {"type": "text", "text": {"body": "We are on it."}})
    status = Message.Status.DELIVERED
    sender_type = Message.SenderType.USER
    wamid = factory.Sequence(lambda n: f"wamid.outbound{n:08d}")
    received_at = factory.LazyFunction(lambda: None)  # inbound only


class MediaObjectFactory(AgencyOwnedFactory[MediaObject]):
    class Meta:
        model = MediaObject

    phone_number = factory.SubFactory(
        "tests.factories.PhoneNumberFactory", agency=factory.SelfAttribute("..agency")
    )
    meta_media_id = factory.Sequence(lambda n: f"{7000000 + n}")
    kind = "image"
    mime_type = "image/png"
    status = MediaObject.Status.PENDING


def stored_media(
    agency: Any, *, data: bytes = PNG, kind: str = "image", mime_type: str = "image/png", **kw: Any
) -> MediaObject:
    """A media object whose bytes are in storage, as the download task leaves it."""
    digest = hashlib.sha256(data).hexdigest()
    extension = mimetypes.guess_extension(base_mime(mime_type)) or ".bin"
    key = default_storage.save(
        f"agencies/{agency.pk}/media/test/{digest}{extension}", ContentFile(data)
    )
    return MediaObjectFactory(
        agency=agency,
        kind=kind,
        mime_type=mime_type,
        status=MediaObject.Status.STORED,
        storage_key=key,
        size_bytes=len(data),
        sha256=digest,
        stored_at=timezone.now(),
        **kw,
    )


def content(kind: str, payload: Any) -> dict[str, Any]:
    return {"type": kind, kind: payload}


def inbound(conversation: Any, kind: str, payload: Any, **fields: Any) -> Message:
    """A citizen's message of ``kind`` in ``conversation``."""
    return InboundMessageFactory(
        agency=conversation.agency,
        conversation=conversation,
        type=kind,
        content=content(kind, payload),
        **fields,
    )


def outbound(conversation: Any, kind: str, payload: Any, **fields: Any) -> Message:
    """A message the agency sent in ``conversation``."""
    return OutboundMessageFactory(
        agency=conversation.agency,
        conversation=conversation,
        type=kind,
        content=content(kind, payload),
        **fields,
    )


def reaction(conversation: Any, to: Message, emoji: str, **fields: Any) -> Message:
    """A citizen's reaction (or, with ``direction=out``, the agency's) on ``to``."""
    make = OutboundMessageFactory if fields.get("direction") == "out" else InboundMessageFactory
    return make(
        agency=conversation.agency,
        conversation=conversation,
        type="reaction",
        content=content("reaction", {"message_id": to.wamid, "emoji": emoji}),
        **fields,
    )


def template_message(
    conversation: Any, template: MessageTemplate | None, components: list[dict[str, Any]], **kw: Any
) -> Message:
    payload = {
        "name": template.name if template else kw.pop("name", "gone_template"),
        "language": {"code": "en_US"},
        "components": components,
    }
    return outbound(conversation, "template", payload, template=template, **kw)


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment)
