"""End to end with real processes: gunicorn (ASGI, uvicorn worker) streaming to an SSE
client, a Celery worker running the events dispatcher, Redis; and the same without Redis,
the web process polling the event table in PostgreSQL."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import Client

from bsp import events
from bsp.events import dispatch
from bsp.events.models import EventCursor
from bsp.events.types import MESSAGE_RECEIVED
from tenants.middleware import SESSION_AGENCY_KEY
from tenants.permissions import Role
from tenants.scoping import agency_scope
from tests.factories import MembershipFactory
from tests.inbox.live.sse_client import SseClient
from tests.processes import django_env, free_port, start_web, start_worker, stop, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _session_cookie(membership) -> dict[str, str]:
    client = Client()
    client.force_login(membership.user)
    session = client.session
    session[SESSION_AGENCY_KEY] = membership.agency_id
    session.save()
    return {"sessionid": session.session_key or ""}


def _publish_message_received(agency, message: int) -> float:
    """Commit one event, as an inbound webhook's processing does; when it committed."""
    with agency_scope(agency), transaction.atomic():
        events.publish(
            agency_id=agency.pk,
            type=MESSAGE_RECEIVED,
            subject={"message": message, "conversation": 1},
            payload={"wamid": f"wamid.e2e-{message}", "type": "text"},
        )
    return time.monotonic()


def _dispatched_through(agency) -> int:
    with agency_scope(agency):
        cursor = EventCursor.objects.filter(agency_id=agency.pk)
        return cursor.values_list("dispatched_through", flat=True).first() or 0


@pytest.fixture
def member(agency_a):
    return MembershipFactory(agency=agency_a, role=Role.AGENT)


@pytest.fixture
def with_redis(tmp_path):
    env = django_env(DJANGO_SETTINGS_MODULE="tests.inbox.live.process_settings")
    port = free_port()
    with (tmp_path / "web.log").open("w") as web_log:
        web = start_web(port, env, web_log)
    with (tmp_path / "worker.log").open("w") as worker_log:
        worker = start_worker("events", env, output=worker_log, loglevel="INFO")
    yield f"http://127.0.0.1:{port}"
    stop(worker)
    stop(web)


@pytest.fixture
def without_redis(tmp_path):
    """The web process as the demo runs it (no REDIS_URL): the stream polls the table."""
    env = django_env(REDIS_URL="", BSP_VAR_DIR=str(tmp_path))
    port = free_port()
    web = start_web(port, env)
    yield f"http://127.0.0.1:{port}"
    stop(web)


def test_an_event_published_in_a_transaction_reaches_an_open_stream_within_a_second(
    member, with_redis
):
    with SseClient(f"{with_redis}/inbox/stream/", cookies=_session_cookie(member)) as client:
        assert client.status == 200
        assert client.content_type.startswith("text/event-stream")
        client.wait_for_hello()
        # The worker is up (it has dispatched one) and the stream is subscribed and live.
        _publish_message_received(member.agency, 10)
        client.next_event(timeout=60)
        wait_for(lambda: _dispatched_through(member.agency) >= 1, timeout=60)
        committed = _publish_message_received(member.agency, 11)
        arrival = client.next_event()
    assert arrival.frame.event == "message.received"
    assert arrival.frame.data
    assert arrival.frame.data["subject"] == {"message": 11, "conversation": 1}
    assert arrival.at - committed < 1.0


def test_a_reconnecting_client_gets_the_events_it_missed_then_live_ones(member, with_redis):
    cookies = _session_cookie(member)
    _publish_message_received(member.agency, 1)
    _publish_message_received(member.agency, 2)
    url = f"{with_redis}/inbox/stream/"
    with SseClient(url, cookies=cookies, headers={"Last-Event-ID": "1"}) as client:
        replayed = client.next_event()
        _publish_message_received(member.agency, 3)
        live = client.next_event()
    assert (replayed.frame.id, live.frame.id) == (2, 3)


def test_without_redis_the_stream_polls_the_table_and_still_delivers_within_a_second(
    member, without_redis
):
    with SseClient(f"{without_redis}/inbox/stream/", cookies=_session_cookie(member)) as client:
        assert client.status == 200
        client.wait_for_hello()
        time.sleep(0.5)
        committed = _publish_message_received(member.agency, 21)
        arrival = client.next_event()
    assert arrival.frame.data
    assert arrival.frame.data["subject"]["message"] == 21
    assert arrival.at - committed < 1.0


def test_a_non_member_gets_403_from_the_real_server(agency_b, member, with_redis):
    outsider = MembershipFactory(agency=agency_b, role=Role.INTEGRATOR)
    with SseClient(f"{with_redis}/inbox/stream/", cookies=_session_cookie(outsider)) as client:
        assert client.status == 403


def test_signing_out_ends_an_open_stream_with_the_reason(member, with_redis):
    cookies = _session_cookie(member)
    with SseClient(f"{with_redis}/inbox/stream/", cookies=cookies) as client:
        client.wait_for_hello()
        Session.objects.filter(session_key=cookies["sessionid"]).delete()  # signed out
        closing = client.next_event(timeout=15)
    assert (closing.frame.event, closing.frame.data) == ("close", {"reason": "signed_out"})


def test_a_client_that_leaves_leaves_no_subscription_behind(member, with_redis):
    channel = dispatch.channel(member.agency_id).encode()
    client = redis.Redis.from_url(settings.REDIS_URL)
    with SseClient(f"{with_redis}/inbox/stream/", cookies=_session_cookie(member)) as stream:
        stream.wait_for_hello()
        wait_for(lambda: dict(client.pubsub_numsub(channel))[channel] == 1, timeout=10)
    # Generous: under the whole suite's load (two xdist workers, Chromium) the server once
    # took over 10 s to notice the disconnect; alone it takes well under a second.
    wait_for(lambda: dict(client.pubsub_numsub(channel))[channel] == 0, timeout=30)
