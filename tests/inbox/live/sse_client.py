"""A Server-Sent Events client for tests: reads a stream in a thread of its own (httpx),
each frame timestamped when it arrived."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from dataclasses import dataclass

import httpx

from tests.inbox.live.conftest import Frame, parse


@dataclass
class Arrival:
    at: float  # time.monotonic()
    frame: Frame


class SseClient:
    def __init__(self, url: str, *, cookies: dict[str, str], headers: dict[str, str] | None = None):
        self.url, self.cookies, self.headers = url, cookies, headers or {}
        self.status: int | None = None
        self.content_type = ""
        self.arrivals: queue.Queue[Arrival] = queue.Queue()
        self._response: httpx.Response | None = None
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def __enter__(self) -> SseClient:
        self._thread.start()
        if not self._opened.wait(15):
            raise AssertionError("the stream did not answer")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _read(self) -> None:
        timeout = httpx.Timeout(10, read=None)
        try:
            with (
                httpx.Client(cookies=self.cookies, timeout=timeout) as client,
                client.stream("GET", self.url, headers=self.headers) as response,
            ):
                self._response = response
                self.status = response.status_code
                self.content_type = response.headers.get("content-type", "")
                self._opened.set()
                buffer = ""
                for text in response.iter_text():
                    buffer += text
                    while "\n\n" in buffer:
                        block, buffer = buffer.split("\n\n", 1)
                        self.arrivals.put(Arrival(time.monotonic(), parse(block)))
        except (httpx.HTTPError, RuntimeError, ValueError):
            pass  # closed under our feet (close()), or the server went away
        finally:
            self._opened.set()

    def next_event(self, timeout: float = 10) -> Arrival:
        """The next named event other than ``hello``."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no event within {timeout} s")
            try:
                arrival = self.arrivals.get(timeout=remaining)
            except queue.Empty:
                continue
            if arrival.frame.event not in (None, "hello"):
                return arrival

    def wait_for_hello(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                arrival = self.arrivals.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if arrival.frame.event == "hello":
                return
        raise AssertionError("no hello")

    def close(self) -> None:
        if self._response is not None:
            with contextlib.suppress(httpx.HTTPError, RuntimeError):
                self._response.close()
        self._thread.join(timeout=5)
