"""Graph API shapes the simulator answers with: error objects, ids, JSON encoding."""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
from typing import Any


class GraphError(Exception):
    """Rendered as Meta's ``{"error": {...}}`` body (cloud-api.md §6.1)."""

    def __init__(
        self,
        code: int,
        title: str,
        *,
        details: str | None = None,
        http_status: int = 400,
        subcode: int | None = None,
        error_type: str = "OAuthException",
        message: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(title)
        self.code = code
        self.title = title
        self.details = details
        self.http_status = http_status
        self.subcode = subcode
        self.error_type = error_type
        self.message = message or f"(#{code}) {title}"
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
        }
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error.update(self.extra)
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}


def webhook_error(code: int, title: str, details: str) -> dict[str, Any]:
    """Error object as it appears inside webhooks (statuses[].errors)."""
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


# ---- common errors -------------------------------------------------------------------------


def invalid_parameter(details: str) -> GraphError:
    return GraphError(100, "Invalid parameter", details=details)


def missing_parameter(name: str) -> GraphError:
    return GraphError(
        131008, "Required parameter is missing", details=f"The parameter {name} is required."
    )


def invalid_value(details: str) -> GraphError:
    return GraphError(131009, "Parameter value is not valid", details=details)


def unknown_object(node_id: str, method: str = "post") -> GraphError:
    # cloud-api.md §10: code 100 with subcode 33, not a top-level 33.
    return GraphError(
        100,
        "Unsupported request",
        message=(
            f"Unsupported {method} request. Object with ID '{node_id}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation. Please read "
            "the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        ),
        subcode=33,
        error_type="GraphMethodException",
    )


def invalid_token() -> GraphError:
    return GraphError(
        190,
        "Invalid OAuth access token",
        message="Invalid OAuth access token - Cannot parse access token",
        http_status=401,
    )


def expired_token() -> GraphError:
    return GraphError(
        190,
        "Access token has expired",
        message="Error validating access token: The session has been invalidated.",
        http_status=401,
        subcode=463,
    )


# ---- identifiers ---------------------------------------------------------------------------

_counter = itertools.count(1)
_process_salt = int.from_bytes(os.urandom(4), "big")


def fbtrace_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(15)).decode().rstrip("=")


def wamid(wa_id: str, *, inbound: bool = False) -> str:
    """``wamid.`` + base64 of Meta's small binary record (cloud-api.md §8).

    Outbound ids carry an 18-hex key with flag 0x11, inbound ones a 32-hex key with 0x12.
    A salted counter makes every id unique within the process.
    """
    n = next(_counter)
    if inbound:
        key = f"{_process_salt:08X}{n:012X}{os.urandom(6).hex().upper()}"
        flag = 0x12
    else:
        key = f"{_process_salt:08X}{n:010X}"
        flag = 0x11
    digits = wa_id.encode()
    raw = (
        bytes([0x1C, 0x18, len(digits)])
        + digits
        + bytes([0x15, 0x02, 0x00, flag, 0x18, len(key)])
        + key.encode()
        + b"\x00"
    )
    return "wamid." + base64.b64encode(raw).decode()


def numeric_id(rng: random.Random) -> str:
    """15-16 digit numeric id like Meta's media/template/phone-number ids."""
    return str(rng.randrange(10**14, 10**16) * 10 + next(_counter) % 10)


# ---- JSON as Meta serialises webhook bodies ------------------------------------------------


def meta_json(payload: Any) -> bytes:
    """ASCII-escaped JSON with ``/`` escaped too, exactly the bytes that get signed."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").encode()
