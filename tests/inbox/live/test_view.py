"""``GET /inbox/stream/`` in-process (Django's ASGI handler, through every middleware):
who may open it, what it answers, and that it streams only the session's agency."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient
from django.urls import reverse

from inbox.live import views
from tenants.middleware import SESSION_AGENCY_KEY
from tenants.permissions import Role
from tests.factories import MembershipFactory, UserFactory
from tests.inbox.live.conftest import next_frames

pytestmark = pytest.mark.django_db

URL = "/inbox/stream/"


def _client(user=None, **session) -> AsyncClient:
    client = AsyncClient()
    if user is not None:
        async_to_sync(client.aforce_login)(user)
        if session:
            store = client.session
            store.update(session)
            store.save()
    return client


def _get(client: AsyncClient, **extra):
    async def get():
        return await client.get(URL, **extra)

    return async_to_sync(get)()


def _body(response) -> AsyncGenerator[bytes, None]:
    """The streamed body (the test client's response type does not declare it)."""
    return response.streaming_content


def test_the_url_is_named_inbox_stream():
    assert reverse("inbox:stream") == URL


def test_an_anonymous_visitor_is_refused_with_401():
    response = _get(_client())
    assert response.status_code == 401
    assert response["Cache-Control"] == "no-store"


def test_a_user_of_no_agency_is_refused_with_403(db):
    assert _get(_client(UserFactory())).status_code == 403


def test_a_role_without_view_inbox_is_refused_with_403(agency_a):
    integrator = MembershipFactory(agency=agency_a, role=Role.INTEGRATOR)
    assert _get(_client(integrator.user)).status_code == 403


def test_a_post_is_refused(agent):
    client = _client(agent.user)

    async def post():
        return await client.post(URL)

    assert async_to_sync(post)().status_code == 405


def test_an_agent_gets_an_event_stream_that_no_cache_or_proxy_keeps(agent):
    client = _client(agent.user)

    async def scenario():
        response = await client.get(URL)
        stream = _body(response)
        first = await anext(stream)
        await stream.aclose()
        return response, first

    response, first = async_to_sync(scenario)()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Accel-Buffering"] == "no"
    assert first.startswith(b"retry: ")


def _events_seen(client: AsyncClient, count: int, query: str = "", **extra) -> list:
    async def scenario():
        response = await client.get(f"{URL}?{query}", **extra)
        stream = (chunk.decode() async for chunk in _body(response))
        frames = await next_frames(stream, count)
        await stream.aclose()
        return frames

    return async_to_sync(scenario)()


def test_the_stream_carries_only_the_sessions_agency_even_if_it_names_another(
    agent, agency_b, publish
):
    publish(agency_b, conversation=777)
    publish(agent.agency, conversation=1)
    # The session names agency B, of which the agent is no member: the middleware falls
    # back to their own agency.
    client = _client(agent.user, **{SESSION_AGENCY_KEY: agency_b.pk})
    [frame] = _events_seen(client, 1, headers={"Last-Event-ID": "0"})
    assert frame.data["agency"] == agent.agency_id
    assert frame.data["subject"] == {"conversation": 1}


def test_last_event_id_wins_over_the_after_parameter(agent, publish):
    for n in range(3):
        publish(agent.agency, conversation=n)
    [frame] = _events_seen(_client(agent.user), 1, headers={"Last-Event-ID": "2"}, query="after=0")
    assert frame.id == 3


def test_the_after_parameter_replays_from_the_pages_own_state(agent, publish):
    for n in range(3):
        publish(agent.agency, conversation=n)
    assert [f.id for f in _events_seen(_client(agent.user), 2, query="after=1")] == [2, 3]


@pytest.mark.parametrize(
    "hostile",
    [
        "-1",
        "abc",
        "1e9",
        "9" * 40,
        "١٢".encode().decode("latin-1"),  # Arabic-Indic digits, as the bytes arrive
        "\x00",
        "0x10",
        "",
        "3; DROP TABLE",
    ],
)
def test_a_hostile_last_event_id_never_fails_the_stream(agent, publish, hostile):
    publish(agent.agency)
    client = _client(agent.user)

    async def scenario():
        response = await client.get(URL, headers={"Last-Event-ID": hostile})
        stream = _body(response)
        chunks = [await anext(stream), await anext(stream)]
        await stream.aclose()
        return response.status_code, chunks

    status, chunks = async_to_sync(scenario)()
    assert status == 200
    assert chunks[1].startswith(b"event: hello")


def test_an_eleventh_stream_of_the_same_user_is_refused_with_429(agent):
    slots = [views.slots.acquire(agent.user_id) or "" for _ in range(views.slots.cap)]
    try:
        response = _get(_client(agent.user))
        assert response.status_code == 429
        assert response["Retry-After"] == "30"
    finally:
        for slot in slots:
            views.slots.release(agent.user_id, slot)


def test_a_closed_stream_gives_its_slot_back(agent):
    client = _client(agent.user)

    async def scenario():
        response = await client.get(URL)
        stream = _body(response)
        await anext(stream)
        during = await sync_to_async(views.slots.held)(agent.user_id)
        await stream.aclose()
        return during

    assert async_to_sync(scenario)() == 1
    assert views.slots.held(agent.user_id) == 0
