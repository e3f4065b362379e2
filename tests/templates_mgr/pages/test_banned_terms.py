"""The agency's banned terms: admins add and remove them; the pre-screen then flags them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from templates_mgr.models import BannedTerm
from tenants.scoping import agency_scope
from tests.templates_mgr.pages.factories import draft_template

pytestmark = pytest.mark.django_db
PAGE = reverse("templates_mgr:banned_terms")


def _terms(agency) -> list[str]:
    with agency_scope(agency):
        return list(BannedTerm.objects.values_list("term", flat=True))


def test_an_admin_adds_a_term_with_a_reason(admin_client, agency_a):
    response = admin_client.post(PAGE, {"term": "raffle", "note": "county policy 4.2"})

    assert response.status_code == 302
    assert _terms(agency_a) == ["raffle"]
    page = admin_client.get(PAGE).text
    assert "raffle" in page and "county policy 4.2" in page


def test_the_pre_screen_flags_a_banned_term(admin_client, agency_a, waba):
    admin_client.post(PAGE, {"term": "raffle"})
    body = [{"type": "BODY", "text": "Join the {{1}} raffle.", "example": {"body_text": [["x"]]}}]
    template = draft_template(agency_a, waba, components=body)

    page = admin_client.get(reverse("templates_mgr:submit", args=[template.pk])).text

    assert "<strong>Banned by your agency</strong>" in page


def test_a_blank_term_is_refused_next_to_the_field(admin_client, agency_a):
    response = admin_client.post(PAGE, {"term": "   "})

    assert response.status_code == 422
    assert 'id="id_term-error"' in response.text
    assert _terms(agency_a) == []


def test_a_duplicate_term_is_refused(admin_client, agency_a):
    admin_client.post(PAGE, {"term": "raffle"})

    response = admin_client.post(PAGE, {"term": "Raffle"})

    assert response.status_code == 422
    assert "already on the list" in response.text


def test_an_admin_removes_a_term(admin_client, agency_a):
    admin_client.post(PAGE, {"term": "raffle"})
    with agency_scope(agency_a):
        term = BannedTerm.objects.get()

    admin_client.post(reverse("templates_mgr:banned_term_delete", args=[term.pk]))

    assert _terms(agency_a) == []


def test_a_supervisor_cannot_edit_banned_terms(supervisor_client):
    assert supervisor_client.get(PAGE).status_code == 403
