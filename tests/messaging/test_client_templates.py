"""Template management on the WABA: create, review, list with paging, edit, delete (§4)."""

from __future__ import annotations

import pytest

from messaging.whatsapp import InvalidMessageError, PermanentError
from tests.simulator_fixture import wait_until

BODY = [
    {
        "type": "BODY",
        "text": "Hello {{1}}, your request {{2}} is ready.",
        "example": {"body_text": [["Ana", "R-17"]]},
    },
]


@pytest.fixture
def client(simulator, sim_number):
    return simulator.client(sim_number)


def test_created_template_starts_pending(sim_number, client):
    created = client.create_template(
        sim_number["waba_id"],
        name="request_ready",
        language="en_US",
        category="UTILITY",
        components=BODY,
    )
    assert (created.status, created.category) == ("PENDING", "UTILITY")


def test_created_template_is_approved_after_review(sim_number, client):
    created = client.create_template(
        sim_number["waba_id"],
        name="request_ready",
        language="en_US",
        category="UTILITY",
        components=BODY,
    )
    template = wait_until(lambda: client.get_template(created.id).status == "APPROVED")
    assert template


def test_template_matching_reject_rule_is_rejected_with_reason(sim_number, client):
    created = client.create_template(
        sim_number["waba_id"],
        name="lottery_win",
        language="en",
        category="MARKETING",
        components=BODY,
    )
    wait_until(lambda: client.get_template(created.id).status != "PENDING")
    template = client.get_template(created.id)
    assert (template.status, template.rejected_reason) == ("REJECTED", "INVALID_FORMAT")


def test_review_sends_signed_status_update_webhook(simulator, sim_number, client, webhook_receiver):
    simulator.register_number(sim_number["id"], callback_url=webhook_receiver.url)
    created = client.create_template(
        sim_number["waba_id"],
        name="request_ready",
        language="en_US",
        category="UTILITY",
        components=BODY,
    )
    value = wait_until(lambda: webhook_receiver.changes("message_template_status_update"))[0]
    assert value["message_template_id"] == int(created.id)
    assert (value["event"], value["reason"]) == ("APPROVED", "NONE")
    assert all(webhook_receiver.signature_ok(r) for r in webhook_receiver.requests)


def test_list_templates_pages_with_cursors(simulator, sim_number, client):
    for i in range(5):
        simulator.add_template(sim_number["waba_id"], f"tpl_{i}")
    first = client.list_templates(sim_number["waba_id"], limit=2)
    second = client.list_templates(sim_number["waba_id"], limit=2, after=first.after)
    assert [t.name for t in first.templates] == ["tpl_0", "tpl_1"]
    assert [t.name for t in second.templates] == ["tpl_2", "tpl_3"]
    assert first.has_next


def test_iter_templates_follows_every_page(simulator, sim_number, client):
    for i in range(5):
        simulator.add_template(sim_number["waba_id"], f"tpl_{i}")
    names = [t.name for t in client.iter_templates(sim_number["waba_id"], limit=2)]
    assert names == [f"tpl_{i}" for i in range(5)]


def test_list_templates_filters_by_status(simulator, sim_number, client):
    simulator.add_template(sim_number["waba_id"], "approved_one")
    simulator.add_template(sim_number["waba_id"], "rejected_one", status="REJECTED")
    page = client.list_templates(sim_number["waba_id"], status="REJECTED")
    assert [t.name for t in page.templates] == ["rejected_one"]


def test_edit_sends_template_back_to_review(simulator, sim_number, client):
    seeded = simulator.add_template(sim_number["waba_id"], "editable")
    client.edit_template(seeded["id"], components=BODY)
    assert client.get_template(seeded["id"]).status == "PENDING"


def test_edit_of_pending_template_is_refused(sim_number, client):
    created = client.create_template(
        sim_number["waba_id"], name="fresh", language="en", category="UTILITY", components=BODY
    )
    with pytest.raises(PermanentError):
        client.edit_template(created.id, components=BODY)


def test_delete_by_name_removes_every_language(simulator, sim_number, client):
    simulator.add_template(sim_number["waba_id"], "bye", language="en")
    simulator.add_template(sim_number["waba_id"], "bye", language="pt_BR")
    client.delete_template(sim_number["waba_id"], name="bye")
    assert client.list_templates(sim_number["waba_id"]).templates == ()


def test_delete_one_translation_keeps_the_others(simulator, sim_number, client):
    simulator.add_template(sim_number["waba_id"], "bye", language="en")
    pt = simulator.add_template(sim_number["waba_id"], "bye", language="pt_BR")
    client.delete_template(sim_number["waba_id"], name="bye", template_id=pt["id"])
    assert [t.language for t in client.list_templates(sim_number["waba_id"]).templates] == ["en"]


def test_duplicate_name_and_language_is_refused_with_subcode(simulator, sim_number, client):
    simulator.add_template(sim_number["waba_id"], "request_ready", language="en_US")
    with pytest.raises(PermanentError) as info:
        client.create_template(
            sim_number["waba_id"],
            name="request_ready",
            language="en_US",
            category="UTILITY",
            components=BODY,
        )
    assert (info.value.code, info.value.subcode) == (100, 2388024)


def test_body_starting_with_variable_is_refused(sim_number, client):
    components = [
        {
            "type": "BODY",
            "text": "{{1}} is your code, use it today please.",
            "example": {"body_text": [["123"]]},
        }
    ]
    with pytest.raises(PermanentError) as info:
        client.create_template(
            sim_number["waba_id"],
            name="bad_body",
            language="en",
            category="UTILITY",
            components=components,
        )
    assert info.value.subcode == 2388299


def test_create_requires_body_component_before_sending(sim_number, client):
    with pytest.raises(InvalidMessageError) as info:
        client.create_template(
            sim_number["waba_id"],
            name="x",
            language="en",
            category="UTILITY",
            components=[{"type": "FOOTER", "text": "f"}],
        )
    assert info.value.field == "components"
