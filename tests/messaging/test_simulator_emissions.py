"""The simulator's emission log (when each status webhook was posted), status replays without
sends, and repeated recipients: what bench/campaign_loop.py measures the loop with."""

from __future__ import annotations

import time

import pytest

from tests.simulator_fixture import wait_until

CITIZEN = "15551230007"


@pytest.fixture
def client(simulator, sim_number, webhook_receiver):
    simulator.register_number(sim_number["id"], callback_url=webhook_receiver.url)
    simulator.open_window(sim_number["id"], CITIZEN)
    return simulator.client(sim_number)


def emissions(simulator, **params):
    return simulator._call("GET", "/_sim/emissions", params=params)


def test_each_delivered_status_is_logged_with_the_time_its_post_started(
    simulator, client, webhook_receiver
):
    before = time.time()
    wamid = client.send_text(CITIZEN, "hi", biz_opaque_callback_data="civic-relay:7").wamid
    webhook_receiver.wait_for_statuses(wamid, 3)
    log = wait_until(lambda: (e := emissions(simulator)) and len(e["counts"]) == 3 and e)
    assert log["counts"] == {"sent": 1, "delivered": 1, "read": 1}
    assert [log["data"][s]["keys"] for s in ("sent", "delivered", "read")] == [
        ["civic-relay:7"]
    ] * 3
    sent, delivered, read = (log["data"][s]["times"][0] for s in ("sent", "delivered", "read"))
    assert before < sent <= delivered <= read <= time.time()


def test_a_status_held_back_by_a_refusing_endpoint_keeps_the_time_it_was_due(
    simulator, client, webhook_receiver
):
    webhook_receiver.fail_statuses = [500]
    wamid = client.send_text(CITIZEN, "hi").wamid
    webhook_receiver.wait_for_statuses(wamid, 3)
    log = wait_until(lambda: (e := emissions(simulator))["counts"].get("read") and e)
    sent = log["data"]["sent"]
    assert sent["due"][0] < sent["times"][0] - 0.04  # the retry waited 0.05 s


def test_a_status_without_opaque_data_is_logged_by_its_wamid(simulator, client, webhook_receiver):
    wamid = client.send_text(CITIZEN, "hi").wamid
    webhook_receiver.wait_for_statuses(wamid, 1)
    log = wait_until(lambda: (e := emissions(simulator, status="sent"))["counts"] and e)
    assert log["data"]["sent"]["keys"] == [wamid]


def test_the_log_reads_on_from_an_offset(simulator, client, webhook_receiver):
    first = client.send_text(CITIZEN, "one").wamid
    webhook_receiver.wait_for_statuses(first, 1)
    wait_until(lambda: emissions(simulator)["counts"].get("sent") == 1)
    second = client.send_text(CITIZEN, "two").wamid
    later = wait_until(
        lambda: (e := emissions(simulator, status="sent", offset=1))["data"]["sent"]["keys"] and e
    )
    assert later["data"]["sent"]["keys"] == [second]


def test_a_refused_post_is_logged_at_the_retry_that_succeeds(simulator, client, webhook_receiver):
    webhook_receiver.fail_statuses = [500]
    wamid = client.send_text(CITIZEN, "hi").wamid
    webhook_receiver.wait_for_statuses(wamid, 3)
    refused = next(d for d in simulator.webhook_deliveries()["data"] if not d["ok"])
    log = wait_until(lambda: (e := emissions(simulator))["counts"].get("read") and e)
    assert log["counts"] == {"sent": 1, "delivered": 1, "read": 1}
    assert min(log["data"][s]["times"][0] for s in log["counts"]) > refused["at"]


def test_a_replay_posts_statuses_of_messages_never_sent(simulator, sim_number, webhook_receiver):
    simulator.register_number(sim_number["id"], callback_url=webhook_receiver.url)
    messages = [
        {
            "wamid": f"wamid.replay-{i}",
            "wa_id": f"1555123{i:04d}",
            "biz_opaque_callback_data": f"k{i}",
        }
        for i in range(5)
    ]
    simulator._call(
        "POST",
        f"/_sim/phone_numbers/{sim_number['id']}/replay",
        json={"rate": 1000, "messages": messages},
    )
    for message in messages:
        assert webhook_receiver.wait_for_statuses(message["wamid"], 3) == [
            "sent",
            "delivered",
            "read",
        ]
    wait_until(lambda: emissions(simulator)["counts"] == {"sent": 5, "delivered": 5, "read": 5})
    assert simulator.messages(sim_number["id"]) == []


def test_repeated_recipients_name_who_got_a_message_of_the_type_twice(
    simulator, sim_number, client
):
    simulator.open_window(sim_number["id"], "15551230008")
    client.send_text(CITIZEN, "one")
    client.send_text(CITIZEN, "two")
    client.send_text("15551230008", "once")
    path = f"/_sim/phone_numbers/{sim_number['id']}/repeated"
    found = simulator._call("GET", path, params={"type": "text"})
    assert found == {"sent": 3, "recipients": 2, "repeated": {CITIZEN: 2}}
    assert simulator._call("GET", path, params={"type": "template"}) == {
        "sent": 0,
        "recipients": 0,
        "repeated": {},
    }
