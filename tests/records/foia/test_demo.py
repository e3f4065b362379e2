"""The demo's request: a review set with decisions, a redaction, the automatic hold."""

from __future__ import annotations

import pytest

from records.foia import demo, redactions
from records.foia.models import RecordsRequest, RequestItem
from records.holds.selectors import held_message_ids
from tenants.scoping import agency_scope
from tests.factories import PhoneNumberFactory

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_a_request_with_a_review_set_and_redactions(agency_a):
    PhoneNumberFactory(agency=agency_a)
    request = demo.seed(agency_a)
    assert request is not None
    with agency_scope(agency_a):
        decisions = sorted(
            RequestItem.objects.filter(request=request).values_list("decision", flat=True)
        )
        built = redactions.for_request(request)
        held = set(held_message_ids(agency_a.pk))
    assert decisions == ["not_responsive", "responsive", "responsive"]
    assert sum(len(spans) for spans in built.text.values()) == 2  # the number, the name
    assert {s.code for spans in built.text.values() for s in spans} == {"(b)(6)"}
    assert len(held) == 2
    assert request.due_on is not None


def test_seeding_twice_returns_the_same_request(agency_a):
    PhoneNumberFactory(agency=agency_a)
    first = demo.seed(agency_a)
    assert demo.seed(agency_a) == first
    with agency_scope(agency_a):
        assert RecordsRequest.objects.count() == 1


def test_an_agency_without_a_number_gets_no_demo_request(agency_a):
    assert demo.seed(agency_a) is None
