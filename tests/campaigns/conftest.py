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


@pytest.fixture
def registered(number, simulator, settings):
    """The number, known to the simulator (same token and WABA), which accepts everything."""
    from tenants.scoping import agency_scope

    settings.GRAPH_API_BASE_URL = simulator.base_url
    settings.GRAPH_API_VERSION = "v23.0"
    simulator.configure(limits={"enforce_window": False, "throughput_mps": 0, "pair_burst": 0})
    with agency_scope(number.agency_id):
        simulator.register_number(
            number.phone_number_id,
            display_phone_number="15550100001",
            access_token=number.bearer_token(),
            waba_id=number.waba.waba_id,
        )
    return number


@pytest.fixture
def sim_utility(registered, utility, simulator):
    """The utility template, approved at the simulator too (it checks templates it is sent)."""
    simulator.add_template(
        registered.waba.waba_id,
        utility.name,
        language=utility.language,
        category=utility.category,
        components=utility.components,
    )
    return utility
