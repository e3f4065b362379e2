"""Cross-agency isolation of the REST API: another agency's object id is simply not found."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from records.audit import Actor, record_event
from tenants import services
from tenants.permissions import Role
from tests.factories import MembershipFactory, PhoneNumberFactory, UserFactory

API_PREFIX = "api/v1/"


def _objects_of(agency) -> dict[str, int]:
    """One object per detail endpoint, keyed by URL name."""
    return {
        "api-member": MembershipFactory(agency=agency).pk,
        "api-phone-number": PhoneNumberFactory(agency=agency).pk,
        "api-audit-event": record_event(
            agency_id=agency.pk, actor=Actor.system("test"), action="test.event"
        ).pk,
    }


def _api_url_names_taking_an_id() -> set[str]:
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif (
                isinstance(p, URLPattern)
                and (prefix + str(p.pattern)).startswith(API_PREFIX)
                and p.pattern.converters
            ):
                yield p.name

    return set(walk(get_resolver().url_patterns))


DETAIL_ENDPOINTS = ["api-member", "api-phone-number", "api-audit-event"]


def test_every_api_endpoint_that_takes_an_id_is_in_an_authorization_matrix(db):
    """The matrices (tests/**/test_api_matrix.py) ask for agency A's objects with agency B's
    key and expect 404; this file checks the staff-session side for the shared ones."""
    from tests.api.test_matrix_complete import listed_operations

    in_a_matrix = {name for name, _ in listed_operations()}
    assert _api_url_names_taking_an_id() <= in_a_matrix
    assert set(DETAIL_ENDPOINTS) <= _api_url_names_taking_an_id()


@pytest.fixture
def api_client_of_a(client, agency_a):
    _, raw_key = services.create_api_credential(
        actor=Actor.system("test"), agency=agency_a, created_by=None, name="test"
    )
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw_key}"
    return client


@pytest.fixture
def admin_session_of_a(client, agency_a):
    from allauth.mfa.models import Authenticator

    user = UserFactory()
    MembershipFactory(agency=agency_a, user=user, role=Role.AGENCY_ADMIN)
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", DETAIL_ENDPOINTS)
def test_an_admin_session_gets_404_for_another_agency_object(
    name, admin_session_of_a, agency_a, agency_b
):
    from django.urls import reverse

    own, foreign = _objects_of(agency_a)[name], _objects_of(agency_b)[name]
    assert admin_session_of_a.get(reverse(name, args=[own])).status_code == 200
    assert admin_session_of_a.get(reverse(name, args=[foreign])).status_code == 404


def test_an_api_key_gets_404_for_another_agency_phone_number(api_client_of_a, agency_a, agency_b):
    from django.urls import reverse

    own = PhoneNumberFactory(agency=agency_a).pk
    foreign = PhoneNumberFactory(agency=agency_b).pk
    assert api_client_of_a.get(reverse("api-phone-number", args=[own])).status_code == 200
    assert api_client_of_a.get(reverse("api-phone-number", args=[foreign])).status_code == 404


def test_list_endpoints_show_only_the_current_agency(admin_session_of_a, agency_a, agency_b):
    PhoneNumberFactory(agency=agency_a, phone_number_id="111")
    PhoneNumberFactory(agency=agency_b, phone_number_id="222")
    body = admin_session_of_a.get("/api/v1/phone-numbers/").json()
    assert [row["phone_number_id"] for row in body["results"]] == ["111"]
