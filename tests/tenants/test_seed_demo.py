"""``seed_demo`` as a newcomer meets it: Demo County approved to go live (its citizens are
the simulator's), and a test API key printed once that works at once."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from tenants.models import Agency

pytestmark = pytest.mark.django_db(transaction=True)


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_agency_is_live_and_its_printed_test_key_reads_the_api(client):
    printed = _seed()

    key = re.search(r"API key \(test\)\s+(cr_\S+)", printed)
    assert key is not None, printed
    agency = Agency.objects.get(slug="demo-county")
    assert agency.live_approved
    response = client.get("/api/v1/credential", HTTP_AUTHORIZATION=f"Bearer {key.group(1)}")
    assert response.status_code == 200
    assert response.json()["kind"] == "test"
    assert "messages:send" in response.json()["scopes"]


def test_a_second_seed_prints_no_key(client):
    _seed()
    assert "API key" not in _seed()
