"""The webhook fixtures (a routable number, ``ingest``, ``deliver``) and a reader of the
agency's stream."""

from __future__ import annotations

import pytest

from bsp.events.models import DomainEvent
from tenants.scoping import system_scope
from tests.messaging.conftest import (  # noqa: F401  (sending fixtures)
    citizen,
    number,
    open_conversation,
    registered_number,
)
from tests.messaging.webhooks.conftest import (  # noqa: F401  (fixtures used here too)
    _fresh_caches,
    deliver,
    ingest,
    wa_number,
)


@pytest.fixture
def stream():
    """The agency's events so far, in sequence order: [(type, subject, payload)]."""

    def read(agency, *, after: int = 0) -> list[tuple[str, dict, dict]]:
        with system_scope():
            rows = DomainEvent.objects.filter(agency_id=agency.pk, sequence__gt=after)
            return [(e.type, e.subject, e.payload) for e in rows.order_by("sequence")]

    return read


@pytest.fixture
def stream_types(stream):
    def read(agency) -> list[str]:
        return [event[0] for event in stream(agency)]

    return read
