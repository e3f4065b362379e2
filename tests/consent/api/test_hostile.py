"""Hostile and malformed requests to the contacts and consent API: a 4xx problem each
time, never a 500, and nothing changed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from messaging.models import Consent, Contact
from tenants.scoping import agency_scope
from tests.consent.api.conftest import send_json
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

LIST = reverse("api-contacts")
HUGE = 2**80


@pytest.fixture
def citizen(agency_a):
    return ContactFactory(agency=agency_a, wa_id="14155550100", profile_name="Ana")


def writes(citizen) -> list[tuple[str, str]]:
    return [
        ("post", LIST),
        ("patch", reverse("api-contact", args=[citizen.pk])),
        ("post", reverse("api-contact-consent", args=[citizen.pk])),
    ]


def nothing_changed(agency, citizen) -> None:
    with agency_scope(agency):
        assert Contact.objects.count() == 1
        assert Contact.objects.get(pk=citizen.pk).profile_name == "Ana"
        assert not Consent.objects.exists()


@pytest.mark.parametrize("raw", ['{"phone": ', "[]", '"text"', "null", "\x00\x01", "{" * 5000])
def test_a_body_that_is_not_a_json_object_is_a_400(client, writer, agency_a, citizen, raw):
    for method, url in writes(citizen):
        response = send_json(client, method, url, raw, writer)
        assert response.status_code == 400, (url, response.content)
    nothing_changed(agency_a, citizen)


def test_a_form_body_is_a_415(client, writer, agency_a, citizen):
    for method, url in writes(citizen):
        response = getattr(client, method)(
            url, "phone=1", content_type="application/x-www-form-urlencoded", **writer
        )
        assert response.status_code == 415, url
    nothing_changed(agency_a, citizen)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"phone": ["+14155550123"]}, "/phone"),
        ({"phone": "+1 415 555 01"}, "/phone"),
        ({"phone": "x" * 10_000}, "/phone"),
        ({"phone": "+14155550123", "name": "n" * 201}, "/name"),
        ({"phone": "+14155550123", "name": {"first": "Ana"}}, "/name"),
        ({"phone": "+14155550123", "attributes": ["a"]}, "/attributes"),
        ({"phone": "+14155550123", "attributes": {"k": "v" * 501}}, "/attributes"),
        ({"phone": "+14155550123", "attributes": {"k": {"nested": 1}}}, "/attributes"),
        ({"phone": "+14155550123", "attributes": {f"k{i}": i for i in range(51)}}, "/attributes"),
        ({"phone": "+14155550123", "attributes": {"k" * 65: 1}}, "/attributes"),
        ({"phone": "+14155550123", "attributes": {"k": "a\u0000b"}}, "/attributes"),
        ({"phone": "+14155550123", "attributes": {"k\u0000": 1}}, "/attributes"),
        ({"phone": "+14155550123", "attributes": {"k": "\ud800"}}, "/attributes"),
        ({"phone": "+14155550123", "name": "a\u0000b"}, "/name"),
        ({"phone": "+1415555\u00000123"}, "/phone"),
    ],
)
def test_a_bad_new_contact_is_a_400_naming_the_field(
    client, writer, agency_a, citizen, body, pointer
):
    response = send_json(client, "post", LIST, body, writer)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["pointer"] == pointer
    nothing_changed(agency_a, citizen)


@pytest.mark.parametrize(
    "body",
    [
        {"status": "maybe"},
        {"status": None},
        {"status": ["opted_in"]},
        {},
        {"status": "opted_in", "topic": "Not A Slug!"},
        {"status": "opted_in", "topic": "t" * 65},
        {"status": "opted_in", "evidence": "e" * 2001},
        {"status": "opted_in", "evidence": {"form": 1}},
        {"status": "opted_in", "evidence": "a\u0000b"},
        {"status": "opted_in", "evidence": "\ud800"},
    ],
)
def test_a_bad_consent_is_a_400(client, writer, agency_a, citizen, body):
    url = reverse("api-contact-consent", args=[citizen.pk])
    response = send_json(client, "post", url, body, writer)
    assert response.status_code == 400, response.content
    nothing_changed(agency_a, citizen)


def test_an_empty_patch_is_a_400(client, writer, agency_a, citizen):
    url = reverse("api-contact", args=[citizen.pk])
    assert send_json(client, "patch", url, {}, writer).status_code == 400
    nothing_changed(agency_a, citizen)


@pytest.mark.parametrize("pk", [0, HUGE, 2**63 - 1])
@pytest.mark.parametrize("name", ["api-contact", "api-contact-consent"])
def test_an_id_beyond_any_row_is_a_404(client, writer, name, pk):
    assert client.get(reverse(name, args=[pk]), **writer).status_code == 404


def test_another_agencys_contact_is_not_found_and_not_changed(client, writer, agency_b):
    theirs = ContactFactory(agency=agency_b, profile_name="Theirs")
    detail = reverse("api-contact", args=[theirs.pk])
    consent = reverse("api-contact-consent", args=[theirs.pk])
    assert client.get(detail, **writer).status_code == 404
    assert send_json(client, "patch", detail, {"name": "Mine"}, writer).status_code == 404
    assert client.delete(detail, **writer).status_code == 404
    assert client.get(consent, **writer).status_code == 404
    assert send_json(client, "post", consent, {"status": "opted_out"}, writer).status_code == 404
    with agency_scope(agency_b):
        theirs.refresh_from_db()
        assert theirs.profile_name == "Theirs"
        assert not Consent.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"state": "maybe"},
        {"ordering": "wa_id"},
        {"topic": "Not A Slug!", "state": "opted_in"},
        {"q": "x" * 101},
        {"phone": "+1" + "5" * 50},
        {"cursor": "not-a-cursor"},
    ],
)
def test_a_bad_filter_is_a_400(client, reader, citizen, params):
    response = client.get(LIST, params, **reader)
    assert response.status_code == 400, response.content
    assert response.headers["Content-Type"] == "application/problem+json"


def test_a_huge_page_size_is_capped_not_refused(client, reader, citizen):
    response = client.get(LIST, {"page_size": HUGE}, **reader)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [citizen.pk]
