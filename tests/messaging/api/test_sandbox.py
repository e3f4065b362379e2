"""Test keys: the same API, but the message goes to the Cloud API simulator
(TEST_MODE_GRAPH_API_BASE_URL), never to Meta (GRAPH_API_BASE_URL)."""

from __future__ import annotations

import pytest

from messaging.simulator.sample_media import JPEG
from tests.messaging.api.conftest import deliver
from tests.messaging.conftest import CITIZEN

TEXT = {"to": f"+{CITIZEN}", "type": "text", "text": {"body": "Testing the integration."}}
NOWHERE = "http://127.0.0.1:9"  # nothing listens: a request there would fail


@pytest.fixture
def sandboxed(settings, registered_number, open_conversation, simulator):
    """Meta's address points nowhere; the test-mode address is the simulator."""
    simulator.open_window(registered_number.phone_number_id, CITIZEN)
    settings.TEST_MODE_GRAPH_API_BASE_URL = simulator.base_url
    settings.GRAPH_API_BASE_URL = NOWHERE
    return registered_number


def test_a_test_key_s_message_is_marked_sandbox(test_api, sandboxed):
    assert test_api.send(TEXT).json()["sandbox"] is True


def test_a_live_key_s_message_is_not(api, sandboxed):
    assert api.send(TEXT).json()["sandbox"] is False


def test_a_sandbox_message_goes_to_the_simulator_not_to_meta(
    test_api, sandboxed, simulator, agency_a
):
    sent = test_api.send(TEXT).json()
    stored = deliver(agency_a, sent["id"])
    assert stored.status == "accepted"
    (received,) = simulator.messages(sandboxed.phone_number_id)
    assert received["payload"]["text"]["body"] == "Testing the integration."


def test_a_live_message_still_goes_to_meta_s_address(api, sandboxed, agency_a):
    from messaging.delivery import RetryLater

    sent = api.send(TEXT).json()
    with pytest.raises(RetryLater):  # the request went to GRAPH_API_BASE_URL (nowhere)
        deliver(agency_a, sent["id"])


def test_without_a_simulator_a_sandbox_message_is_recorded_sent_and_goes_nowhere(
    test_api, sandboxed, settings, simulator, agency_a
):
    settings.TEST_MODE_GRAPH_API_BASE_URL = ""
    sent = test_api.send(TEXT).json()
    stored = deliver(agency_a, sent["id"])
    assert (stored.status, stored.wamid) == ("sent", f"wamid.sandbox.{sent['id']}")
    assert simulator.messages(sandboxed.phone_number_id) == []


def test_a_test_key_s_upload_goes_to_the_simulator(test_api, sandboxed, agency_a):
    answer = test_api.upload(JPEG, "test.jpg")
    assert answer.status_code == 201, answer.content
