"""Recording consent: one append-only row per change (the newest decides), one audit
record and one ``consent.changed`` event, in one transaction.

Every path comes through here: keywords (messaging.webhooks.keywords), the inbox, staff
on the contact page, the API, the hosted opt-in page, and imports (``record_opt_ins_bulk``).
An opt-out also withdraws, in the same transaction, the business-initiated messages still
waiting to go to that citizen for what they opted out of (``withdraw_pending``): queued or
held campaign messages are never sent after the citizen said stop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from bsp import events
from bsp.events import types
from messaging.consent import bulk
from messaging.consent.models import ConsentTopic
from messaging.models import Consent, Contact, Conversation, Message
from records.audit import Actor, record_event
from records.holds.services import ensure_conversation_deletable
from tenants.models import Agency
from tenants.services import ApplicationError, ensure_agency_active

TOPIC_MAX = 64
WITHDRAWN_REASON = "Opted out before sending"
WITHDRAWABLE = (Message.Status.QUEUED, Message.Status.HELD)
# Sources a staff member records by hand, with their name as evidence.
STAFF_SOURCES = (Consent.Source.PAPER, Consent.Source.PHONE, Consent.Source.STAFF)


def record_consent(
    *,
    actor: Actor,
    contact: Contact,
    status: str,
    source: str,
    topic: str = "",
    recorded_by: User | None = None,
    evidence: dict[str, Any] | None = None,
    recorded_at: datetime | None = None,
    subject: dict[str, Any] | None = None,
    require_active_agency: bool = True,
) -> Consent:
    """Append an opt-in or opt-out for ``contact`` (``topic`` "" = the agency as a whole).
    An opt-out is effective at once for every business-initiated send: the policy reads
    the newest row, and waiting messages are withdrawn. ``recorded_at`` is when the
    citizen said it (a keyword's own time), never later than now; ``subject`` adds ids to
    the event's subject (the keyword's message). ``require_active_agency=False`` only for
    a citizen's own request (a keyword): it is honoured even while the agency is suspended."""
    if require_active_agency:
        ensure_agency_active(contact.agency)
    if status not in Consent.Status.values:
        raise ApplicationError(f"Unknown consent status {status!r}.")
    if source not in Consent.Source.values:
        raise ApplicationError(f"Unknown consent source {source!r}.")
    topic = topic.strip().lower()
    if len(topic) > TOPIC_MAX:
        raise ApplicationError(f"A topic has at most {TOPIC_MAX} characters.")
    now = timezone.now()
    with transaction.atomic():
        # One writer at a time per citizen: an import batch that re-checks their state
        # under the same lock cannot opt them in over this opt-out.
        list(Contact.objects.select_for_update().filter(pk=contact.pk).values_list("pk"))
        consent = Consent.objects.create(
            agency_id=contact.agency_id,
            contact=contact,
            topic=topic,
            status=status,
            source=source,
            evidence=evidence or {},
            recorded_at=min(recorded_at, now) if recorded_at else now,
            recorded_by=recorded_by,
        )
        withdrawn: list[events.Event] = []
        if status == Consent.Status.OPTED_OUT:
            withdrawn = withdraw_pending(contact.agency_id, [contact.pk], topic)
        record_event(
            agency_id=contact.agency_id,
            actor=actor,
            action=f"consent.{status}",
            target=consent,
            changes={
                "contact": contact.pk,
                "topic": topic,
                "source": source,
                **({"withdrawn_messages": len(withdrawn)} if withdrawn else {}),
            },
        )
        consent_event = events.Event(
            types.CONSENT_CHANGED,
            {**(subject or {}), "consent": consent.pk, "contact": contact.pk},
            {
                "status": status,
                "topic": topic,
                "source": source,
                "recorded_at": consent.recorded_at,
            },
        )
        # Last: publishing holds the agency's event counter until the commit.
        events.publish_many(contact.agency_id, [consent_event, *withdrawn])
    return consent


def withdraw_pending(agency_id: int, contact_ids: Sequence[int], topic: str) -> list[events.Event]:
    """Cancel the queued or held business-initiated messages to these contacts that an
    opt-out of ``topic`` forbids ("" = everything; otherwise messages whose template is
    of that topic). Call inside the opt-out's transaction; returns the ``message.status``
    events to publish with it (one per withdrawn message, as status webhooks publish)."""
    pending = Message.objects.filter(
        agency_id=agency_id,
        contact_id__in=list(contact_ids),
        direction=Message.Direction.OUTBOUND,
        business_initiated=True,
        status__in=WITHDRAWABLE,
    )
    if topic:
        pending = pending.filter(template__topic=topic)
    # Locked, so a sender that claims one of them first (queued → sending) wins cleanly:
    # that message is already on its way and is not reported as withdrawn.
    rows = list(
        pending.select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", "conversation_id", "contact_id", "status", "campaign_id")
    )
    if not rows:
        return []
    now = timezone.now()
    Message.objects.filter(pk__in=[row[0] for row in rows]).update(
        status=Message.Status.CANCELLED, error_reason=WITHDRAWN_REASON
    )
    published = []
    for pk, conversation_id, contact_id, previous, campaign_id in rows:
        subject: dict[str, Any] = {
            "message": pk,
            "conversation": conversation_id,
            "contact": contact_id,
        }
        if campaign_id is not None:
            subject["campaign"] = campaign_id
        payload = {
            "status": Message.Status.CANCELLED.value,
            "previous": previous,
            "at": now,
            "error_reason": WITHDRAWN_REASON,
        }
        published.append(events.Event(types.MESSAGE_STATUS, subject, payload))
    return published


@dataclass(frozen=True)
class BulkOptIn:
    contact_id: int
    topic: str
    evidence: dict[str, Any]


def record_opt_ins_bulk(
    *,
    actor: Actor,
    agency: Agency,
    opt_ins: Sequence[BulkOptIn],
    source: str,
    recorded_by: User | None,
    audit_action: str,
    audit_changes: dict[str, Any],
    subject: dict[str, Any],
) -> int:
    """Append many opt-ins in one INSERT, with **one** audit record and **one**
    ``consent.imported`` event for the batch (see ``types.CONSENT_IMPORTED``): per-row
    provenance is each Consent row's evidence. Opt-ins only: an opt-out must withdraw
    messages and goes through ``record_consent``. The caller has checked each contact's
    state under a lock (imports never re-opt-in someone who opted out). Returns how many
    were recorded."""
    ensure_agency_active(agency)
    if source not in Consent.Source.values:
        raise ApplicationError(f"Unknown consent source {source!r}.")
    for item in opt_ins:
        if len(item.topic) > TOPIC_MAX or item.topic != item.topic.strip().lower():
            raise ApplicationError(f"Not a topic: {item.topic[:TOPIC_MAX]!r}.")
    now = timezone.now()
    with transaction.atomic():
        created = bulk.insert(
            Consent,
            (
                {
                    "agency_id": agency.pk,
                    "contact_id": item.contact_id,
                    "topic": item.topic,
                    "status": Consent.Status.OPTED_IN.value,
                    "source": source,
                    "evidence": item.evidence,
                    "recorded_at": now,
                    "recorded_by_id": recorded_by.pk if recorded_by else None,
                }
                for item in opt_ins
            ),
        )
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action=audit_action,
            object_type="consent.consentimport",
            object_id=str(subject.get("import", "")),
            changes={**audit_changes, "opted_in": created},
        )
        by_topic: dict[str, list[int]] = {}
        for item in opt_ins:
            by_topic.setdefault(item.topic, []).append(item.contact_id)
        events.publish(
            agency_id=agency.pk,
            type=types.CONSENT_IMPORTED,
            subject=subject,
            payload={
                "status": Consent.Status.OPTED_IN.value,
                "source": source,
                "recorded_at": now,
                "count": created,
                "contacts_by_topic": by_topic,
            },
        )
    return created


# --- Contacts ------------------------------------------------------------------------------


def contact_for_wa_id(agency: Agency, wa_id: str, *, name: str = "") -> Contact:
    """The agency's contact with this WhatsApp id, created if new (race-safe)."""
    found = Contact.objects.filter(agency=agency, wa_id=wa_id).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Contact.objects.create(
                agency=agency, wa_id=wa_id, phone_e164=f"+{wa_id}", profile_name=name[:200]
            )
    except IntegrityError:
        return Contact.objects.get(agency=agency, wa_id=wa_id)


def record_web_form_opt_in(
    *,
    topic: ConsentTopic,
    wa_id: str,
    wording: str,
    language: str,
    ip_address: str | None,
    user_agent: str,
) -> Consent:
    """A citizen's opt-in on the hosted page, with what they saw as evidence."""
    contact = contact_for_wa_id(topic.agency, wa_id)
    evidence = {
        "page": f"/optin/{topic.agency.slug}/{topic.slug}/",
        "language": language,
        "wording": wording,
        "wording_sha256": hashlib.sha256(wording.encode()).hexdigest(),
        "ip_address": ip_address,
        "user_agent": user_agent[:300],
        "submitted_at": timezone.now().isoformat(),
    }
    actor = Actor(type="system", label="optin_page", ip_address=ip_address)
    return record_consent(
        actor=actor,
        contact=contact,
        status=Consent.Status.OPTED_IN,
        source=Consent.Source.WEB_FORM,
        topic=topic.slug,
        evidence=evidence,
    )


def record_staff_consent(
    *,
    actor: Actor,
    contact: Contact,
    status: str,
    source: str,
    topic: str,
    user: User,
    staff_name: str,
    note: str,
) -> Consent:
    """An opt-in or opt-out a staff member took down (paper form, phone call)."""
    if source not in STAFF_SOURCES:
        raise ApplicationError("Staff record consent from a paper form or a phone call.")
    evidence = {"staff_name": staff_name, "note": note, "recorded_by_email": user.email}
    return record_consent(
        actor=actor,
        contact=contact,
        status=status,
        source=source,
        topic=topic,
        recorded_by=user,
        evidence=evidence,
    )


# --- Topics --------------------------------------------------------------------------------


def normalize_keywords(words: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for word in words:
        clean = " ".join(str(word).split()).upper()
        if clean and clean not in seen:
            seen.append(clean)
    return seen


def _check_keywords(agency: Agency, keywords: list[str], topic: ConsentTopic | None) -> None:
    # Deferred: the keywords module records its consents through this one.
    from messaging.webhooks.keywords import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS

    reserved = set(OPT_OUT_KEYWORDS) | set(OPT_IN_KEYWORDS)
    for word in keywords:
        if word in reserved or word.startswith("STOP "):
            raise ApplicationError(f"“{word}” is a standard keyword; choose another.")
    others = ConsentTopic.objects.filter(agency=agency)
    if topic is not None:
        others = others.exclude(pk=topic.pk)
    for other in others:
        clash = set(keywords) & {str(w).upper() for w in other.keywords or []}
        if clash:
            raise ApplicationError(
                f"The keyword “{sorted(clash)[0]}” already belongs to the topic “{other.name}”."
            )


_TOPIC_FIELDS = ("name", "name_es", "description", "wording", "wording_es", "page_enabled")


def create_topic(
    *, actor: Actor, agency: Agency, slug: str, keywords: Iterable[str] = (), **fields: Any
) -> ConsentTopic:
    ensure_agency_active(agency)
    slug = slug.strip().lower()
    words = normalize_keywords(keywords)
    with transaction.atomic():
        if ConsentTopic.objects.filter(agency=agency, slug=slug).exists():
            raise ApplicationError(f"The agency already has a topic “{slug}”.")
        _check_keywords(agency, words, None)
        topic = ConsentTopic.objects.create(
            agency=agency,
            slug=slug,
            keywords=words,
            **{k: fields[k] for k in _TOPIC_FIELDS if k in fields},
        )
        record_event(
            agency_id=agency.pk,
            actor=actor,
            action="consent_topic.created",
            target=topic,
            changes={"slug": slug, "name": topic.name, "keywords": words},
        )
        events.publish(
            agency_id=agency.pk,
            type=types.CONSENT_TOPIC_CHANGED,
            subject={"topic": topic.pk},
            payload={"slug": slug, "change": "created"},
        )
    return topic


def update_topic(
    *, actor: Actor, topic: ConsentTopic, keywords: Iterable[str] = (), **fields: Any
) -> ConsentTopic:
    """Change a topic's name, wording, page or keywords (its slug is what consents and
    templates carry, so it never changes)."""
    ensure_agency_active(topic.agency)
    words = normalize_keywords(keywords)
    with transaction.atomic():
        _check_keywords(topic.agency, words, topic)
        changes: dict[str, Any] = {}
        for name in _TOPIC_FIELDS:
            if name in fields and getattr(topic, name) != fields[name]:
                changes[name] = [getattr(topic, name), fields[name]]
                setattr(topic, name, fields[name])
        if words != topic.keywords:
            changes["keywords"] = [topic.keywords, words]
            topic.keywords = words
        if not changes:
            return topic
        topic.save()
        record_event(
            agency_id=topic.agency_id,
            actor=actor,
            action="consent_topic.updated",
            target=topic,
            changes=changes,
        )
        events.publish(
            agency_id=topic.agency_id,
            type=types.CONSENT_TOPIC_CHANGED,
            subject={"topic": topic.pk},
            payload={"slug": topic.slug, "change": "updated", "fields": sorted(changes)},
        )
    return topic


# --- Contacts, as the API keeps them (messaging.consent.api) --------------------------------


class ContactExists(ApplicationError):
    """The agency already has a contact with this WhatsApp id (``details``: its id)."""

    code = "contact_exists"
    http_status = 409

    def __init__(self, existing: Contact) -> None:
        super().__init__(f"The agency already has this contact (id {existing.pk}).")
        self.details = {"contact": existing.pk}


class ContactHasRecords(ApplicationError):
    """A contact with conversations, messages or a consent history is not deleted: those are
    records (messages go by the retention schedule; the consent history is the evidence of
    what the citizen agreed to, and deleting an opt-out would let a new contact with the
    same number be messaged again)."""

    code = "contact_has_records"
    http_status = 409


NAME_MAX = 200


def _name(name: str) -> str:
    name = " ".join(name.split())
    if len(name) > NAME_MAX:
        raise ApplicationError(f"A name has at most {NAME_MAX} characters.")
    return name


def _contact_changed(contact: Contact, change: str, fields: list[str]) -> None:
    """The stream's word of it (never the values: names and attributes stay in the API)."""
    events.publish(
        agency_id=contact.agency_id,
        type=types.CONTACT_CHANGED,
        subject={"contact": contact.pk},
        payload={"change": change, "fields": fields},
    )


def create_contact(
    *, actor: Actor, agency: Agency, wa_id: str, name: str = "", attributes: dict[str, Any]
) -> Contact:
    """A new contact with this WhatsApp id; ``ContactExists`` if the agency has one."""
    ensure_agency_active(agency)
    name = _name(name)
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                agency=agency,
                wa_id=wa_id,
                phone_e164=f"+{wa_id}",
                profile_name=name,
                attributes=attributes,
            )
            record_event(
                agency_id=agency.pk,
                actor=actor,
                action="contact.created",
                target=contact,
                changes={"wa_id": wa_id, "name": name, "attributes": sorted(attributes)},
            )
            _contact_changed(contact, "created", ["wa_id", "name", *sorted(attributes)])
    except IntegrityError:
        existing = Contact.objects.filter(agency=agency, wa_id=wa_id).first()
        if existing is None:
            raise
        raise ContactExists(existing) from None
    return contact


def update_contact(
    *,
    actor: Actor,
    contact: Contact,
    name: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> Contact:
    """Rename a contact and/or merge ``attributes`` into theirs (a key set to None is
    removed). The WhatsApp id never changes: a new number is a new contact."""
    ensure_agency_active(contact.agency)
    changes: dict[str, Any] = {}
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        if name is not None and _name(name) != locked.profile_name:
            changes["name"] = [locked.profile_name, _name(name)]
            locked.profile_name = _name(name)
        if attributes:
            merged = dict(locked.attributes or {})
            for key, value in attributes.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            old = locked.attributes or {}
            changed = sorted(k for k in set(merged) | set(old) if merged.get(k) != old.get(k))
            if changed:
                changes["attributes"] = changed
                locked.attributes = merged
        if changes:
            locked.save(update_fields=["profile_name", "attributes"])
            record_event(
                agency_id=locked.agency_id,
                actor=actor,
                action="contact.updated",
                target=locked,
                changes=changes,
            )
            fields = (["name"] if "name" in changes else []) + changes.get("attributes", [])
            _contact_changed(locked, "updated", fields)
    return locked


def delete_contact(*, actor: Actor, contact: Contact) -> None:
    """Delete a contact who has no records. Refused with ``HeldRecordError`` (409
    ``record_held``) when a legal hold covers one of their conversations, and with
    ``ContactHasRecords`` when they have conversations, messages or a consent history."""
    ensure_agency_active(contact.agency)
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        conversations = list(
            Conversation.objects.filter(contact=locked).order_by("pk").values_list("pk", flat=True)
        )
        for conversation_id in conversations:
            ensure_conversation_deletable(conversation_id)
        if conversations or Message.objects.filter(contact=locked).exists():
            raise ContactHasRecords(
                "This contact has conversations, which are records kept by the retention "
                "schedule: the contact cannot be deleted."
            )
        if Consent.objects.filter(contact=locked).exists():
            raise ContactHasRecords(
                "This contact has a consent history, the evidence of what they agreed to: "
                "the contact cannot be deleted."
            )
        record_event(
            agency_id=locked.agency_id,
            actor=actor,
            action="contact.deleted",
            target=locked,
            changes={"wa_id": locked.wa_id, "name": locked.profile_name},
        )
        _contact_changed(locked, "deleted", [])
        locked.delete()
