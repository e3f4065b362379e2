"""``value.messages[]`` and change-level ``errors`` → ``Message`` rows (see the package's
docstring for the contract and the cost)."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from messaging.models import Conversation, MediaObject, Message
from messaging.webhooks import keywords
from messaging.webhooks.changes import Change, InvalidChange, unix_time
from messaging.webhooks.inbound.batch import (
    _NO_REOPEN,
    _NOT_BY_CITIZEN,
    _Batch,
    _identity,
    _Inbound,
    _insert_new,
    _items,
    _profile_name,
    _short,
    _wamid,
)
from messaging.webhooks.inbound.contacts import (
    _contact,
    _contacts,
    _conversation,
    _conversations,
    _touch_conversation,
    _touch_conversations,
)
from messaging.webhooks.inbound.content import (
    _error_fields,
    _media_id,
    _media_object,
    _media_objects,
    _schedule_download,
    stored_form,
)
from messaging.webhooks.inbound.notices import (
    _apply_edit,
    _apply_pending_notices,
    _apply_revoke,
    _apply_system,
)
from records.dlp import inbound as dlp_inbound

logger = logging.getLogger(__name__)


# --- messages ---------------------------------------------------------------------------------


def handle_messages(change: Change) -> None:
    """Store the change's new messages in their order. The common ones (what citizens
    write: text, media, interactive…) are stored together, with a fixed number of queries
    whatever their count; a message that acts on others or on consent (edit, revoke,
    WhatsApp's notices, a keyword) is applied on its own, after what came before it."""
    batch = _Batch.of(change)
    messages = _items(change.value, "messages")
    change_errors = _items(change.value, "errors")
    wamids = [_wamid(message) for message in messages]
    done = set(
        Message.objects.filter(phone_number_id=batch.number_pk, wamid__in=wamids).values_list(
            "wamid", flat=True
        )
    )
    run: list[_Inbound] = []
    for wamid, message in zip(wamids, messages, strict=True):
        if wamid in done:
            continue  # a redelivery: already recorded and acted on
        done.add(wamid)
        inbound = _read(batch, wamid, message, change_errors)
        if _acts(batch, inbound):
            _ingest_together(batch, run)
            run = []
            _ingest(batch, inbound)
        else:
            run.append(inbound)
    _ingest_together(batch, run)
    if change_errors and not messages:
        _record_change_errors(batch, change_errors)
    # Sensitive data: flags beside the new rows, published with their events; then the
    # agency's automatic reply, if it wants one (records.dlp.inbound).
    dlp_replies = dlp_inbound.flag_messages(lambda: batch.agency, batch.stored, batch.publish)
    batch.flush()  # publishing holds the agency's event counter until the commit
    if dlp_replies:
        dlp_inbound.auto_reply(batch.agency, dlp_replies, send=_send_dlp_reply)


def _read(
    batch: _Batch, wamid: str, message: dict[str, Any], change_errors: list[dict[str, Any]]
) -> _Inbound:
    kind = _short(message.get("type"), 32) or "unknown"
    wa_id = _identity(message.get("from"), 32)
    user_id = _identity(message.get("from_user_id"), 128)
    profile = batch.profile(wa_id, user_id)
    if profile is not None:  # 2026 contacts[] add user_id next to wa_id (cloud-api.md §10)
        wa_id = wa_id or _identity(profile.get("wa_id"), 32)
        user_id = user_id or _identity(profile.get("user_id"), 128)
    if not (wa_id or user_id):
        raise InvalidChange(f"message {wamid[:80]} has no sender (from / from_user_id)")
    context = message.get("context")
    context = context if isinstance(context, dict) else {}
    referral = message.get("referral") if isinstance(message.get("referral"), dict) else {}
    fields = {
        "wamid": wamid,
        "type": kind,
        "content": stored_form(kind, message),
        "received_at": unix_time(message.get("timestamp")) or timezone.now(),
        "context": context,
        "referral": referral,
        "reply_to_wamid": _short(context.get("id"), 200),
        "sender_type": Message.SenderType.CONTACT,
        **_error_fields(message.get("errors") or change_errors),
    }
    return _Inbound(kind, wa_id, user_id, _profile_name(profile), fields)


# Messages that change other rows or the contact (edit, revoke, system), or that neither
# open the window nor reopen the conversation: stored one at a time, in their place.
_ONE_BY_ONE = _NOT_BY_CITIZEN | _NO_REOPEN | {"edit"}


def _acts(batch: _Batch, inbound: _Inbound) -> bool:
    if inbound.kind in _ONE_BY_ONE:
        return True
    return (
        inbound.kind in keywords.MESSAGE_TYPES
        and keywords.match_content(
            inbound.kind, inbound.fields["content"], batch.agency, batch.topic_keywords
        )
        is not None
    )


def _ingest(batch: _Batch, inbound: _Inbound) -> None:
    """One message on its own, with everything it does to others."""
    contact = _contact(batch, inbound.wa_id, inbound.user_id, inbound.name)
    conversation = _conversation(batch, contact)
    row = _insert(batch, conversation, **inbound.fields)
    if row is None:
        return
    batch.received(row)
    _touch_conversation(batch, conversation, row)
    kind = inbound.kind
    if kind == "revoke":
        _apply_revoke(batch, row)
    elif kind == "edit":
        _apply_edit(batch, row)
    elif kind == "system":
        _apply_system(batch, row)
    else:
        _apply_pending_notices(batch, [row])
    if kind in keywords.MESSAGE_TYPES:
        batch.flush()  # the message's events before the consent change it makes
        keywords.apply_keyword(row, agency=batch.agency)


def _ingest_together(batch: _Batch, run: list[_Inbound]) -> None:
    """Common messages (none of them acts on another row or on consent), stored as
    ``_ingest`` would one by one, in a fixed number of queries: their contacts, their
    conversations, their media objects and the rows are each looked up and inserted
    together, then every conversation's window moves in one UPDATE."""
    if not run:
        return
    names: dict[tuple[str, str], str] = {}
    for m in run:
        names.setdefault(m.sender, m.name)
    new_contacts = _contacts(batch, names)
    senders = [batch.contacts[m.sender] for m in run]
    new_conversations = _conversations(batch, senders, new_contacts)
    media, new_media = _media_objects(batch, run)
    rows = [
        Message(
            agency_id=batch.agency_id,
            conversation_id=batch.conversations[contact.pk].pk,
            phone_number_id=batch.number_pk,
            contact_id=contact.pk,
            direction=Message.Direction.INBOUND,
            status=Message.Status.RECEIVED,
            media=media.get(_media_id(m.kind, m.fields["content"])),
            **m.fields,
        )
        for m, contact in zip(run, senders, strict=True)
    ]
    # A wamid refused here was stored meanwhile by a concurrent worker, which acts on it.
    stored = _insert_new(rows, ("wamid",))
    used = {row.media_id for row in stored}
    for media_object in new_media:
        if media_object.pk in used:
            _schedule_download(media_object)
    unused = [m.pk for m in new_media if m.pk not in used]
    if unused:  # as the savepoint of a refused row would have undone them
        MediaObject.objects.filter(pk__in=unused).delete()
    for row in stored:
        batch.received(row)
    _touch_conversations(batch, stored)
    # No edit or revoke can wait in a conversation created just now.
    _apply_pending_notices(
        batch, [row for row in stored if row.conversation_id not in new_conversations]
    )


def _insert(batch: _Batch, conversation: Conversation, **fields: Any) -> Message | None:
    """Store the row (and its media object); None if this wamid was stored meanwhile by a
    concurrent worker: the unique constraint decides, and the savepoint undoes our part."""
    kind, content = fields["type"], fields["content"]
    try:
        with transaction.atomic():
            media, media_is_new = _media_object(batch, kind, content.get(kind))
            row = Message.objects.create(
                agency_id=batch.agency_id,
                conversation=conversation,
                phone_number_id=batch.number_pk,
                contact=conversation.contact,
                direction=Message.Direction.INBOUND,
                status=Message.Status.RECEIVED,
                media=media,
                **fields,
            )
    except IntegrityError:
        stored = Message.objects.filter(phone_number_id=batch.number_pk, wamid=fields["wamid"])
        if stored.exists():
            return None
        raise
    if media_is_new:
        _schedule_download(media)
    return row


def _send_dlp_reply(row: Message, text: str) -> Message | None:
    """The agency's DLP automatic reply to ``row``'s citizen, through the normal send path
    (the window, the policy); None when refused. Once per citizen message (its key)."""
    from messaging.policy import SendRefused
    from messaging.services import Sender, send_message
    from messaging.whatsapp import builders

    wa_id = row.contact.wa_id
    if not wa_id:  # a username-only citizen: send_message needs a phone number
        return None
    try:
        return send_message(
            agency=row.agency,
            sender=Sender.system(dlp_inbound.COMPONENT),
            to=wa_id,
            message=builders.Text(text),
            phone_number=row.phone_number,
            idempotency_key=f"dlp-auto-reply:{row.pk}",
        )
    except SendRefused as refusal:
        logger.info("DLP auto-reply for message %s refused (%s)", row.pk, refusal.rule.value)
        return None


# --- change-level errors ------------------------------------------------------------------------


def _record_change_errors(batch: _Batch, errors: list[dict[str, Any]]) -> None:
    """Meta could not deliver something a citizen sent, and named no message: one row per
    contact the change names. Nobody named: quarantine the change, so operators see it."""
    if batch.change.value.get("statuses"):
        # About the statuses beside them, not a citizen's message; never roll those back.
        logger.warning("change-level errors beside statuses: %s", _describe(errors))
        return
    senders = {
        (_identity(item.get("wa_id"), 32), _identity(item.get("user_id"), 128)): item
        for item in batch.listed
    }
    senders.pop(("", ""), None)
    if not senders:
        raise InvalidChange(f"Meta reported errors for no message: {_describe(errors)}")
    for (wa_id, user_id), item in senders.items():
        contact = _contact(batch, wa_id, user_id, _profile_name(item))
        conversation = _conversation(batch, contact)
        # No wamid from Meta: a stable key makes a redelivery a duplicate all the same.
        key = json.dumps([wa_id, user_id, errors], sort_keys=True, default=str)
        row = _insert(
            batch,
            conversation,
            wamid=f"errors.{hashlib.sha256(key.encode()).hexdigest()[:48]}",
            type="errors",
            content={"type": "errors", "errors": errors},
            received_at=timezone.now(),
            sender_type=Message.SenderType.SYSTEM,
            **_error_fields(errors),
        )
        if row is not None:
            batch.received(row)
            _touch_conversation(batch, conversation, row)


def _describe(errors: list[dict[str, Any]]) -> str:
    fields = _error_fields(errors)
    return f"{fields.get('error_code')} {fields.get('error_reason', '')}"[:300]
