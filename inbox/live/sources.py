"""Where a stream's live events come from: the agency's Redis channel, or the event table.

A source is opened (``async with``) before the stream replays what the client missed, so
an event committed during the replay is either in the replay or on the source (Redis
delivers only what the dispatcher publishes after the subscription is confirmed, and it
publishes only committed events). Either way it may arrive twice or, after a Redis hiccup,
out of reach: ``stream.event_stream`` drops what it has seen and fills gaps from the table.
"""

from __future__ import annotations

import asyncio
import json
import logging
from types import TracebackType
from typing import Any, Protocol

import redis.asyncio
from asgiref.sync import sync_to_async

from bsp.events.dispatch import channel
from bsp.events.selectors import events_after, last_sequence
from tenants.scoping import agency_scope

logger = logging.getLogger(__name__)

Message = dict[str, Any]


class LiveSource(Protocol):
    async def __aenter__(self) -> LiveSource: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def wait(self, after: int, timeout: float) -> list[Message]:
        """The events after ``after`` that are ready, waiting up to ``timeout`` seconds for
        one (an empty list when none came). May repeat events or skip some."""
        ...


class SourceLost(RuntimeError):
    """The live source failed (Redis went away): the stream ends and the browser resumes
    from its last event on a new connection."""


# --- the table -------------------------------------------------------------------------


def read_events(agency_id: int, after: int, limit: int) -> list[Message]:
    with agency_scope(agency_id):
        return events_after(agency_id, after, limit)


# thread_sensitive: the request's own thread (one per request under Django's ASGI handler),
# which holds the request's database connection.
read_events_async = sync_to_async(read_events, thread_sensitive=True)
last_sequence_async = sync_to_async(last_sequence, thread_sensitive=True)


def _release_connection() -> None:
    """A stream lives for hours: between its rare queries it should not hold a PostgreSQL
    connection (50 agents would be 50 idle backends). Closes it unless in a transaction."""
    from django.db import connection

    if not connection.in_atomic_block:
        connection.close()


release_connection_async = sync_to_async(_release_connection, thread_sensitive=True)


class PollingSource:
    """The embedded demo (no Redis): read the table every ``interval`` seconds. Keeps its
    database connection while the stream lasts (a poll every few hundred ms)."""

    def __init__(self, agency_id: int, *, interval: float, batch: int) -> None:
        self.agency_id = agency_id
        self.interval = interval
        self.batch = batch

    async def __aenter__(self) -> PollingSource:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.shield(release_connection_async())

    async def wait(self, after: int, timeout: float) -> list[Message]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            events = await read_events_async(self.agency_id, after, self.batch)
            remaining = deadline - loop.time()
            if events or remaining <= 0:
                return events
            await asyncio.sleep(min(self.interval, remaining))


class LiveEvent(dict[str, Any]):
    """A decoded event, shared by every stream of the process that forwards it: decoded from
    the channel once, and its SSE frame built once (``stream.frame`` caches it here)."""

    frame_text: str | None = None


_LOST = object()  # queued to a stream whose channel failed, or that fell too far behind
# Events a stream may have waiting before it is cut off (its browser reconnects and resumes
# from the table): a stuck client must not hold the process's memory.
MAX_BACKLOG = 10_000


class _Channel:
    """One agency's Redis subscription in one event loop, shared by all its streams there.

    Fifty agents of an agency on one web process were fifty subscriptions, each decoding and
    re-framing every event of a campaign (BENCHMARKS.md, live updates (2)); now one
    connection reads the channel, decodes each message once and hands it to every stream's
    queue."""

    def __init__(self, agency_id: int, url: str, subscribe_timeout: float) -> None:
        self.agency_id = agency_id
        self.url = url
        self.subscribe_timeout = subscribe_timeout
        self.queues: set[asyncio.Queue[object]] = set()
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self._run(), name=f"live-channel-{agency_id}")

    async def _run(self) -> None:
        client = redis.asyncio.Redis.from_url(
            self.url, socket_connect_timeout=5, health_check_interval=0
        )
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(channel(self.agency_id))
            await self._confirmed(pubsub)
            self.ready.set_result(None)
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None:
                    self._hand_out(message)
        except (redis.RedisError, OSError, TimeoutError) as error:
            logger.warning("live stream: the agency's channel failed (%s)", type(error).__name__)
            if not self.ready.done():
                self.ready.set_exception(SourceLost(type(error).__name__))
            for queue in self.queues:
                queue.put_nowait(_LOST)
            self.queues.clear()
        finally:
            if _channels.get(self.key) is self:
                del _channels[self.key]
            await _close_quietly(pubsub, client)

    @property
    def key(self) -> tuple[asyncio.AbstractEventLoop, int, str]:
        return (self.task.get_loop(), self.agency_id, self.url)

    async def _confirmed(self, pubsub: Any) -> None:
        """Wait for Redis to confirm the subscription: from then on, every event published
        on the channel reaches us."""
        async with asyncio.timeout(self.subscribe_timeout):
            while True:
                message = await pubsub.get_message(timeout=self.subscribe_timeout)
                if message is not None and message["type"] == "subscribe":
                    return

    def _hand_out(self, message: dict[str, Any]) -> None:
        event = _decode(message, self.agency_id)
        if event is None:
            return
        for queue in list(self.queues):
            if queue.qsize() >= MAX_BACKLOG:
                logger.warning("live stream: a client fell %d events behind; cut", MAX_BACKLOG)
                self.queues.discard(queue)
                queue.put_nowait(_LOST)
            else:
                queue.put_nowait(event)

    async def join(self, queue: asyncio.Queue[object]) -> None:
        self.queues.add(queue)
        try:
            await asyncio.shield(self.ready)
        except BaseException:
            await self.leave(queue)
            raise

    async def leave(self, queue: asyncio.Queue[object]) -> None:
        self.queues.discard(queue)
        if self.queues or self.task.done():
            return
        if _channels.get(self.key) is self:
            del _channels[self.key]
        self.task.cancel()
        # Shielded: a stream ends by cancellation (the client left), and the unsubscribe and
        # close must still happen, or the connection lingers until garbage collection.
        await asyncio.shield(asyncio.wait([self.task]))


_channels: dict[tuple[asyncio.AbstractEventLoop, int, str], _Channel] = {}


async def _close_quietly(pubsub: Any, client: redis.asyncio.Redis) -> None:
    try:
        await _unsubscribed(pubsub)
        await pubsub.aclose()
        await client.aclose()
    except (redis.RedisError, OSError, TimeoutError):
        logger.warning("live stream: closing the channel's Redis connection failed", exc_info=True)


async def _unsubscribed(pubsub: Any, timeout: float = 1.0) -> None:
    """UNSUBSCRIBE and wait for Redis to confirm it: from then on nobody (PUBSUB NUMSUB, the
    dispatcher) counts this process as a listener. Only closing the socket would leave that
    to whenever the server gets round to the closed connection."""
    if pubsub.connection is None or not pubsub.subscribed:
        return
    await pubsub.unsubscribe()
    async with asyncio.timeout(timeout):
        while pubsub.subscribed:
            await pubsub.get_message(timeout=timeout)


def _decode(message: dict[str, Any], agency_id: int) -> LiveEvent | None:
    if message.get("type") != "message":
        return None
    try:
        event = json.loads(message["data"])
    except (TypeError, ValueError):
        logger.warning("live stream: a message on the channel is not JSON")
        return None
    if (
        not isinstance(event, dict)
        or event.get("agency") != agency_id
        or not isinstance(event.get("sequence"), int)
    ):
        return None
    return LiveEvent(event)


class RedisSource:
    """The agency's pub/sub channel, through the process's shared subscription (``_Channel``):
    this stream's own queue of the channel's events."""

    def __init__(self, agency_id: int, *, url: str, subscribe_timeout: float = 5.0) -> None:
        self.agency_id = agency_id
        self.url = url
        self.subscribe_timeout = subscribe_timeout
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._channel: _Channel | None = None
        self._lost = False

    async def __aenter__(self) -> RedisSource:
        key = (asyncio.get_running_loop(), self.agency_id, self.url)
        shared = _channels.get(key)
        if shared is None or shared.task.done():
            shared = _channels[key] = _Channel(self.agency_id, self.url, self.subscribe_timeout)
        self._channel = shared
        await shared.join(self._queue)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._channel is not None:
            await self._channel.leave(self._queue)
            self._channel = None

    async def wait(self, after: int, timeout: float) -> list[Message]:
        if self._lost:
            raise SourceLost("the channel failed or the stream fell behind")
        try:
            if timeout > 0:
                first = await asyncio.wait_for(self._queue.get(), timeout)
            else:
                first = self._queue.get_nowait()
        except (TimeoutError, asyncio.QueueEmpty):
            return []
        items = [first]
        while len(items) < 500 and not self._queue.empty():  # what else is ready already
            items.append(self._queue.get_nowait())
        events: list[Message] = []
        for item in items:
            if item is _LOST:
                self._lost = True
                break
            events.append(item)  # type: ignore[arg-type]
        if self._lost and not events:
            raise SourceLost("the channel failed or the stream fell behind")
        return events
