"""HTTP transport of the Cloud API client: one aiohttp session per event loop.

Why aiohttp and not httpx: on our 2-core machines httpx spent ~1.7 ms of CPU per request
(URL and header models, its connection pool) against ~0.1 ms for aiohttp on the same loop,
which made the HTTP client the limit of bulk sends (BENCHMARKS.md, "Outbound send pipeline").
Nothing outside ``messaging.whatsapp`` imports this module.

Failures become ``TransportError``, split by whether the request may have reached Meta:

- the connection could not be made (refused, DNS, TLS, connect or pool timeout): the
  request never left, ``maybe_delivered=False``, so re-sending is safe;
- anything after that (read timeout, the overall deadline, a dropped connection):
  ``maybe_delivered=True``, because Meta may have accepted the message.

aiohttp retries a request on a dropped keep-alive connection only for idempotent methods,
never for POST, so a send is never repeated behind our back.
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from messaging.whatsapp.errors import TransportError

# Failures before any byte of the request left: the only ones where a resend is safe.
# (ConnectionTimeoutError covers both the TCP connect and waiting for a pooled connection.)
_NEVER_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
_POOL_SIZE = 500  # connections per event loop: a bulk drainer keeps a whole batch in flight
_DOWNLOAD_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Timeouts:
    """Seconds. ``total`` bounds the whole call; ``write`` has no separate aiohttp knob, so
    the total deadline is what bounds a stalled upload."""

    connect: float = 5.0
    read: float = 15.0
    write: float = 15.0
    pool: float = 5.0
    total: float = 30.0

    def as_aiohttp(self) -> aiohttp.ClientTimeout:
        # aiohttp's `connect` includes the wait for a free pooled connection.
        return aiohttp.ClientTimeout(
            total=self.total,
            connect=self.pool + self.connect,
            sock_connect=self.connect,
            sock_read=self.read,
        )


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # case-insensitive (aiohttp's CIMultiDictProxy)
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass(frozen=True)
class Form:
    """A multipart body: plain fields plus one file."""

    fields: Mapping[str, str]
    file_field: str
    filename: str
    content: bytes
    content_type: str

    def as_aiohttp(self) -> aiohttp.FormData:
        form = aiohttp.FormData()
        for name, value in self.fields.items():
            form.add_field(name, value)
        form.add_field(
            self.file_field, self.content, filename=self.filename, content_type=self.content_type
        )
        return form


# --------------------------------------------------------------------------- shared sessions

# A session belongs to the loop that created it, so the process keeps one per loop.
_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
    weakref.WeakKeyDictionary()
)
_sessions_lock = threading.Lock()


def shared_session() -> aiohttp.ClientSession:
    """The process's pool for the running event loop."""
    loop = asyncio.get_running_loop()
    with _sessions_lock:
        session = _sessions.get(loop)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=_POOL_SIZE),
                # Proxies and .netrc from the environment must not see our bearer tokens.
                trust_env=False,
            )
            _sessions[loop] = session
        return session


async def close_shared_session() -> None:
    """Close the running loop's pool (for graceful shutdown of an async worker)."""
    loop = asyncio.get_running_loop()
    with _sessions_lock:
        session = _sessions.pop(loop, None)
    if session is not None:
        await session.close()


# --------------------------------------------------------------------------- requests


async def request(
    method: str,
    url: str,
    *,
    endpoint: str,
    token: str,
    timeouts: Timeouts,
    json_body: Any = None,
    form: Form | None = None,
    params: Mapping[str, Any] | None = None,
    max_bytes: int | None = None,
    content: bytes | None = None,
    extra_headers: Mapping[str, str] | None = None,
    auth_scheme: str = "Bearer",
) -> Response:
    """One call; the body is read whole, or up to ``max_bytes + 1`` bytes when given (so the
    caller can tell an oversize download without holding all of it). ``content`` sends raw
    bytes (the resumable upload, which also authenticates with ``OAuth`` instead of
    ``Bearer``)."""
    headers = {"Authorization": f"{auth_scheme} {token}", **(extra_headers or {})}
    data: Any = None
    if content is not None:
        data = content
    elif json_body is not None:
        headers["Content-Type"] = "application/json"
        # Compact UTF-8, as httpx sent it: a campaign body is encoded hundreds of times a second.
        data = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode()
    elif form is not None:
        data = form.as_aiohttp()
    try:
        # aiohttp's total timeout runs until the body is read and the connection released.
        async with shared_session().request(
            method,
            url,
            headers=headers,
            data=data,
            params=params,
            timeout=timeouts.as_aiohttp(),
            # Meta never redirects API calls; following one would leak the bearer token.
            allow_redirects=False,
        ) as response:
            content = await _read(response, max_bytes)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise _transport_error(exc, endpoint) from exc
    return Response(status=response.status, headers=response.headers, content=content)


def _transport_error(exc: Exception, endpoint: str) -> TransportError:
    if isinstance(exc, _NEVER_SENT):  # checked first: a connect timeout is a TimeoutError too
        return TransportError(
            f"Could not reach the Graph API ({type(exc).__name__})",
            maybe_delivered=False,
            retry_after=5.0,
            reason="Could not reach Meta; retrying.",
        )
    if isinstance(exc, TimeoutError):  # the read timeout or the total deadline
        return TransportError(
            f"Timed out calling {endpoint}",
            retry_after=5.0,
            reason="Meta did not answer in time; retrying.",
        )
    return TransportError(  # e.g. the connection dropped: the request may have been read
        f"Could not reach the Graph API ({type(exc).__name__})",
        retry_after=5.0,
        reason="Could not reach Meta; retrying.",
    )


async def _read(response: aiohttp.ClientResponse, max_bytes: int | None) -> bytes:
    if max_bytes is None:
        return await response.read()
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(_DOWNLOAD_CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            break
    return b"".join(chunks)[: max_bytes + 1]
