"""Fixtures of the consent tests: agency A's staff (tests.frontend) and its number."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import PhoneNumberFactory
from tests.frontend.conftest import (  # noqa: F401  (fixtures)
    admin_a,
    admin_client,
    agent_a,
    agent_client,
    client_for,
    make_member,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The opt-in page's rate limits live in the shared cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def number(agency_a):
    return PhoneNumberFactory(agency=agency_a, display_phone_number="+1 202 555 0100")
