"""Meta's Marketing Messages API (``/marketing_messages``): the client, the simulator's
endpoint, and the route an agency's setting gives MARKETING templates — for one message
(``deliver``) and in the bulk drain. Everything over HTTP against the simulator."""

from __future__ import annotations

import httpx
import pytest

from messaging import delivery, services
from messaging.models import Message
from messaging.whatsapp import builders as b
from messaging.whatsapp.errors import InvalidMessageError, PolicyError
from templates_mgr.models import MessageTemplate
from tenants.models import Agency
from tenants.scoping import agency_scope
from tests.factories import ConsentFactory, ContactFactory, TemplateFactory

BODY = [{"type": "BODY", "text": "Free flu shots this Saturday at the Main Street library."}]
EVENTS = b.Template("city_events", "en_US")  # MARKETING
REMINDER = b.Template("permit_reminder", "en_US")  # UTILITY
CITIZENS = ["447911123456", "447911123457", "447911123458", "447911123459"]  # not US: §7.7


# --- the client and the simulator ------------------------------------------------------------


@pytest.fixture
def sim_templates(simulator, sim_number):
    simulator.add_template(
        sim_number["waba_id"], "city_events", category="MARKETING", components=BODY
    )
    simulator.add_template(
        sim_number["waba_id"], "permit_reminder", category="UTILITY", components=BODY
    )
    return sim_number


@pytest.fixture
def client(simulator, sim_templates):
    return simulator.client(sim_templates)


def test_a_marketing_template_goes_through_the_marketing_messages_endpoint(
    simulator, sim_templates, client
):
    result = client.send_marketing(CITIZENS[0], EVENTS, message_activity_sharing=True)
    [sent] = simulator.messages(sim_templates["id"])
    assert sent["id"] == result.wamid and sent["endpoint"] == "marketing_messages"
    assert sent["payload"]["message_activity_sharing"] is True
    assert sent["payload"]["template"]["name"] == "city_events"


def test_the_simulator_counts_marketing_messages_apart(simulator, sim_templates, client):
    client.send_marketing(CITIZENS[0], EVENTS)
    client.send(CITIZENS[1], REMINDER)
    counters = simulator._call("GET", "/_sim/health")["counters"]
    assert counters["sent"] == 2 and counters["marketing_messages.sent"] == 1
    assert len(simulator.messages(sim_templates["id"], endpoint="messages")) == 1


def test_a_marketing_message_gets_the_same_status_webhooks(
    simulator, sim_templates, client, webhook_receiver
):
    simulator.register_number(sim_templates["id"], callback_url=webhook_receiver.url)
    result = client.send_marketing(CITIZENS[0], EVENTS)
    statuses = webhook_receiver.wait_for_statuses(result.wamid, 3)
    assert statuses == ["sent", "delivered", "read"]
    [first] = webhook_receiver.statuses(result.wamid)[:1]
    assert first["pricing"]["category"] == "marketing"


def test_a_utility_template_is_refused_by_the_marketing_messages_api_in_plain_words(client):
    with pytest.raises(PolicyError) as refused:
        client.send_marketing(CITIZENS[0], REMINDER)
    assert refused.value.code == 131055
    assert "Only marketing templates" in refused.value.reason


def test_a_business_not_onboarded_is_told_what_to_do(simulator, sim_templates, client):
    simulator.register_number(sim_templates["id"], marketing_messages_onboarded=False)
    with pytest.raises(PolicyError) as refused:
        client.send_marketing(CITIZENS[0], EVENTS)
    assert refused.value.code == 131055
    assert "not set up for Meta's Marketing Messages API" in refused.value.reason


def test_marketing_disabled_on_the_cloud_api_is_explained(simulator, sim_templates, client):
    simulator.register_number(sim_templates["id"], cloud_api_marketing_disabled=True)
    client.send(CITIZENS[0], REMINDER)  # utility still goes
    with pytest.raises(PolicyError) as refused:
        client.send(CITIZENS[1], EVENTS)
    assert refused.value.code == 131063
    assert "Turn on the Marketing Messages API" in refused.value.reason


def test_the_client_sends_only_templates_to_the_marketing_messages_api(simulator, client):
    with pytest.raises(InvalidMessageError):
        client.send_marketing(CITIZENS[0], b.Text("Hello"))


def test_the_simulator_refuses_a_free_form_message_like_meta(simulator, sim_templates):
    response = httpx.post(
        simulator.graph_url(f"{sim_templates['id']}/marketing_messages"),
        headers={"Authorization": f"Bearer {sim_templates['access_token']}"},
        json={
            "messaging_product": "whatsapp",
            "to": CITIZENS[0],
            "type": "text",
            "text": {"body": "hi"},
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100
    assert "must be a template" in response.json()["error"]["error_data"]["details"]


def test_the_simulator_refuses_an_unknown_product_policy(simulator, sim_templates):
    response = httpx.post(
        simulator.graph_url(f"{sim_templates['id']}/marketing_messages"),
        headers={"Authorization": f"Bearer {sim_templates['access_token']}"},
        json={
            "messaging_product": "whatsapp",
            "to": CITIZENS[0],
            "type": "template",
            "template": {"name": "city_events", "language": {"code": "en_US"}},
            "product_policy": "SOMETIMES",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


# --- the route: decided at queue time, honoured by deliver and the drain ---------------------


@pytest.fixture
def agency_templates(agency_a, registered_number, simulator):
    waba = registered_number.waba
    for name, category in (("city_events", "MARKETING"), ("permit_reminder", "UTILITY")):
        TemplateFactory(agency=agency_a, waba=waba, name=name, category=category, components=BODY)
        simulator.add_template(waba.waba_id, name, category=category, components=BODY)
    return registered_number


def _use_marketing_messages_api(agency, on: bool = True) -> None:
    Agency.objects.filter(pk=agency.pk).update(marketing_messages_api=on)
    agency.refresh_from_db()


def _opted_in_citizens(agency, n: int) -> list[str]:
    for wa_id in CITIZENS[:n]:
        ConsentFactory(agency=agency, contact=ContactFactory(agency=agency, wa_id=wa_id))
    return CITIZENS[:n]


def _send(agency, to: str, template: b.Template, sender=None) -> Message:
    return services.send_message(
        agency=agency, sender=sender or services.Sender.system("test"), to=to, message=template
    )


def _deliver(message: Message) -> str:
    with agency_scope(message.agency_id):
        return delivery.deliver(message.pk)


def _endpoints(simulator, number) -> dict[str, str]:
    return {
        m["payload"]["template"]["name"]: m["endpoint"]
        for m in simulator.messages(number.phone_number_id)
    }


def test_with_the_setting_a_marketing_template_is_queued_for_the_marketing_route(
    agency_a, agency_templates
):
    _use_marketing_messages_api(agency_a)
    [citizen] = _opted_in_citizens(agency_a, 1)
    assert _send(agency_a, citizen, EVENTS).route == Message.Route.MARKETING_MESSAGES


def test_utility_templates_always_take_the_cloud_api(agency_a, agency_templates):
    _use_marketing_messages_api(agency_a)
    [citizen] = _opted_in_citizens(agency_a, 1)
    assert _send(agency_a, citizen, REMINDER).route == Message.Route.MESSAGES


def test_without_the_setting_marketing_templates_take_the_cloud_api(agency_a, agency_templates):
    [citizen] = _opted_in_citizens(agency_a, 1)
    assert _send(agency_a, citizen, EVENTS).route == Message.Route.MESSAGES


def test_deliver_sends_each_message_through_its_route(agency_a, agency_templates, simulator):
    _use_marketing_messages_api(agency_a)
    first, second = _opted_in_citizens(agency_a, 2)
    marketing, utility = _send(agency_a, first, EVENTS), _send(agency_a, second, REMINDER)
    assert _deliver(marketing) == "accepted" and _deliver(utility) == "accepted"
    assert _endpoints(simulator, agency_templates) == {
        "city_events": "marketing_messages",
        "permit_reminder": "messages",
    }


def test_the_route_is_kept_from_queue_time_when_the_setting_changes_later(
    agency_a, agency_templates, simulator
):
    _use_marketing_messages_api(agency_a)
    [citizen] = _opted_in_citizens(agency_a, 1)
    message = _send(agency_a, citizen, EVENTS)
    _use_marketing_messages_api(agency_a, on=False)
    _deliver(message)
    assert _endpoints(simulator, agency_templates) == {"city_events": "marketing_messages"}


def test_a_refusal_of_the_marketing_route_fails_the_message_with_plain_words(
    agency_a, agency_templates, simulator
):
    _use_marketing_messages_api(agency_a)
    simulator.register_number(agency_templates.phone_number_id, marketing_messages_onboarded=False)
    [citizen] = _opted_in_citizens(agency_a, 1)
    message = _send(agency_a, citizen, EVENTS)
    assert _deliver(message) == "failed"
    with agency_scope(agency_a):
        failed = Message.objects.get(pk=message.pk)
        number_status = type(agency_templates).objects.get(pk=agency_templates.pk).status
    assert failed.error_code == 131055
    assert "Marketing Messages API" in failed.error_reason
    assert number_status == agency_templates.status  # not an auth error: still connected


@pytest.fixture
def _fresh_bulk_queue():
    delivery.redis_client().delete("bulk")
    yield
    delivery.redis_client().delete("bulk")


@pytest.mark.usefixtures("_fresh_bulk_queue")
def test_the_drain_sends_a_mixed_batch_each_through_its_route(
    agency_a, agency_templates, simulator
):
    simulator.configure(limits={"throughput_mps": 0})
    _use_marketing_messages_api(agency_a)
    campaign = services.Sender.campaign(campaign_id=11)
    citizens = _opted_in_citizens(agency_a, 4)
    queued = [
        _send(agency_a, wa_id, EVENTS if i % 2 == 0 else REMINDER, sender=campaign)
        for i, wa_id in enumerate(citizens)
    ]
    with agency_scope(agency_a):
        counts = delivery.drain_phone_number(agency_templates.pk, seconds=10)
        accepted = set(
            Message.objects.filter(status=Message.Status.ACCEPTED).values_list("pk", flat=True)
        )
    assert counts["accepted"] == 4 and accepted == {m.pk for m in queued}
    sent = simulator.messages(agency_templates.phone_number_id)
    routes = {(m["to"], m["payload"]["template"]["name"], m["endpoint"]) for m in sent}
    assert routes == {
        (citizens[0], "city_events", "marketing_messages"),
        (citizens[1], "permit_reminder", "messages"),
        (citizens[2], "city_events", "marketing_messages"),
        (citizens[3], "permit_reminder", "messages"),
    }


def test_the_template_category_decides_not_the_template_name(agency_a, agency_templates):
    """A template recategorised to MARKETING by Meta (category webhook) routes as marketing."""
    _use_marketing_messages_api(agency_a)
    with agency_scope(agency_a):
        MessageTemplate.objects.filter(name="permit_reminder").update(
            category=MessageTemplate.Category.MARKETING
        )
    [citizen] = _opted_in_citizens(agency_a, 1)
    assert _send(agency_a, citizen, REMINDER).route == Message.Route.MARKETING_MESSAGES
