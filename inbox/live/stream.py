"""One browser's stream: replay what it missed, then follow the live source.

The body of the ``text/event-stream`` response, as an async generator of SSE frames:

1. ``retry:`` (how long the browser waits before reconnecting) and a ``hello`` event naming
   the event types this stream forwards (``EventSource`` only delivers named events to
   listeners registered for that name, so ``live.js`` registers them from here).
2. The replay: the agency's events after the client's resume point, read from the table.
   A resume point beyond the agency's latest sequence (hostile, or from before a database
   reset) is treated as the latest; one more than ``replay_max`` events behind skips to the
   latest and sends ``resync`` (the page reloads its state rather than apply thousands of
   events).
3. Live: every event from the source with a sequence above the last one sent, in order.
   An event already sent (the replay overlapped the source, the dispatcher delivered
   twice) is dropped; a jump in the sequence (Redis dropped a message) is filled from the
   table first. Sequences are gap-free per agency, so the client sees each event once, in
   order, with no hole.

Between events: a ``: keepalive`` comment after ``heartbeat`` seconds of silence, and every
``recheck`` seconds the ``still_allowed`` check (signed out, membership or permission
removed, another agency chosen): when it fails the stream sends ``close`` with the reason
and ends. The stream also ends when the source is lost (the browser reconnects and
resumes) and when the client disconnects (Django cancels it: the ``async with`` closes the
source).

Types in ``DENIED_TYPES`` never reach browsers: they concern the agency's set-up, not
the inbox. Every other type is forwarded, those added later included.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

from django.conf import settings

from bsp.events import TYPES
from inbox.live import sse
from inbox.live.sources import LiveEvent, LiveSource, Message, SourceLost

logger = logging.getLogger(__name__)

# Families of types (a prefix up to the dot) that the live inbox has no use for: a phone
# number's quality, throughput and bans are shown on the WhatsApp pages (and may say why a
# number was restricted, which agents need not see live).
DENIED_TYPES: frozenset[str] = frozenset({"phone_number."})


def forwarded(event_type: str) -> bool:
    family = event_type.split(".", 1)[0] + "."
    return family not in DENIED_TYPES and event_type not in DENIED_TYPES


# Per-message events that only the page showing that conversation needs: delivery statuses
# (a 100,000-recipient campaign makes ~300,000 of them), and the messages campaigns and
# automations queue. Lists, the supervisor view and campaign pages follow the conversation
# and ``campaign.*`` events instead, so a campaign does not flood every open browser.
_PER_CONVERSATION = frozenset({"message.status"})
_BULK_SENDERS = frozenset({"campaign", "automation"})


def wanted(event: Message, conversation: int | None) -> bool:
    """Whether a stream watching ``conversation`` (a conversation page; None: any other
    page) forwards ``event``."""
    kind = str(event.get("type", ""))
    if not forwarded(kind):
        return False
    bulk = kind == "message.queued" and _dict(event.get("payload")).get("sender_type") in (
        _BULK_SENDERS
    )
    if kind in _PER_CONVERSATION or bulk:
        return conversation is not None and _dict(event.get("subject")).get("conversation") == (
            conversation
        )
    return True


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def forwarded_types() -> list[str]:
    return sorted(t for t in TYPES if forwarded(t))


@dataclass(frozen=True)
class Timing:
    """The stream's cadence; the ``LIVE_*`` settings override the defaults."""

    heartbeat: float = 15.0  # seconds of silence before a keepalive comment
    recheck: float = 30.0  # seconds between membership checks
    poll: float = 0.3  # the table source's interval (no Redis)
    retry_ms: int = 3000  # the browser's reconnection delay
    replay_max: int = 1000  # events a reconnecting client may catch up on
    batch: int = 200  # events per table read

    @classmethod
    def from_settings(cls) -> Timing:
        defaults = cls()
        return cls(
            heartbeat=float(getattr(settings, "LIVE_HEARTBEAT_SECONDS", defaults.heartbeat)),
            recheck=float(getattr(settings, "LIVE_RECHECK_SECONDS", defaults.recheck)),
            poll=float(getattr(settings, "LIVE_POLL_SECONDS", defaults.poll)),
            retry_ms=int(getattr(settings, "LIVE_RETRY_MS", defaults.retry_ms)),
            replay_max=int(getattr(settings, "LIVE_REPLAY_MAX", defaults.replay_max)),
        )


# (agency id, after, limit) → the events after ``after``, oldest first
ReadEvents = Callable[[int, int, int], Awaitable[list[Message]]]
# → None while the stream may go on, else the reason it must end
StillAllowed = Callable[[], Awaitable[str | None]]


def frame(event: Message) -> str:
    if isinstance(event, LiveEvent):  # shared by the process's streams: framed once
        if event.frame_text is None:
            event.frame_text = sse.event(event, name=str(event["type"]), id=int(event["sequence"]))
        return event.frame_text
    return sse.event(event, name=str(event["type"]), id=int(event["sequence"]))


async def event_stream(
    *,
    agency_id: int,
    resume_after: int | None,
    latest: int,
    source: LiveSource,
    read_events: ReadEvents,
    still_allowed: StillAllowed,
    timing: Timing,
    conversation: int | None = None,
) -> AsyncGenerator[str, None]:
    """The SSE frames of one stream (see the module docstring). ``latest``: the agency's
    latest sequence when the stream was opened; ``resume_after``: the client's, or None for
    a fresh client (it gets what happens from now on); ``conversation``: the conversation
    the page shows, if any (``wanted``)."""
    yield sse.retry(timing.retry_ms)
    yield sse.event({"types": forwarded_types()}, name="hello")
    async with source:
        last = latest if resume_after is None else min(resume_after, latest)
        if latest - last > timing.replay_max:
            yield sse.event({"reason": "too_far_behind", "sequence": latest}, name="resync")
            last = latest
        # From the resume point up to now; the source then has everything after.
        last, frames = await _fill(agency_id, last, None, read_events, timing, conversation)
        for text in frames:
            yield text
        async for text in _follow(
            agency_id, last, source, read_events, still_allowed, timing, conversation
        ):
            yield text


async def _follow(
    agency_id: int,
    last: int,
    source: LiveSource,
    read_events: ReadEvents,
    still_allowed: StillAllowed,
    timing: Timing,
    conversation: int | None,
) -> AsyncGenerator[str, None]:
    loop = asyncio.get_running_loop()
    next_heartbeat = loop.time() + timing.heartbeat
    next_recheck = loop.time() + timing.recheck
    while True:
        timeout = min(next_heartbeat, next_recheck) - loop.time()
        try:
            batch = await source.wait(last, max(timeout, 0.0)) if timeout > 0 else []
        except SourceLost as error:
            logger.warning("live stream: source lost (%s), the client will resume", error)
            return
        for event in batch:
            sequence = event["sequence"]
            if sequence <= last:
                continue  # already sent
            if sequence > last + 1:  # a hole: the table has what the source missed
                last, frames = await _fill(
                    agency_id, last, sequence - 1, read_events, timing, conversation
                )
                for text in frames:
                    yield text
                if sequence <= last:
                    continue
                if last < sequence - 1:
                    # The table has no such events: not our dispatcher's message (another
                    # deployment or test database sharing this Redis). Never let it move
                    # ``last`` past events still to come.
                    logger.warning("live stream: dropped an event the table does not have")
                    continue
            last = sequence
            if wanted(event, conversation):
                yield frame(event)
                next_heartbeat = loop.time() + timing.heartbeat
        now = loop.time()
        if now >= next_recheck:
            reason = await still_allowed()
            if reason is not None:
                yield sse.event({"reason": reason}, name="close")
                return
            next_recheck = loop.time() + timing.recheck
        if now >= next_heartbeat:
            yield sse.comment("keepalive")
            next_heartbeat = loop.time() + timing.heartbeat


async def _fill(
    agency_id: int,
    last: int,
    through: int | None,
    read_events: ReadEvents,
    timing: Timing,
    conversation: int | None,
) -> tuple[int, list[str]]:
    """Frames of the table's events after ``last`` (through ``through``, or all), and the
    last sequence read. Filtered-out types still move ``last``."""
    frames: list[str] = []
    while through is None or last < through:
        limit = timing.batch if through is None else min(timing.batch, through - last)
        events = await read_events(agency_id, last, limit)
        for event in events:
            last = event["sequence"]
            if wanted(event, conversation):
                frames.append(frame(event))
        if len(events) < limit:
            break
    return last, frames
