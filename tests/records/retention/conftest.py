"""Retention tests: the stream's consumers as the records app registers them, and helpers."""

from __future__ import annotations

import pytest

from bsp.events import dispatch
from records.holds.consumers import holds_consumer
from tests.frontend.conftest import client_for, make_member  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def _holds_consumer_registered():
    """Until records.apps registers it (requests-keep.md), as it will be."""
    dispatch.register_consumer(holds_consumer)
    yield


def stream(agency) -> None:
    """What the dispatcher does after each commit: hand the new events to the consumers."""
    while dispatch.dispatch_agency(agency.pk):
        pass
