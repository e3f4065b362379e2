"""Status and inbound webhooks: signed, ordered, batched, retried, optionally duplicated or
out of order (cloud-api.md §5)."""

from __future__ import annotations

import pytest

from tests.simulator_fixture import wait_until

CITIZEN = "15551230005"


@pytest.fixture
def client(simulator, sim_number, webhook_receiver):
    simulator.register_number(sim_number["id"], callback_url=webhook_receiver.url)
    simulator.open_window(sim_number["id"], CITIZEN)
    return simulator.client(sim_number)


def test_statuses_arrive_in_order_sent_delivered_read(client, webhook_receiver):
    wamid = client.send_text(CITIZEN, "hi").wamid
    assert webhook_receiver.wait_for_statuses(wamid, 3) == ["sent", "delivered", "read"]


def test_every_callback_is_signed_with_the_app_secret(client, webhook_receiver):
    wamid = client.send_text(CITIZEN, "hi").wamid
    webhook_receiver.wait_for_statuses(wamid, 3)
    assert webhook_receiver.requests
    assert all(webhook_receiver.signature_ok(r) for r in webhook_receiver.requests)


def test_signature_does_not_match_another_secret(client, webhook_receiver):
    wamid = client.send_text(CITIZEN, "hi").wamid
    webhook_receiver.wait_for_statuses(wamid, 1)
    webhook_receiver.app_secret = "some-other-secret"
    assert not webhook_receiver.signature_ok(webhook_receiver.requests[0])


def test_body_is_ascii_escaped_json_like_meta(client, webhook_receiver):
    wamid = client.send_text(CITIZEN, "hi", biz_opaque_callback_data="ação/1").wamid
    webhook_receiver.wait_for_statuses(wamid, 1)
    raw = webhook_receiver.requests[0]["raw"]
    assert raw.isascii()
    assert b"a\\u00e7\\u00e3o\\/1" in raw


def test_status_envelope_has_metadata_and_echoes_opaque_data(client, webhook_receiver, sim_number):
    wamid = client.send_text(CITIZEN, "hi", biz_opaque_callback_data="msg-7").wamid
    webhook_receiver.wait_for_statuses(wamid, 1)
    body = webhook_receiver.accepted()[0]
    value = body["entry"][0]["changes"][0]["value"]
    assert body["object"] == "whatsapp_business_account"
    assert body["entry"][0]["id"] == sim_number["waba_id"]
    assert value["metadata"] == {
        "display_phone_number": sim_number["display_phone_number"],
        "phone_number_id": sim_number["id"],
    }
    assert value["statuses"][0]["biz_opaque_callback_data"] == "msg-7"


def test_delivered_status_carries_per_message_pricing(client, webhook_receiver):
    wamid = client.send_text(CITIZEN, "hi").wamid
    webhook_receiver.wait_for_statuses(wamid, 2)
    delivered = webhook_receiver.statuses(wamid)[1]
    assert delivered["pricing"]["pricing_model"] == "PMP"
    assert delivered["pricing"]["category"] == "service"
    assert isinstance(delivered["timestamp"], str)


def test_free_form_outside_window_fails_with_131047(
    simulator, sim_number, client, webhook_receiver
):
    simulator.open_window(sim_number["id"], CITIZEN, open=False)
    wamid = client.send_text(CITIZEN, "too late").wamid
    statuses = webhook_receiver.wait_for_statuses(wamid, 1)
    assert statuses == ["failed"]
    assert webhook_receiver.statuses(wamid)[0]["errors"][0]["code"] == 131047


def test_template_outside_window_is_delivered(simulator, sim_number, client, webhook_receiver):
    from messaging.whatsapp import builders as b

    simulator.open_window(sim_number["id"], CITIZEN, open=False)
    simulator.add_template(sim_number["waba_id"], "hello", language="en")
    wamid = client.send_template(CITIZEN, b.Template("hello", "en")).wamid
    assert webhook_receiver.wait_for_statuses(wamid, 3) == ["sent", "delivered", "read"]


def test_recipient_not_on_whatsapp_fails_with_131026(simulator, client, webhook_receiver):
    simulator.not_on_whatsapp(CITIZEN)
    wamid = client.send_text(CITIZEN, "hello?").wamid
    webhook_receiver.wait_for_statuses(wamid, 1)
    assert webhook_receiver.statuses(wamid)[0]["errors"][0]["code"] == 131026


def test_non_200_answers_are_retried_until_accepted(simulator, client, webhook_receiver):
    webhook_receiver.fail_statuses = [500, 503]
    wamid = client.send_text(CITIZEN, "hi").wamid
    webhook_receiver.wait_for_statuses(wamid, 3)
    answered = [r["answered"] for r in webhook_receiver.requests]
    assert answered[:3] == [500, 503, 200]
    assert webhook_receiver.requests[0]["raw"] == webhook_receiver.requests[2]["raw"]


def test_redirect_is_a_failed_delivery(simulator, client, webhook_receiver):
    webhook_receiver.fail_statuses = [302]
    wamid = client.send_text(CITIZEN, "hi").wamid
    webhook_receiver.wait_for_statuses(wamid, 1)
    deliveries = wait_until(
        lambda: (
            simulator.webhook_deliveries()["data"][1:] and simulator.webhook_deliveries()["data"]
        )
    )
    assert [d["status_code"] for d in deliveries[:2]] == [302, 200]


def test_delivery_is_dropped_after_max_attempts(simulator, client, webhook_receiver):
    simulator.configure(webhooks={"max_attempts": 2})
    webhook_receiver.fail_statuses = [500] * 50
    client.send_text(CITIZEN, "hi")
    wait_until(lambda: simulator.webhook_deliveries()["dropped"] >= 1)


def test_statuses_of_several_messages_are_batched(simulator, client, webhook_receiver):
    simulator.configure(webhooks={"batch_window": 0.2, "lanes": 1})
    wamids = [client.send_text(CITIZEN, f"m{i}").wamid for i in range(3)]
    for wamid in wamids:
        webhook_receiver.wait_for_statuses(wamid, 3)
    assert max(len(v.get("statuses", [])) for v in webhook_receiver.changes()) > 1


def test_duplicate_mode_delivers_statuses_twice(simulator, client, webhook_receiver):
    simulator.configure(webhooks={"duplicate_fraction": 1.0})
    wamid = client.send_text(CITIZEN, "hi").wamid
    statuses = webhook_receiver.wait_for_statuses(wamid, 6)
    assert sorted(statuses) == sorted(["sent", "delivered", "read"] * 2)


def test_out_of_order_mode_sends_read_before_sent(simulator, client, webhook_receiver):
    simulator.configure(webhooks={"out_of_order_fraction": 1.0})
    wamid = client.send_text(CITIZEN, "hi").wamid
    assert webhook_receiver.wait_for_statuses(wamid, 3) == ["read", "delivered", "sent"]


def test_read_probability_zero_never_sends_read(simulator, client, webhook_receiver):
    simulator.configure(webhooks={"read_probability": 0.0})
    wamid = client.send_text(CITIZEN, "hi").wamid
    webhook_receiver.wait_for_statuses(wamid, 2)
    simulator.wait_webhooks_idle()
    assert [s["status"] for s in webhook_receiver.statuses(wamid)] == ["sent", "delivered"]


def test_mark_read_sends_no_status_webhook(simulator, sim_number, client, webhook_receiver):
    inbound = simulator.trigger_inbound(sim_number["id"], CITIZEN, type="text", text="Hi")
    client.mark_read(inbound["id"])
    simulator.wait_webhooks_idle()
    assert webhook_receiver.statuses() == []


def test_inbound_message_webhook_carries_contact_profile(
    simulator, sim_number, client, webhook_receiver
):
    simulator.trigger_inbound(sim_number["id"], CITIZEN, name="Ana", type="text", text="Hi")
    value = wait_until(lambda: webhook_receiver.changes())[0]
    [contact] = value["contacts"]
    assert (contact["profile"], contact["wa_id"]) == ({"name": "Ana"}, CITIZEN)
    assert contact["user_id"]  # the 2026 business-scoped id (cloud-api.md §10)
    assert value["messages"][0]["text"] == {"body": "Hi"}


def test_introspection_shows_statuses_without_callback(simulator, sim_number):
    simulator.open_window(sim_number["id"], CITIZEN)
    wamid = simulator.client(sim_number).send_text(CITIZEN, "hi").wamid
    message = wait_until(
        lambda: simulator.message(wamid)["status"] == "read" and simulator.message(wamid)
    )
    assert [s["status"] for s in message["statuses"]] == ["sent", "delivered", "read"]


def test_verification_handshake_succeeds_with_matching_verify_token(
    simulator, sim_number, webhook_receiver
):
    simulator.register_number(
        sim_number["id"], callback_url=webhook_receiver.url, verify_token="verify-me"
    )
    assert simulator.verify_webhook(sim_number["id"])["ok"] is True


def test_verification_handshake_fails_with_wrong_verify_token(
    simulator, sim_number, webhook_receiver
):
    simulator.register_number(
        sim_number["id"], callback_url=webhook_receiver.url, verify_token="wrong"
    )
    assert simulator.verify_webhook(sim_number["id"]) == {"ok": False, "status_code": 403}
