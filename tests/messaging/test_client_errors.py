"""Every Graph error reaches callers as the right exception class with a staff reason."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from messaging.whatsapp import (
    AuthError,
    CloudAPIClient,
    PermanentError,
    PolicyError,
    RecipientUndeliverableError,
    RetryableError,
    TemplateError,
    Timeouts,
    TransportError,
    WindowClosedError,
    classify_code,
    error_from_payload,
)
from messaging.whatsapp import builders as b

CITIZEN = "15551230002"


@pytest.fixture
def client(simulator, sim_number):
    return simulator.client(sim_number)


def test_invalid_token_raises_auth_error(simulator, sim_number):
    bad = simulator.client({**sim_number, "access_token": "wrong"})
    with pytest.raises(AuthError) as info:
        bad.send_text(CITIZEN, "hi")
    assert (info.value.code, info.value.http_status) == (190, 401)


def test_revoked_token_raises_auth_error_asking_to_reconnect(simulator, sim_number, client):
    simulator.register_number(sim_number["id"], token_revoked=True)
    with pytest.raises(AuthError) as info:
        client.send_text(CITIZEN, "hi")
    assert "Reconnect" in info.value.reason


def test_unknown_phone_number_id_is_permanent_code_100_subcode_33(simulator, sim_number):
    other = simulator.client({**sim_number, "id": "999999999999999"})
    with pytest.raises(PermanentError) as info:
        other.send_text(CITIZEN, "hi")
    assert (info.value.code, info.value.subcode) == (100, 33)
    assert info.value.fbtrace_id


def test_unknown_template_raises_template_error_132001(client):
    with pytest.raises(TemplateError) as info:
        client.send_template(CITIZEN, b.Template("does_not_exist", "en_US"))
    assert info.value.code == 132001


def test_template_parameter_count_mismatch_raises_132000(simulator, sim_number, client):
    simulator.add_template(
        sim_number["waba_id"],
        "two_vars",
        language="en",
        components=[{"type": "BODY", "text": "Hi {{1}}, code {{2}} now."}],
    )
    with pytest.raises(TemplateError) as info:
        client.send_template(CITIZEN, b.Template("two_vars", "en", body=[b.TextParam("Jo")]))
    assert info.value.code == 132000


def test_template_header_format_mismatch_raises_132012(simulator, sim_number, client):
    simulator.add_template(
        sim_number["waba_id"],
        "with_image",
        language="en",
        components=[
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["h"]}},
            {"type": "BODY", "text": "Look at this."},
        ],
    )
    template = b.Template("with_image", "en", header=b.MediaParam("video", media_id="1"))
    with pytest.raises(TemplateError) as info:
        client.send_template(CITIZEN, template)
    assert info.value.code == 132012


def test_paused_template_raises_132015(simulator, sim_number, client):
    simulator.add_template(sim_number["waba_id"], "paused_one", language="en", status="PAUSED")
    with pytest.raises(TemplateError) as info:
        client.send_template(CITIZEN, b.Template("paused_one", "en"))
    assert info.value.code == 132015


def test_throughput_limit_is_retryable_with_delay(simulator, sim_number, client):
    simulator.register_number(sim_number["id"], throughput_mps=2)
    with pytest.raises(RetryableError) as info:
        for i in range(5):
            client.send_text(f"155512300{i:02d}", "hi")
    assert info.value.code == 130429
    assert info.value.retry_after > 0


def test_pair_rate_limit_is_retryable(simulator, sim_number, client):
    simulator.configure(limits={"pair_burst": 2})
    client.send_text(CITIZEN, "1")
    client.send_text(CITIZEN, "2")
    with pytest.raises(RetryableError) as info:
        client.send_text(CITIZEN, "3")
    assert info.value.code == 131056


def test_server_errors_are_retryable(simulator, client):
    simulator.configure(faults={"error_5xx_fraction": 1.0})
    with pytest.raises(RetryableError) as info:
        client.send_text(CITIZEN, "hi")
    assert info.value.http_status in (500, 503)


def test_slow_response_raises_transport_error_after_total_timeout(simulator, sim_number):
    simulator.configure(faults={"slow_fraction": 1.0, "slow_seconds": 2.0})
    client = simulator.client(sim_number, timeouts=Timeouts(read=5, total=0.3))
    with pytest.raises(TransportError) as info:
        client.send_text(CITIZEN, "hi")
    assert info.value.maybe_delivered  # the request reached Meta: resending could duplicate


def test_unreachable_server_raises_transport_error():
    client = CloudAPIClient("1", "t", base_url="http://127.0.0.1:9", api_version="v23.0")
    with pytest.raises(TransportError) as info:
        client.send_text(CITIZEN, "hi")
    assert info.value.code is None


def test_a_refused_connection_is_known_not_to_have_delivered():
    client = CloudAPIClient("1", "t", base_url="http://127.0.0.1:9", api_version="v23.0")
    with pytest.raises(TransportError) as info:
        client.send_text(CITIZEN, "hi")
    assert info.value.maybe_delivered is False


def test_window_closed_failure_classifies_as_window_closed(simulator, sim_number, client):
    wamid = client.send_text(CITIZEN, "outside the window").wamid  # no inbound: window closed
    from tests.simulator_fixture import wait_until

    statuses = wait_until(lambda: simulator.message(wamid)["statuses"])
    error = error_from_payload({"code": statuses[0]["error_code"], "title": "Re-engagement"})
    assert isinstance(error, WindowClosedError)


def test_undeliverable_recipient_error_object_classifies_as_undeliverable():
    webhook_error = {
        "code": 131026,
        "title": "Message undeliverable",
        "message": "Message undeliverable",
        "error_data": {"details": "Message Undeliverable."},
    }
    error = error_from_payload(webhook_error)
    assert isinstance(error, RecipientUndeliverableError)
    assert error.details == "Message Undeliverable."


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (0, AuthError),
        (190, AuthError),
        (10, AuthError),
        (200, AuthError),
        (4, RetryableError),
        (80007, RetryableError),
        (130429, RetryableError),
        (131000, RetryableError),
        (131016, RetryableError),
        (131056, RetryableError),
        (131047, WindowClosedError),
        (131026, RecipientUndeliverableError),
        (132000, TemplateError),
        (132001, TemplateError),
        (132016, TemplateError),
        (132999, TemplateError),
        (368, PolicyError),
        (131049, PolicyError),
        (131050, PolicyError),
        (100, PermanentError),
        (131051, PermanentError),
    ],
)
def test_codes_are_classified_per_meta_table(code, cls):
    assert classify_code(code) is cls


def test_unknown_code_with_5xx_is_retryable():
    assert classify_code(999999, http_status=502) is RetryableError


def test_unknown_code_with_4xx_is_permanent():
    assert classify_code(999999, http_status=400) is PermanentError


def test_every_error_has_a_human_reason():
    for code in (190, 130429, 131047, 131026, 132001, 368, 100, 999999):
        error = error_from_payload({"error": {"code": code, "message": "x"}})
        assert error.reason and len(error.reason) < 120


# Shapes the simulator cannot produce (a 368 block, a proxy's HTML page, a dropped or
# hanging connection) come from a real server on loopback that answers one canned way: the
# client is exercised over real HTTP, never patched (style guide 2.8). Error JSON as in
# ../shared/cloud-api.md section 6.


class CannedGraph:
    """Answers every request with one canned HTTP response (or, with ``drop``, reads the
    request and closes the connection without answering)."""

    def __init__(self, status=200, body=b"", headers=None, *, drop=False):
        canned = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                canned.requests += 1
                if drop:
                    self.close_connection = True
                    return
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):
                pass

        self.requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        serve = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        serve.start()

    def client(self, **kwargs):
        return CloudAPIClient("1", "t", base_url=self.base_url, api_version="v23.0", **kwargs)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canned_graph():
    servers = []

    def start(*args, **kwargs):
        servers.append(CannedGraph(*args, **kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_policy_block_368_raises_policy_error(canned_graph):
    body = {
        "error": {
            "message": "(#368) Temporarily blocked for policies violations",
            "type": "OAuthException",
            "code": 368,
            "fbtrace_id": "A1",
        }
    }
    graph = canned_graph(403, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with pytest.raises(PolicyError) as info:
        graph.client().send_text(CITIZEN, "hi")
    assert info.value.fbtrace_id == "A1"


def test_non_json_gateway_error_is_retryable_and_honours_retry_after(canned_graph):
    graph = canned_graph(
        502, b"<html>Bad gateway</html>", {"Content-Type": "text/html", "Retry-After": "7"}
    )
    with pytest.raises(RetryableError) as info:
        graph.client().send_text(CITIZEN, "hi")
    assert info.value.retry_after == 7.0


def test_a_connection_dropped_after_the_request_may_have_delivered(canned_graph):
    graph = canned_graph(drop=True)
    with pytest.raises(TransportError) as info:
        graph.client().send_text(CITIZEN, "hi")
    assert graph.requests == 1  # sent once: a send is never retried behind our back
    assert info.value.maybe_delivered


def test_a_slow_answer_past_the_read_timeout_may_have_delivered(simulator, sim_number):
    simulator.configure(faults={"slow_fraction": 1.0, "slow_seconds": 2.0})
    client = simulator.client(sim_number, timeouts=Timeouts(read=0.3, total=5))
    with pytest.raises(TransportError) as info:
        client.send_text(CITIZEN, "hi")
    assert info.value.maybe_delivered
    assert len(simulator.messages(sim_number["id"])) == 1  # Meta did accept it


def test_a_connect_timeout_is_known_not_to_have_delivered():
    # A listener whose accept queue is full: the kernel drops further SYNs, so connecting
    # hangs until the connect timeout, as with an unreachable host.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [_connect_without_waiting(port) for _ in range(3)]
        client = CloudAPIClient(
            "1",
            "t",
            base_url=f"http://127.0.0.1:{port}",
            api_version="v23.0",
            timeouts=Timeouts(connect=0.3, pool=0.1, total=5),
        )
        try:
            with pytest.raises(TransportError) as info:
                client.send_text(CITIZEN, "hi")
        finally:
            for filler in fillers:
                filler.close()
    assert info.value.maybe_delivered is False


def _connect_without_waiting(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setblocking(False)
    sock.connect_ex(("127.0.0.1", port))  # in progress; the queue fills in the background
    return sock
