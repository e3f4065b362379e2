"""The campaigns API in the authorization matrix (tests/api/matrix.py)."""

from __future__ import annotations

import pytest

from tenants.api.scopes import Scope
from tests.api.matrix import CASES, Endpoint, check
from tests.campaigns.factories import campaign, number_with_tier, template

S = Scope.CAMPAIGNS_MANAGE


def a_draft(agency) -> list[int]:
    number = number_with_tier(agency)
    return [campaign(number, template(number)).pk]


def drafts(agency) -> list[int]:
    a_draft(agency)
    return []


def new_campaign(agency, args: list[int]) -> dict:
    number = number_with_tier(agency)
    return {"name": "Notices", "phone_number": number.pk, "template": template(number).pk}


ENDPOINTS = [
    Endpoint("api-campaigns", "GET", S, target=drafts),
    # Another agency's key names A's number: not one of its own, a 400 on the field.
    Endpoint("api-campaigns", "POST", S, body=new_campaign, expect=201, wrong_agency=400),
    Endpoint("api-campaign", "GET", S, target=a_draft),
    # Nobody in the audience: refused (the flow tests schedule real ones).
    Endpoint("api-campaign-schedule", "POST", S, target=a_draft, body=lambda a, x: {}, expect=422),
    Endpoint("api-campaign-pause", "POST", S, target=a_draft, expect=422),  # a draft
    Endpoint("api-campaign-resume", "POST", S, target=a_draft, expect=422),
    Endpoint("api-campaign-cancel", "POST", S, target=a_draft),
    Endpoint("api-campaign-recipients", "GET", S, target=a_draft),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("case", CASES)
def test_authorization_matrix(client, agency_a, agency_b, endpoint, case):
    check(client, agency_a, agency_b, endpoint, case)
