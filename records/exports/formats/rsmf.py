"""RSMF 2.0 (Relativity Short Message Format): one ``.rsmf`` per conversation per UTC calendar
month (``RECORDS_EXPORT_SLICE=day``: per UTC day, Relativity's default for dense chats), split
every 10,000 events, ``data/rsmf/conversation-<id>/<YYYY-MM>[-<part>].rsmf``; the slices of one
conversation share an ``eventcollectionid``.

Each file is an RFC 5322 message: ``X-RSMF-*`` headers (Version, Generator, Application,
BeginDate, EndDate, EventCount, AttachmentCount, Participants, Custodian,
EventCollectionID, and our own ManifestSHA256 and TimeZone), a plain-text transcript as
the body (what review tools index) and exactly one attachment, ``rsmf.zip``, holding
``rsmf_manifest.json`` and every file the manifest names — nothing else.

Mapping (records reference §2 b3): participants — the citizen (``account_id`` = wa_id,
custom Phone), the business number (the custodian), the staff users who wrote; one
conversation, ``platform`` whatsapp, ``type`` direct; each message an event (``id`` its
wamid, ``parent`` the quoted message when it is in the same file, ``direction`` relative
to the agency, ``read_receipts`` from the delivered/read times, ``edits`` from the
citizen's edits, ``deleted`` when revoked for everyone, ``attachments``); a reaction
becomes a ``reactions`` entry on its message (or a message event of its own when the
message is in another file); WhatsApp system notices and unknown types are ``unknown``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import zipfile
from typing import Any, Final

from records.exports.canonical import iso
from records.exports.formats.base import Slicer, Writer, attachment_name, media_label, open_media
from records.exports.formats.mail import (
    Attachment,
    Parties,
    header,
    participants_of,
    slice_headers,
    transcript,
    write_mime,
)
from records.exports.package import Bag, write_zip_entry, zip_date
from records.exports.reader import Item

RSMF_VERSION: Final = "2.0.0"
MESSAGE_TYPES: Final = frozenset(
    {
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "template",
        "order",
        "reaction",
    }
)


def _custom(pairs: list[tuple[str, str | None]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs if value]


def _ts(moment: dt.datetime | None) -> str | None:
    return iso(moment)


def manifest_of(
    context: Any, conversation: int, period: str, items: list[Item], parties: Parties | None = None
) -> tuple[dict[str, Any], list[tuple[str, Item]]]:
    """The manifest of one slice and the (zip name, item) of each attached file."""
    people, senders = parties or participants_of(items, context.agency_slug)
    citizen = next(p for p in people if p.kind == "citizen")
    number = next(p for p in people if p.kind == "number")
    participants = []
    for person in people:
        entry: dict[str, Any] = {"id": person.id, "display": person.display}
        if person.kind == "staff":
            entry["email"] = person.address
            entry["custom"] = _custom([("Role", "Agency staff")])
        elif person.kind == "citizen":
            first = next(i for i in items if f"c{i.contact_id}" == person.id)
            entry["account_id"] = first.contact_wa_id or person.id
            entry["custom"] = _custom([("Phone", first.contact_phone), ("Role", "Citizen")])
        else:
            first = next(i for i in items if f"n{i.phone_number_id}" == person.id)
            entry["account_id"] = first.business_number or person.id
            entry["custom"] = _custom(
                [("Phone", first.business_number), ("Role", "Agency business number")]
            )
        participants.append(entry)
    conversation_id = f"conversation-{conversation}"
    events: list[dict[str, Any]] = []
    by_wamid: dict[str, dict[str, Any]] = {}
    reactions: dict[str, dict[str, str]] = {}  # target wamid → participant → emoji
    files: list[tuple[str, Item]] = []
    for item in items:
        who = senders[item.id]
        target = (
            by_wamid.get(item.reaction_to)
            if item.type == "reaction" and not item.withheld
            else None
        )
        if target is not None:
            chosen = reactions.setdefault(item.reaction_to, {})
            if item.reaction_emoji:
                chosen[who] = item.reaction_emoji
            else:
                chosen.pop(who, None)  # the reaction was removed
            continue
        event: dict[str, Any] = {
            "id": item.wamid or f"civic-relay-{item.id}",
            "type": "message" if item.type in MESSAGE_TYPES or item.withheld else "unknown",
            "participant": who,
            "conversation": conversation_id,
            "timestamp": _ts(item.at),
            "body": _body(item),
            "direction": "incoming" if item.direction == "in" else "outgoing",
        }
        if item.reply_to and not item.withheld and item.reply_to in by_wamid:
            event["parent"] = item.reply_to
        if item.revoked_at is not None:
            event["deleted"] = True
        if item.edits:
            versions = [*item.edits, (iso(item.edited_at) or "", item.text)]
            event["edits"] = [
                {
                    "participant": who,
                    "timestamp": versions[i + 1][0] or _ts(item.at),
                    "previous": versions[i][1],
                    "new": versions[i + 1][1],
                }
                for i in range(len(versions) - 1)
            ]
        media = item.media
        if media is not None and not media.withheld and media.stored and open_probe(media):
            name = attachment_name(media)
            attachment: dict[str, Any] = {"id": name, "display": media.filename or name}
            if media.size is not None:
                attachment["size"] = media.size
            event["attachments"] = [attachment]
            if all(name != known for known, _ in files):
                files.append((name, item))
        if item.direction == "out" and not item.withheld:
            receipts = [
                {"participant": f"c{item.contact_id}", "timestamp": _ts(moment), "action": action}
                for action, moment in (("delivered", item.delivered_at), ("read", item.read_at))
                if moment is not None
            ]
            if receipts:
                event["read_receipts"] = receipts
        event["custom"] = _custom(
            [
                ("Bates", item.bates),
                ("Civic Relay message", str(item.id)),
                ("WhatsApp type", item.type),
                ("Sender type", item.sender_type),
                ("Status", item.status),
                (
                    "Reply to",
                    item.reply_to
                    if item.reply_to and "parent" not in event and not item.withheld
                    else "",
                ),
                ("Redactions", "; ".join(item.redaction_codes)),
                ("Withheld", item.withheld or (media.withheld if media else "")),
                (
                    "Edits",
                    "earlier versions withheld with the redaction" if item.edits_withheld else "",
                ),
            ]
        )
        events.append(event)
        if item.wamid:
            by_wamid[item.wamid] = event
    for wamid, chosen in reactions.items():
        counted: dict[str, list[str]] = {}
        for who, emoji in sorted(chosen.items()):
            counted.setdefault(emoji, []).append(who)
        if counted:
            by_wamid[wamid]["reactions"] = [
                {"value": emoji, "count": len(who), "participants": who}
                for emoji, who in sorted(counted.items())
            ]
    manifest = {
        "version": RSMF_VERSION,
        "eventcollectionid": f"{context.agency_slug}-conversation-{conversation}",
        "participants": participants,
        "conversations": [
            {
                "id": conversation_id,
                "display": f"{citizen.display} and {number.display}",
                "platform": "whatsapp",
                "type": "direct",
                "participants": [p["id"] for p in participants],
                "custodian": number.id,
                "custom": _custom(
                    [
                        ("Civic Relay conversation", str(conversation)),
                        ("Period (UTC)", period),
                    ]
                ),
            }
        ],
        "events": events,
    }
    return manifest, files


def open_probe(media: Any) -> bool:
    handle = open_media(media)
    if handle is None:
        return False
    handle.close()
    return True


def _body(item: Item) -> str:
    if item.type == "reaction" and not item.withheld:
        return f"Reacted {item.reaction_emoji}" if item.reaction_emoji else "Removed a reaction"
    parts = [item.text] if item.text else []
    if item.media is not None and (item.media.withheld or not item.media.stored):
        parts.append(media_label(item.media))
    return "\n".join(parts)


class RsmfWriter(Writer):
    order = "thread"

    def __init__(self, bag: Bag, context: Any) -> None:
        super().__init__(bag, context)
        self._slicer = Slicer()

    def add(self, item: Item) -> None:
        item.bates = self.context.next_bates()
        done = self._slicer.add(item)
        if done is not None:
            self._write(*done)

    def close(self) -> None:
        done = self._slicer.flush()
        if done is not None:
            self._write(*done)

    def _write(self, conversation: int, period: str, part: int, items: list[Item]) -> None:
        parties = participants_of(items, self.context.agency_slug)
        manifest, files = manifest_of(self.context, conversation, period, items, parties)
        manifest_bytes = json.dumps(
            manifest, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        ).encode()
        manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
        archive_file = tempfile.SpooledTemporaryFile(max_size=32 << 20)  # noqa: SIM115
        with zipfile.ZipFile(archive_file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            when = zip_date(items[0].at)
            write_zip_entry(archive, "rsmf_manifest.json", manifest_bytes, when)
            for name, item in sorted(files, key=lambda f: f[0]):
                handle = open_media(item.media) if item.media is not None else None
                if handle is None:  # vanished since the manifest was made
                    self.context.missing_media += 1
                    continue
                with handle:  # media files are compressed already: stored as they are
                    write_zip_entry(archive, name, handle.read(), when, zipfile.ZIP_STORED)
        archive_file.seek(0)
        headers, people = slice_headers(
            self.context, conversation, period, part, items, "rsmf", parties
        )
        events = manifest["events"]
        headers += [
            header("X-RSMF-Version", RSMF_VERSION),
            header("X-RSMF-Generator", "Civic Relay records exports"),
            header("X-RSMF-Application", "WhatsApp"),
            header("X-RSMF-BeginDate", min(e["timestamp"] for e in events)),
            header("X-RSMF-EndDate", max(e["timestamp"] for e in events)),
            header("X-RSMF-EventCount", str(len(events))),
            header("X-RSMF-AttachmentCount", str(len(files))),
            header("X-RSMF-Participants", "; ".join(p.display for p in people)),
            header("X-RSMF-Custodian", next(p.display for p in people if p.kind == "number")),
            header("X-RSMF-EventCollectionID", manifest["eventcollectionid"]),
            header("X-RSMF-ManifestSHA256", manifest_sha),
            header("X-RSMF-TimeZone", "UTC"),
        ]
        agency = self.context.agency_name
        heading = f"WhatsApp conversation {conversation} ({agency}), {period} (UTC)"
        attachment = Attachment("rsmf.zip", "application/zip", lambda: archive_file, manifest_sha)
        suffix = f"-{part}" if part > 1 else ""
        relative = f"rsmf/conversation-{conversation}/{period}{suffix}.rsmf"
        with self.bag.open(relative) as out:
            write_mime(out, headers, transcript(items, heading), [attachment], manifest_sha)
