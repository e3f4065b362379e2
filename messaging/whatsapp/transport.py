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
never for POST, so a send is never repeated behind our back. A POST that fails after it was
written is never retried: no byte of an answer does not prove that Meta did not act on it
(RFC 9110 §9.2.2), and the Cloud API has no idempotency key.

Stale keep-alive connections are kept from being written to instead, in two ways:

- a connection is reused only within ``KEEPALIVE_SECONDS`` (2 s) of when it was last handed
  out for a request, well below how long servers keep an idle one (uvicorn, so the
  simulator, closes after 5 s). The server's idle clock starts when it has written its
  answer, which is after we handed the connection out, so by this measure the server's idle
  time is never longer than ours. aiohttp's own clock starts when we have *read* the answer,
  which on a busy loop is up to seconds later: with it (and its default of 15 s) a
  connection was picked in the instant the server closed it, and a whole batch failed with
  ``ServerDisconnectedError`` (outcome unknown: rows left ``sending`` for the reconciler).
  The margin is for a server whose loop lags: uvloop runs due timers before it reads, so a
  simulator more than (5 s - our keep-alive) behind closes a connection with our request
  unread in it (seen at 4 s under a load average of 15);
- before a pooled connection is reused, its socket is polled: an idle HTTP/1.1 connection
  that is readable holds the server's FIN, RST or a farewell (``408``), so the server has
  closed it and our request would never be read. Such a connection is dropped before any
  byte is written and another one is taken (urllib3 checks pooled connections the same
  way). This is what happens when our event loop was held up (by the GIL, a busy worker)
  and had not yet seen the server close it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import select
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from messaging.whatsapp.errors import TransportError

logger = logging.getLogger(__name__)

# Failures before any byte of the request left: the only ones where a resend is safe.
# (ConnectionTimeoutError covers both the TCP connect and waiting for a pooled connection.)
_NEVER_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
_POOL_SIZE = 500  # connections per event loop: a bulk drainer keeps a whole batch in flight
# Well below every server's idle timeout we know of (uvicorn 5 s; Meta's edge keeps longer),
# so the server is never the first to close a connection we still consider reusable. A
# drainer reuses its connections within a fraction of a second; only idle numbers reconnect.
KEEPALIVE_SECONDS = 2.0
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


def _closed_by_peer(conn: Any) -> bool:
    """True when an idle pooled connection has anything to read: the server's FIN (EOF), a
    reset, or data it sent unasked. None of those leaves it usable for a new request."""
    transport = conn.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return True
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


class _CheckedConnector(aiohttp.TCPConnector):
    """A connector that hands a pooled connection out again only when it is young enough and
    the server has not closed it (see the module docstring). ``_get`` is aiohttp's hook for
    taking a pooled connection (3.14)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handed_out: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()

    async def connect(self, *args: Any, **kwargs: Any) -> Any:
        conn = await super().connect(*args, **kwargs)
        if conn.protocol is not None:
            self._handed_out[conn.protocol] = time.monotonic()
        return conn

    async def _get(self, *args: Any, **kwargs: Any) -> Any:
        while (conn := await super()._get(*args, **kwargs)) is not None:
            if self._reusable(conn):
                return conn
            conn.close()  # nothing was written on it; the next pooled one, or a new one
        return None

    def _reusable(self, conn: Any) -> bool:
        handed_out = self._handed_out.get(conn.protocol)
        if handed_out is None or time.monotonic() - handed_out > KEEPALIVE_SECONDS:
            return False
        return not _closed_by_peer(conn)


def _new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=_CheckedConnector(limit=_POOL_SIZE, keepalive_timeout=KEEPALIVE_SECONDS),
        # Proxies and .netrc from the environment must not see our bearer tokens.
        trust_env=False,
    )


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
            session = _new_session()
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
    error = _classify(exc, endpoint)
    # Which failure it was is the first question about a message left `sending`.
    logger.warning(
        "graph_transport_error endpoint=%s error=%s maybe_delivered=%s",
        endpoint,
        type(exc).__name__,
        error.maybe_delivered,
    )
    return error


def _classify(exc: Exception, endpoint: str) -> TransportError:
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
