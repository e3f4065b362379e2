"""The Server-Sent Events wire format (WHATWG HTML, "Server-sent events"), and the
client's resume point."""

from __future__ import annotations

import json
from typing import Any

# A sequence is a PostgreSQL bigint: anything longer is not one of ours.
_MAX_DIGITS = 18


def event(data: dict[str, Any], *, name: str | None = None, id: int | None = None) -> str:
    """One event. The data is one line of JSON (json.dumps escapes every newline), so it
    needs a single ``data:`` field."""
    lines = []
    if id is not None:
        lines.append(f"id: {id}")
    if name is not None:
        lines.append(f"event: {name}")
    lines.append("data: " + json.dumps(data, separators=(",", ":"), ensure_ascii=False))
    return "\n".join(lines) + "\n\n"


def comment(text: str) -> str:
    """A line the browser ignores: keeps proxies from closing an idle stream."""
    return f": {text}\n\n"


def retry(milliseconds: int) -> str:
    """How long the browser waits before reconnecting by itself."""
    return f"retry: {milliseconds}\n\n"


def resume_point(header: str | None, query: str | None) -> int | None:
    """The last sequence the client has seen: the ``Last-Event-ID`` header (what the
    browser sends when it reconnects), else ``?after=`` (the page's own state), else None.
    Anything but a plain non-negative integer counts as absent (hostile values included)."""
    for raw in (header, query):
        if raw is None:
            continue
        text = raw.strip()
        if text.isascii() and text.isdigit() and len(text) <= _MAX_DIGITS:
            return int(text)
    return None
