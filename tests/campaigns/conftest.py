"""Fixtures of the campaign engine's tests."""

from __future__ import annotations

import pytest

from tests.campaigns.factories import number_with_tier, template


@pytest.fixture
def number(agency_a):
    return number_with_tier(agency_a)


@pytest.fixture
def utility(number):
    return template(number, "UTILITY")


@pytest.fixture
def marketing(number):
    return template(number, "MARKETING", name="spring_fair")
