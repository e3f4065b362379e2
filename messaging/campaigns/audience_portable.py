"""The audience statement of ``audience.resolve`` through the ORM, for databases that are not
PostgreSQL: the demo's SQLite (``DISTINCT ON``, arrays and ``->>`` are PostgreSQL's).

It answers with rows of exactly the shape the SQL statement gives (the same columns, in the
same order), so ``audience._verdicts`` applies the policy's rules to both the same way.
Several queries and Python instead of one statement: fine for a demo's few hundred
contacts, not for 100,000 (production runs on PostgreSQL). tests/campaigns/
test_audience_portable.py runs both on PostgreSQL and compares every answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.apps import apps

from messaging.campaigns.models import AudienceUploadRow
from messaging.models import Consent, Contact, Conversation

# The contact fields a mapping may name besides attributes (``audience.CONTACT_FIELDS``).
_FIELDS = {"profile_name": "profile_name", "phone": "phone_e164"}


def contact_rows(
    *,
    agency_id: int,
    number_id: int,
    now: datetime,
    topic: str,
    marketing_topic: str,
    audience: dict[str, Any],
    keys: list[str],
    contact_ids: list[int] | None,
    limit: int | None,
) -> list[tuple[Any, ...]]:
    """``audience._CONTACTS_SQL``'s rows: opted-in (or opted-out) contacts, in id order."""
    latest = _latest(agency_id, topic, marketing_topic, contact_ids)
    decided = sorted(cid for cid, (general, specific, _) in latest.items() if general or specific)
    contacts = Contact.objects.filter(agency_id=agency_id, pk__in=decided)
    contacts = _filtered(contacts, audience)
    windows = _windows(agency_id, number_id, decided, now)
    rows = []
    for contact in contacts.order_by("pk"):
        general, specific, marketing = latest[contact.pk]
        rows.append(
            (
                contact.pk,
                contact.wa_id,
                contact.phone_e164,
                contact.profile_name,
                contact.unreachable_at is not None,
                general,
                specific,
                marketing,
                windows.get(contact.pk, False),
                *[_attribute(contact, key) for key in keys],
            )
        )
        if limit and len(rows) >= limit:
            break
    return rows


def csv_rows(
    *,
    agency_id: int,
    number_id: int,
    now: datetime,
    topic: str,
    marketing_topic: str,
    upload_id: int,
    keys: list[str],
    columns: list[str],
    limit: int | None,
) -> list[tuple[Any, ...]]:
    """``audience._CSV_SQL``'s rows: the upload's rows in file order, with their contact."""
    upload_rows = AudienceUploadRow.objects.filter(agency_id=agency_id, upload_id=upload_id)
    upload_rows = upload_rows.order_by("row_number")
    if limit:
        upload_rows = upload_rows[:limit]
    listed = list(upload_rows)
    wa_ids = {row.wa_id for row in listed if row.wa_id}
    contacts = {c.wa_id: c for c in Contact.objects.filter(agency_id=agency_id, wa_id__in=wa_ids)}
    ids = [c.pk for c in contacts.values()]
    latest = _latest(agency_id, topic, marketing_topic, ids)
    windows = _windows(agency_id, number_id, ids, now)
    rows = []
    for row in listed:
        contact = contacts.get(row.wa_id) if row.wa_id else None
        general, specific, marketing = (
            latest.get(contact.pk, (None, None, None))
            if contact
            else (
                None,
                None,
                None,
            )
        )
        values = row.values if isinstance(row.values, dict) else {}
        rows.append(
            (
                contact.pk if contact else None,
                row.wa_id,
                row.raw_number,
                contact.profile_name if contact else None,
                contact is not None and contact.unreachable_at is not None,
                general,
                specific,
                marketing,
                windows.get(contact.pk, False) if contact else False,
                row.row_number,
                row.problem,
                *[_attribute(contact, key) if contact else None for key in keys],
                *[_text(values.get(column)) for column in columns],
            )
        )
    return rows


def _latest(
    agency_id: int, topic: str, marketing_topic: str, contact_ids: Iterable[int] | None
) -> dict[int, tuple[str | None, str | None, str | None]]:
    """Per contact, the newest status of the general topic, the campaign's topic and
    WhatsApp's marketing preference (policy.CONSENT_ORDER: recorded_at, then id)."""
    topics = {"", topic, marketing_topic}
    consents = Consent.objects.filter(agency_id=agency_id, topic__in=topics)
    if contact_ids is not None:
        consents = consents.filter(contact_id__in=list(contact_ids))
    newest: dict[tuple[int, str], str] = {}
    ordered = consents.order_by("contact_id", "topic", "-recorded_at", "-pk")
    for contact_id, row_topic, status in ordered.values_list("contact_id", "topic", "status"):
        newest.setdefault((contact_id, row_topic), status)
    latest: dict[int, tuple[str | None, str | None, str | None]] = {}
    for contact_id in {contact_id for contact_id, _ in newest}:
        latest[contact_id] = (
            newest.get((contact_id, "")),
            newest.get((contact_id, topic)) if topic else None,
            newest.get((contact_id, marketing_topic)),
        )
    return latest


def _filtered(contacts: Any, audience: dict[str, Any]) -> Any:
    labels = [int(x) for x in audience.get("label_ids") or [] if str(x).isdigit()]
    if labels:
        link = apps.get_model("inbox", "ConversationLabel")
        labelled = link.objects.filter(label_id__in=labels).values("conversation__contact_id")
        contacts = contacts.filter(pk__in=labelled)
    wanted = [
        (str(item["key"]).strip(), str(item.get("value", "")).strip())
        for item in audience.get("attributes") or []
        if isinstance(item, dict) and str(item.get("key", "")).strip()
    ]
    if not wanted:
        return contacts
    keep = [
        contact.pk
        for contact in contacts
        if all(_text(_dict(contact.attributes).get(key)) == value for key, value in wanted)
    ]
    return contacts.filter(pk__in=keep)


def _windows(agency_id: int, number_id: int, contact_ids: list[int], now: datetime) -> dict:
    rows = Conversation.objects.filter(
        agency_id=agency_id, phone_number_id=number_id, contact_id__in=contact_ids
    ).values_list("contact_id", "window_expires_at")
    return {contact_id: bool(expires and expires > now) for contact_id, expires in rows}


def _attribute(contact: Contact, key: str) -> str | None:
    if key in _FIELDS:
        value = getattr(contact, _FIELDS[key])
        return None if value is None else str(value)
    return _text(_dict(contact.attributes).get(key))


def _text(value: Any) -> str | None:
    """What PostgreSQL's ``->>`` gives for a JSON value: strings as they are, anything else
    as its JSON text, null as NULL."""
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
