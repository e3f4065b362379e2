"""Messages that act on others: ``revoke`` and ``edit`` (also when they arrive before their
original), and WhatsApp's ``system`` notices (the citizen's number or user id changed)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from bsp.events import types
from messaging.models import Contact, Message
from messaging.webhooks.inbound.batch import (
    COMPONENT,
    _Batch,
    _identity,
    _phone,
    _short,
)
from messaging.webhooks.inbound.content import (
    _media_object,
    _schedule_download,
    stored_form,
)
from records.audit import Actor, record_event
from records.capture import versions

logger = logging.getLogger(__name__)


# --- revoke, edit, system ---------------------------------------------------------------------


def _original(notice: Message, payload_key: str, *, lock: bool = False) -> Message | None:
    payload = notice.content.get(payload_key)
    wamid = _short(payload.get("original_message_id"), 200) if isinstance(payload, dict) else ""
    if not wamid:
        return None
    originals = Message.objects.filter(
        phone_number_id=notice.phone_number_id,
        wamid=wamid,
        direction=Message.Direction.INBOUND,
        contact_id=notice.contact_id,  # a citizen can only delete or edit their own message
    )
    return (originals.select_for_update() if lock else originals).first()


def _apply_revoke(batch: _Batch, notice: Message) -> None:
    """The citizen deleted a message for everyone: mark it, keep its content (a record)."""
    original = _original(notice, "revoke")
    if original is not None and original.revoked_at is None:
        Message.objects.filter(pk=original.pk).update(revoked_at=notice.received_at)
        batch.publish(
            types.MESSAGE_REVOKED,
            _subject(original, notice),
            {"wamid": original.wamid, "revoked_at": notice.received_at},
        )


def _subject(original: Message, notice: Message) -> dict[str, Any]:
    return {
        "message": original.pk,
        "conversation": original.conversation_id,
        "contact": original.contact_id,
        "notice": notice.pk,
    }


def _apply_edit(batch: _Batch, notice: Message) -> None:
    """Record the citizen's edit beside the original: the original's ``content`` stays as
    received (it is the record; the database refuses to change it, records migration
    0006), ``content_history`` gains the new version in the order the citizen wrote them
    (edits can arrive out of order) and ``edited_at`` is the latest edit's time. Readers
    take the current version from ``records.capture.versions``."""
    original = _original(notice, "edit", lock=True)
    if original is None:
        return  # applied when the original arrives (_apply_pending_notices)
    edited = notice.content["edit"].get("message")
    edited = edited if isinstance(edited, dict) else {}
    kind = _short(edited.get("type"), 32) or original.type
    content = stored_form(kind, edited)
    at = notice.received_at or timezone.now()
    history = list(original.content_history) if isinstance(original.content_history, list) else []
    entry = versions.edit_entry(content, at, notice.wamid or "")
    if any(isinstance(e, dict) and e.get("edit_wamid") == entry["edit_wamid"] for e in history):
        return  # this edit is already recorded
    original.content_history = [*history, entry]
    original.edited_at = max(filter(None, [original.edited_at, at]))
    # A new file in the edit (WhatsApp edits captions, but the payload may name one) is
    # captured too, on the edit's own row: the original's media stays the original's.
    media, media_is_new = _media_object(batch, kind, content.get(kind))
    if media is not None and media.pk != original.media_id:
        Message.objects.filter(pk=notice.pk, media__isnull=True).update(media=media)
        if media_is_new:
            _schedule_download(media)
    original.save(update_fields=["content_history", "edited_at"])
    batch.publish(
        types.MESSAGE_EDITED,
        _subject(original, notice),
        {"wamid": original.wamid, "type": kind, "edited_at": original.edited_at},
    )


def _apply_pending_notices(batch: _Batch, rows: list[Message]) -> None:
    """An edit or revoke can arrive before the message it changes: apply it now (for many
    new rows, one query finds them all)."""
    if not rows:
        return
    wamids = [row.wamid for row in rows]
    notices = (
        Message.objects.filter(
            conversation_id__in={row.conversation_id for row in rows},
            direction=Message.Direction.INBOUND,
            type__in=("revoke", "edit"),
        )
        .filter(
            Q(content__revoke__original_message_id__in=wamids)
            | Q(content__edit__original_message_id__in=wamids)
        )
        .order_by("received_at", "pk")
    )
    waiting: dict[tuple[int, Any], list[Message]] = {}
    for notice in notices:
        payload = notice.content.get(notice.type)
        original = payload.get("original_message_id") if isinstance(payload, dict) else None
        waiting.setdefault((notice.conversation_id, original), []).append(notice)
    for row in rows:
        for notice in waiting.get((row.conversation_id, row.wamid), []):
            if notice.type == "revoke":
                _apply_revoke(batch, notice)
            else:
                _apply_edit(batch, notice)


def _apply_system(batch: _Batch, row: Message) -> None:
    system = row.content.get("system")
    if not isinstance(system, dict):
        return
    kind = system.get("type")
    contact = row.contact
    if kind in ("user_changed_number", "customer_changed_number"):
        new = _identity(system.get("wa_id") or system.get("new_wa_id"), 32)
        if new and new != contact.wa_id:
            _move_identity(batch, contact, "wa_id", new, phone_e164=_phone(new))
    elif kind == "user_changed_user_id":
        new = _identity(system.get("user_id") or system.get("new_user_id"), 128)
        if new and new != contact.business_scoped_user_id:
            _move_identity(batch, contact, "business_scoped_user_id", new)
    # customer_identity_changed (the security code changed): the row itself is the record.


def _move_identity(batch: _Batch, contact: Contact, column: str, new: str, **also: str) -> None:
    """The citizen's number (or user id) changed: the same person, so the same contact and
    history — unless another contact already has the new one (then both are kept)."""
    old = getattr(contact, column)
    if Contact.objects.filter(**{column: new}).exclude(pk=contact.pk).exists():
        logger.info("contact %s: new %s already belongs to another contact", contact.pk, column)
        return
    try:
        with transaction.atomic():
            Contact.objects.filter(pk=contact.pk).update(**{column: new}, **also)
    except IntegrityError:
        return
    setattr(contact, column, new)
    for name, value in also.items():
        setattr(contact, name, value)
    batch.contacts.clear()
    record_event(
        agency_id=batch.agency_id,
        actor=Actor.system(COMPONENT),
        action="contact.identity_changed",
        target=contact,
        changes={column: [old, new]},
    )
