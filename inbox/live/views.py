"""``GET /inbox/stream/``: the current agency's events as Server-Sent Events (async view).

Under ASGI the (synchronous) middleware has already run in the request's thread when this
view starts: ``request.user`` is resolved and ``request.membership`` is the session's
current agency's (``AgencyMiddleware``), so no other agency can be asked for. The body is
streamed after the middleware has returned, outside its agency scope: every query of the
stream enters the agency's scope itself (``sources.read_events``, ``access``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from inbox.live import sse
from inbox.live.access import StreamSlots, may_stream, still_allowed
from inbox.live.sources import (
    LiveSource,
    Message,
    PollingSource,
    RedisSource,
    last_sequence_async,
    read_events_async,
    release_connection_async,
)
from inbox.live.stream import Timing, event_stream
from tenants.http import AgencyRequest

MAX_STREAMS_PER_USER = 10
slots = StreamSlots(cap=int(getattr(settings, "LIVE_MAX_STREAMS_PER_USER", MAX_STREAMS_PER_USER)))

_acquire = sync_to_async(slots.acquire, thread_sensitive=True)
_refresh = sync_to_async(slots.refresh, thread_sensitive=True)
_release = sync_to_async(slots.release, thread_sensitive=True)
_still_allowed = sync_to_async(still_allowed, thread_sensitive=True)


def _refused(status: int, text: str) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


@require_GET
async def stream(request: AgencyRequest) -> HttpResponseBase:
    # Resolved by the middleware (AgencyMiddleware asked is_authenticated): no query here.
    user = request.user
    if not user.is_authenticated:
        return _refused(401, "Sign in to receive live updates.")
    membership = request.membership
    if membership is None or not may_stream(membership):
        return _refused(403, "Your role in this agency cannot view the inbox.")
    agency_id, user_id = membership.agency_id, user.pk
    slot = await _acquire(user_id)
    if slot is None:
        response = _refused(429, "Too many live update streams are open; close a tab.")
        response["Retry-After"] = "30"
        return response
    try:
        latest = await last_sequence_async(agency_id)
    except BaseException:
        await _release(user_id, slot)
        raise
    resume_after = sse.resume_point(request.headers.get("Last-Event-ID"), request.GET.get("after"))
    body = _body(
        conversation=_watched_conversation(request.GET.get("conversation")),
        agency_id=agency_id,
        user_id=user_id,
        slot=slot,
        session_key=request.session.session_key,
        resume_after=resume_after,
        latest=latest,
    )
    streaming = StreamingHttpResponse(body, content_type="text/event-stream; charset=utf-8")
    streaming["Cache-Control"] = "no-store"
    streaming["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return streaming


def _watched_conversation(raw: str | None) -> int | None:
    """The conversation a page shows (``?conversation=``): its per-message events are
    forwarded to that page only. Not checked against the agency: it only narrows a stream
    of the agency's own events, and a foreign or made-up id matches none of them."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return None


async def _body(
    *,
    conversation: int | None,
    agency_id: int,
    user_id: int,
    slot: str,
    session_key: str | None,
    resume_after: int | None,
    latest: int,
) -> AsyncIterator[str]:
    timing = Timing.from_settings()
    redis_url = settings.REDIS_URL
    source: LiveSource
    if redis_url:
        source = RedisSource(agency_id, url=redis_url)
    else:
        source = PollingSource(agency_id, interval=timing.poll, batch=timing.batch)

    async def read_events(agency: int, after: int, limit: int) -> list[Message]:
        events = await read_events_async(agency, after, limit)
        if redis_url:  # rare reads: give the connection back (the poller keeps it)
            await release_connection_async()
        return events

    async def allowed() -> str | None:
        reason = await _still_allowed(session_key=session_key, user_id=user_id, agency_id=agency_id)
        await _refresh(user_id, slot)
        if redis_url:
            await release_connection_async()
        return reason

    try:
        async for text in event_stream(
            agency_id=agency_id,
            resume_after=resume_after,
            latest=latest,
            source=source,
            read_events=read_events,
            still_allowed=allowed,
            timing=timing,
            conversation=conversation,
        ):
            yield text
    finally:
        # Also when the client left (the task is cancelled): shielded, so it completes.
        await asyncio.shield(_release(user_id, slot))
