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


class RedisSource:
    """The agency's pub/sub channel, on a connection of this stream's own (closed with it)."""

    def __init__(self, agency_id: int, *, url: str, subscribe_timeout: float = 5.0) -> None:
        self.agency_id = agency_id
        self.url = url
        self.subscribe_timeout = subscribe_timeout
        self._client: redis.asyncio.Redis | None = None
        self._pubsub: Any = None

    async def __aenter__(self) -> RedisSource:
        self._client = redis.asyncio.Redis.from_url(
            self.url, socket_connect_timeout=5, health_check_interval=0
        )
        try:
            self._pubsub = self._client.pubsub()
            await self._pubsub.subscribe(channel(self.agency_id))
            await self._confirmed()
        except BaseException:
            await self._close()
            raise
        return self

    async def _confirmed(self) -> None:
        """Wait for Redis to confirm the subscription: from then on, every event published
        on the channel reaches us."""
        async with asyncio.timeout(self.subscribe_timeout):
            while True:
                message = await self._pubsub.get_message(timeout=self.subscribe_timeout)
                if message is not None and message["type"] == "subscribe":
                    return

    async def __aexit__(self, *exc_info: object) -> None:
        await self._close()

    async def _close(self) -> None:
        # Shielded: a stream ends by cancellation (the client left), and the unsubscribe
        # and close must still happen, or the connection lingers until garbage collection.
        await asyncio.shield(self._close_now())

    async def _close_now(self) -> None:
        try:
            if self._pubsub is not None:
                await self._pubsub.aclose()
            if self._client is not None:
                await self._client.aclose()
        except (redis.RedisError, OSError):
            logger.warning("live stream: closing its Redis connection failed", exc_info=True)
        finally:
            self._pubsub = self._client = None

    async def wait(self, after: int, timeout: float) -> list[Message]:
        try:
            first = await self._pubsub.get_message(
                ignore_subscribe_messages=True, timeout=max(timeout, 0.0)
            )
            if first is None:
                return []
            messages = [first]
            while len(messages) < 500:  # whatever else has already arrived, without waiting
                more = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0)
                if more is None:
                    break
                messages.append(more)
        except (redis.RedisError, OSError) as error:
            raise SourceLost(type(error).__name__) from error
        return [event for event in map(self._decode, messages) if event is not None]

    def _decode(self, message: dict[str, Any]) -> Message | None:
        if message.get("type") != "message":
            return None
        try:
            event = json.loads(message["data"])
        except (TypeError, ValueError):
            logger.warning("live stream: a message on the channel is not JSON")
            return None
        if (
            not isinstance(event, dict)
            or event.get("agency") != self.agency_id
            or not isinstance(event.get("sequence"), int)
        ):
            return None
        return event
