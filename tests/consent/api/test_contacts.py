"""The contacts API: list and search (a number in any format finds the one contact), create
(409 ``contact_exists`` naming the existing one), read with consent per topic, update, and
delete only for a contact with no records (409 ``record_held`` / ``contact_has_records``)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from messaging.models import Consent, Contact
from records.holds.services import place_hold
from records.selection import Selection
from tenants.scoping import agency_scope
from tests.api.helpers import ACTOR
from tests.consent.api.conftest import audit_of, send_json
from tests.consent.factories import TopicFactory
from tests.factories import ConsentFactory, ContactFactory, InboundMessageFactory

pytestmark = pytest.mark.django_db

LIST = reverse("api-contacts")
MARIA = "14155550123"  # valid for libphonenumber (555-01xx)


def detail_url(contact) -> str:
    return reverse("api-contact", args=[contact.pk])


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def maria(agency_a):
    return ContactFactory(agency=agency_a, wa_id=MARIA, profile_name="Maria Lopez")


# --- The list --------------------------------------------------------------------------


def test_the_list_is_newest_first_with_numbers_in_e164(client, reader, agency_a, maria):
    newer = ContactFactory(agency=agency_a, wa_id="14155550124")
    response = client.get(LIST, **reader)
    assert ids(response) == [newer.pk, maria.pk]
    assert response.json()["results"][1]["phone"] == "+14155550123"


@pytest.mark.parametrize(
    "written",
    ["+14155550123", "+1 (415) 555-0123", "415.555.0123", "(415) 555 0123", "0014155550123"],
)
def test_a_number_in_any_format_finds_the_contact(client, reader, agency_a, number, maria, written):
    ContactFactory(agency=agency_a, wa_id="14155550124")
    assert ids(client.get(LIST, {"phone": written}, **reader)) == [maria.pk]


def test_a_number_nobody_has_finds_nobody(client, reader, maria):
    assert ids(client.get(LIST, {"phone": "+1 415 555 0199"}, **reader)) == []


@pytest.mark.parametrize("written", ["12", "not a number", "+999 123", "+1 415 555 01234567"])
def test_an_invalid_number_in_the_search_is_a_400(client, reader, maria, written):
    response = client.get(LIST, {"phone": written}, **reader)
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "/phone"


def test_q_searches_names(client, reader, agency_a, maria):
    ContactFactory(agency=agency_a, profile_name="John Smith")
    assert ids(client.get(LIST, {"q": "lopez"}, **reader)) == [maria.pk]


def test_the_state_filter_reads_consent_as_the_policy_does(client, reader, agency_a, maria):
    alerts = TopicFactory(agency=agency_a, slug="alerts")
    general = ContactFactory(agency=agency_a)
    ConsentFactory(agency=agency_a, contact=general)  # opted in to everything
    out = ContactFactory(agency=agency_a)
    ConsentFactory(agency=agency_a, contact=out, topic=alerts.slug)
    ConsentFactory(agency=agency_a, contact=out, status=Consent.Status.OPTED_OUT)
    params = {"topic": "alerts"}
    assert ids(client.get(LIST, {**params, "state": "opted_in"}, **reader)) == [general.pk]
    assert ids(client.get(LIST, {**params, "state": "opted_out"}, **reader)) == [out.pk]
    assert ids(client.get(LIST, {**params, "state": "none"}, **reader)) == [maria.pk]


def test_ordering_by_name(client, reader, agency_a, maria):
    ana = ContactFactory(agency=agency_a, profile_name="Ana Ruiz")
    zoe = ContactFactory(agency=agency_a, profile_name="Zoe Ng")
    assert ids(client.get(LIST, {"ordering": "name"}, **reader)) == [ana.pk, maria.pk, zoe.pk]
    assert ids(client.get(LIST, {"ordering": "-name"}, **reader)) == [zoe.pk, maria.pk, ana.pk]


def test_the_cursor_walks_every_contact_once(client, reader, agency_a):
    made = {ContactFactory(agency=agency_a).pk for _ in range(5)}
    seen: list[int] = []
    url = f"{LIST}?page_size=2&ordering=name"
    while url:
        response = client.get(url, **reader)
        seen += ids(response)
        url = response.json()["next"]
    assert sorted(seen) == sorted(made)


# --- Create ----------------------------------------------------------------------------


def test_create_reads_the_number_and_answers_in_e164(client, writer, agency_a, number):
    body = {"phone": "(415) 555-0123", "name": "Maria", "attributes": {"case": "C-1"}}
    response = send_json(client, "post", LIST, body, writer)
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["phone"], data["wa_id"], data["name"]) == ("+14155550123", MARIA, "Maria")
    assert data["attributes"] == {"case": "C-1"}
    assert data["consent"] == [
        {"topic": "", "name": "All messages from the agency", "state": "none"}
    ]
    [event] = audit_of(agency_a, "contact.created")
    assert (event.actor_type, event.object_id) == ("api", str(data["id"]))


def test_creating_a_number_the_agency_has_is_a_409_naming_the_contact(client, writer, maria):
    response = send_json(client, "post", LIST, {"phone": "+1 415 555 0123"}, writer)
    assert response.status_code == 409
    assert response.json()["code"] == "contact_exists"
    assert response.json()["context"] == {"contact": maria.pk}


def test_another_agency_may_have_the_same_number(client, agency_b, writer):
    ContactFactory(agency=agency_b, wa_id=MARIA)
    assert send_json(client, "post", LIST, {"phone": "+14155550123"}, writer).status_code == 201


def test_the_same_idempotency_key_creates_one_contact(client, writer, agency_a):
    body = {"phone": "+14155550123"}
    first = send_json(client, "post", LIST, body, writer, HTTP_IDEMPOTENCY_KEY="new-maria")
    again = send_json(client, "post", LIST, body, writer, HTTP_IDEMPOTENCY_KEY="new-maria")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    with agency_scope(agency_a):
        assert Contact.objects.count() == 1


# --- Read and update ---------------------------------------------------------------------


def test_a_contact_shows_their_consent_per_topic(client, reader, agency_a, maria):
    TopicFactory(agency=agency_a, slug="alerts", name="Alerts")
    ConsentFactory(agency=agency_a, contact=maria, topic="alerts")
    response = client.get(detail_url(maria), **reader)
    assert response.status_code == 200
    assert response.json()["consent"] == [
        {"topic": "", "name": "All messages from the agency", "state": "none"},
        {"topic": "alerts", "name": "Alerts", "state": "opted_in"},
    ]


def test_patch_renames_and_merges_attributes(client, writer, agency_a, maria):
    with agency_scope(agency_a):
        Contact.objects.filter(pk=maria.pk).update(attributes={"case": "C-1", "lang": "es"})
    body = {"name": "María López", "attributes": {"lang": None, "ward": 4}}
    response = send_json(client, "patch", detail_url(maria), body, writer)
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "María López"
    assert response.json()["attributes"] == {"case": "C-1", "ward": 4}
    [event] = audit_of(agency_a, "contact.updated")
    assert event.changes["attributes"] == ["lang", "ward"]


def test_a_patch_that_changes_nothing_records_nothing(client, writer, agency_a, maria):
    response = send_json(client, "patch", detail_url(maria), {"name": "Maria Lopez"}, writer)
    assert response.status_code == 200
    assert audit_of(agency_a, "contact.updated") == []


# --- Delete ------------------------------------------------------------------------------


def test_a_contact_without_records_is_deleted(client, writer, agency_a, maria):
    assert client.delete(detail_url(maria), **writer).status_code == 204
    with agency_scope(agency_a):
        assert not Contact.objects.filter(pk=maria.pk).exists()
    assert len(audit_of(agency_a, "contact.deleted")) == 1


def test_a_contact_with_a_conversation_is_not_deleted(client, writer, agency_a, maria):
    InboundMessageFactory(agency=agency_a, conversation__contact=maria)
    response = client.delete(detail_url(maria), **writer)
    assert response.status_code == 409
    assert response.json()["code"] == "contact_has_records"
    with agency_scope(agency_a):
        assert Contact.objects.filter(pk=maria.pk).exists()


def test_a_contact_with_a_consent_history_is_not_deleted(client, writer, agency_a, maria):
    ConsentFactory(agency=agency_a, contact=maria, status=Consent.Status.OPTED_OUT)
    response = client.delete(detail_url(maria), **writer)
    assert response.status_code == 409
    assert response.json()["code"] == "contact_has_records"
    with agency_scope(agency_a):
        assert Consent.objects.filter(contact=maria).count() == 1


def test_a_contact_under_legal_hold_is_refused_as_held(client, writer, agency_a, maria):
    message = InboundMessageFactory(agency=agency_a, conversation__contact=maria)
    place_hold(
        agency_a.pk,
        matter_id="M-2026-14",
        reason="Litigation",
        owner_id=None,
        selection=Selection(conversation_id=message.conversation_id),
        actor=ACTOR,
    )
    response = client.delete(detail_url(maria), **writer)
    assert response.status_code == 409
    assert response.json()["code"] == "record_held"
    assert response.json()["context"] == {"matters": ["M-2026-14"]}
