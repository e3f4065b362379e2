"""The display text of a message: what a reader of the export sees as the message's words,
and what redaction spans index into (``message_display_text``).

It is taken from the message's *current* version (``records.capture.versions``: the latest
edit, else the original) and is the full text, not the inbox's one-line snippet: a text's
body, a file's caption, a location's name and address, a reaction's emoji, an interactive
reply's title, a template's name and parameters. Every value is read defensively (the
citizen controls most of the content): a wrong shape gives "", never an error.
"""

from __future__ import annotations

from typing import Any

from records.capture.versions import versions

MAX_TEXT: int = 100_000  # characters kept of one value (WhatsApp allows 4,096 in a text)


def display_text_of(message_type: str, content: Any) -> str:
    """The display text of one version's content (``{"type": t, t: payload}``)."""
    if not isinstance(content, dict):
        return ""
    kind = message_type if isinstance(message_type, str) else ""
    kind = str(content.get("type") or kind) if isinstance(content.get("type"), str) else kind
    payload = content.get(kind)
    try:
        reader = _READERS.get(kind)
        return reader(payload)[:MAX_TEXT] if reader else ""
    except RecursionError:
        return ""


def message_display_text(message: Any) -> str:
    """The text the redaction spans of ``message`` index into (see the module docstring).

    ``message`` is a ``messaging.Message`` or any object with ``type``, ``content``,
    ``content_history``, ``received_at``, ``edited_at`` and ``created_at``."""
    return display_text_of(message.type, versions(message)[-1].content)


def _s(value: Any) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _body(payload: Any) -> str:
    return _s(_d(payload).get("body"))


def _caption(payload: Any) -> str:
    return _s(_d(payload).get("caption"))


def _location(payload: Any) -> str:
    data = _d(payload)
    return ", ".join(p for p in (_s(data.get("name")), _s(data.get("address"))) if p)


def _reaction(payload: Any) -> str:
    return _s(_d(payload).get("emoji"))


def _interactive(payload: Any) -> str:
    data = _d(payload)
    for key in ("button_reply", "list_reply", "nfm_reply"):
        reply = _d(data.get(key))
        if reply:
            title = _s(reply.get("title")) or _s(reply.get("body"))
            description = _s(reply.get("description"))
            return f"{title} — {description}" if description else title
    parts = [_s(_d(data.get("header")).get("text")), _body(data.get("body"))]
    parts.append(_s(_d(data.get("footer")).get("text")))
    return "\n".join(p for p in parts if p)


def _button(payload: Any) -> str:
    return _s(_d(payload).get("text"))


def _contacts(payload: Any) -> str:
    names = []
    for card in payload if isinstance(payload, list) else []:
        name = _d(_d(card).get("name"))
        names.append(_s(name.get("formatted_name")) or _s(name.get("first_name")))
    return ", ".join(n for n in names if n)


def _template(payload: Any) -> str:
    data = _d(payload)
    values: list[str] = []
    components = data.get("components")
    for component in components if isinstance(components, list) else []:
        parameters = _d(component).get("parameters")
        for parameter in parameters if isinstance(parameters, list) else []:
            value = _s(_d(parameter).get("text"))
            if value:
                values.append(value)
    name = _s(data.get("name"))
    head = f"Template {name}" if name else "Template"
    return f"{head}: {' | '.join(values)}" if values else head


def _system(payload: Any) -> str:
    return _body(payload)


def _order(payload: Any) -> str:
    return _s(_d(payload).get("text"))


_READERS = {
    "text": _body,
    "image": _caption,
    "video": _caption,
    "document": _caption,
    "sticker": lambda payload: "",
    "audio": lambda payload: "",
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "template": _template,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
}
