"""Stateless validation of ``POST /{phone-number-id}/messages`` bodies (cloud-api.md §2).

Codes follow Meta's observed behaviour: envelope problems are ``100`` (an unknown ``type``
too: ``(#100) Param type must be one of {...}``; 131051 is the *inbound* unsupported-type
error, cloud-api.md §10), a missing field inside the type object ``131008``, a bad value
``131009``. Checks that need state (media ids, templates, window) live in the engine.
"""

from __future__ import annotations

import re
from typing import Any

from messaging.simulator.graph import (
    GraphError,
    invalid_parameter,
    invalid_value,
    missing_parameter,
)

MESSAGE_TYPES = frozenset(
    {
        "text",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "template",
        "reaction",
    }
)
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
_ENVELOPE_KEYS = frozenset(
    {
        "messaging_product",
        "recipient_type",
        "to",
        "type",
        "context",
        "biz_opaque_callback_data",
        "recipient",
    }
)
_MEDIA_KEYS = {
    "image": {"id", "link", "caption"},
    "video": {"id", "link", "caption"},
    "document": {"id", "link", "caption", "filename"},
    "audio": {"id", "link", "voice"},
    "sticker": {"id", "link"},
}
_PHONE_STRIP_RE = re.compile(r"[\s()+\-.]")
INTERACTIVE_TYPES = frozenset(
    {
        "button",
        "list",
        "cta_url",
        "product",
        "product_list",
        "flow",
        "location_request_message",
        "catalog_message",
        "call_permission_request",
        "request_contact_info",
        "carousel",
    }
)
# Template send components: Meta parses type/sub_type case-insensitively (cloud-api.md §10).
TEMPLATE_COMPONENT_TYPES = frozenset({"header", "body", "button", "carousel", "limited_time_offer"})
TEMPLATE_BUTTON_SUB_TYPES = frozenset(
    {"quick_reply", "url", "copy_code", "flow", "catalog", "mpm", "voice_call", "order_details"}
)


def _where(parent: str, key: str) -> str:
    return f"{parent}['{key}']"


def _text(obj: dict[str, Any], key: str, parent: str, max_len: int, *, required: bool) -> None:
    value = obj.get(key)
    if value is None:
        if required:
            raise missing_parameter(_where(parent, key))
        return
    if not isinstance(value, str):
        raise invalid_value(f"Param {_where(parent, key)} must be a string.")
    if required and not value.strip():
        raise missing_parameter(_where(parent, key))
    if len(value) > max_len:
        raise invalid_value(
            f"Param {_where(parent, key)} must be at most {max_len} characters long."
        )


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_parameter(f"Param {name} must be a JSON object.")
    return value


def _only(
    obj: dict[str, Any], allowed: set[str] | frozenset[str], parent: str, strict: bool
) -> None:
    if not strict:
        return
    for key in obj:
        if key not in allowed:
            raise invalid_parameter(f"Param {_where(parent, key)} is not a valid parameter.")


def normalize_to(to: Any) -> str:
    if to is None or to == "":
        raise GraphError(100, "Invalid parameter", message="(#100) The parameter to is required.")
    digits = _PHONE_STRIP_RE.sub("", str(to))
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        raise invalid_parameter("Invalid 'to' parameter: not a valid phone number.")
    return digits


def canonical_wa_id(digits: str) -> str:
    """The wa_id WhatsApp reports for a dialled number: Mexican mobiles are ``521`` + 10
    digits, however they were dialled (cloud-api.md §8, §10). Other countries' quirks
    (Brazil's ninth digit) depend on the account and are not modelled."""
    if digits.startswith("52") and len(digits) == 12:
        return "521" + digits[2:]
    return digits


def validate_mark_read(body: dict[str, Any], strict: bool) -> None:
    if body.get("status") != "read":
        raise invalid_parameter("Param status must be 'read'.")
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise missing_parameter("message_id")
    if not message_id.startswith("wamid."):
        raise invalid_value("Param message_id is not a valid message id.")
    indicator = body.get("typing_indicator")
    if indicator is not None and _object(indicator, "typing_indicator").get("type") != "text":
        raise invalid_value("Param typing_indicator['type'] must be 'text'.")
    allowed = {"messaging_product", "status", "message_id", "typing_indicator"}
    _only(body, allowed, "body", strict)


def validate_send(body: dict[str, Any], strict: bool) -> tuple[str, str]:
    """Validate a send body; returns ``(message type, normalized wa_id)``."""
    if body.get("recipient_type", "individual") != "individual":
        raise invalid_parameter("Param recipient_type: only 'individual' is simulated.")
    wa_id = canonical_wa_id(normalize_to(body.get("to")))
    kind = body.get("type", "text")  # Meta defaults a missing type to text
    if kind not in MESSAGE_TYPES:
        allowed = ", ".join(sorted(t.upper() for t in MESSAGE_TYPES))
        raise GraphError(
            100,
            "Invalid parameter",
            message=f'(#100) Param type must be one of {{{allowed}}} - got "{kind}"',
        )
    if kind not in body:
        raise missing_parameter(kind)
    _only(body, _ENVELOPE_KEYS | {kind}, "body", strict)
    context = body.get("context")
    if context is not None:
        _text(_object(context, "context"), "message_id", "context", 256, required=True)
    opaque = body.get("biz_opaque_callback_data")
    if opaque is not None and (not isinstance(opaque, str) or len(opaque.encode()) > 512):
        raise invalid_value("Param biz_opaque_callback_data must be a string of at most 512 bytes.")
    VALIDATORS[kind](body[kind], kind, strict)
    return kind, wa_id


def _text_message(obj: Any, kind: str, strict: bool) -> None:
    obj = _object(obj, "text")
    _text(obj, "body", "text", 4096, required=True)
    if "preview_url" in obj and not isinstance(obj["preview_url"], bool):
        raise invalid_value("Param text['preview_url'] must be a boolean.")
    _only(obj, {"body", "preview_url"}, "text", strict)


def _media_message(obj: Any, kind: str, strict: bool) -> None:
    obj = _object(obj, kind)
    _only(obj, _MEDIA_KEYS[kind], kind, strict)
    has_id, has_link = "id" in obj, "link" in obj
    if not has_id and not has_link:
        raise missing_parameter(f"{kind}['id'] or {kind}['link']")
    if has_id and has_link:
        raise invalid_parameter(f"Param {kind}: provide either id or link, not both.")
    if has_link and not str(obj["link"]).startswith(("https://", "http://")):
        raise invalid_value(f"Param {kind}['link'] must be an http(s) URL.")
    _text(obj, "caption", kind, 1024, required=False)
    _text(obj, "filename", kind, 240, required=False)
    if "voice" in obj and not isinstance(obj["voice"], bool):
        raise invalid_value("Param audio['voice'] must be a boolean.")


def _location_message(obj: Any, kind: str, strict: bool) -> None:
    obj = _object(obj, "location")
    for key, bound in (("latitude", 90), ("longitude", 180)):
        if key not in obj:
            raise missing_parameter(f"location['{key}']")
        try:
            value = float(obj[key])
        except (TypeError, ValueError):
            raise invalid_value(f"Param location['{key}'] must be a number.") from None
        if not -bound <= value <= bound:
            raise invalid_value(f"Param location['{key}'] is out of range.")
    _only(obj, {"latitude", "longitude", "name", "address"}, "location", strict)


def _contacts_message(obj: Any, kind: str, strict: bool) -> None:
    if not isinstance(obj, list) or not obj:
        raise invalid_value("Param contacts must be a non-empty array.")
    for i, contact in enumerate(obj):
        contact = _object(contact, f"contacts[{i}]")
        name = contact.get("name")
        if not isinstance(name, dict):
            raise missing_parameter(f"contacts[{i}]['name']")
        _text(name, "formatted_name", f"contacts[{i}]['name']", 1000, required=True)


def _reaction_message(obj: Any, kind: str, strict: bool) -> None:
    obj = _object(obj, "reaction")
    _text(obj, "message_id", "reaction", 256, required=True)
    emoji = obj.get("emoji", "")
    if not isinstance(emoji, str):
        raise invalid_value("Param reaction['emoji'] must be a string.")
    _only(obj, {"message_id", "emoji"}, "reaction", strict)


def _template_message(obj: Any, kind: str, strict: bool) -> None:
    obj = _object(obj, "template")
    _text(obj, "name", "template", 512, required=True)
    language = obj.get("language")
    if not isinstance(language, dict):
        raise missing_parameter("template['language']")
    _text(language, "code", "template['language']", 20, required=True)
    components = obj.get("components", [])
    if not isinstance(components, list):
        raise invalid_value("Param template['components'] must be an array.")
    for i, component in enumerate(components):
        where = f"template['components'][{i}]"
        component = _object(component, where)
        if str(component.get("type", "")).lower() not in TEMPLATE_COMPONENT_TYPES:
            raise invalid_value(f"Param {where}['type'] is not valid.")
        sub_type = component.get("sub_type")
        if sub_type is not None and str(sub_type).lower() not in TEMPLATE_BUTTON_SUB_TYPES:
            raise invalid_value(f"Param {where}['sub_type'] is not valid.")
        if not isinstance(component.get("parameters", []), list):
            raise invalid_value(f"Param template['components'][{i}]['parameters'] is invalid.")
    _only(obj, {"name", "language", "components", "namespace"}, "template", strict)


VALIDATORS = {
    "text": _text_message,
    "image": _media_message,
    "audio": _media_message,
    "video": _media_message,
    "document": _media_message,
    "sticker": _media_message,
    "location": _location_message,
    "contacts": _contacts_message,
    "reaction": _reaction_message,
    "template": _template_message,
}


# ---- interactive ----------------------------------------------------------------------------


def _interactive_message(obj: Any, kind: str, strict: bool) -> None:
    obj = _object(obj, "interactive")
    itype = obj.get("type")
    if itype not in INTERACTIVE_TYPES:
        raise invalid_value("Param interactive['type'] is not a valid interactive type.")
    header = obj.get("header")
    if header is not None and itype in _NO_HEADER:
        raise invalid_parameter(f"Param interactive['header'] is not supported for {itype}.")
    if obj.get("footer") is not None and itype == "carousel":
        raise invalid_parameter("Param interactive['footer'] is not supported for carousel.")
    if header is not None:
        _interactive_header(_object(header, "interactive['header']"), itype)
    if itype == "product_list" and (header is None or header.get("type") != "text"):
        raise missing_parameter("interactive['header'] of type text")
    body_required = itype not in ("product", "catalog_message")
    body = obj.get("body")
    if body is None and body_required:
        raise missing_parameter("interactive['body']")
    if body is not None:
        _text(
            _object(body, "interactive['body']"), "text", "interactive['body']", 1024, required=True
        )
    footer = obj.get("footer")
    if footer is not None:
        _text(
            _object(footer, "interactive['footer']"),
            "text",
            "interactive['footer']",
            60,
            required=True,
        )
    action = obj.get("action")
    if not isinstance(action, dict):
        raise missing_parameter("interactive['action']")
    _INTERACTIVE_ACTIONS.get(itype, lambda a: None)(action)
    _only(obj, {"type", "header", "body", "footer", "action"}, "interactive", strict)


def _interactive_header(header: dict[str, Any], itype: str) -> None:
    htype = header.get("type")
    if htype == "text":
        _text(header, "text", "interactive['header']", 60, required=True)
    elif htype in ("image", "video", "document"):
        if itype == "list":
            raise invalid_value("Param interactive['header']: list messages take a text header.")
        ref = header.get(htype)
        if not isinstance(ref, dict) or not ({"id", "link"} & ref.keys()):
            raise missing_parameter(f"interactive['header']['{htype}']")
    else:
        raise invalid_value("Param interactive['header']['type'] is not valid.")


def _buttons_action(action: dict[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise invalid_value("Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3")
    ids, titles = set(), set()
    for i, button in enumerate(buttons):
        reply = _object(button, f"buttons[{i}]").get("reply")
        if button.get("type") != "reply" or not isinstance(reply, dict):
            raise invalid_value(f"Param interactive['action']['buttons'][{i}] must be a reply.")
        where = f"interactive['action']['buttons'][{i}]['reply']"
        _text(reply, "id", where, 256, required=True)
        _text(reply, "title", where, 20, required=True)
        if reply["id"] != reply["id"].strip():
            raise invalid_value(f"Param {where}['id'] must not have leading or trailing spaces.")
        ids.add(reply["id"])
        titles.add(reply["title"])
    if len(ids) != len(buttons) or len(titles) != len(buttons):
        raise invalid_value("Button ids and titles must be unique.")


def _list_action(action: dict[str, Any]) -> None:
    _text(action, "button", "interactive['action']", 20, required=True)
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
        raise invalid_value("Invalid sections count. Min allowed sections: 1, Max: 10")
    total = 0
    for s, section in enumerate(sections):
        where = f"interactive['action']['sections'][{s}]"
        section = _object(section, where)
        _text(section, "title", where, 24, required=len(sections) > 1)
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise missing_parameter(f"{where}['rows']")
        for r, row in enumerate(rows):
            row_where = f"{where}['rows'][{r}]"
            row = _object(row, row_where)
            _text(row, "id", row_where, 200, required=True)
            _text(row, "title", row_where, 24, required=True)
            _text(row, "description", row_where, 72, required=False)
        total += len(rows)
    if total > 10:
        raise invalid_value(f"Invalid rows count. Max allowed rows: 10, received: {total}")


def _cta_url_action(action: dict[str, Any]) -> None:
    if action.get("name") != "cta_url":
        raise invalid_value("Param interactive['action']['name'] must be 'cta_url'.")
    params = _object(action.get("parameters"), "interactive['action']['parameters']")
    _text(params, "display_text", "interactive['action']['parameters']", 20, required=True)
    _text(params, "url", "interactive['action']['parameters']", 2000, required=True)


def _product_action(action: dict[str, Any]) -> None:
    _text(action, "catalog_id", "interactive['action']", 100, required=True)
    _text(action, "product_retailer_id", "interactive['action']", 100, required=True)


def _product_list_action(action: dict[str, Any]) -> None:
    _text(action, "catalog_id", "interactive['action']", 100, required=True)
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
        raise invalid_value("Invalid sections count. Min allowed sections: 1, Max: 10")
    total = 0
    for s, section in enumerate(sections):
        where = f"interactive['action']['sections'][{s}]"
        _text(_object(section, where), "title", where, 24, required=True)
        items = section.get("product_items")
        if not isinstance(items, list) or not items:
            raise missing_parameter(f"{where}['product_items']")
        total += len(items)
    if total > 30:
        raise invalid_value(f"Invalid products count. Max allowed products: 30, received: {total}")


def _flow_action(action: dict[str, Any]) -> None:
    if action.get("name") != "flow":
        raise invalid_value("Param interactive['action']['name'] must be 'flow'.")
    where = "interactive['action']['parameters']"
    params = _object(action.get("parameters"), where)
    _text(params, "flow_cta", where, 20, required=True)
    _text(params, "flow_message_version", where, 5, required=True)
    if "flow_id" not in params and "flow_name" not in params:
        raise missing_parameter(f"{where}['flow_id']")
    if params.get("flow_action", "navigate") == "navigate":
        payload = params.get("flow_action_payload")
        if not isinstance(payload, dict) or not payload.get("screen"):
            raise missing_parameter(f"{where}['flow_action_payload']['screen']")


def _named_action(name: str) -> Any:
    def check(action: dict[str, Any]) -> None:
        if action.get("name") != name:
            raise invalid_value(f"Param interactive['action']['name'] must be '{name}'.")

    return check


def _carousel_action(action: dict[str, Any]) -> None:
    """2-10 cards, each an image or video header (one kind for all), optional body, and
    either one cta_url or quick replies, the same kind and count on every card."""
    cards = action.get("cards")
    if not isinstance(cards, list) or not 2 <= len(cards) <= 10:
        raise invalid_value("Invalid cards count. Min allowed cards: 2, Max allowed cards: 10")
    shapes: set[tuple[Any, Any, int]] = set()
    for i, card in enumerate(cards):
        where = f"interactive['action']['cards'][{i}]"
        card = _object(card, where)
        if card.get("card_index") != i:
            raise invalid_value(f"Param {where}['card_index'] must be {i}.")
        header = _object(card.get("header"), f"{where}['header']")
        htype = header.get("type")
        ref = header.get(htype) if htype in ("image", "video") else None
        if not isinstance(ref, dict) or not ({"id", "link"} & ref.keys()):
            raise invalid_value(f"Param {where}['header'] must be an image or a video.")
        body = card.get("body")
        if body is not None:
            _text(_object(body, f"{where}['body']"), "text", f"{where}['body']", 160, required=True)
        card_action = _object(card.get("action"), f"{where}['action']")
        ctype = card.get("type")
        if ctype == "cta_url":
            _cta_url_action(card_action)
            count = 1
        elif ctype == "button":
            count = _card_quick_replies(card_action, f"{where}['action']")
        else:
            raise invalid_value(f"Param {where}['type'] must be cta_url or button.")
        shapes.add((htype, ctype, count))
    if len(shapes) > 1:
        raise invalid_value("All cards must have the same header type and the same buttons.")


def _card_quick_replies(action: dict[str, Any], where: str) -> int:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 2:
        raise invalid_value(f"Param {where}['buttons'] needs 1 or 2 quick replies.")
    for b, button in enumerate(buttons):
        reply = _object(button, f"{where}['buttons'][{b}]").get("quick_reply")
        if button.get("type") != "quick_reply" or not isinstance(reply, dict):
            raise invalid_value(f"Param {where}['buttons'][{b}] must be a quick_reply.")
        _text(reply, "id", f"{where}['buttons'][{b}]['quick_reply']", 256, required=True)
        _text(reply, "title", f"{where}['buttons'][{b}]['quick_reply']", 20, required=True)
    return len(buttons)


_NO_HEADER = frozenset({"location_request_message", "request_contact_info", "carousel"})
_INTERACTIVE_ACTIONS = {
    "location_request_message": _named_action("send_location"),
    "request_contact_info": _named_action("request_contact_info"),
    "carousel": _carousel_action,
    "button": _buttons_action,
    "list": _list_action,
    "cta_url": _cta_url_action,
    "product": _product_action,
    "product_list": _product_list_action,
    "flow": _flow_action,
}
VALIDATORS["interactive"] = _interactive_message
