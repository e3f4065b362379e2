"""Webhook delivery to the platform, the way Meta does it (cloud-api.md §5.3, §5.8).

Events are queued per callback URL into a few *lanes*; each lane posts one batch at a time and
waits for it to succeed (with backoff) before the next, so a failing endpoint delays its
notifications instead of losing them. The lane is chosen from a key (the wamid for statuses,
the citizen for inbound messages), which keeps one message's statuses in order while other
messages still flow in parallel lanes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx

from messaging.simulator.config import WebhookConfig
from messaging.simulator.emissions import EmissionLog
from messaging.simulator.graph import meta_json

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    url: str
    app_secret: str


@dataclass(frozen=True)
class Event:
    """One item of a webhook: a status, an inbound message, or a whole WABA-level value."""

    waba_id: str
    field: str
    item: dict[str, Any]
    kind: str | None = None  # "statuses" / "messages": merged into one value per number
    phone_number_id: str | None = None
    display_phone_number: str | None = None
    contact: dict[str, Any] | None = None
    # Change-level errors (cloud-api.md §5.5): they apply to every message of their change,
    # so such an event gets a change of its own. ``item`` None: errors about no message.
    errors: tuple[dict[str, Any], ...] | None = None


def sign(body: bytes, app_secret: str) -> str:
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def build_envelope(events: list[Event]) -> dict[str, Any]:
    """Group events into entries (per WABA) and changes (per number and kind)."""
    entries: dict[str, dict[str, Any]] = {}
    values: dict[tuple[str, str, str | None, str | None, int | None], dict[str, Any]] = {}
    for event in events:
        entry = entries.setdefault(event.waba_id, {"id": event.waba_id, "changes": []})
        if event.kind is None:
            entry["time"] = int(time.time())  # non-message fields carry entry.time
            entry["changes"].append({"field": event.field, "value": event.item})
            continue
        key = (
            event.waba_id,
            event.field,
            event.phone_number_id,
            event.kind,
            id(event) if event.errors is not None else None,
        )
        value = values.get(key)
        if value is None:
            value = {
                "messaging_product": "whatsapp",
                "metadata": {
                    "display_phone_number": event.display_phone_number,
                    "phone_number_id": event.phone_number_id,
                },
            }
            values[key] = value
            entry["changes"].append({"field": event.field, "value": value})
        if event.contact is not None:
            contacts = value.setdefault("contacts", [])
            if event.contact not in contacts:
                contacts.append(event.contact)
        if event.item:
            value.setdefault(event.kind, []).append(event.item)
        if event.errors is not None:
            value["errors"] = list(event.errors)
    return {"object": "whatsapp_business_account", "entry": list(entries.values())}


class _Lane:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.busy = False


class WebhookDispatcher:
    def __init__(self, config: WebhookConfig, rng: random.Random) -> None:
        self.config = config
        self.rng = rng
        self.lanes: dict[tuple[Target, int], _Lane] = {}
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=config.log_size)
        self.scheduled = 0  # events waiting on a timer (status delays, duplicates)
        self.dropped = 0
        self._client: httpx.AsyncClient | None = None
        self._lane_session: aiohttp.ClientSession | None = None
        self.closed = False  # after reset, timers of the old state must not deliver
        self.emissions = EmissionLog()  # when each status was posted (bench/campaign_loop.py)

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            # Meta never follows redirects: a 3xx is a failed delivery.
            self._client = httpx.AsyncClient(
                follow_redirects=False, limits=httpx.Limits(max_connections=64)
            )
        return self._client

    @property
    def lane_session(self) -> aiohttp.ClientSession:
        """What the lanes post with. aiohttp, not httpx: ~0.1 ms of CPU per POST instead of
        ~1 ms (BENCHMARKS.md, "Outbound send pipeline"), which at a campaign's ~150 POST/s
        was a tenth of a core that Meta's side does not take from the platform in
        production. Idle connections are dropped after 1 s, before gunicorn's 2 s
        keep-alive closes them (a POST on a closed one fails and waits for a retry)."""
        if self._lane_session is None or self._lane_session.closed:
            self._lane_session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=1.0),
                trust_env=False,
            )
        return self._lane_session

    async def close(self) -> None:
        self.closed = True
        for lane in self.lanes.values():
            if lane.task is not None:
                lane.task.cancel()
        self.lanes.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._lane_session is not None:
            await self._lane_session.close()
            self._lane_session = None

    def pending(self) -> int:
        queued = sum(lane.queue.qsize() + lane.busy for lane in self.lanes.values())
        return queued + self.scheduled

    # ---- enqueueing

    def enqueue(self, target: Target, event: Event, key: str) -> None:
        if self.closed:
            return
        lane_no = hash(key) % max(1, self.config.lanes)
        lane = self.lanes.get((target, lane_no))
        if lane is None:
            lane = self.lanes[(target, lane_no)] = _Lane()
        if lane.task is None or lane.task.done():
            lane.task = asyncio.get_running_loop().create_task(self._run_lane(target, lane))
        self.emissions.joined(event)
        lane.queue.put_nowait(event)
        if self.config.duplicate_fraction and self.rng.random() < self.config.duplicate_fraction:
            # At-least-once delivery: the same notification arrives again a little later.
            self.enqueue_later(0.05 + self.rng.random() * 0.2, target, event, key, dup=True)

    def enqueue_later(
        self, delay: float, target: Target, event: Event, key: str, *, dup: bool = False
    ) -> None:
        self.scheduled += 1
        loop = asyncio.get_running_loop()
        loop.call_later(delay, self._fire, target, event, key, dup)

    def _fire(self, target: Target, event: Event, key: str, dup: bool) -> None:
        self.scheduled -= 1
        if self.closed:
            return
        if dup:
            lane_no = hash(key) % max(1, self.config.lanes)
            lane = self.lanes.get((target, lane_no))
            if lane is not None:
                lane.queue.put_nowait(event)
            return
        self.enqueue(target, event, key)

    # ---- delivery

    async def _run_lane(self, target: Target, lane: _Lane) -> None:
        while True:
            first = await lane.queue.get()
            lane.busy = True
            try:
                if self.config.batch_window > 0:
                    await asyncio.sleep(self.config.batch_window)
                batch = [first]
                while len(batch) < self.config.batch_max and not lane.queue.empty():
                    batch.append(lane.queue.get_nowait())
                posted_at = await self._deliver(
                    target, meta_json(build_envelope(batch)), len(batch)
                )
                if posted_at is not None:
                    self.emissions.record(batch, posted_at)
            except Exception:
                logger.exception("webhook lane crashed for %s", target.url)
            finally:
                lane.busy = False

    async def _deliver(self, target: Target, body: bytes, count: int) -> float | None:
        """When the POST that succeeded started (wall clock), or None if it was dropped."""
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body, target.app_secret),
            "User-Agent": "facebookexternalua",
        }
        attempt = 0
        while True:
            attempt += 1
            posted_at = time.time()
            status, error = await self._post(target.url, body, headers)
            self.deliveries.append(
                {
                    "url": target.url,
                    "attempt": attempt,
                    "status_code": status,
                    "ok": status == 200,
                    "error": error,
                    "events": count,
                    "at": time.time(),
                    "body": body.decode(),
                    "signature": headers["X-Hub-Signature-256"],
                }
            )
            if status == 200:
                return posted_at
            if attempt >= self.config.max_attempts:
                self.dropped += count
                logger.warning("dropping %d webhook events for %s", count, target.url)
                return None
            delay = self.config.retry_base * self.config.retry_factor ** (attempt - 1)
            await asyncio.sleep(min(self.config.retry_max_delay, delay))

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None]:
        try:
            async with self.lane_session.post(
                url,
                data=body,
                headers=headers,
                allow_redirects=False,  # Meta never follows redirects: a 3xx is a failure
                timeout=aiohttp.ClientTimeout(total=self.config.timeout),
            ) as response:
                await response.read()
                return response.status, None
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, type(exc).__name__
