"""Meta's Resumable Upload API (cloud-api.md §3), which template header samples go through.

- ``POST /{app-id}/uploads?file_name=&file_length=&file_type=`` opens a session for one file:
  ``{"id": "upload:<session>?sig=<signature>"}`` (Meta's ids carry a ``sig`` query part);
- ``POST /upload:<session>`` with header ``file_offset`` and the bytes from that offset:
  ``{"h": "4::…"}``, the handle a template's ``example.header_handle`` takes;
- ``GET /upload:<session>``: ``{"id": …, "file_offset": <bytes received>}`` to resume.

Uploads authenticate with ``Authorization: OAuth <token>`` (``Bearer`` is accepted too).
Refusals answer like Graph: an unknown type or an empty/oversize file is ``100`` invalid
parameter, an offset that is not where the file stands is ``100`` with Meta's words, a
wrong signature is "object does not exist".

For tests of resuming: ``POST /_sim/uploads/interrupt {"after_bytes": n}`` makes the next
upload keep only its first ``n`` bytes and answer 503 (code 2, transient), as a broken
connection would leave it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from messaging.simulator.graph import GraphError, invalid_parameter, invalid_token, unknown_object
from messaging.simulator.template_events import TEMPLATE_EVENT_ROUTES

MB = 1024 * 1024
# What Meta takes as a template header sample, and up to what size.
TYPES: dict[str, int] = {
    "image/jpeg": 5 * MB,
    "image/png": 5 * MB,
    "video/mp4": 16 * MB,
    "application/pdf": 100 * MB,
}


@dataclass
class UploadSession:
    id: str  # "upload:<session>"
    signature: str
    token: str
    app_id: str
    file_name: str
    file_length: int
    file_type: str
    data: bytearray
    handle: str | None = None

    def public_id(self) -> str:
        return f"{self.id}?sig={self.signature}"


class UploadStore:
    """The simulator's upload sessions and handles (reset with the simulator's state)."""

    def __init__(self) -> None:
        self.sessions: dict[str, UploadSession] = {}
        self.handles: dict[str, UploadSession] = {}
        self.interrupt_after: int | None = None
        self.secret = secrets.token_hex(16)

    def sign(self, session_id: str) -> str:
        return hmac.new(self.secret.encode(), session_id.encode(), hashlib.sha256).hexdigest()[:24]


def store(request: Request) -> UploadStore:
    """The store lives on the simulator's state, so ``/_sim/reset`` forgets it too."""
    sim = request.app.state.sim
    found = getattr(sim.state, "_uploads", None)
    if found is None:
        found = UploadStore()
        sim.state._uploads = found
    return found


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    for scheme in ("oauth ", "bearer "):
        if auth[: len(scheme)].lower() == scheme:
            return auth[len(scheme) :].strip() or None
    return request.query_params.get("access_token")


def _authorize(request: Request) -> str:
    token = _token(request)
    sim = request.app.state.sim
    if not token or not any(n.access_token == token for n in sim.state.numbers.values()):
        raise invalid_token()
    return token


def _graph(handler: Any) -> Any:
    async def wrapped(request: Request) -> Response:
        version = request.path_params.get("version", "")
        try:
            if not (version.startswith("v") and version[1:].replace(".", "", 1).isdigit()):
                raise GraphError(2500, "Unknown path components")
            response: Response = await handler(request)
            return response
        except GraphError as exc:
            return JSONResponse(exc.body(), status_code=exc.http_status)

    return wrapped


@_graph
async def create_session(request: Request) -> Response:
    token = _authorize(request)
    app_id = request.path_params["app_id"]
    if not app_id.isdigit():
        raise unknown_object(app_id, "post")
    params = request.query_params
    file_name = params.get("file_name", "").strip()
    file_type = params.get("file_type", "").strip().lower()
    try:
        length = int(params.get("file_length", ""))
    except ValueError:
        raise invalid_parameter("Param file_length must be an integer.") from None
    if not file_name:
        raise invalid_parameter("The parameter file_name is required.")
    if file_type not in TYPES:
        raise invalid_parameter(
            f"Param file_type must be one of {', '.join(TYPES)}; got {file_type[:40]!r}."
        )
    if not 0 < length <= TYPES[file_type]:
        raise invalid_parameter(
            f"Param file_length must be between 1 and {TYPES[file_type]} for {file_type}."
        )
    uploads = store(request)
    raw = base64.urlsafe_b64encode(secrets.token_bytes(18)).decode().rstrip("=")
    session = UploadSession(
        id=f"upload:{raw}",
        signature="",
        token=token,
        app_id=app_id,
        file_name=file_name,
        file_length=length,
        file_type=file_type,
        data=bytearray(),
    )
    session.signature = uploads.sign(session.id)
    uploads.sessions[session.id] = session
    return JSONResponse({"id": session.public_id()})


def _session(request: Request, token: str) -> UploadSession:
    uploads = store(request)
    session_id = f"upload:{request.path_params['session']}"
    session = uploads.sessions.get(session_id)
    signature = request.query_params.get("sig", "")
    if (
        session is None
        or session.token != token
        or not hmac.compare_digest(signature, session.signature)
    ):
        raise unknown_object(session_id, request.method.lower())
    return session


@_graph
async def session_node(request: Request) -> Response:
    token = _authorize(request)
    session = _session(request, token)
    if request.method == "GET":
        return JSONResponse({"id": session.public_id(), "file_offset": len(session.data)})
    try:
        offset = int(request.headers.get("file_offset", ""))
    except ValueError:
        raise invalid_parameter("The header file_offset is required.") from None
    if offset != len(session.data):
        raise GraphError(
            100,
            "Invalid parameter",
            message=f"(#100) file_offset {offset} does not match the uploaded size "
            f"{len(session.data)}; resume from file_offset {len(session.data)}.",
        )
    body = await request.body()
    if offset + len(body) > session.file_length:
        raise invalid_parameter(
            f"The file is longer than the file_length ({session.file_length}) of the session."
        )
    uploads = store(request)
    if uploads.interrupt_after is not None:
        keep = max(0, uploads.interrupt_after)
        uploads.interrupt_after = None
        session.data.extend(body[:keep])
        raise GraphError(
            2,
            "Service temporarily unavailable",
            http_status=503,
            extra={"is_transient": True},
        )
    session.data.extend(body)
    if len(session.data) < session.file_length:
        return JSONResponse({"id": session.public_id(), "file_offset": len(session.data)})
    if session.handle is None:
        encoded = base64.b64encode(f"{session.file_type}:{secrets.token_hex(12)}".encode())
        session.handle = f"4::{encoded.decode()}"
        uploads.handles[session.handle] = session
    return JSONResponse({"h": session.handle})


async def interrupt(request: Request) -> Response:
    """Control API: the next upload keeps ``after_bytes`` bytes and fails transiently."""
    body = await request.json()
    store(request).interrupt_after = int(body.get("after_bytes", 0))
    return JSONResponse({"ok": True})


async def list_uploads(request: Request) -> Response:
    uploads = store(request)
    return JSONResponse(
        {
            "data": [
                {
                    "id": s.id,
                    "file_name": s.file_name,
                    "file_type": s.file_type,
                    "file_length": s.file_length,
                    "received": len(s.data),
                    "handle": s.handle,
                }
                for s in uploads.sessions.values()
            ]
        }
    )


# Before the generic ``/{version}/{node}`` routes: an upload id is not a Graph object id.
# The template manager's other control routes (quality and category webhooks on demand)
# are registered with them.
UPLOAD_ROUTES = [
    *TEMPLATE_EVENT_ROUTES,
    Route("/_sim/uploads", list_uploads),
    Route("/_sim/uploads/interrupt", interrupt, methods=["POST"]),
    Route("/{version}/{app_id}/uploads", create_session, methods=["POST"]),
    Route("/{version}/upload:{session}", session_node, methods=["GET", "POST"]),
]
