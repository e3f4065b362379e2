"""Simulated citizens: every inbound type, the 24 h window they open, and scripted scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from messaging.simulator.citizens import load_scenario
from messaging.whatsapp import builders as b
from tests.simulator_fixture import wait_until

CITIZEN = "15551230006"
DEFAULT_SCENARIO = Path("messaging/simulator/scenarios/default.yaml")

INBOUND: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {
    "text": ({"text": "Hello"}, {"body": "Hello"}),
    "image": ({"image": {"caption": "pothole"}}, {"mime_type": "image/jpeg", "caption": "pothole"}),
    "video": ({"video": {"caption": "flood"}}, {"mime_type": "video/mp4", "caption": "flood"}),
    "audio": ({}, {"mime_type": "audio/ogg; codecs=opus", "voice": True}),
    "document": (
        {"document": {"filename": "a.pdf"}},
        {"mime_type": "application/pdf", "filename": "a.pdf"},
    ),
    "sticker": ({}, {"mime_type": "image/webp", "animated": False}),
    "location": (
        {"location": {"latitude": 37.46, "longitude": -122.21, "name": "HQ"}},
        {"latitude": 37.46, "longitude": -122.21, "name": "HQ"},
    ),
    "contacts": ({}, None),
    "interactive": (
        {"interactive": {"button_reply": {"id": "yes", "title": "Yes"}}},
        {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}},
    ),
    "button": (
        {"button": {"payload": "STOP_PROMOS", "text": "Stop"}},
        {"payload": "STOP_PROMOS", "text": "Stop"},
    ),
    "order": ({}, None),
    "unsupported": ({}, {"type": "poll"}),
    "system": ({}, None),
}


@pytest.mark.parametrize("kind", list(INBOUND))
def test_trigger_inbound_builds_meta_shaped_message(simulator, sim_number, kind):
    spec, expected = INBOUND[kind]
    message = simulator.trigger_inbound(sim_number["id"], CITIZEN, type=kind, **spec)
    assert message["from"] == CITIZEN
    assert message["id"].startswith("wamid.")
    assert message["type"] == kind
    assert isinstance(message["timestamp"], str)
    content = message[kind]
    if expected is not None:
        assert {k: content[k] for k in expected} == expected


def test_inbound_list_reply(simulator, sim_number):
    message = simulator.trigger_inbound(
        sim_number["id"],
        CITIZEN,
        type="interactive",
        interactive={"list_reply": {"id": "burger", "title": "Burger"}},
    )
    assert message["interactive"]["type"] == "list_reply"


def test_inbound_reaction_targets_last_business_message(simulator, sim_number):
    simulator.open_window(sim_number["id"], CITIZEN)
    wamid = simulator.client(sim_number).send_text(CITIZEN, "Fixed!").wamid
    message = simulator.trigger_inbound(sim_number["id"], CITIZEN, type="reaction")
    assert message["reaction"]["message_id"] == wamid


def test_unsupported_inbound_carries_131051_error(simulator, sim_number):
    message = simulator.trigger_inbound(sim_number["id"], CITIZEN, type="unsupported")
    assert message["errors"][0]["code"] == 131051


def test_inbound_with_referral_has_ad_fields(simulator, sim_number):
    message = simulator.trigger_inbound(
        sim_number["id"], CITIZEN, type="text", text="Hi", referral={"headline": "Ad"}
    )
    assert message["referral"]["source_type"] == "ad"
    assert message["referral"]["headline"] == "Ad"


def test_template_quick_reply_tap_quotes_the_template(simulator, sim_number):
    simulator.add_template(sim_number["waba_id"], "hello", language="en")
    wamid = simulator.client(sim_number).send_template(CITIZEN, b.Template("hello", "en")).wamid
    message = simulator.trigger_inbound(
        sim_number["id"], CITIZEN, type="button", button={"payload": "YES"}
    )
    assert message["context"]["id"] == wamid


def test_inbound_message_opens_the_window(simulator, sim_number, webhook_receiver):
    simulator.register_number(sim_number["id"], callback_url=webhook_receiver.url)
    simulator.trigger_inbound(sim_number["id"], CITIZEN, type="text", text="Hi")
    wamid = simulator.client(sim_number).send_text(CITIZEN, "Hello!").wamid
    assert webhook_receiver.wait_for_statuses(wamid, 1)[0] == "sent"


def test_inbound_messages_are_listed_per_number(simulator, sim_number):
    simulator.trigger_inbound(sim_number["id"], CITIZEN, type="text", text="One")
    simulator.trigger_inbound(sim_number["id"], CITIZEN, type="text", text="Two")
    bodies = [r["message"]["text"]["body"] for r in simulator.inbound(sim_number["id"])]
    assert bodies == ["One", "Two"]


def test_scenario_citizen_writes_then_replies_after_business_answers(simulator, sim_number):
    scenario = {
        "time_scale": 0.01,
        "citizens": [
            {
                "wa_id": CITIZEN,
                "name": "Ana",
                "script": [
                    {"send": {"type": "text", "text": "My light is broken"}},
                    {"wait_for_reply": 500},
                    {"after": 1, "send": {"type": "text", "text": "Thanks!"}},
                ],
            }
        ],
    }
    simulator.start_scenario(scenario, sim_number["id"])
    wait_until(lambda: len(simulator.inbound(sim_number["id"])) == 1)
    simulator.client(sim_number).send_text(CITIZEN, "We are on it")
    wait_until(lambda: len(simulator.inbound(sim_number["id"])) == 2)
    assert simulator.inbound(sim_number["id"])[1]["message"]["text"]["body"] == "Thanks!"


def test_scenario_citizen_taps_a_reply_button(simulator, sim_number):
    scenario = {
        "time_scale": 0.01,
        "citizens": [
            {
                "wa_id": CITIZEN,
                "script": [
                    {"wait_for_reply": 500},
                    {"tap": 1},
                ],
            }
        ],
    }
    simulator.start_scenario(scenario, sim_number["id"])
    simulator.open_window(sim_number["id"], CITIZEN)
    buttons = [b.ReplyButton("yes", "Yes"), b.ReplyButton("no", "No")]
    simulator.client(sim_number).send(CITIZEN, b.ReplyButtons("Confirm?", buttons))
    tap = wait_until(lambda: simulator.inbound(sim_number["id"]))[0]["message"]
    assert tap["interactive"]["button_reply"] == {"id": "no", "title": "No"}


def test_scenario_citizen_can_type_stop(simulator, sim_number):
    scenario = {
        "time_scale": 0.01,
        "citizens": [
            {
                "wa_id": CITIZEN,
                "script": [
                    {"send": {"type": "text", "text": "STOP"}},
                ],
            }
        ],
    }
    simulator.start_scenario(scenario)
    message = wait_until(lambda: simulator.inbound(sim_number["id"]))[0]["message"]
    assert message["text"]["body"] == "STOP"


def test_default_scenario_covers_varied_types_and_a_stop():
    scenario = load_scenario(DEFAULT_SCENARIO)
    sends = [s["send"] for c in scenario["citizens"] for s in c["script"] if "send" in s]
    assert {s["type"] for s in sends} >= {"text", "image", "audio", "document", "location"}
    assert any(s.get("text") == "STOP" for s in sends)
    steps = [step for c in scenario["citizens"] for step in c["script"]]
    assert {"edit", "revoke"} <= {key for step in steps for key in step}
    assert "request_welcome" in {s["type"] for s in sends}


def test_python_scenario_module_drives_citizens(simulator, sim_number, tmp_path):
    script = tmp_path / "scenario.py"
    script.write_text(
        "from messaging.simulator.citizens import send_inbound\n\n"
        "async def run(sim, number):\n"
        "    send_inbound(sim, number, {'from': '15551230099', 'type': 'order'})\n"
    )
    simulator._call("POST", "/_sim/scenarios", json={"path": str(script)})
    message = wait_until(lambda: simulator.inbound(sim_number["id"]))[0]["message"]
    assert message["order"]["product_items"][0]["product_retailer_id"] == "SKU-1"
