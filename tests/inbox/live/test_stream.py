"""The stream generator against the real sources: the event table (PostgreSQL) and the
agency's Redis channel fed by the real dispatcher.

Each test runs its coroutine under ``async_to_sync``: the stream's database reads then run
in the test's own thread, inside the test's transaction."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings

from bsp.events import dispatch
from bsp.events.types import CONVERSATION_CREATED, MESSAGE_STATUS, PHONE_NUMBER_CHANGED
from inbox.live.sources import (
    PollingSource,
    RedisSource,
    last_sequence,
    last_sequence_async,
    read_events_async,
)
from inbox.live.stream import Timing, event_stream, forwarded_types
from tenants.scoping import agency_scope
from tests.inbox.live.conftest import next_frames, parse

pytestmark = pytest.mark.django_db

FAST = Timing(heartbeat=30, recheck=30, poll=0.02, retry_ms=1500, replay_max=50, batch=3)
# A keepalive soon after the stream starts following: proof that it has subscribed.
TICKING = Timing(heartbeat=0.05, recheck=30, poll=0.02)


def _pending(agency, *, after: int) -> list[tuple[int, str]]:
    """The dispatcher's messages for the agency's events after ``after``."""
    with agency_scope(agency):
        return dispatch._pending(agency.pk, after, 10)


async def _allowed() -> str | None:
    return None


async def _stream(
    agency,
    *,
    resume_after,
    source=None,
    timing=FAST,
    still_allowed=_allowed,
    latest=None,
    conversation=None,
) -> AsyncGenerator[str, None]:
    """What the view does: the latest sequence, then the stream."""
    if latest is None:
        latest = await last_sequence_async(agency.pk)
    return event_stream(
        agency_id=agency.pk,
        resume_after=resume_after,
        latest=latest,
        source=source or PollingSource(agency.pk, interval=timing.poll, batch=timing.batch),
        read_events=read_events_async,
        still_allowed=still_allowed,
        timing=timing,
        conversation=conversation,
    )


def test_a_stream_opens_with_a_retry_hint_and_the_types_it_forwards(agency_a):
    async def scenario():
        stream = await _stream(agency_a, resume_after=None)
        retry, hello = await next_frames(stream, 2, kind="any")
        await stream.aclose()
        return retry, hello

    retry, hello = async_to_sync(scenario)()
    assert retry.retry == 1500
    assert hello.event == "hello"
    assert hello.data == {"types": forwarded_types()}
    assert "message.received" in hello.data["types"]
    assert "phone_number.changed" not in hello.data["types"]


def test_a_reconnecting_client_gets_what_it_missed_then_live_events(agency_a, publish):
    for _ in range(5):
        publish(agency_a)  # 1..5; the client saw 2

    async def scenario():
        stream = await _stream(agency_a, resume_after=2)
        replayed = await next_frames(stream, 3)  # three table reads of batch 3 and less
        await sync_to_async(publish)(agency_a, CONVERSATION_CREATED)
        [live] = await next_frames(stream, 1)
        await stream.aclose()
        return replayed, live

    replayed, live = async_to_sync(scenario)()
    assert [f.id for f in replayed] == [3, 4, 5]
    assert (live.id, live.event) == (6, "conversation.created")
    assert live.data["sequence"] == 6
    assert live.data["agency"] == agency_a.pk
    assert live.data["subject"] == {"message": 1}


def test_a_fresh_client_gets_only_what_happens_after_it_connected(agency_a, publish):
    publish(agency_a)

    async def scenario():
        stream = await _stream(agency_a, resume_after=None)
        await next_frames(stream, 2, kind="any")  # retry, hello
        await sync_to_async(publish)(agency_a, CONVERSATION_CREATED)
        [frame] = await next_frames(stream, 1)
        await stream.aclose()
        return frame

    assert async_to_sync(scenario)().id == 2


def test_an_event_committed_between_opening_and_subscribing_is_not_lost(agency_a, publish):
    """The view reads the latest sequence, then the stream subscribes: whatever committed
    in between comes from the table."""
    latest = last_sequence(agency_a.pk)
    publish(agency_a)

    async def scenario():
        source = RedisSource(agency_a.pk, url=settings.REDIS_URL)
        stream = await _stream(agency_a, resume_after=None, latest=latest, source=source)
        [frame] = await next_frames(stream, 1)
        await stream.aclose()
        return frame

    assert async_to_sync(scenario)().id == 1


def test_events_both_replayed_and_published_on_redis_are_sent_once(agency_a, publish, dispatched):
    for _ in range(3):
        publish(agency_a)  # committed, not yet dispatched

    async def scenario():
        source = RedisSource(agency_a.pk, url=settings.REDIS_URL)
        stream = await _stream(agency_a, resume_after=0, source=source)
        replayed = await next_frames(stream, 3)
        await sync_to_async(dispatched)()  # 1..3 arrive again, on the channel
        await sync_to_async(publish)(agency_a)
        await sync_to_async(dispatched)()
        [live] = await next_frames(stream, 1)
        await stream.aclose()
        return replayed, live

    replayed, live = async_to_sync(scenario)()
    assert [f.id for f in replayed] == [1, 2, 3]
    assert live.id == 4


def test_a_message_redis_dropped_is_filled_from_the_table_in_order(agency_a, publish):
    async def scenario():
        source = RedisSource(agency_a.pk, url=settings.REDIS_URL)
        stream = await _stream(agency_a, resume_after=None, source=source, timing=TICKING)
        await next_frames(stream, 1, kind="comment")  # subscribed, replayed, following
        await sync_to_async(publish)(agency_a)
        await sync_to_async(publish)(agency_a, CONVERSATION_CREATED)
        # Only event 2 reaches the channel (1 was lost on the way).
        [(_, second)] = await sync_to_async(_pending)(agency_a, after=1)
        await sync_to_async(dispatch.redis_channel)(agency_a.pk, [second])
        frames = await next_frames(stream, 2)
        await stream.aclose()
        return frames

    frames = async_to_sync(scenario)()
    assert [(f.id, f.event) for f in frames] == [
        (1, "message.received"),
        (2, "conversation.created"),
    ]


def test_a_denied_type_is_not_sent_but_the_stream_moves_past_it(agency_a, publish):
    publish(agency_a, PHONE_NUMBER_CHANGED, phone_number=1)
    publish(agency_a)

    async def scenario():
        stream = await _stream(agency_a, resume_after=0)
        [frame] = await next_frames(stream, 1)
        await stream.aclose()
        return frame

    assert async_to_sync(scenario)().id == 2


def test_an_idle_stream_sends_keepalive_comments(agency_a):
    timing = Timing(heartbeat=0.05, recheck=30, poll=0.02)

    async def scenario():
        stream = await _stream(agency_a, resume_after=None, timing=timing)
        frames = await next_frames(stream, 2, kind="comment", timeout=2)
        await stream.aclose()
        return frames

    assert [f.comment for f in async_to_sync(scenario)()] == ["keepalive", "keepalive"]


def test_the_stream_closes_with_the_reason_when_access_is_withdrawn(agency_a):
    timing = Timing(heartbeat=30, recheck=0.05, poll=0.02)
    checks: list[str] = []

    async def revoked() -> str | None:
        checks.append("checked")
        return "forbidden"

    async def scenario():
        stream = await _stream(agency_a, resume_after=None, timing=timing, still_allowed=revoked)
        frames = [parse(text) async for text in stream]  # ends by itself
        return frames

    frames = async_to_sync(scenario)()
    assert (frames[-1].event, frames[-1].data) == ("close", {"reason": "forbidden"})
    assert checks == ["checked"]


@pytest.mark.parametrize("resume_after", [10**17, 99])
def test_a_resume_point_beyond_the_latest_event_starts_from_the_latest(
    agency_a, publish, resume_after
):
    publish(agency_a)

    async def scenario():
        stream = await _stream(agency_a, resume_after=resume_after)
        await next_frames(stream, 2, kind="any")
        await sync_to_async(publish)(agency_a)
        [frame] = await next_frames(stream, 1)
        await stream.aclose()
        return frame

    assert async_to_sync(scenario)().id == 2


def test_a_client_too_far_behind_is_told_to_resync_instead_of_replaying(agency_a, publish):
    for _ in range(FAST.replay_max + 2):
        publish(agency_a)

    async def scenario():
        stream = await _stream(agency_a, resume_after=0)
        [frame] = await next_frames(stream, 1)
        await sync_to_async(publish)(agency_a)
        [live] = await next_frames(stream, 1)
        await stream.aclose()
        return frame, live

    resync, live = async_to_sync(scenario)()
    assert (resync.event, resync.data) == (
        "resync",
        {"reason": "too_far_behind", "sequence": FAST.replay_max + 2},
    )
    assert live.id == FAST.replay_max + 3


def test_leaving_the_stream_unsubscribes_from_the_channel(agency_a):
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    channel = dispatch.channel(agency_a.pk)

    async def scenario():
        source = RedisSource(agency_a.pk, url=settings.REDIS_URL)
        stream = await _stream(agency_a, resume_after=None, source=source, timing=TICKING)
        await next_frames(stream, 1, kind="comment")  # subscribed, following
        subscribed = dict(await sync_to_async(client.pubsub_numsub)(channel))
        await stream.aclose()
        return subscribed

    during = async_to_sync(scenario)()
    assert during[channel.encode()] == 1
    assert dict(client.pubsub_numsub(channel))[channel.encode()] == 0


def test_a_frame_carries_the_event_as_one_line_of_json(agency_a, publish):
    publish(agency_a)

    async def scenario():
        stream = await _stream(agency_a, resume_after=0)
        await next_frames(stream, 2, kind="any")
        text = await anext(stream)
        await stream.aclose()
        return text

    text = async_to_sync(scenario)()
    lines = text.split("\n")
    assert lines[:2] == ["id: 1", "event: message.received"]
    assert lines[2].startswith("data: ") and lines[3:] == ["", ""]
    assert json.loads(lines[2].removeprefix("data: "))["type"] == "message.received"


def test_a_message_the_table_does_not_have_is_dropped_without_skipping_ours(agency_a, publish):
    """Another database on the same Redis publishing for an agency with our id."""
    foreign = json.dumps(
        {"agency": agency_a.pk, "sequence": 99, "type": "message.received", "subject": {}}
    )

    async def scenario():
        source = RedisSource(agency_a.pk, url=settings.REDIS_URL)
        stream = await _stream(agency_a, resume_after=None, source=source, timing=TICKING)
        await next_frames(stream, 1, kind="comment")
        await sync_to_async(dispatch.redis_channel)(agency_a.pk, [foreign])
        await sync_to_async(publish)(agency_a)
        [(_, ours)] = await sync_to_async(_pending)(agency_a, after=0)
        await sync_to_async(dispatch.redis_channel)(agency_a.pk, [ours])
        [frame] = await next_frames(stream, 1)
        await stream.aclose()
        return frame

    assert async_to_sync(scenario)().id == 1


# --- what a page is sent: per-message events only where that conversation is shown --------


def _publish_message_event(agency, type: str, *, conversation: int, sender_type: str) -> None:
    from django.db import transaction

    from bsp import events

    with agency_scope(agency), transaction.atomic():
        events.publish(
            agency_id=agency.pk,
            type=type,
            subject={"message": 7, "conversation": conversation},
            payload={"status": "delivered", "sender_type": sender_type},
        )


def _frames_after_marker(agency, publish, *, conversation, publish_events) -> list:
    async def scenario():
        stream = await _stream(agency, resume_after=0, conversation=conversation)
        await next_frames(stream, 2, kind="any")  # retry, hello
        await sync_to_async(publish_events)()
        await sync_to_async(publish)(agency, CONVERSATION_CREATED, conversation=999)  # marker
        frames: list = []
        while not frames or frames[-1].event != "conversation.created":
            frames.extend(await next_frames(stream, 1))
        await stream.aclose()
        return frames

    return async_to_sync(scenario)()


def test_delivery_statuses_reach_only_the_page_showing_that_conversation(agency_a, publish):
    def statuses():
        _publish_message_event(agency_a, MESSAGE_STATUS, conversation=5, sender_type="")
        _publish_message_event(agency_a, MESSAGE_STATUS, conversation=6, sender_type="")

    frames = _frames_after_marker(agency_a, publish, conversation=5, publish_events=statuses)
    assert [(f.event, f.data["subject"].get("conversation")) for f in frames] == [
        ("message.status", 5),
        ("conversation.created", 999),
    ]


def test_a_list_page_gets_no_delivery_statuses_but_moves_past_them(agency_a, publish):
    def statuses():
        _publish_message_event(agency_a, MESSAGE_STATUS, conversation=5, sender_type="")

    frames = _frames_after_marker(agency_a, publish, conversation=None, publish_events=statuses)
    assert [(f.id, f.event) for f in frames] == [(2, "conversation.created")]


def test_a_campaigns_queued_messages_reach_only_their_conversations_page(agency_a, publish):
    def queued():
        _publish_message_event(agency_a, "message.queued", conversation=5, sender_type="campaign")
        _publish_message_event(agency_a, "message.queued", conversation=5, sender_type="user")

    frames = _frames_after_marker(agency_a, publish, conversation=None, publish_events=queued)
    assert [(f.event, f.data["payload"]["sender_type"]) for f in frames[:-1]] == [
        ("message.queued", "user")
    ]


def test_streams_of_one_agency_share_one_redis_subscription(agency_a, publish, dispatched):
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    channel = dispatch.channel(agency_a.pk)

    async def scenario():
        streams = []
        for _ in range(3):
            source = RedisSource(agency_a.pk, url=settings.REDIS_URL)
            stream = await _stream(agency_a, resume_after=None, source=source, timing=TICKING)
            await next_frames(stream, 1, kind="comment")  # subscribed, following
            streams.append(stream)
        subscribed = dict(await sync_to_async(client.pubsub_numsub)(channel))
        await sync_to_async(publish)(agency_a, CONVERSATION_CREATED)
        await sync_to_async(dispatched)()
        received = [(await next_frames(stream, 1))[0].id for stream in streams]
        for stream in streams:
            await stream.aclose()
        return subscribed, received

    subscribed, received = async_to_sync(scenario)()
    assert subscribed[channel.encode()] == 1
    assert received == [1, 1, 1]
    assert dict(client.pubsub_numsub(channel))[channel.encode()] == 0
