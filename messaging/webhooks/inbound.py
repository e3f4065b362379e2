"""Inbound messages (``value.messages[]`` and change-level ``errors``) → normalized rows, and
``user_preferences`` (marketing stop/resume in WhatsApp) → consent records.

Contract (used by ``processing``): ``handle_messages(change)`` and
``handle_user_preferences(change)`` run inside the change's agency scope and a transaction;
they are idempotent (a redelivered change creates nothing new).

Every message becomes one ``Message`` row (direction in, status received), keyed by its
wamid: a wamid already stored is skipped before anything else happens, so a redelivered
webhook records no second row, applies no second edit and sends no second keyword reply.
``content`` has the outbound stored form, ``{"type": t, t: <Meta's payload for t>}``.

- The contact is found by ``wa_id`` or business-scoped user id (``from_user_id``: 2026
  username users may have no phone), created if new; its profile name follows ``contacts[]``.
- The conversation (number + contact) is created if new; ``last_inbound_at`` and
  ``window_expires_at`` (+24 h) move to the message's own timestamp, never backwards, so a
  late old message cannot shrink the window. A new message reopens a resolved conversation.
  WhatsApp's ``system`` notices neither open the window nor reopen.
- Media (image, video, audio, document, sticker) get a pending ``MediaObject``; its download
  is scheduled after commit (``media.schedule_download``).
- ``revoke`` marks the original ``revoked_at`` (its content is kept: it is a record);
  ``edit`` moves the original's content into ``content_history`` and replaces it. Both are
  also rows of their own. If the original arrives after its edit/revoke, it is applied then.
- ``system`` ``user_changed_number`` moves the contact to the new number (unless another
  contact already has it); ``user_changed_user_id`` likewise for the business-scoped id.
- Change-level ``errors`` (Meta could not deliver what the citizen sent) go on the rows of
  the messages the change lists; with no message but a contact, on one ``errors`` row per
  contact (sender system); with neither, the change is quarantined with Meta's error.
- Text and template quick replies go through the opt-out/opt-in keywords (``keywords``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from messaging import policy
from messaging.models import Consent, Contact, Conversation, MediaObject, Message
from messaging.webhooks import keywords
from messaging.webhooks import media as inbound_media
from messaging.webhooks.processing import Change, InvalidChange
from records.audit import Actor, record_event
from tenants.models import Agency

logger = logging.getLogger(__name__)

COMPONENT = "webhooks"
MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
# WhatsApp's own notices, not something the citizen did: no window, no reopening.
_NOT_BY_CITIZEN = frozenset({"system", "errors"})
_NO_REOPEN = _NOT_BY_CITIZEN | {"revoke"}
_PREFERENCE_STATUS = {
    "stop": Consent.Status.OPTED_OUT,
    "resume": Consent.Status.OPTED_IN,
    "signup": Consent.Status.OPTED_IN,  # the citizen asked for this business's offers
}
_INT_MAX = 2**31 - 1


@dataclass
class _Batch:
    """One change being processed: its route, and what it already looked up."""

    change: Change
    profiles: dict[str, dict[str, Any]]  # "wa:<wa_id>" / "user:<user id>" → contacts[] item
    listed: list[dict[str, Any]]  # contacts[] as received
    contacts: dict[tuple[str, str], Contact] = field(default_factory=dict)
    conversations: dict[int, Conversation] = field(default_factory=dict)
    _agency: Agency | None = None

    @classmethod
    def of(cls, change: Change) -> _Batch:
        if change.route.phone_number_pk is None:
            raise InvalidChange("the change names no business phone number")
        listed = _items(change.value, "contacts")
        profiles: dict[str, dict[str, Any]] = {}
        for item in listed:
            for kind, key in (("wa", "wa_id"), ("user", "user_id")):
                if item.get(key):
                    profiles[f"{kind}:{item[key]}"] = item
        return cls(change, profiles, listed)

    @property
    def agency_id(self) -> int:
        return self.change.route.agency_id

    @property
    def number_pk(self) -> int:
        return self.change.route.phone_number_pk  # type: ignore[return-value]  # checked in of()

    @property
    def agency(self) -> Agency:
        if self._agency is None:
            self._agency = Agency.objects.get(pk=self.agency_id)
        return self._agency

    def profile(self, wa_id: str, user_id: str) -> dict[str, Any] | None:
        found = self.profiles.get(f"wa:{wa_id}") or self.profiles.get(f"user:{user_id}")
        if found is None and not (wa_id or user_id) and len(self.listed) == 1:
            found = self.listed[0]  # a message naming no sender: the change's only contact
        return found


# --- messages ---------------------------------------------------------------------------------


def handle_messages(change: Change) -> None:
    batch = _Batch.of(change)
    messages = _items(change.value, "messages")
    change_errors = _items(change.value, "errors")
    wamids = [_wamid(message) for message in messages]
    done = set(
        Message.objects.filter(phone_number_id=batch.number_pk, wamid__in=wamids).values_list(
            "wamid", flat=True
        )
    )
    for wamid, message in zip(wamids, messages, strict=True):
        if wamid in done:
            continue  # a redelivery: already recorded and acted on
        done.add(wamid)
        _ingest(batch, wamid, message, change_errors)
    if change_errors and not messages:
        _record_change_errors(batch, change_errors)


def _ingest(
    batch: _Batch, wamid: str, message: dict[str, Any], change_errors: list[dict[str, Any]]
) -> None:
    kind = _short(message.get("type"), 32) or "unknown"
    wa_id = _identity(message.get("from"), 32)
    user_id = _identity(message.get("from_user_id"), 128)
    profile = batch.profile(wa_id, user_id)
    if profile is not None and not (wa_id or user_id):
        wa_id = _identity(profile.get("wa_id"), 32)
        user_id = _identity(profile.get("user_id"), 128)
    if not (wa_id or user_id):
        raise InvalidChange(f"message {wamid[:80]} has no sender (from / from_user_id)")
    contact = _contact(batch, wa_id, user_id, _profile_name(profile))
    conversation = _conversation(batch, contact)
    context = message.get("context") if isinstance(message.get("context"), dict) else {}
    referral = message.get("referral") if isinstance(message.get("referral"), dict) else {}
    row = _insert(
        batch,
        conversation,
        wamid=wamid,
        type=kind,
        content=stored_form(kind, message),
        received_at=_timestamp(message.get("timestamp")) or timezone.now(),
        context=context,
        referral=referral,
        reply_to_wamid=_short(context.get("id"), 200),
        sender_type=Message.SenderType.CONTACT,
        **_error_fields(message.get("errors") or change_errors),
    )
    if row is None:
        return
    _touch_conversation(conversation, row)
    if kind == "revoke":
        _apply_revoke(row)
    elif kind == "edit":
        _apply_edit(batch, row)
    elif kind == "system":
        _apply_system(batch, row)
    else:
        _apply_pending_notices(batch, row)
    if kind in keywords.MESSAGE_TYPES:
        keywords.apply_keyword(row, agency=batch.agency)


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


def _touch_conversation(conversation: Conversation, row: Message) -> None:
    """Move the window to the message's own time, never backwards (a late old message, or
    two workers at once, cannot shrink it: GREATEST in the UPDATE)."""
    at = min(row.received_at or timezone.now(), timezone.now())  # a clock ahead opens nothing
    updates: dict[str, Any] = {"last_message_at": _latest("last_message_at", at)}
    if row.type not in _NOT_BY_CITIZEN:
        updates["last_inbound_at"] = _latest("last_inbound_at", at)
        updates["window_expires_at"] = _latest("window_expires_at", at + policy.WINDOW)
    if row.type not in _NO_REOPEN:
        updates["status"] = Conversation.Status.OPEN
    Conversation.objects.filter(pk=conversation.pk).update(**updates)


def _latest(column: str, value: datetime) -> Greatest:
    # An empty column takes the value. COALESCE because SQLite's GREATEST (MAX) is NULL
    # when an argument is; PostgreSQL's ignores NULLs.
    moment = Value(value, output_field=DateTimeField())
    return Greatest(Coalesce(F(column), moment), moment)


# --- content ----------------------------------------------------------------------------------


def stored_form(kind: str, message: dict[str, Any]) -> dict[str, Any]:
    """``{"type": kind, kind: payload}`` as outbound messages are stored, with the few
    normalizations readers need: numeric coordinates, a parsed flow response, an explicit
    empty emoji for a removed reaction."""
    payload = message.get(kind)
    if kind == "location" and isinstance(payload, dict):
        payload = {
            **payload,
            **{k: _coordinate(payload[k]) for k in ("latitude", "longitude") if k in payload},
        }
    elif kind == "interactive" and isinstance(payload, dict):
        payload = _interactive(payload)
    elif kind == "reaction" and isinstance(payload, dict):
        payload = {**payload, "emoji": payload.get("emoji") or ""}  # empty: reaction removed
    return {"type": kind, kind: payload if payload is not None else {}}


def _coordinate(value: Any) -> Any:
    """Some payloads carry coordinates as strings; kept as received when not a number."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    return value


def _interactive(payload: dict[str, Any]) -> dict[str, Any]:
    reply = payload.get("nfm_reply")
    if not isinstance(reply, dict) or not isinstance(reply.get("response_json"), str):
        return payload
    try:
        response = json.loads(reply["response_json"])
    except ValueError:
        return payload  # kept as received; the string is the record
    return {**payload, "nfm_reply": {**reply, "response": response}}


def _error_fields(errors: Any) -> dict[str, Any]:
    if not isinstance(errors, list) or not errors:
        return {}
    first = errors[0] if isinstance(errors[0], dict) else {}
    code = first.get("code")
    title = str(first.get("title") or first.get("message") or "WhatsApp reported an error")
    data = first.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    reason = f"{title}: {details}" if details and details != title else title
    return {
        "error_code": code if isinstance(code, int) and 0 <= code <= _INT_MAX else None,
        "error_reason": reason[:300],
        "error_details": {"errors": errors},
    }


# --- media ------------------------------------------------------------------------------------


def _media_object(batch: _Batch, kind: str, payload: Any) -> tuple[MediaObject | None, bool]:
    if kind not in MEDIA_TYPES or not isinstance(payload, dict):
        return None, False
    media_id = _short(payload.get("id"), 128)
    if not media_id:
        return None, False
    return MediaObject.objects.get_or_create(
        phone_number_id=batch.number_pk,
        meta_media_id=media_id,
        defaults={
            "agency_id": batch.agency_id,
            "kind": kind,
            "mime_type": _short(payload.get("mime_type"), 128),
            "meta_sha256": _short(payload.get("sha256"), 128),
            "filename": _short(payload.get("filename"), 255),
        },
    )


def _schedule_download(media: MediaObject | None) -> None:
    if media is None:
        return
    # robust: a broker hiccup must not fail the committed change; pending media is swept.
    transaction.on_commit(lambda: inbound_media.schedule_download(media), robust=True)


# --- contacts and conversations ---------------------------------------------------------------


def _contact(batch: _Batch, wa_id: str, user_id: str, name: str) -> Contact:
    key = (wa_id, user_id)
    if key in batch.contacts:
        return batch.contacts[key]
    lookup = Q(wa_id=wa_id) if wa_id else Q()
    if user_id:
        lookup |= Q(business_scoped_user_id=user_id)
    # The phone's contact first: a username-only contact is not merged into it.
    found = sorted(Contact.objects.filter(lookup), key=lambda c: (c.wa_id != wa_id, c.pk))
    if found:
        contact = found[0]
        _refresh_contact(contact, found[1:], wa_id, user_id, name)
    else:
        contact = _create_contact(batch, lookup, wa_id, user_id, name)
    batch.contacts[key] = contact
    return contact


def _create_contact(batch: _Batch, lookup: Q, wa_id: str, user_id: str, name: str) -> Contact:
    try:
        with transaction.atomic():
            return Contact.objects.create(
                agency_id=batch.agency_id,
                wa_id=wa_id or None,
                business_scoped_user_id=user_id or None,
                phone_e164=_phone(wa_id),
                profile_name=name,
            )
    except IntegrityError:  # another worker created them first
        contact = Contact.objects.filter(lookup).order_by("pk").first()
        if contact is None:
            raise
        return contact


def _refresh_contact(
    contact: Contact, others: list[Contact], wa_id: str, user_id: str, name: str
) -> None:
    """Keep what Meta tells us current: the profile name, an identity we lacked (unless
    another contact holds it), and reachability (they just wrote, so they are on WhatsApp)."""
    updates: dict[str, Any] = {}
    if name and contact.profile_name != name:
        updates["profile_name"] = name
    if contact.unreachable_at is not None:
        updates["unreachable_at"] = None
    if wa_id and not contact.wa_id and not any(o.wa_id == wa_id for o in others):
        updates.update(wa_id=wa_id, phone_e164=_phone(wa_id))
    if (
        user_id
        and not contact.business_scoped_user_id
        and not any(o.business_scoped_user_id == user_id for o in others)
    ):
        updates["business_scoped_user_id"] = user_id
    if not updates:
        return
    try:
        with transaction.atomic():
            Contact.objects.filter(pk=contact.pk).update(**updates)
    except IntegrityError:  # an identity taken concurrently: keep the rest
        for column in ("wa_id", "phone_e164", "business_scoped_user_id"):
            updates.pop(column, None)
        Contact.objects.filter(pk=contact.pk).update(**updates)
    for name_, value in updates.items():
        setattr(contact, name_, value)


def _conversation(batch: _Batch, contact: Contact) -> Conversation:
    if contact.pk not in batch.conversations:
        conversation, _ = Conversation.objects.get_or_create(
            phone_number_id=batch.number_pk,
            contact=contact,
            defaults={"agency_id": batch.agency_id},
        )
        conversation.contact = contact
        batch.conversations[contact.pk] = conversation
    return batch.conversations[contact.pk]


def _profile_name(profile: dict[str, Any] | None) -> str:
    inner = (profile or {}).get("profile")
    return _short(inner.get("name"), 200) if isinstance(inner, dict) else ""


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


def _apply_revoke(notice: Message) -> None:
    """The citizen deleted a message for everyone: mark it, keep its content (a record)."""
    original = _original(notice, "revoke")
    if original is not None and original.revoked_at is None:
        Message.objects.filter(pk=original.pk).update(revoked_at=notice.received_at)


def _apply_edit(batch: _Batch, notice: Message) -> None:
    """Make the edit the original's content and keep every earlier version, in the order the
    citizen wrote them (edits can arrive out of order)."""
    original = _original(notice, "edit", lock=True)
    if original is None:
        return  # applied when the original arrives (_apply_pending_notices)
    edited = notice.content["edit"].get("message")
    edited = edited if isinstance(edited, dict) else {}
    kind = _short(edited.get("type"), 32) or original.type
    content = stored_form(kind, edited)
    at = notice.received_at or timezone.now()
    versions = [(v["content"], datetime.fromisoformat(v["at"])) for v in original.content_history]
    versions.append((original.content, original.edited_at or original.received_at or at))
    if (content, at) in versions:
        return
    first, *later = versions
    versions = [first, *sorted([*later, (content, at)], key=lambda version: version[1])]
    original.content_history = [
        {"content": body, "at": _iso(since), "replaced_at": _iso(versions[i + 1][1])}
        for i, (body, since) in enumerate(versions[:-1])
    ]
    original.content, original.edited_at = versions[-1]
    original.type = _short(original.content.get("type"), 32) or original.type
    media, media_is_new = _media_object(batch, original.type, original.content.get(original.type))
    if media is not None:
        original.media = media
        if media_is_new:
            _schedule_download(media)
    original.save(update_fields=["content", "content_history", "edited_at", "type", "media"])


def _apply_pending_notices(batch: _Batch, row: Message) -> None:
    """An edit or revoke can arrive before the message it changes: apply it now."""
    notices = (
        Message.objects.filter(
            conversation_id=row.conversation_id,
            direction=Message.Direction.INBOUND,
            type__in=("revoke", "edit"),
        )
        .filter(
            Q(content__revoke__original_message_id=row.wamid)
            | Q(content__edit__original_message_id=row.wamid)
        )
        .order_by("received_at", "pk")
    )
    for notice in notices:
        if notice.type == "revoke":
            _apply_revoke(notice)
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
            _touch_conversation(conversation, row)


def _describe(errors: list[dict[str, Any]]) -> str:
    fields = _error_fields(errors)
    return f"{fields.get('error_code')} {fields.get('error_reason', '')}"[:300]


# --- user preferences ---------------------------------------------------------------------------


def handle_user_preferences(change: Change) -> None:
    """A citizen stopped (or resumed) marketing messages inside WhatsApp: Meta will refuse
    our marketing templates (131050) until they resume, so the policy refuses them first."""
    batch = _Batch.of(change)
    for item in _items(change.value, "user_preferences"):
        status = _PREFERENCE_STATUS.get(str(item.get("value", "")).lower())
        if item.get("category") != "marketing_messages" or status is None:
            logger.info("user preference ignored: %s/%s", item.get("category"), item.get("value"))
            continue
        wa_id = _identity(item.get("wa_id"), 32)
        user_id = _identity(item.get("user_id"), 128)
        if not (wa_id or user_id):
            raise InvalidChange("a user preference names no user (wa_id / user_id)")
        contact = _contact(batch, wa_id, user_id, _profile_name(batch.profile(wa_id, user_id)))
        _record_preference(batch, contact, status, item)


def _record_preference(batch: _Batch, contact: Contact, status: str, item: dict[str, Any]) -> None:
    recorded_at = min(_timestamp(item.get("timestamp")) or timezone.now(), timezone.now())
    # Serializes two deliveries of the same preference, so the check below is exact.
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    consents = Consent.objects.filter(
        contact=contact,
        topic=policy.WHATSAPP_MARKETING_TOPIC,
        source=Consent.Source.WHATSAPP_PREFERENCES,
    )
    if consents.filter(status=status, recorded_at=recorded_at).exists():
        return  # a redelivery
    consent = Consent.objects.create(
        agency_id=batch.agency_id,
        contact=contact,
        topic=policy.WHATSAPP_MARKETING_TOPIC,
        status=status,
        source=Consent.Source.WHATSAPP_PREFERENCES,
        evidence={**item, "phone_number_id": batch.change.route.phone_number_id},
        recorded_at=recorded_at,
    )
    record_event(
        agency_id=batch.agency_id,
        actor=Actor.system(COMPONENT),
        action=f"consent.{status}",
        target=consent,
        changes={
            "contact": contact.pk,
            "topic": policy.WHATSAPP_MARKETING_TOPIC,
            "source": Consent.Source.WHATSAPP_PREFERENCES.value,
        },
    )


# --- small parsers ------------------------------------------------------------------------------


def _items(value: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = value.get(key) or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InvalidChange(f"`{key}` is not a list of objects")
    return items


def _wamid(message: dict[str, Any]) -> str:
    wamid = message.get("id")
    if not isinstance(wamid, str) or not wamid.strip() or len(wamid) > 200:
        raise InvalidChange("a message without a usable id")
    return wamid


def _identity(value: Any, max_length: int) -> str:
    if value is None or value == "":
        return ""
    text = str(value).strip()
    if len(text) > max_length or isinstance(value, dict | list | bool):
        raise InvalidChange(f"an unusable user identifier {text[:40]!r}")
    return text


def _phone(wa_id: str) -> str:
    """The E.164 form of a wa_id (digits), or "" for anything that cannot be one."""
    return f"+{wa_id}" if wa_id.isascii() and wa_id.isdigit() and len(wa_id) <= 15 else ""


def _short(value: Any, max_length: int) -> str:
    return value[:max_length] if isinstance(value, str) else ""


def _timestamp(value: Any) -> datetime | None:
    """Meta's unix seconds (a string in messages, an int in preferences)."""
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
