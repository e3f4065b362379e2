"""A contact's consent through the API: the history (append-only, newest first), recording
an opt-in or opt-out through ``record_consent`` (source ``api``, one ``consent.changed``,
an opt-out effective at once for every later business-initiated send), and the topics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging import services as sending
from messaging.models import Consent, Message
from messaging.policy import Rule, SendRefused
from messaging.whatsapp import builders as b
from tenants.scoping import agency_scope
from tests.consent.api.conftest import events_of, send_json
from tests.consent.factories import TopicFactory, waiting_campaign_message
from tests.factories import ConsentFactory, ContactFactory, TemplateFactory

pytestmark = pytest.mark.django_db

CITIZEN = "14155550100"
NOTICE = b.Template("case_update", "en_US", body=[b.TextParam("Ana"), b.TextParam("C-42")])


@pytest.fixture
def citizen(agency_a):
    return ContactFactory(agency=agency_a, wa_id=CITIZEN)


def url(contact) -> str:
    return reverse("api-contact-consent", args=[contact.pk])


def record(client, auth, contact, body, **extra):
    return send_json(client, "post", url(contact), body, auth, **extra)


def template_send(agency):
    return sending.send_message(
        agency=agency, sender=sending.Sender.system("test"), to=CITIZEN, message=NOTICE
    )


# --- The history -------------------------------------------------------------------------


def test_the_history_is_newest_first_with_every_source(client, reader, agency_a, citizen):
    old = ConsentFactory(
        agency=agency_a,
        contact=citizen,
        source=Consent.Source.KEYWORD,
        recorded_at=timezone.now() - timedelta(days=3),
    )
    new = ConsentFactory(agency=agency_a, contact=citizen, status=Consent.Status.OPTED_OUT)
    response = client.get(url(citizen), **reader)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["id"], r["status"], r["source"]) for r in rows] == [
        (new.pk, "opted_out", "staff"),
        (old.pk, "opted_in", "keyword"),
    ]


def test_recording_appends_and_keeps_every_earlier_record(client, writer, agency_a, citizen):
    first = ConsentFactory(agency=agency_a, contact=citizen)
    record(client, writer, citizen, {"status": "opted_out", "evidence": "Phone call"})
    record(client, writer, citizen, {"status": "opted_in", "evidence": "Portal"})
    rows = client.get(url(citizen), **writer).json()["results"]
    assert [r["status"] for r in rows] == ["opted_in", "opted_out", "opted_in"]
    assert rows[-1]["id"] == first.pk


def test_the_history_cannot_be_changed_through_the_api(client, writer, agency_a, citizen):
    ConsentFactory(agency=agency_a, contact=citizen)
    for method in ("put", "patch", "delete"):
        # Refused before the view (no scope is declared for them: fail closed) or as 405.
        response = send_json(client, method, url(citizen), {}, writer)
        assert response.status_code in (403, 405), (method, response.content)
    with agency_scope(agency_a):
        assert Consent.objects.filter(contact=citizen).count() == 1


# --- Recording ----------------------------------------------------------------------------


def test_an_opt_in_is_recorded_with_source_api_and_the_new_state(client, writer, agency_a, citizen):
    TopicFactory(agency=agency_a, slug="alerts")
    response = record(
        client, writer, citizen, {"status": "opted_in", "topic": "alerts", "evidence": "Portal"}
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["state"] == "opted_in"
    assert (data["event"]["source"], data["event"]["topic"]) == ("api", "alerts")
    assert data["event"]["evidence"] == {"note": "Portal", "credential": "crm"}


def test_a_recorded_consent_publishes_one_consent_changed(client, writer, agency_a, citizen):
    response = record(client, writer, citizen, {"status": "opted_out"})
    [event] = events_of(agency_a, "consent.changed")
    assert event.subject == {"consent": response.json()["event"]["id"], "contact": citizen.pk}
    assert (event.payload["status"], event.payload["source"]) == ("opted_out", "api")


def test_an_opt_out_through_the_api_refuses_a_later_template(
    client, writer, agency_a, number, citizen
):
    TemplateFactory(agency=agency_a, waba=number.waba, name="case_update")
    ConsentFactory(agency=agency_a, contact=citizen, recorded_at=timezone.now() - timedelta(days=1))
    assert record(client, writer, citizen, {"status": "opted_out"}).json()["state"] == "opted_out"
    with pytest.raises(SendRefused) as refused:
        template_send(agency_a)
    assert refused.value.rule == Rule.OPTED_OUT


def test_an_opt_in_through_the_api_lets_a_template_go(client, writer, agency_a, number, citizen):
    TemplateFactory(agency=agency_a, waba=number.waba, name="case_update")
    record(client, writer, citizen, {"status": "opted_in"})
    assert template_send(agency_a).business_initiated is True


def test_an_opt_out_withdraws_the_messages_waiting_to_go(client, writer, agency_a, citizen):
    waiting = waiting_campaign_message(citizen)
    record(client, writer, citizen, {"status": "opted_out"})
    with agency_scope(agency_a):
        waiting.refresh_from_db()
    assert waiting.status == Message.Status.CANCELLED
    [withdrawn] = events_of(agency_a, "message.status")
    assert withdrawn.subject["message"] == waiting.pk


def test_a_topic_the_agency_does_not_have_is_a_400(client, writer, agency_a, citizen):
    response = record(client, writer, citizen, {"status": "opted_in", "topic": "lottery"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "/topic"
    with agency_scope(agency_a):
        assert not Consent.objects.exists()


def test_the_same_idempotency_key_records_once(client, writer, agency_a, citizen):
    body = {"status": "opted_out", "evidence": "Ticket 8812"}
    first = record(client, writer, citizen, body, HTTP_IDEMPOTENCY_KEY="stop-8812")
    again = record(client, writer, citizen, body, HTTP_IDEMPOTENCY_KEY="stop-8812")
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert len(events_of(agency_a, "consent.changed")) == 1


def test_the_same_key_with_another_body_is_a_409(client, writer, citizen):
    record(client, writer, citizen, {"status": "opted_out"}, HTTP_IDEMPOTENCY_KEY="k-1")
    response = record(client, writer, citizen, {"status": "opted_in"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"


# --- Topics ---------------------------------------------------------------------------------


def test_the_topics_are_listed_by_name(client, reader, agency_a, agency_b):
    roads = TopicFactory(agency=agency_a, slug="roads", name="Road closures", keywords=["ROADS"])
    alerts = TopicFactory(agency=agency_a, slug="alerts", name="Alerts")
    TopicFactory(agency=agency_b, slug="theirs")
    response = client.get(reverse("api-consent-topics"), **reader)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [alerts.pk, roads.pk]
    assert rows[1]["keywords"] == ["ROADS"]
