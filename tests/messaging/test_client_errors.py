"""Every Graph error reaches callers as the right exception class with a staff reason."""

from __future__ import annotations

import httpx
import pytest
import respx

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


# respx only for shapes the simulator cannot produce (see style guide 2.8).


@respx.mock
def test_policy_block_368_raises_policy_error():
    body = {
        "error": {
            "message": "(#368) Temporarily blocked for policies violations",
            "type": "OAuthException",
            "code": 368,
            "fbtrace_id": "A1",
        }
    }
    respx.post("https://graph.example/v23.0/1/messages").mock(
        return_value=httpx.Response(403, json=body)
    )
    client = CloudAPIClient("1", "t", base_url="https://graph.example", api_version="v23.0")
    with pytest.raises(PolicyError) as info:
        client.send_text(CITIZEN, "hi")
    assert info.value.fbtrace_id == "A1"


@respx.mock
def test_non_json_gateway_error_is_retryable_and_honours_retry_after():
    respx.post("https://graph.example/v23.0/1/messages").mock(
        return_value=httpx.Response(
            502, text="<html>Bad gateway</html>", headers={"Retry-After": "7"}
        )
    )
    client = CloudAPIClient("1", "t", base_url="https://graph.example", api_version="v23.0")
    with pytest.raises(RetryableError) as info:
        client.send_text(CITIZEN, "hi")
    assert info.value.retry_after == 7.0
