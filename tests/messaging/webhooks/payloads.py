"""Real-shaped Meta webhook payloads (cloud-api.md §5) for tests, and signing."""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, datetime
from typing import Any

from messaging.webhooks.signature import signature_for

APP_SECRET = "test-app-secret"  # settings.test.WHATSAPP_APP_SECRET
_ids = itertools.count(1)


def wamid(prefix: str = "in") -> str:
    return f"wamid.HBgL{prefix}{next(_ids):012d}"


def encode(payload: dict[str, Any]) -> bytes:
    """As Meta serialises: ASCII-escaped, `/` escaped as `\\/`."""
    return json.dumps(payload, ensure_ascii=True).replace("/", "\\/").encode()


def signed_headers(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {"HTTP_X_HUB_SIGNATURE_256": signature_for(body, secret)}


def envelope(*changes: dict[str, Any], waba_id: str = "1000000") -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": list(changes)}],
    }


def messages_change(
    phone_number_id: str,
    *,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    contacts: list[dict[str, Any]] | None = None,
    errors: list[dict[str, Any]] | None = None,
    display_phone_number: str = "15550100001",
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": display_phone_number,
            "phone_number_id": phone_number_id,
        },
    }
    for key, items in (
        ("contacts", contacts),
        ("messages", messages),
        ("statuses", statuses),
        ("errors", errors),
    ):
        if items is not None:
            value[key] = items
    return {"field": "messages", "value": value}


def inbound_text(
    wa_id: str, body: str, *, timestamp: int | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "from": wa_id,
        "id": extra.pop("id", None) or wamid(),
        "timestamp": str(timestamp or int(time.time())),
        "type": "text",
        "text": {"body": body},
        **extra,
    }


def contact(
    wa_id: str, name: str = "Sheena Nelson", *, user_id: str | None = None
) -> dict[str, Any]:
    """``value.contacts[]`` of an inbound message; 2026 payloads add ``user_id`` (BSUID)."""
    found: dict[str, Any] = {"profile": {"name": name}, "wa_id": wa_id}
    if user_id is not None:
        found["user_id"] = user_id
    return found


def status_contact(wa_id: str, user_id: str | None = None) -> dict[str, Any]:
    """``value.contacts[]`` beside ``statuses`` (2026); a 131026 may name only the wa_id."""
    return {"wa_id": wa_id} if user_id is None else {"wa_id": wa_id, "user_id": user_id}


def status(
    message_wamid: str | None,  # as the model holds it
    state: str,
    recipient: str,
    *,
    timestamp: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": message_wamid,
        "status": state,
        "timestamp": str(timestamp or int(time.time())),
        "recipient_id": recipient,
        **extra,
    }


def at(unix: int) -> datetime:
    """A webhook's unix timestamp as the aware datetime we store."""
    return datetime.fromtimestamp(unix, UTC)
