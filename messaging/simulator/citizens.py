"""Simulated citizens: build inbound messages of every type (cloud-api.md §5.5) and run
scripted scenarios (YAML/JSON or Python).

An inbound *spec* is the webhook message object with conveniences: ids, timestamps, media and
defaults are filled in. Example specs::

    {"type": "text", "text": "Hello"}                     # or "text": {"body": "Hello"}
    {"type": "image", "image": {"caption": "the pothole"}}
    {"type": "audio"}                                     # a voice note
    {"type": "interactive", "button_reply": {"id": "yes", "title": "Yes"}}
    {"type": "reaction", "reaction": {"emoji": "👍"}}     # to the last business message
    {"type": "text", "text": "Hi", "referral": {}}        # arrived from a click-to-WhatsApp ad
    {"type": "edit", "edit": {"text": "Hello again"}}     # edits the citizen's last message
    {"type": "revoke"}                                    # deletes it ("original_message_id"
                                                          #   names another one)
    {"type": "request_welcome"}                           # opened the chat for the first time
    {"type": "errors"}                                    # change-level errors, no message;
    {"type": "errors", "message_type": "interactive"}     #   or beside a message without body

Scenario files, see scenarios/default.yaml::

    phone_number_id: null        # null: the first number registered with the simulator
    time_scale: 1.0              # multiply every delay (0.01 in tests)
    citizens:
      - wa_id: "14155550101"
        name: Ana
        script:
          - send: {type: text, text: "Hello"}
          - wait_for_reply: 300  # until the business answers (timeout seconds)
          - after: 5             # seconds to wait before this step's action
            tap: 0               # tap button/row 0 of the last interactive or template
          - react: "👍"          # react to the last business message
          - edit: "Hello, Ana here"  # edit the citizen's last message (text)
          - revoke: true         # delete the citizen's last message
          - send: {type: request_welcome}
          - send: {type: errors}  # Meta could not deliver what the citizen sent
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from messaging.simulator import media as media_rules
from messaging.simulator.graph import webhook_error

if TYPE_CHECKING:
    from messaging.simulator.engine import Simulator
    from messaging.simulator.state import PhoneNumber, SentMessage

logger = logging.getLogger(__name__)

Json = dict[str, Any]
Builder = Callable[["Simulator", "PhoneNumber", str, Any, Json], Any]

INBOUND_TYPES = (
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
    "reaction",
    "order",
    "unsupported",
    "system",
    "edit",
    "revoke",
    "request_welcome",
)
# What a citizen can edit (text, and media captions) and what edit/revoke look for by default.
EDITABLE_TYPES = ("text", "image", "video", "document")
_CHANGE_ERROR = (131000, "Something went wrong", "Unsupported webhook payload")


class SpecError(ValueError):
    pass


# ---- building one inbound message ----------------------------------------------------------


def build_inbound(sim: Simulator, number: PhoneNumber, spec: dict[str, Any]) -> dict[str, Any]:
    """Turn a spec into the ``messages[]`` object Meta would post."""
    wa_id = str(spec.get("from") or "")
    if not wa_id.isdigit():
        raise SpecError("'from' must be the citizen's wa_id (digits)")
    kind = spec.get("type") or _infer_type(spec)
    if kind not in INBOUND_TYPES:
        raise SpecError(f"type must be one of {', '.join(INBOUND_TYPES)}")
    message: dict[str, Any] = {
        "from": wa_id,
        "id": sim.new_inbound_id(wa_id),
        "timestamp": str(int(time.time())),
        "type": kind,
    }
    content = _BUILDERS[kind](sim, number, wa_id, spec.get(kind), message)
    if content is not None:
        message[kind] = content
    _add_context(sim, number, wa_id, spec, message)
    if "referral" in spec:
        message["referral"] = _referral(spec["referral"] or {})
    return message


def _infer_type(spec: dict[str, Any]) -> str:
    for kind in INBOUND_TYPES:
        if kind in spec:
            return kind
    if {"button_reply", "list_reply", "nfm_reply"} & spec.keys():
        return "interactive"
    return "text"


def _add_context(
    sim: Simulator, number: PhoneNumber, wa_id: str, spec: dict[str, Any], message: dict[str, Any]
) -> None:
    context = spec.get("context")
    reply_to = spec.get("reply_to")
    if reply_to:
        context = {"from": number.display_phone_number, "id": reply_to}
    if spec.get("forwarded"):
        context = {"forwarded": True}
    if context is None and message["type"] in ("interactive", "button"):
        # Taps always quote the business message they came from.
        wanted = ("template",) if message["type"] == "button" else ("interactive",)
        last = sim.last_outbound(number.id, wa_id, wanted)
        if last is not None:
            context = {"from": number.display_phone_number, "id": last.wamid}
    if context is not None:
        message["context"] = context


def _text(sim: Simulator, number: PhoneNumber, wa_id: str, value: Any, message: Json) -> Any:
    if isinstance(value, str):
        return {"body": value}
    if not isinstance(value, dict) or not isinstance(value.get("body"), str):
        raise SpecError("text needs a body")
    return {"body": value["body"]}


def _media(kind: str) -> Builder:
    def build(sim: Simulator, number: PhoneNumber, wa_id: str, value: Any, message: Json) -> Any:
        value = dict(value or {})
        mime = value.pop("mime_type", media_rules.DEFAULT_MIME[kind])
        raw = value.pop("content_base64", None)
        data = base64.b64decode(raw) if raw else media_rules.fake_content(mime, message["id"])
        media = sim.store_media(number, data, mime, value.get("filename"))
        out: dict[str, Any] = {"id": media.id, "mime_type": mime, "sha256": media.sha256}
        # Inbound media webhooks carry the URL directly since Nov 2025 (cloud-api.md §3).
        out["url"] = sim.media_url(media, sim.base_url)
        if kind == "audio":
            out["voice"] = bool(value.pop("voice", True))
        if kind == "sticker":
            out["animated"] = bool(value.pop("animated", False))
        if kind == "document":
            out["filename"] = value.pop("filename", "document.pdf")
        for key in ("caption",):
            if key in value and kind in ("image", "video", "document"):
                out[key] = value.pop(key)
        return out

    return build


def _location(sim: Simulator, number: PhoneNumber, wa_id: str, value: Any, message: Json) -> Any:
    value = dict(value or {})
    value.setdefault("latitude", 38.7223)
    value.setdefault("longitude", -9.1393)
    return value


def _contacts(sim: Simulator, number: PhoneNumber, wa_id: str, value: Any, message: Json) -> Any:
    if value:
        return value
    return [
        {
            "name": {"formatted_name": "Maria Silva", "first_name": "Maria"},
            "phones": [{"phone": "+1 555-010-0199", "wa_id": "15550100199", "type": "CELL"}],
        }
    ]


def _interactive(sim: Simulator, number: PhoneNumber, wa_id: str, value: Any, message: Json) -> Any:
    value = dict(value or {})
    spec_type = value.get("type") or next(
        (k for k in ("button_reply", "list_reply", "nfm_reply") if k in value), None
    )
    if spec_type not in ("button_reply", "list_reply", "nfm_reply") or spec_type not in value:
        raise SpecError("interactive needs button_reply, list_reply or nfm_reply")
    reply = dict(value[spec_type])
    if spec_type == "nfm_reply":
        reply.setdefault("name", "flow")
        reply.setdefault("body", "Sent")
        if not isinstance(reply.get("response_json"), str):
            reply["response_json"] = json.dumps(reply.get("response_json") or {"flow_token": "x"})
    return {"type": spec_type, spec_type: reply}


def _button(sim: Simulator, number: PhoneNumber, wa_id: str, value: Any, message: Json) -> Any:
    value = dict(value or {})
    value.setdefault("text", value.get("payload", "OK"))
    value.setdefault("payload", value["text"])
    return value


def _reaction(sim: Simulator, number: PhoneNumber, wa_id: str, value: Any, message: Json) -> Any:
    value = dict(value or {})
    if "message_id" not in value:
        last = sim.last_outbound(number.id, wa_id)
        if last is None:
            raise SpecError("reaction needs message_id (no business message to react to)")
        value["message_id"] = last.wamid
    value.setdefault("emoji", "\U0001f44d")
    return value


def _order(sim: Simulator, number: PhoneNumber, wa_id: str, value: Any, message: Json) -> Any:
    value = dict(value or {})
    value.setdefault("catalog_id", "354160437058781")
    value.setdefault("text", "")
    value.setdefault(
        "product_items",
        [{"product_retailer_id": "SKU-1", "quantity": 1, "item_price": 10, "currency": "USD"}],
    )
    return value


def _unsupported(sim: Simulator, number: PhoneNumber, wa_id: str, value: Any, message: Json) -> Any:
    message["errors"] = [
        webhook_error(131051, "Message type unknown", "Message type is currently not supported.")
    ]
    return dict(value or {"type": "poll"})


def _system(sim: Simulator, number: PhoneNumber, wa_id: str, value: Any, message: Json) -> Any:
    value = dict(value or {})
    new_wa_id = value.get("wa_id", wa_id[:-1] + str((int(wa_id[-1]) + 1) % 10))
    value.setdefault("body", f"User {wa_id} changed from {wa_id} to {new_wa_id}")
    value.setdefault("wa_id", new_wa_id)
    value.setdefault("type", "user_changed_number")
    return value


def _original(sim: Simulator, number: PhoneNumber, wa_id: str, value: dict[str, Any]) -> str:
    original = value.get("original_message_id")
    if original:
        return str(original)
    last = sim.last_inbound(number.id, wa_id, EDITABLE_TYPES)
    if last is None:
        raise SpecError("nothing to change: the citizen has sent no message yet")
    return str(last["id"])


def _edit(sim: Simulator, number: PhoneNumber, wa_id: str, value: Any, message: Json) -> Any:
    """``{"original_message_id", "message": {type, <type>: ...}}`` (cloud-api.md §5.5)."""
    value = {"text": value} if isinstance(value, str) else dict(value or {})
    original = _original(sim, number, wa_id, value)
    inner = dict(value.get("message") or {k: v for k, v in value.items() if k in EDITABLE_TYPES})
    kind = inner.get("type") or next((k for k in EDITABLE_TYPES if k in inner), None)
    if kind not in EDITABLE_TYPES:
        raise SpecError(f"an edit carries one of {', '.join(EDITABLE_TYPES)}")
    content = _BUILDERS[kind](sim, number, wa_id, inner.get(kind), message)
    return {"original_message_id": original, "message": {"type": kind, kind: content}}


def _revoke(sim: Simulator, number: PhoneNumber, wa_id: str, value: Any, message: Json) -> Any:
    value = dict(value) if isinstance(value, dict) else {}
    return {"original_message_id": _original(sim, number, wa_id, value)}


def _request_welcome(
    sim: Simulator, number: PhoneNumber, wa_id: str, value: Any, message: Json
) -> Any:
    return None  # the type alone says it: the citizen opened the chat


def _change_errors(spec: dict[str, Any]) -> list[dict[str, Any]]:
    errors = spec.get("errors")
    if errors is None:
        return [webhook_error(*_CHANGE_ERROR)]
    if not isinstance(errors, list) or not all(isinstance(e, dict) for e in errors):
        raise SpecError("errors must be a list of error objects")
    return errors


def _referral(value: dict[str, Any]) -> dict[str, Any]:
    out = {
        "source_url": "https://fb.me/3cr4Wqqkk",
        "source_id": "120226305854810726",
        "source_type": "ad",
        "headline": "Report a problem in your street",
        "body": "Message the city on WhatsApp",
        "media_type": "image",
        "image_url": "https://scontent.example/ad.jpg",
        "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0",
    }
    out.update(value)
    return out


_BUILDERS: dict[str, Builder] = {
    "text": _text,
    "image": _media("image"),
    "video": _media("video"),
    "audio": _media("audio"),
    "document": _media("document"),
    "sticker": _media("sticker"),
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "order": _order,
    "unsupported": _unsupported,
    "system": _system,
    "edit": _edit,
    "revoke": _revoke,
    "request_welcome": _request_welcome,
}


def send_inbound(sim: Simulator, number: PhoneNumber, spec: dict[str, Any]) -> dict[str, Any]:
    """Build and post a citizen's message. ``type: errors`` posts change-level errors: alone
    (with the citizen's contact), or beside a bodiless message of ``message_type``."""
    if spec.get("type") == "errors":
        return _send_errors(sim, number, spec)
    message = build_inbound(sim, number, spec)
    sim.deliver_inbound(number, message, spec.get("name"))
    return message


def _send_errors(sim: Simulator, number: PhoneNumber, spec: dict[str, Any]) -> dict[str, Any]:
    wa_id = str(spec.get("from") or "")
    if not wa_id.isdigit():
        raise SpecError("'from' must be the citizen's wa_id (digits)")
    errors = _change_errors(spec)
    message: dict[str, Any] = {}
    if spec.get("message_type"):
        # Meta could not read what the citizen sent: the message comes without its body.
        message = {
            "from": wa_id,
            "id": sim.new_inbound_id(wa_id),
            "timestamp": str(int(time.time())),
            "type": str(spec["message_type"]),
        }
    sim.deliver_inbound(number, message, spec.get("name"), errors=errors, wa_id=wa_id)
    return {**message, "errors": errors} if message else {"from": wa_id, "errors": errors}


# ---- taps on the business's last message ----------------------------------------------------


def tap_spec(last: SentMessage | None, choice: int | str) -> dict[str, Any]:
    """The citizen taps a reply button / list row / template quick reply."""
    if last is None:
        raise SpecError("nothing to tap: the business has not sent an interactive message")
    if last.type == "template":
        return {"type": "button", "button": _template_button(last, choice)}
    interactive = last.payload.get("interactive", {})
    action = interactive.get("action", {})
    if interactive.get("type") == "button":
        reply = _pick([b["reply"] for b in action.get("buttons", [])], choice)
        return {"type": "interactive", "interactive": {"button_reply": reply}}
    if interactive.get("type") == "list":
        rows = [row for s in action.get("sections", []) for row in s.get("rows", [])]
        return {"type": "interactive", "interactive": {"list_reply": _pick(rows, choice)}}
    raise SpecError("the last business message has nothing to tap")


def _pick(options: list[dict[str, Any]], choice: int | str) -> dict[str, Any]:
    if isinstance(choice, int):
        return dict(options[choice])
    for option in options:
        if option.get("id") == choice or option.get("title") == choice:
            return dict(option)
    raise SpecError(f"no option {choice!r}")


def _template_button(last: SentMessage, choice: int | str) -> dict[str, Any]:
    for component in last.payload["template"].get("components", []):
        sub_type = str(component.get("sub_type", "")).lower()
        if sub_type == "quick_reply" and str(component.get("index")) == str(choice):
            payload = component["parameters"][0].get("payload", "")
            return {"payload": payload, "text": payload}
    return {"payload": str(choice), "text": str(choice)}


# ---- scenarios ------------------------------------------------------------------------------


def load_scenario(path: str | Path) -> dict[str, Any] | Any:
    """A dict for YAML/JSON files, or a module with ``async def run(sim, number)``."""
    path = Path(path)
    if path.suffix == ".py":
        spec = importlib.util.spec_from_file_location(f"sim_scenario_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise SpecError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    text = path.read_text()
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    validate_scenario(data)
    return data


def validate_scenario(data: Any) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("citizens"), list):
        raise SpecError("a scenario needs a 'citizens' list")
    for citizen in data["citizens"]:
        if not str(citizen.get("wa_id", "")).isdigit():
            raise SpecError("every citizen needs a numeric wa_id")
        for step in citizen.get("script", []):
            actions = {"send", "wait_for_reply", "tap", "react", "edit", "revoke"} & step.keys()
            if len(actions) > 1 or (not actions and "after" not in step):
                raise SpecError(f"step {step!r} needs exactly one action")


async def run_scenario(sim: Simulator, scenario: Any, phone_number_id: str | None = None) -> None:
    if not isinstance(scenario, dict):  # a Python module
        number = await sim.wait_for_number(phone_number_id)
        await scenario.run(sim, number)
        return
    number = await sim.wait_for_number(phone_number_id or scenario.get("phone_number_id"))
    scale = float(scenario.get("time_scale", 1.0))
    await asyncio.sleep(float(scenario.get("start_delay", 0)) * scale)
    await asyncio.gather(
        *(_run_citizen(sim, number, c, scale) for c in scenario["citizens"]),
        return_exceptions=False,
    )


async def _run_citizen(
    sim: Simulator, number: PhoneNumber, citizen: dict[str, Any], scale: float
) -> None:
    wa_id, name = str(citizen["wa_id"]), citizen.get("name")
    for step in citizen.get("script", []):
        await asyncio.sleep(float(step.get("after", 0)) * scale)
        try:
            await _run_step(sim, number, wa_id, name, step, scale)
        except SpecError as exc:
            logger.warning("scenario step skipped for %s: %s", wa_id, exc)


async def _run_step(
    sim: Simulator,
    number: PhoneNumber,
    wa_id: str,
    name: str | None,
    step: dict[str, Any],
    scale: float,
) -> None:
    spec: dict[str, Any] | None = None
    if "send" in step:
        spec = dict(step["send"])
    elif "wait_for_reply" in step:
        timeout = step["wait_for_reply"]
        await sim.wait_for_outbound(number.id, wa_id, None if timeout is None else timeout * scale)
    elif "tap" in step:
        last = sim.last_outbound(number.id, wa_id, ("interactive", "template"))
        spec = tap_spec(last, step["tap"])
    elif "react" in step:
        spec = {"type": "reaction", "reaction": {"emoji": step["react"]}}
    elif "edit" in step:
        spec = {"type": "edit", "edit": step["edit"]}
    elif "revoke" in step:
        spec = {"type": "revoke", "revoke": step["revoke"]}
    if spec is not None:
        spec.update({"from": wa_id, "name": name})
        send_inbound(sim, number, spec)
