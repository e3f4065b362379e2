"""The templates API in the authorization matrix (tests/api/matrix.py)."""

from __future__ import annotations

import pytest

from templates_mgr.models import MessageTemplate
from tenants.api.scopes import Scope
from tests.api.matrix import CASES, Endpoint, check
from tests.factories import PhoneNumberFactory, TemplateFactory

S = Scope.TEMPLATES_MANAGE


def a_template(agency) -> list[int]:
    return [TemplateFactory(agency=agency).pk]


def a_draft_breaking_metas_rules(agency) -> list[int]:
    draft = TemplateFactory(
        agency=agency,
        status=MessageTemplate.Status.DRAFT,
        components=[{"type": "BODY", "text": "Hello {{1}}"}],  # no sample: not submittable
    )
    return [draft.pk]


def templates(agency) -> list[int]:
    a_template(agency)
    return []


def new_draft(agency, args: list[int]) -> dict:
    PhoneNumberFactory(agency=agency)  # the agency's only WABA
    return {
        "name": f"notice_{len(args)}_{id(args) % 10_000}",
        "language": "en_US",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Your permit is ready."}],
    }


ENDPOINTS = [
    Endpoint("api-templates", "GET", S, target=templates),
    # Another agency's key has no WABA of its own (A's is not its): a 400 on waba_id.
    Endpoint("api-templates", "POST", S, body=new_draft, expect=201, wrong_agency=400),
    Endpoint("api-template", "GET", S, target=a_template),
    Endpoint("api-template", "PATCH", S, target=a_template, body=lambda a, x: {}),
    Endpoint("api-template", "DELETE", S, target=a_draft_breaking_metas_rules, expect=204),
    # The draft breaks Meta's rules: refused before any call to Meta, with the field.
    Endpoint("api-template-submit", "POST", S, target=a_draft_breaking_metas_rules, expect=400),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("case", CASES)
def test_authorization_matrix(client, agency_a, agency_b, endpoint, case):
    check(client, agency_a, agency_b, endpoint, case)
