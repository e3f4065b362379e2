"""API keys: the raw key appears once, on the page that created it."""

from __future__ import annotations

import re

from django.urls import reverse

from tenants.models import ApiCredential
from tenants.scoping import agency_scope
from tests.factories import ApiCredentialFactory


def test_a_new_key_is_shown_exactly_once(admin_client):
    response = admin_client.post(reverse("frontend:api_keys"), {"name": "Case system"})
    raw_key = re.search(r'value="(cr_[^"]+)"', response.text).group(1)
    assert response["Cache-Control"] == "no-store"
    assert raw_key not in admin_client.get(reverse("frontend:api_keys")).text


def test_the_list_shows_each_key_by_name_and_prefix(admin_client, agency_a):
    ApiCredentialFactory(agency=agency_a, name="Case system", prefix="abc123")
    page = admin_client.get(reverse("frontend:api_keys")).text
    assert "Case system" in page
    assert "cr_abc123_" in page


def test_revoking_a_key_marks_it_revoked(admin_client, agency_a):
    credential = ApiCredentialFactory(agency=agency_a)
    response = admin_client.post(
        reverse("frontend:revoke_api_key", args=[credential.pk]), follow=True
    )
    assert "Revoked" in response.text
    with agency_scope(agency_a):
        assert ApiCredential.objects.get(pk=credential.pk).revoked_at is not None


def test_revoking_is_post_only(admin_client, agency_a):
    credential = ApiCredentialFactory(agency=agency_a)
    url = reverse("frontend:revoke_api_key", args=[credential.pk])
    assert admin_client.get(url).status_code == 405


def test_a_key_without_a_name_is_refused(admin_client, agency_a):
    response = admin_client.post(reverse("frontend:api_keys"), {"name": ""})
    assert "This field is required." in response.text
    with agency_scope(agency_a):
        assert not ApiCredential.objects.exists()
