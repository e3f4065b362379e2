"""HTTP layer of the simulator: the Graph API subset, and the control API under ``/_sim``.

Graph paths answer exactly like Meta (shapes and error objects); ``/_sim/...`` is ours only
(introspection and control for tests and the demo) and never mimics Meta.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from messaging.simulator import citizens
from messaging.simulator import media as media_rules
from messaging.simulator.config import (
    SimConfig,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_config,
)
from messaging.simulator.emissions import replay_statuses
from messaging.simulator.engine import Simulator
from messaging.simulator.graph import GraphError, invalid_parameter, unknown_object
from messaging.simulator.state import PhoneNumber
from messaging.simulator.uploads import UPLOAD_ROUTES

Handler = Callable[[Request], Awaitable[Response]]


def _sim(request: Request) -> Simulator:
    sim: Simulator = request.app.state.sim
    return sim


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return request.query_params.get("access_token")


def _check_version(version: str) -> None:
    if not (version.startswith("v") and version[1:].replace(".", "", 1).isdigit()):
        raise GraphError(
            2500, "Unknown path components", message=f"Unknown path components: /{version}"
        )


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise invalid_parameter("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise invalid_parameter("The request body must be a JSON object.")
    return body


def graph(handler: Handler) -> Handler:
    """Render GraphError as Meta's error body."""

    async def wrapped(request: Request) -> Response:
        try:
            _check_version(request.path_params.get("version", "v0.0"))
            return await handler(request)
        except GraphError as exc:
            return JSONResponse(exc.body(), status_code=exc.http_status)

    return wrapped


def control(handler: Handler) -> Handler:
    """Control API errors are plain ``{"error": "..."}``."""

    async def wrapped(request: Request) -> Response:
        sim = _sim(request)
        sim.base_url = sim.config.public_url or str(request.base_url).rstrip("/")
        try:
            return await handler(request)
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except LookupError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)

    return wrapped


# ---- Graph: messages ---------------------------------------------------------------------------


@graph
async def messages(request: Request) -> Response:
    sim = _sim(request)
    number = sim.authorize_number(request.path_params["node"], _token(request), "post")
    fault = sim.fault()
    if fault == "5xx":
        raise sim.server_error()
    body = await _json_body(request)
    result = sim.handle_messages(number, body, request.path_params["version"])
    if fault == "slow":
        # Accepted, but the answer comes late: the caller may time out on a sent message.
        await _sleep(sim.config.faults.slow_seconds)
    return JSONResponse(result)


@graph
async def marketing_messages(request: Request) -> Response:
    """The Marketing Messages API's send: same auth, faults and answer as /messages."""
    sim = _sim(request)
    number = sim.authorize_number(request.path_params["node"], _token(request), "post")
    fault = sim.fault()
    if fault == "5xx":
        raise sim.server_error()
    body = await _json_body(request)
    result = sim.handle_marketing_messages(number, body, request.path_params["version"])
    if fault == "slow":
        await _sleep(sim.config.faults.slow_seconds)
    return JSONResponse(result)


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


# ---- Graph: media ------------------------------------------------------------------------------


@graph
async def upload_media(request: Request) -> Response:
    sim = _sim(request)
    sim.base_url = sim.config.public_url or str(request.base_url).rstrip("/")
    number = sim.authorize_number(request.path_params["node"], _token(request), "post")
    async with request.form(max_files=2) as form:
        if form.get("messaging_product") != "whatsapp":
            raise GraphError(
                100,
                "Invalid parameter",
                message="(#100) The parameter messaging_product is required.",
            )
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise GraphError(
                100, "Invalid parameter", message="(#100) The parameter file is required."
            )
        data = await upload.read()
        mime = str(form.get("type") or upload.content_type or "")
        media_rules.check_upload(mime, len(data))
        media = sim.store_media(number, data, mime, upload.filename)
    return JSONResponse({"id": media.id})


async def download_media(request: Request) -> Response:
    sim = _sim(request)
    params = request.query_params
    media_id, sig = params.get("mid", ""), params.get("hash", "")
    try:
        expires = int(params.get("ext", "0"))
    except ValueError:
        expires = 0
    expected = media_rules.url_signature(sim.url_secret, media_id, expires)
    if not hmac.compare_digest(sig, expected) or expires < time.time():
        return Response("URL signature mismatch or expired", status_code=404)
    try:
        media = sim.media_for(media_id, _token(request), None)
    except GraphError as exc:
        # Without the bearer token the CDN refuses the download (cloud-api.md §3).
        return JSONResponse(exc.body(), status_code=401 if exc.code == 190 else 404)
    return Response(media.data, media_type=media.mime_type)


# ---- Graph: nodes (media, templates, phone numbers) --------------------------------------------


@graph
async def node(request: Request) -> Response:
    sim = _sim(request)
    sim.base_url = sim.config.public_url or str(request.base_url).rstrip("/")
    node_id = request.path_params["node"]
    token = _token(request)
    method = request.method.lower()
    if node_id in sim.state.media:
        return await _media_node(sim, request, node_id, token)
    if node_id in sim.state.templates:
        return await _template_node(sim, request, node_id, token)
    if node_id in sim.state.numbers:
        number = sim.authorize_number(node_id, token, method)
        if request.method == "POST":
            return await _configure_number(request, number)
        return JSONResponse(_number_json(sim, number))
    sim.token_wabas(token)  # auth errors come before "does not exist"
    raise unknown_object(node_id, method)


async def _media_node(
    sim: Simulator, request: Request, media_id: str, token: str | None
) -> Response:
    media = sim.media_for(media_id, token, request.query_params.get("phone_number_id"))
    if request.method == "DELETE":
        del sim.state.media[media.id]
        return JSONResponse({"success": True})
    if request.method == "GET":
        return JSONResponse(sim.media_json(media, sim.base_url))
    raise unknown_object(media_id, "post")


async def _template_node(
    sim: Simulator, request: Request, template_id: str, token: str | None
) -> Response:
    template = sim.state.templates[template_id]
    sim.authorize_waba(template.waba_id, token, request.method.lower())
    if request.method == "GET":
        return JSONResponse(template.graph())
    if request.method == "POST":
        sim.edit_template(template, await _json_body(request))
        return JSONResponse({"success": True})
    raise unknown_object(template_id, "delete")


async def _configure_number(request: Request, number: PhoneNumber) -> Response:
    body = await _json_body(request)
    config = body.get("webhook_configuration")
    if not isinstance(config, dict) or "override_callback_uri" not in config:
        raise invalid_parameter("Param webhook_configuration['override_callback_uri'] is required.")
    number.callback_url = config["override_callback_uri"] or None
    number.verify_token = config.get("verify_token")
    return JSONResponse({"success": True})


def _number_json(sim: Simulator, number: PhoneNumber) -> dict[str, Any]:
    mps = number.throughput_mps or sim.config.limits.throughput_mps
    return {
        "id": number.id,
        "display_phone_number": number.display_phone_number,
        "verified_name": number.verified_name,
        "quality_rating": "GREEN",
        "platform_type": "CLOUD_API",
        "code_verification_status": "VERIFIED",
        "name_status": "APPROVED",
        "throughput": {"level": "HIGH" if mps >= 1000 else "STANDARD"},
    }


@graph
async def waba_phone_numbers(request: Request) -> Response:
    sim = _sim(request)
    numbers = sim.authorize_waba(request.path_params["node"], _token(request), "get")
    return JSONResponse({"data": [_number_json(sim, n) for n in numbers]})


@graph
async def register_number(request: Request) -> Response:
    sim = _sim(request)
    sim.authorize_number(request.path_params["node"], _token(request), "post")
    await _json_body(request)
    return JSONResponse({"success": True})


# ---- Graph: template management ----------------------------------------------------------------


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(str(index).encode()).decode()


def _uncursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except ValueError:
        raise invalid_parameter("Param after/before is not a valid cursor.") from None


@graph
async def message_templates(request: Request) -> Response:
    sim = _sim(request)
    waba_id = request.path_params["node"]
    sim.authorize_waba(waba_id, _token(request), request.method.lower())
    if request.method == "POST":
        template = sim.create_template(waba_id, await _json_body(request))
        return JSONResponse(
            {"id": template.id, "status": template.status, "category": template.category}
        )
    params = request.query_params
    if request.method == "DELETE":
        sim.delete_templates(waba_id, params.get("name"), params.get("hsm_id"))
        return JSONResponse({"success": True})
    return JSONResponse(_template_page(sim, request, waba_id))


def _template_page(sim: Simulator, request: Request, waba_id: str) -> dict[str, Any]:
    params = request.query_params
    items = [t for t in sim.state.templates.values() if t.waba_id == waba_id]
    if params.get("status"):
        wanted = {s.strip().upper() for s in params["status"].split(",")}
        items = [t for t in items if t.status in wanted]
    if params.get("name"):
        items = [t for t in items if params["name"] in t.name]
    try:
        limit = max(1, min(int(params.get("limit", "25")), 1000))
    except ValueError:
        raise invalid_parameter("Param limit must be an integer.") from None
    after, before = _uncursor(params.get("after")), _uncursor(params.get("before"))
    start = after + 1 if after is not None else max(0, (before or 0) - limit)
    page = items[start : start + limit]
    fields = _requested(params.get("fields"))
    unknown = [f for f in fields if f not in _TEMPLATE_FIELDS]
    if unknown:
        raise GraphError(
            100,
            "Invalid parameter",
            message=f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type "
            "(WhatsAppBusinessHSM)",
        )
    data = [t.graph() for t in page]
    if fields:  # Graph returns the id whatever ``fields`` says
        data = [{k: v for k, v in t.items() if k in fields or k == "id"} for t in data]
    result: dict[str, Any] = {"data": data}
    if page:
        last = start + len(page) - 1
        paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(last)}}
        if last + 1 < len(items):
            query = dict(params)
            query.pop("before", None)
            query["after"] = _cursor(last)
            paging["next"] = str(request.url.replace_query_params(**query))
        result["paging"] = paging
    summary = _requested(params.get("summary"))
    if summary:
        result["summary"] = _template_summary(sim, waba_id, len(items), summary)
    return result


def _requested(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


# Template object fields (cloud-api.md §4.1); the ones a template lacks are simply absent.
_TEMPLATE_FIELDS = frozenset(
    {
        "id",
        "name",
        "language",
        "status",
        "category",
        "components",
        "parameter_format",
        "quality_score",
        "rejected_reason",
        "previous_category",
        "correct_category",
        "message_send_ttl_seconds",
        "sub_category",
        "library_template_name",
        # Fields Graph knows that the simulator does not model: accepted, never returned
        # (Graph omits empty fields). Third-party clients ask for them (pywa's
        # get_templates names both).
        "cta_url_link_tracking_opted_out",
        "degrees_of_freedom_spec",
    }
)
_SUMMARY_KEYS = frozenset(
    {"total_count", "message_template_count", "message_template_limit", "are_translations_complete"}
)


def _template_summary(sim: Simulator, waba_id: str, total: int, keys: list[str]) -> dict[str, Any]:
    """``summary=`` on the list (cloud-api.md §10); unknown keys are refused like Graph does."""
    unknown = [k for k in keys if k not in _SUMMARY_KEYS]
    if unknown:
        raise invalid_parameter(f"Param summary has an unknown field: {unknown[0]}")
    templates = [t for t in sim.state.templates.values() if t.waba_id == waba_id]
    languages: dict[str, set[str]] = {}
    for template in templates:
        languages.setdefault(template.name, set()).add(template.language)
    every = set().union(*languages.values()) if languages else set()
    values = {
        "total_count": total,
        "message_template_count": len(languages),  # translations of a name count once
        "message_template_limit": sim.config.limits.max_templates_per_waba,
        "are_translations_complete": all(langs == every for langs in languages.values()),
    }
    return {key: values[key] for key in keys}


@graph
async def unpause_template(request: Request) -> Response:
    sim = _sim(request)
    template = sim.state.templates.get(request.path_params["node"])
    if template is None:
        sim.token_wabas(_token(request))
        raise unknown_object(request.path_params["node"], "post")
    sim.authorize_waba(template.waba_id, _token(request), "post")
    if template.status == "PAUSED":
        sim.set_template_status(template, "APPROVED", None)
    return JSONResponse({"success": True, "reason": None})


# ---- control API -------------------------------------------------------------------------------


def _number_or_404(sim: Simulator, number_id: str) -> PhoneNumber:
    number = sim.state.numbers.get(number_id)
    if number is None:
        raise LookupError(f"phone number {number_id} is not registered")
    return number


@control
async def sim_health(request: Request) -> Response:
    return JSONResponse({"ok": True, "counters": _sim(request).state.counters})


@control
async def sim_reset(request: Request) -> Response:
    await _sim(request).reset()
    return JSONResponse({"ok": True})


@control
async def sim_config(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "PATCH":
        apply_overrides(sim.config, await request.json())
    return JSONResponse(config_to_dict(sim.config))


@control
async def sim_numbers(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "POST":
        number = sim.register_number(await request.json())
        return JSONResponse(number.public(), status_code=201)
    return JSONResponse({"data": [n.public() for n in sim.state.numbers.values()]})


@control
async def sim_number(request: Request) -> Response:
    sim = _sim(request)
    number = _number_or_404(sim, request.path_params["number_id"])
    if request.method == "PATCH":
        number = sim.register_number({"id": number.id, **await request.json()})
    return JSONResponse(number.public())


@control
async def sim_verify_webhook(request: Request) -> Response:
    """Run Meta's GET handshake against the number's callback URL (cloud-api.md §5.2)."""
    sim = _sim(request)
    number = _number_or_404(sim, request.path_params["number_id"])
    if not number.callback_url:
        raise ValueError("the number has no callback_url")
    challenge = str(secrets.randbelow(10**10))
    params = {
        "hub.mode": "subscribe",
        "hub.challenge": challenge,
        "hub.verify_token": number.verify_token or "",
    }
    try:
        response = await sim.dispatcher.client.get(
            number.callback_url, params=params, timeout=sim.config.webhooks.timeout
        )
    except httpx.HTTPError as exc:
        return JSONResponse({"ok": False, "status_code": None, "error": type(exc).__name__})
    ok = response.status_code == 200 and response.text == challenge
    return JSONResponse({"ok": ok, "status_code": response.status_code})


@control
async def sim_sent_messages(request: Request) -> Response:
    sim = _sim(request)
    number = _number_or_404(sim, request.path_params["number_id"])
    now, params = time.monotonic(), request.query_params
    items = sim.state.sent.get(number.id, [])
    if params.get("to"):
        items = [m for m in items if m.wa_id == params["to"]]
    if params.get("type"):
        items = [m for m in items if m.type == params["type"]]
    if params.get("endpoint"):  # "messages" or "marketing_messages"
        items = [m for m in items if m.endpoint == params["endpoint"]]
    return JSONResponse({"data": [m.public(now) for m in items]})


@control
async def sim_message(request: Request) -> Response:
    sim = _sim(request)
    message = sim.state.by_wamid.get(request.path_params["wamid"])
    if message is None:
        raise LookupError("unknown wamid")
    return JSONResponse(message.public(time.monotonic()))


@control
async def sim_inbound_list(request: Request) -> Response:
    sim = _sim(request)
    number = _number_or_404(sim, request.path_params["number_id"])
    return JSONResponse({"data": sim.state.inbound.get(number.id, [])})


@control
async def sim_reads(request: Request) -> Response:
    sim = _sim(request)
    number = _number_or_404(sim, request.path_params["number_id"])
    return JSONResponse({"data": sim.state.reads.get(number.id, [])})


@control
async def sim_inbound(request: Request) -> Response:
    sim = _sim(request)
    spec = await request.json()
    number_id = spec.pop("phone_number_id", None)
    number = (
        _number_or_404(sim, str(number_id))
        if number_id
        else next(iter(sim.state.numbers.values()), None)
    )
    if number is None:
        raise LookupError("no phone number is registered")
    message = citizens.send_inbound(sim, number, spec)
    return JSONResponse({"message": message}, status_code=201)


@control
async def sim_windows(request: Request) -> Response:
    sim = _sim(request)
    body = await request.json()
    key = (str(body["phone_number_id"]), str(body["wa_id"]))
    if body.get("open", True):
        sim.state.windows[key] = time.time()
    else:
        sim.state.windows.pop(key, None)
    return JSONResponse({"open": sim.window_open(*key)})


@control
async def sim_not_on_whatsapp(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "POST":
        body = await request.json()
        sim.state.not_on_whatsapp.update(str(w) for w in body.get("wa_ids", []))
    return JSONResponse({"wa_ids": sorted(sim.state.not_on_whatsapp)})


@control
async def sim_templates(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "POST":
        template = sim.seed_template(await request.json())
        return JSONResponse(template.graph() | {"waba_id": template.waba_id}, status_code=201)
    waba_id = request.query_params.get("waba_id")
    items = [t for t in sim.state.templates.values() if waba_id in (None, t.waba_id)]
    return JSONResponse({"data": [t.graph() | {"waba_id": t.waba_id} for t in items]})


@control
async def sim_template_status(request: Request) -> Response:
    sim = _sim(request)
    template = sim.state.templates.get(request.path_params["template_id"])
    if template is None:
        raise LookupError("unknown template")
    body = await request.json()
    sim.set_template_status(template, str(body["status"]).upper(), body.get("reason"))
    return JSONResponse(template.graph())


@control
async def sim_webhooks(request: Request) -> Response:
    dispatcher = _sim(request).dispatcher
    url = request.query_params.get("url")
    deliveries = [d for d in dispatcher.deliveries if url in (None, d["url"])]
    return JSONResponse(
        {"pending": dispatcher.pending(), "dropped": dispatcher.dropped, "data": deliveries}
    )


@control
async def sim_scenarios(request: Request) -> Response:
    sim = _sim(request)
    body = await request.json()
    if "path" in body:
        scenario = citizens.load_scenario(body["path"])
    else:
        scenario = body["scenario"]
        citizens.validate_scenario(scenario)
    sim.spawn(citizens.run_scenario(sim, scenario, body.get("phone_number_id")))
    return JSONResponse({"started": True}, status_code=202)


@control
async def sim_emissions(request: Request) -> Response:
    """When each status webhook was posted (``emissions.EmissionLog``), and what is still
    waiting in the dispatcher's lanes and timers."""
    dispatcher = _sim(request).dispatcher
    params = request.query_params
    data = dispatcher.emissions.as_json(params.get("status"), int(params.get("offset", 0)))
    return JSONResponse(
        {
            "counts": dispatcher.emissions.counts(),
            "pending": dispatcher.pending(),
            "dropped": dispatcher.dropped,
            "data": data,
        }
    )


@control
async def sim_replay_statuses(request: Request) -> Response:
    """Status webhooks for messages the simulator never sent (``emissions.replay_statuses``):
    ``{"rate": per second, "messages": [{"wamid", "wa_id", "biz_opaque_callback_data"}]}``."""
    sim = _sim(request)
    number = _number_or_404(sim, request.path_params["number_id"])
    body = await request.json()
    messages = list(body["messages"])
    replay_statuses(sim, number, messages, float(body.get("rate", 1000)))
    return JSONResponse({"planned": len(messages)}, status_code=202)


@control
async def sim_repeated_recipients(request: Request) -> Response:
    """How many messages of a type the number sent, and the recipients who got more than one
    (a duplicated campaign send shows here without listing every message)."""
    sim = _sim(request)
    number = _number_or_404(sim, request.path_params["number_id"])
    kind = request.query_params.get("type")
    per_recipient: dict[str, int] = {}
    for message in sim.state.sent.get(number.id, []):
        if kind in (None, message.type):
            per_recipient[message.wa_id] = per_recipient.get(message.wa_id, 0) + 1
    repeated = {wa_id: n for wa_id, n in per_recipient.items() if n > 1}
    return JSONResponse(
        {
            "sent": sum(per_recipient.values()),
            "recipients": len(per_recipient),
            "repeated": repeated,
        }
    )


# ---- app factory -------------------------------------------------------------------------------

CONTROL_ROUTES = [
    Route("/_sim/health", sim_health),
    Route("/_sim/reset", sim_reset, methods=["POST"]),
    Route("/_sim/config", sim_config, methods=["GET", "PATCH"]),
    Route("/_sim/phone_numbers", sim_numbers, methods=["GET", "POST"]),
    Route("/_sim/phone_numbers/{number_id}", sim_number, methods=["GET", "PATCH"]),
    Route("/_sim/phone_numbers/{number_id}/messages", sim_sent_messages),
    Route("/_sim/phone_numbers/{number_id}/verify_webhook", sim_verify_webhook, methods=["POST"]),
    Route("/_sim/phone_numbers/{number_id}/inbound", sim_inbound_list),
    Route("/_sim/phone_numbers/{number_id}/reads", sim_reads),
    Route("/_sim/messages/{wamid}", sim_message),
    Route("/_sim/inbound", sim_inbound, methods=["POST"]),
    Route("/_sim/windows", sim_windows, methods=["POST"]),
    Route("/_sim/not_on_whatsapp", sim_not_on_whatsapp, methods=["GET", "POST"]),
    Route("/_sim/templates", sim_templates, methods=["GET", "POST"]),
    Route("/_sim/templates/{template_id}/status", sim_template_status, methods=["POST"]),
    Route("/_sim/webhooks", sim_webhooks),
    Route("/_sim/scenarios", sim_scenarios, methods=["POST"]),
    Route("/_sim/emissions", sim_emissions),
    Route("/_sim/phone_numbers/{number_id}/replay", sim_replay_statuses, methods=["POST"]),
    Route("/_sim/phone_numbers/{number_id}/repeated", sim_repeated_recipients),
]

GRAPH_ROUTES = [
    Route("/whatsapp_business/attachments/", download_media),
    Route("/{version}/{node}/media", upload_media, methods=["POST"]),
    Route(
        "/{version}/{node}/message_templates",
        message_templates,
        methods=["GET", "POST", "DELETE"],
    ),
    Route("/{version}/{node}/phone_numbers", waba_phone_numbers),
    Route("/{version}/{node}/register", register_number, methods=["POST"]),
    Route("/{version}/{node}/deregister", register_number, methods=["POST"]),
    Route("/{version}/{node}/unpause", unpause_template, methods=["POST"]),
    Route("/{version}/{node}", node, methods=["GET", "POST", "DELETE"]),
]


class _SameNodeWithSlash:
    """``/{node}/`` names the same node as ``/{node}`` on Graph: answer it, never redirect
    (Meta's clients do not follow redirects, cloud-api.md §10). The media CDN path keeps its
    own trailing slash."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] == "http"
            and len(path) > 1
            and path.endswith("/")
            and not path.startswith(("/_sim/", "/whatsapp_business/"))
        ):
            scope = dict(scope, path=path.rstrip("/") or "/")
            scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


def create_app(
    config: SimConfig | dict[str, Any] | str | Path | None = None,
    *,
    scenarios: list[Any] | tuple[Any, ...] = (),
) -> Starlette:
    """ASGI app factory. ``scenarios`` are paths or already-loaded scenarios to run at start."""
    if isinstance(config, str | Path):
        config = load_config(config)
    elif not isinstance(config, SimConfig):
        config = config_from_dict(config)
    sim = Simulator(config)
    loaded = [citizens.load_scenario(s) if isinstance(s, str | Path) else s for s in scenarios]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for scenario in loaded:
            sim.spawn(citizens.run_scenario(sim, scenario))
        yield
        await sim.stop()

    # The send route goes first: Starlette matches routes in order and it is the hot path.
    routes = [
        Route("/{version}/{node}/messages", messages, methods=["POST"]),
        Route("/{version}/{node}/marketing_messages", marketing_messages, methods=["POST"]),
    ]
    routes += UPLOAD_ROUTES  # before GRAPH_ROUTES: ``upload:<id>`` is not a Graph node
    app = Starlette(routes=routes + CONTROL_ROUTES + GRAPH_ROUTES, lifespan=lifespan)
    app.state.sim = sim
    app.add_middleware(_SameNodeWithSlash)
    return app
