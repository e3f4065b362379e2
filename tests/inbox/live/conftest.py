"""Fixtures for the live updates: members, publishing events, reading a stream's frames."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from django.db import transaction

from bsp import events
from bsp.events import dispatch
from bsp.events.types import MESSAGE_RECEIVED
from tenants.models import Membership
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import AgencyFactory, MembershipFactory


@pytest.fixture
def agency_a(db):
    """Agency A with an id of its own: Redis pub/sub channels are shared by every database
    of a Redis server, so other test sessions' agency 1 must not be ours."""
    return AgencyFactory(id=_unique_id(), name="Agency A", slug="agency-a")


@pytest.fixture
def agency_b(db):
    return AgencyFactory(id=_unique_id(), name="Agency B", slug="agency-b")


def _unique_id() -> int:
    return 10_000_000 + secrets.randbelow(10**9)


@pytest.fixture
def agent(agency_a) -> Membership:
    return MembershipFactory(agency=agency_a, role=Role.AGENT)


@pytest.fixture
def publish() -> Callable[..., None]:
    """Publish one event for ``agency`` in a transaction, as a service does."""

    def publish(agency, type: str = MESSAGE_RECEIVED, **subject: int) -> None:
        with agency_scope(agency), transaction.atomic():
            events.publish(
                agency_id=agency.pk,
                type=type,
                subject=subject or {"message": 1},
                payload={"wamid": "wamid.test"},
            )

    return publish


@pytest.fixture
def dispatched() -> Callable[[], int]:
    """What the events worker does after a commit: one dispatcher pass."""
    return dispatch.dispatch_pending


@dataclass
class Frame:
    """One parsed SSE frame (an event, a comment or a retry hint)."""

    event: str | None = None
    id: int | None = None
    data: dict | None = None
    comment: str | None = None
    retry: int | None = None


def parse(text: str) -> Frame:
    frame = Frame()
    for line in text.strip("\n").split("\n"):
        field, _, value = line.partition(": ")
        if field == "":
            frame.comment = value
        elif field == "id":
            frame.id = int(value)
        elif field == "event":
            frame.event = value
        elif field == "data":
            frame.data = json.loads(value)
        elif field.startswith("retry"):
            frame.retry = int(line.split(":", 1)[1])
    return frame


async def next_frames(
    stream: AsyncIterator[str], count: int, *, timeout: float = 5.0, kind: str = "event"
) -> list[Frame]:
    """The next ``count`` frames of ``kind`` ("event": named events other than hello,
    "comment", or "any"), skipping the others; fails after ``timeout`` seconds."""
    found: list[Frame] = []
    async with asyncio.timeout(timeout):
        while len(found) < count:
            frame = parse(await anext(stream))
            if (
                kind == "any"
                or (kind == "event" and frame.event not in (None, "hello"))
                or (kind == "comment" and frame.comment is not None)
            ):
                found.append(frame)
    return found
