"""An agent's reply: text, a file, or an approved template, through ``send_message``.

``send_reply`` uploads an attachment to the Cloud API (after ``attachments`` checked it),
keeps our copy as a ``MediaObject`` in the storage inbound media use, and queues the media
message, then the text. ``send_template_reply`` queues a template with its values. Both
pass the form's idempotency key to ``send_message``, so a double submit queues one message;
a key already used returns its messages without uploading anything again. Refusals are
``SendRefused`` (policy) or ``ReplyFailed`` (WhatsApp would not take the file), with words
for the agent. No transaction is open during the upload (style guide 2.5).
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from inbox.composer.attachments import Attachment
from messaging import policy
from messaging.models import Conversation, MediaObject, Message
from messaging.services import Sender, send_message
from messaging.whatsapp import builders
from messaging.whatsapp.client import CloudAPIClient
from messaging.whatsapp.errors import CloudAPIError
from records.audit import Actor
from templates_mgr.models import MessageTemplate
from templates_mgr.preview import build_template_message
from tenants.models import Agency

logger = logging.getLogger(__name__)

KEY_PREFIX = "inbox"
_EXTENSIONS = {"audio/ogg": "ogg", "audio/amr": "amr", "video/3gpp": "3gp", "audio/aac": "aac"}


class ReplyFailed(Exception):
    """The reply could not be queued for a reason outside the sending rules."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Reply:
    text: str
    attachment: Attachment | None = None
    caption: str = ""
    reply_to: Message | None = None
    justification: str = ""  # why sensitive data must go anyway (the DLP policy decides)


def idempotency_key(conversation: Conversation, token: str) -> str:
    """Keys are unique per agency: ours name the inbox and the conversation."""
    return f"{KEY_PREFIX}:{conversation.pk}:{token}"


def _already_sent(key: str) -> list[Message]:
    return list(Message.objects.filter(idempotency_key__in=[f"{key}:file", key]).order_by("pk"))


def send_reply(
    *, agency: Agency, user: User, actor: Actor, conversation: Conversation, reply: Reply, key: str
) -> list[Message]:
    """Queue the agent's reply (the file first, then the text); the queued messages."""
    sent = _already_sent(key)
    if sent:
        return sent
    sender = Sender.staff(user, actor)
    reply_to_wamid = (reply.reply_to.wamid or "") if reply.reply_to else ""
    queued: list[Message] = []
    if reply.attachment is not None:
        media = _upload(agency, conversation, reply.attachment)
        message = send_message(
            agency=agency,
            sender=sender,
            to=_recipient(conversation),
            message=_media_message(reply.attachment, media.meta_media_id, reply.caption),
            phone_number=conversation.phone_number,
            idempotency_key=f"{key}:file",
            reply_to_wamid=reply_to_wamid,
            justification=reply.justification,
        )
        # The thread shows our copy (send_message has no media argument yet: see
        # /work/coord/requests-composer.md).
        Message.objects.filter(pk=message.pk, media__isnull=True).update(media=media)
        message.media = media
        queued.append(message)
        reply_to_wamid = ""
    if reply.text:
        queued.append(
            send_message(
                agency=agency,
                sender=sender,
                to=_recipient(conversation),
                message=builders.Text(reply.text),
                phone_number=conversation.phone_number,
                idempotency_key=key,
                reply_to_wamid=reply_to_wamid,
                justification=reply.justification,
            )
        )
    return queued


def send_template_reply(
    *,
    agency: Agency,
    user: User,
    actor: Actor,
    conversation: Conversation,
    template: MessageTemplate,
    values: dict[str, str],
    key: str,
    justification: str = "",
) -> Message:
    """Queue ``template`` with ``values``; the policy checks approval, opt-in, the tier and
    the agency's DLP policy (``justification``: why sensitive values must go anyway)."""
    return send_message(
        agency=agency,
        sender=Sender.staff(user, actor),
        to=_recipient(conversation),
        message=build_template_message(template, values),
        phone_number=conversation.phone_number,
        idempotency_key=key,
        justification=justification,
    )


def _recipient(conversation: Conversation) -> str:
    contact = conversation.contact
    if not contact.wa_id:
        raise policy.SendRefused(
            policy.Rule.INVALID_RECIPIENT,
            "This person is known only by a WhatsApp username, without a phone number; "
            "replies to them cannot be sent from Civic Relay yet.",
        )
    return contact.wa_id


def _media_message(attachment: Attachment, media_id: str, caption: str) -> builders.Media:
    text = caption or None
    if attachment.kind == "image":
        return builders.image(media_id, caption=text)
    if attachment.kind == "video":
        return builders.video(media_id, caption=text)
    if attachment.kind == "audio":
        return builders.audio(media_id)
    if attachment.kind == "sticker":
        return builders.sticker(media_id)
    return builders.document(media_id, caption=text, filename=attachment.filename[:240])


def _upload(agency: Agency, conversation: Conversation, attachment: Attachment) -> MediaObject:
    """Upload to the Cloud API and keep our copy. The rules that refuse any free-form reply
    are checked first, so a refused reply uploads nothing."""
    number = conversation.phone_number
    now = timezone.now()
    policy.check_sender(agency, number)
    policy.check_window(agency, conversation, now)
    client = CloudAPIClient(number.phone_number_id, number.bearer_token())
    try:
        uploaded = client.upload_media(
            attachment.content,
            attachment.mime_type,
            filename=attachment.filename,
            kind=attachment.kind,
        )
    except CloudAPIError as exc:
        logger.info("attachment upload for conversation %s failed: %s", conversation.pk, exc)
        raise ReplyFailed(
            "WhatsApp did not accept the file, so nothing was sent. Try again in a moment, "
            "or send a different file."
        ) from exc
    key = _store(agency, attachment, now)
    return MediaObject.objects.create(
        agency=agency,
        phone_number=number,
        meta_media_id=uploaded.id,
        kind=attachment.kind,
        mime_type=attachment.mime_type,
        filename=attachment.filename,
        status=MediaObject.Status.STORED,
        storage_key=key,
        size_bytes=attachment.size,
        sha256=attachment.sha256,
        stored_at=now,
    )


def _store(agency: Agency, attachment: Attachment, now: datetime) -> str:
    """Content-addressed under the agency's prefix, beside inbound media."""
    ext = _EXTENSIONS.get(attachment.mime_type) or (
        (mimetypes.guess_extension(attachment.mime_type) or ".bin").lstrip(".")
    )
    key = f"agencies/{agency.pk}/media/outbound/{now:%Y/%m}/{attachment.sha256}.{ext}"
    if default_storage.exists(key):
        return key  # the same bytes, sent before
    return default_storage.save(key, ContentFile(attachment.content))
