"""RSMF 2.0: an EML container with the X-RSMF headers and exactly one rsmf.zip; the
manifest validates against the RSMF 2.0.0 JSON schema and Relativity's integrity rules
(every referenced id and file present, nothing unreferenced); the WhatsApp mapping;
slices of at most 10,000 events."""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from records.exports.formats import base
from records.exports.services import build_package
from records.selection import Selection

pytestmark = pytest.mark.django_db
SCHEMA_FILE = Path(
    os.environ.get("RSMF_SCHEMA_FILE") or Path(__file__).with_name("rsmf_schema_2_0_0.json")
)


def _open(path: Path) -> tuple[email.message.EmailMessage, dict[str, Any], zipfile.ZipFile]:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    (attachment,) = attachments
    assert attachment.get_filename() == "rsmf.zip"
    assert attachment["Content-Transfer-Encoding"] == "base64"
    payload = attachment.get_payload(decode=True)
    assert isinstance(payload, bytes)
    archive = zipfile.ZipFile(io.BytesIO(payload))
    manifest = json.loads(archive.read("rsmf_manifest.json"))
    return message, manifest, archive


def integrity_problems(manifest: dict[str, Any], archive: zipfile.ZipFile) -> list[str]:
    """What Relativity's validator checks beyond the schema."""
    problems = []
    participants = {p["id"] for p in manifest["participants"]}
    conversations = {c["id"] for c in manifest["conversations"]}
    if len(participants) != len(manifest["participants"]):
        problems.append("participant ids are not unique")
    for conversation in manifest["conversations"]:
        problems += [
            f"conversation participant {p} unknown"
            for p in conversation["participants"]
            if p not in participants
        ]
        if conversation.get("custodian") not in conversation["participants"]:
            problems.append("custodian is not a participant of the conversation")
    event_ids = {e["id"] for e in manifest["events"] if "id" in e}
    referenced = set()
    for event in manifest["events"]:
        if event.get("participant") not in participants:
            problems.append(f"event participant {event.get('participant')} unknown")
        if event.get("conversation") not in conversations:
            problems.append(f"event conversation {event.get('conversation')} unknown")
        if "parent" in event and event["parent"] not in event_ids:
            problems.append(f"parent {event['parent']} unknown")
        for who in [
            *(r["participant"] for r in event.get("read_receipts", [])),
            *(e["participant"] for e in event.get("edits", [])),
        ]:
            if who not in participants:
                problems.append(f"participant {who} unknown")
        for reaction in event.get("reactions", []):
            problems += [
                f"reaction participant {p} unknown"
                for p in reaction.get("participants", [])
                if p not in participants
            ]
        for attachment in event.get("attachments", []):
            referenced.add(attachment["id"])
            if attachment["id"] not in archive.namelist():
                problems.append(
                    f"attachment with ID {attachment['id']} not found in the zip archive"
                )
    for name in archive.namelist():
        if name != "rsmf_manifest.json" and name not in referenced:
            problems.append(f"file {name} does not have a reference")
    return problems


def _rsmf_files(package: Path) -> list[Path]:
    return sorted((package / "data/rsmf").rglob("*.rsmf"))


def test_every_manifest_is_valid_and_whole(record, tmp_path):
    package = build_package(record.agency.pk, Selection(), "rsmf", tmp_path, bates_prefix="R")
    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())

    found = _rsmf_files(package)
    assert [p.name for p in found] == ["2026-03-02.rsmf", "2026-03-03.rsmf"]  # one per day
    for path in found:
        _, manifest, archive = _open(path)
        errors = [e.message for e in validator.iter_errors(manifest)]
        assert errors == []
        assert integrity_problems(manifest, archive) == []
        assert archive.namelist()[0] == "rsmf_manifest.json"


def test_the_container_headers(record, tmp_path):
    package = build_package(record.agency.pk, Selection(), "rsmf", tmp_path)

    message, manifest, archive = _open(_rsmf_files(package)[0])

    assert message["X-RSMF-Version"] == "2.0.0"
    assert message["X-RSMF-Application"] == "WhatsApp"
    assert int(message["X-RSMF-EventCount"]) == len(manifest["events"]) == 4
    assert int(message["X-RSMF-AttachmentCount"]) == len(archive.namelist()) - 1 == 1
    stamps = [e["timestamp"] for e in manifest["events"]]
    assert message["X-RSMF-BeginDate"] == min(stamps)
    assert message["X-RSMF-EndDate"] == max(stamps)
    assert message["X-RSMF-EventCollectionID"] == manifest["eventcollectionid"]
    assert "Ana Pérez" in message["X-RSMF-Participants"]
    assert message["From"].addresses[0].display_name == "Ana Pérez"
    assert message.get_body(("plain",)).get_content().count("[2026-03-02 14:0") == 5


def test_the_whatsapp_mapping(record, tmp_path):
    package = build_package(record.agency.pk, Selection(), "rsmf", tmp_path)

    _, manifest, _ = _open(_rsmf_files(package)[0])
    conversation = manifest["conversations"][0]
    events = {e["id"]: e for e in manifest["events"]}
    citizen = next(p for p in manifest["participants"] if p.get("account_id") == "14155550100")

    assert conversation["platform"] == "whatsapp"
    assert conversation["type"] == "direct"
    assert conversation["custodian"].startswith("n")
    assert events["wamid.hello"]["direction"] == "incoming"
    reply = events["wamid.reply"]
    assert reply["direction"] == "outgoing"
    assert reply["parent"] == "wamid.hello"
    assert reply["participant"].startswith("u")  # the staff user who wrote
    assert [r["action"] for r in reply["read_receipts"]] == ["delivered", "read"]
    assert reply["reactions"] == [{"value": "👍", "count": 1, "participants": [citizen["id"]]}]
    assert "wamid.reaction" not in events  # folded into its message
    assert events["wamid.photo"]["attachments"][0]["display"] == "licence photo.png"
    assert events["wamid.edited"]["edits"] == [
        {
            "participant": citizen["id"],
            "timestamp": "2026-03-02T14:07:00.000000+00:00",
            "previous": "Thanks a lot",
            "new": "Thanks a lot, From now on I drive",
        }
    ]
    _, second_day, _ = _open(_rsmf_files(package)[1])
    assert second_day["events"][0]["deleted"] is True


def test_a_dense_day_is_sliced(record, tmp_path, monkeypatch):
    monkeypatch.setattr(base, "MAX_EVENTS_PER_SLICE", 2)

    package = build_package(record.agency.pk, Selection(), "rsmf", tmp_path)

    names = [p.name for p in _rsmf_files(package)]
    assert names == ["2026-03-02-2.rsmf", "2026-03-02-3.rsmf", "2026-03-02.rsmf", "2026-03-03.rsmf"]
    collections = {_open(p)[1]["eventcollectionid"] for p in _rsmf_files(package)}
    assert len(collections) == 1  # the slices of one conversation stay together
    for path in _rsmf_files(package):
        _, manifest, archive = _open(path)
        assert len(manifest["events"]) <= 2
        assert integrity_problems(manifest, archive) == []


def test_the_slice_limit_is_ten_thousand():
    assert base.MAX_EVENTS_PER_SLICE == 10_000


def test_by_default_a_file_holds_a_conversations_month(record, tmp_path, settings):
    settings.RECORDS_EXPORT_SLICE = ""

    package = build_package(record.agency.pk, Selection(), "rsmf", tmp_path)

    (path,) = _rsmf_files(package)
    assert path.name == "2026-03.rsmf"
    _, manifest, archive = _open(path)
    assert len(manifest["events"]) == 5  # 6 messages, the reaction on its message
    assert integrity_problems(manifest, archive) == []
