"""When the simulator emitted each status webhook, and load that emits statuses without sends.

Both serve the campaign loop benchmark (bench/campaign_loop.py), which measures how long a
status takes from the moment Meta posts it to the moment the platform shows it:

- ``EmissionLog``: one entry per status item the dispatcher delivered, with the wall-clock
  time the successful POST started (``time.time()``, comparable with the platform's clocks on
  the same machine), the time the status was due and joined its lane (later POSTs mean a
  slow endpoint held the lane back: Meta's queue grows) and the item's key (our
  ``biz_opaque_callback_data`` when the send carried one, else the wamid). Complete, not
  sampled: two compact arrays per status kind and a list of keys, appended once per
  delivered batch, so ~3,000 events/s cost a few microseconds each. Read at ``GET /_sim/emissions``.
- ``replay_statuses``: plan the status webhooks of messages the simulator never sent, as if
  it had accepted them at ``rate`` per second (``POST /_sim/phone_numbers/{id}/replay``): the
  same dispatcher, lanes, delays and log as real sends, without the sends. It is the
  "ingest half alone" of the benchmark.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from messaging.simulator.engine import Simulator
    from messaging.simulator.state import PhoneNumber
    from messaging.simulator.webhooks import Event


class EmissionLog:
    def __init__(self) -> None:
        self.times: dict[str, array[float]] = {}
        self.due: dict[str, array[float]] = {}
        self.keys: dict[str, list[str]] = {}
        self._joined: dict[int, float] = {}  # id(event) → when it joined its lane

    def joined(self, event: Event) -> None:
        """``event`` is due and joins its lane now."""
        if event.kind == "statuses":
            self._joined.setdefault(id(event), time.time())

    def record(self, events: list[Event], at: float) -> None:
        """``events`` were delivered by a POST that started at ``at`` (wall clock)."""
        for event in events:
            joined = self._joined.pop(id(event), at)
            if event.kind != "statuses" or not event.item:
                continue
            status = str(event.item.get("status", ""))
            times = self.times.get(status)
            if times is None:
                times = self.times[status] = array("d")
                self.due[status] = array("d")
                self.keys[status] = []
            times.append(at)
            self.due[status].append(joined)
            item = event.item
            self.keys[status].append(str(item.get("biz_opaque_callback_data") or item["id"]))

    def counts(self) -> dict[str, int]:
        return {status: len(times) for status, times in self.times.items()}

    def as_json(self, status: str | None = None, offset: int = 0) -> dict[str, Any]:
        """``{status: {"times": [...], "due": [...], "keys": [...]}}`` from ``offset`` on, in
        emission order (each lane appends in its own order: times are not globally sorted)."""
        statuses = [status] if status else list(self.times)
        return {
            s: {
                "times": self.times.get(s, array("d"))[offset:].tolist(),
                "due": self.due.get(s, array("d"))[offset:].tolist(),
                "keys": self.keys.get(s, [])[offset:],
            }
            for s in statuses
        }


def replay_statuses(
    sim: Simulator,
    number: PhoneNumber,
    messages: list[dict[str, Any]],
    rate: float,
    *,
    version: str = "v23.0",
    category: str = "utility",
) -> asyncio.Task[None]:
    """Plan sent/delivered/read for ``messages`` (each ``{"wamid", "wa_id", "type",
    "biz_opaque_callback_data"}``), ``rate`` of them per second from now, as if each had just
    been accepted. Nothing is added to the sent messages: sends stay what clients posted."""
    from messaging.simulator.state import SentMessage

    async def pace() -> None:
        started, done = time.monotonic(), 0
        while done < len(messages):
            due = min(len(messages), int((time.monotonic() - started) * rate) + 1)
            now = time.monotonic()
            for spec in messages[done:due]:
                payload: dict[str, Any] = {}
                if spec.get("biz_opaque_callback_data"):
                    payload["biz_opaque_callback_data"] = spec["biz_opaque_callback_data"]
                message = SentMessage(
                    wamid=str(spec["wamid"]),
                    phone_number_id=number.id,
                    to=str(spec["wa_id"]),
                    wa_id=str(spec["wa_id"]),
                    type=str(spec.get("type", "template")),
                    payload=payload,
                    accepted_at=time.time(),
                )
                sim._plan_statuses(number, message, category, version, now)
            done = due
            await asyncio.sleep(0.01)

    return sim.spawn(pace())
