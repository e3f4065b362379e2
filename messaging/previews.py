"""The conversation list's one-line snippet of a message (``Conversation.last_preview``).

``preview(type, content)`` reads a message's stored content (``{"type": t, t: payload}``,
inbound as received or outbound as queued) and says in plain words what it holds: the text
itself, or a label such as "📷 Photo: <caption>", "Voice message", "Reacted 👍". A citizen
controls most of the content, so every value is read defensively: a missing key, a list
where an object should be or a megabyte of text gives a shorter snippet, never an error.
The result is at most ``MAX_LENGTH`` characters on one line, without control characters
(the list is plain text; the template escapes it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any, Final

MAX_LENGTH: Final = 160  # Conversation.last_preview
# Read at most this much of any one value: the snippet is short, the input may not be.
_READ: Final = 2_000
_MAX_NAMES: Final = 5  # contact cards named in a snippet
# Bidirectional overrides and isolates can make a snippet display as something else.
_BIDI: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_WHITESPACE: Final = re.compile(r"\s+")


def preview(message_type: str, content: dict[str, Any]) -> str:
    """The snippet of one message (see the module docstring); never "": a label at least.
    Any value is accepted (a hostile one reads as unsupported)."""
    kind = message_type if isinstance(message_type, str) else ""
    stored = content if isinstance(content, dict) else {}
    payload = stored.get(kind)
    describe = _DESCRIBERS.get(kind, _unsupported)
    try:
        text = describe(payload)
    except RecursionError:  # a pathologically nested payload
        text = ""
    return _line(text) or _line(_FALLBACKS.get(kind, "Unsupported message"))


# --- reading hostile values -----------------------------------------------------------


def _text(value: Any) -> str:
    """A value that should be text, cleaned; anything else is ""."""
    if not isinstance(value, str):
        return ""
    return _line(value[:_READ])


def _line(text: str) -> str:
    """One line, no control or format characters that could disturb the list, cut at
    ``MAX_LENGTH`` with an ellipsis."""
    kept = "".join(ch for ch in text[:_READ] if _printable(ch))
    single = _WHITESPACE.sub(" ", kept).strip()
    if len(single) <= MAX_LENGTH:
        return single
    return single[: MAX_LENGTH - 1].rstrip() + "…"


def _printable(ch: str) -> bool:
    if ch in _BIDI:
        return False
    category = unicodedata.category(ch)
    # Cc: controls (whitespace among them becomes a space; NUL, which PostgreSQL refuses in
    # text, goes); Cs: lone surrogates, which no database encoding accepts. Unassigned code
    # points stay: they may be emoji newer than this Python's Unicode tables.
    if category == "Cc":
        return ch in "\t\n\r\x0b\x0c"
    return category != "Cs"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _labelled(label: str, *details: str) -> str:
    detail = next((d for d in details if d), "")
    return f"{label}: {detail}" if detail else label


# --- one describer per type ------------------------------------------------------------


def _body(payload: Any) -> str:
    return _text(_dict(payload).get("body"))


def _media(label: str) -> Callable[[Any], str]:
    def describe(payload: Any) -> str:
        return _labelled(label, _text(_dict(payload).get("caption")))

    return describe


def _audio(payload: Any) -> str:
    return "🎤 Voice message" if _dict(payload).get("voice") is True else "🎵 Audio"


def _document(payload: Any) -> str:
    body = _dict(payload)
    return _labelled("📄 Document", _text(body.get("filename")), _text(body.get("caption")))


def _sticker(payload: Any) -> str:
    return "Sticker"


def _location(payload: Any) -> str:
    body = _dict(payload)
    return _labelled("📍 Location", _text(body.get("name")), _text(body.get("address")))


def _contacts(payload: Any) -> str:
    cards = payload if isinstance(payload, list) else []
    names = [_contact_name(_dict(card)) for card in cards[:_MAX_NAMES]]
    named = ", ".join(name for name in names if name)
    if len(cards) > _MAX_NAMES and named:
        named += f" and {len(cards) - _MAX_NAMES} more"
    return _labelled("👤 Contact" if len(cards) <= 1 else "👤 Contacts", named)


def _contact_name(card: dict[str, Any]) -> str:
    name = _dict(card.get("name"))
    formatted = _text(name.get("formatted_name"))
    if formatted:
        return formatted
    parts = (_text(name.get(key)) for key in ("first_name", "middle_name", "last_name"))
    return " ".join(part for part in parts if part)


def _interactive(payload: Any) -> str:
    """A citizen's reply (the button or row they chose, a form they sent) or our own
    interactive message (its body text)."""
    body = _dict(payload)
    kind = body.get("type")
    reply = _dict(body.get(kind)) if isinstance(kind, str) else {}
    if kind in ("button_reply", "list_reply"):
        return _text(reply.get("title")) or "Reply"
    if kind == "nfm_reply":
        return _labelled("📝 Form sent", _text(reply.get("body")))
    if kind == "call_permission_reply":
        return "📞 Call permission reply"
    return _text(_dict(body.get("body")).get("text")) or _text(
        _dict(body.get("header")).get("text")
    )


def _button(payload: Any) -> str:
    """A template's quick-reply button, tapped: its label (or, lacking it, its payload)."""
    body = _dict(payload)
    return _text(body.get("text")) or _text(body.get("payload"))


def _template(payload: Any) -> str:
    body = _dict(payload)
    text = _text(body.get("body")) or _text(body.get("text"))
    return text or _labelled("Template", _text(body.get("name")))


def _reaction(payload: Any) -> str:
    emoji = _text(_dict(payload).get("emoji"))
    return f"Reacted {emoji[:16]}" if emoji else "Removed a reaction"


def _order(payload: Any) -> str:
    body = _dict(payload)
    items = body.get("product_items")
    count = len(items) if isinstance(items, list) else 0
    label = f"🛒 Order of {count} item{'s' if count != 1 else ''}" if count else "🛒 Order"
    return _labelled(label, _text(body.get("text")))


def _system(payload: Any) -> str:
    return _body(payload) or "WhatsApp notice"


def _edit(payload: Any) -> str:
    edited = _dict(_dict(payload).get("message"))
    kind = edited.get("type")
    if not isinstance(kind, str) or kind == "edit":
        return "Edited a message"
    return f"Edited: {preview(kind, edited)}"


def _unsupported(payload: Any) -> str:
    return ""


_DESCRIBERS: Final[dict[str, Callable[[Any], str]]] = {
    "text": _body,
    "image": _media("📷 Photo"),
    "video": _media("🎥 Video"),
    "audio": _audio,
    "document": _document,
    "sticker": _sticker,
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "template": _template,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
    "edit": _edit,
}
# What a type says when its payload gives nothing better.
_FALLBACKS: Final = {
    "text": "Message",
    "interactive": "Interactive message",
    "button": "Button reply",
    "template": "Template",
    "revoke": "Message deleted",
    "errors": "A message WhatsApp could not deliver",
    "request_welcome": "Opened the chat",
}
