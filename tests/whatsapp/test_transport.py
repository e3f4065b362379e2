"""Keep-alive connections of the Cloud API transport: a connection the server has closed, or
is about to close, is never written to, so a send never fails with an unknown outcome just
because the pool kept a connection longer than the server did."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from messaging.whatsapp import SendResult, TransportError, close_shared_http_client, transport
from tests.simulator_fixture import SimulatorHandle, SimulatorServer

CITIZEN = "15551230002"
IDLE_TIMEOUT = 1  # seconds, the server's; uvicorn's default is 5


@pytest.fixture(scope="module")
def closing_simulator() -> Iterator[SimulatorHandle]:
    """The simulator on a uvicorn that closes idle keep-alive connections after 1 s."""
    server = SimulatorServer()
    server.server.config.timeout_keep_alive = IDLE_TIMEOUT  # read per connection
    server.start()
    handle = SimulatorHandle(server.base_url)
    yield handle
    handle.http.close()
    server.stop()


@pytest.fixture
def number(closing_simulator: SimulatorHandle) -> dict[str, Any]:
    closing_simulator.reset()
    registered = closing_simulator.register_number(
        "106540352242922",
        display_phone_number="15550783881",
        access_token="EAAG-test-token",
        waba_id="102290129340398",
    )
    closing_simulator.open_window(registered["id"], CITIZEN)
    return registered


def _send_two_batches(handle: SimulatorHandle, number: dict[str, Any], pause: float) -> list[Any]:
    """A batch, then ``pause`` seconds in which our event loop does not run (as when the GIL
    or a busy worker holds it), then a second batch on the connections the first left."""

    async def run() -> list[Any]:
        api = handle.async_client(number)
        await asyncio.gather(*(api.send_text(CITIZEN, f"first {i}") for i in range(20)))
        time.sleep(pause)  # blocks the loop: the server's FINs wait unread in the sockets
        sends = (api.send_text(CITIZEN, f"second {i}") for i in range(20))
        results = list(await asyncio.gather(*sends, return_exceptions=True))
        await close_shared_http_client()
        return results

    return asyncio.run(run())


def test_a_connection_the_server_closed_while_our_loop_was_busy_is_not_written_to(
    closing_simulator, number, monkeypatch
):
    monkeypatch.setattr(transport, "KEEPALIVE_SECONDS", 10.0)  # only the socket check acts
    results = _send_two_batches(closing_simulator, number, pause=IDLE_TIMEOUT + 0.5)

    failures = [r for r in results if not isinstance(r, SendResult)]
    assert failures == []  # before: ServerDisconnectedError, outcome unknown, for all 20
    bodies = [m["payload"]["text"]["body"] for m in closing_simulator.messages(number["id"])]
    assert sorted(bodies) == sorted(
        [f"first {i}" for i in range(20)] + [f"second {i}" for i in range(20)]
    )  # each exactly once


def test_without_the_check_the_same_batch_is_lost_to_stale_connections(
    closing_simulator, number, monkeypatch
):
    # The control for the test above: it does reproduce the stale reuse.
    monkeypatch.setattr(transport, "KEEPALIVE_SECONDS", 10.0)
    monkeypatch.setattr(transport, "_closed_by_peer", lambda conn: False)
    results = _send_two_batches(closing_simulator, number, pause=IDLE_TIMEOUT + 0.5)

    unknown = [r for r in results if isinstance(r, TransportError) and r.maybe_delivered]
    assert unknown


# --------------------------------------------------------------------------- keep-alive


class _CountingGraph:
    """An HTTP/1.1 server that keeps connections open as long as the client wants and
    records the client port of every request (one port = one connection)."""

    def __init__(self, answer_after: float = 0.0) -> None:
        self.ports: list[int] = []
        graph = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                graph.ports.append(self.client_address[1])
                time.sleep(answer_after)
                body = json.dumps({"messages": [{"id": f"wamid.{len(graph.ports)}"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v23.0/1/messages"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def counting_graph() -> Iterator[_CountingGraph]:
    graph = _CountingGraph()
    yield graph
    graph.close()


@pytest.fixture
def slow_graph() -> Iterator[_CountingGraph]:
    graph = _CountingGraph(answer_after=0.4)
    yield graph
    graph.close()


def _two_posts(url: str, pause: float) -> None:
    async def run() -> None:
        for _ in range(2):
            await transport.request(
                "POST",
                url,
                endpoint="messages",
                token="t",
                timeouts=transport.Timeouts(),
                json_body={"to": CITIZEN},
            )
            time.sleep(pause)  # the loop does not run: only the pool's own clock can tell
        await transport.close_shared_session()

    asyncio.run(run())


def test_a_connection_idle_past_the_keepalive_is_not_reused(counting_graph, monkeypatch):
    monkeypatch.setattr(transport, "KEEPALIVE_SECONDS", 0.2)
    _two_posts(counting_graph.url, pause=0.4)
    assert len(set(counting_graph.ports)) == 2


def test_a_connection_idle_less_than_the_keepalive_is_reused(counting_graph, monkeypatch):
    monkeypatch.setattr(transport, "KEEPALIVE_SECONDS", 0.2)
    _two_posts(counting_graph.url, pause=0.0)
    assert len(set(counting_graph.ports)) == 1


def test_a_connection_is_not_reused_past_the_keepalive_since_it_was_handed_out(
    slow_graph, monkeypatch
):
    # Released a moment ago, but handed out 0.4 s ago: the server's idle clock may have
    # started as soon as it answered, which we cannot see; only the hand-out bounds it.
    monkeypatch.setattr(transport, "KEEPALIVE_SECONDS", 0.2)
    _two_posts(slow_graph.url, pause=0.0)
    assert len(set(slow_graph.ports)) == 2


def test_the_pool_lets_go_of_idle_connections_before_uvicorn_closes_them():
    import uvicorn

    assert (
        uvicorn.Config(app="bsp.asgi:application").timeout_keep_alive > transport.KEEPALIVE_SECONDS
    )


def test_a_transport_failure_is_logged_with_its_kind_and_whether_it_may_have_delivered(caplog):
    import socket

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed again: nothing listens there

    async def run() -> None:
        try:
            await transport.request(
                "POST",
                f"http://127.0.0.1:{port}/v23.0/1/messages",
                endpoint="messages.send",
                token="secret-token",
                timeouts=transport.Timeouts(),
                json_body={"to": CITIZEN},
            )
        finally:
            await transport.close_shared_session()

    with pytest.raises(TransportError):
        asyncio.run(run())
    [record] = [r for r in caplog.records if r.name == "messaging.whatsapp.transport"]
    assert record.getMessage() == (
        "graph_transport_error endpoint=messages.send error=ClientConnectorError"
        " maybe_delivered=False"
    )
    assert "secret-token" not in caplog.text
