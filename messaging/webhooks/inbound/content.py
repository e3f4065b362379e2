"""A message's stored content (the outbound form), its error fields and its media object."""

from __future__ import annotations

import json
import math
from typing import Any

from django.db import transaction

from messaging.models import MediaObject
from messaging.webhooks import media as inbound_media
from messaging.webhooks.inbound.batch import (
    _INT_MAX,
    MEDIA_TYPES,
    _Batch,
    _Inbound,
    _insert_new,
    _short,
)

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


def _media_id(kind: str, content: dict[str, Any]) -> str:
    payload = content.get(kind)
    if kind not in MEDIA_TYPES or not isinstance(payload, dict):
        return ""
    return _short(payload.get("id"), 128)


def _media_columns(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "mime_type": _short(payload.get("mime_type"), 128),
        "meta_sha256": _short(payload.get("sha256"), 128),
        "filename": _short(payload.get("filename"), 255),
    }


def _media_object(batch: _Batch, kind: str, payload: Any) -> tuple[MediaObject | None, bool]:
    media_id = _media_id(kind, {kind: payload})
    if not media_id:
        return None, False
    return MediaObject.objects.get_or_create(
        phone_number_id=batch.number_pk,
        meta_media_id=media_id,
        defaults={"agency_id": batch.agency_id, **_media_columns(kind, payload)},
    )


def _media_objects(
    batch: _Batch, run: list[_Inbound]
) -> tuple[dict[str, MediaObject], list[MediaObject]]:
    """``_media_object`` for many messages: media id → its object, and those created."""
    wanted: dict[str, MediaObject] = {}
    for m in run:
        media_id = _media_id(m.kind, m.fields["content"])
        if media_id and media_id not in wanted:
            wanted[media_id] = MediaObject(
                agency_id=batch.agency_id,
                phone_number_id=batch.number_pk,
                meta_media_id=media_id,
                **_media_columns(m.kind, m.fields["content"][m.kind]),
            )
    if not wanted:
        return {}, []
    created = _insert_new([wanted[key] for key in sorted(wanted)], ("meta_media_id",))
    known = [key for key, media in wanted.items() if media.pk is None]
    if known:
        stored = MediaObject.objects.filter(
            phone_number_id=batch.number_pk, meta_media_id__in=known
        )
        wanted.update({media.meta_media_id: media for media in stored})
    return wanted, created


def _schedule_download(media: MediaObject | None) -> None:
    if media is None:
        return
    # robust: a broker hiccup must not fail the committed change; pending media is swept.
    transaction.on_commit(lambda: inbound_media.schedule_download(media), robust=True)
