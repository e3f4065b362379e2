"""The Redis rate limiters, against the real Redis of this xdist worker (no fakes).

Every test uses its own phone number id, so tests never share a bucket; the fixture deletes
the keys it created. Timing assertions are bands derived from clocks measured around the
calls, because the buckets run on the Redis server's clock and the machine may be loaded.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redis.asyncio
from django.conf import settings

from messaging.ratelimit import (
    PAIR_BURST,
    PAIR_INTERVAL_SECONDS,
    AsyncThroughputLimiter,
    Backoff,
    Grant,
    ThroughputLimiter,
    penalty_key,
    throughput_key,
)


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def phone(client: redis.Redis) -> Iterator[str]:
    phone_number_id = f"test-{uuid.uuid4().hex}"
    yield phone_number_id
    # SCAN is fine here: tests only, and the pattern matches this test's keys alone.
    keys = list(client.scan_iter(match=f"civic:rl:{{{phone_number_id}}}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def limiter(client: redis.Redis) -> ThroughputLimiter:
    return ThroughputLimiter(client)


def drain(limiter: ThroughputLimiter, phone: str, rate: float) -> None:
    """Empty the bucket; a 10x over-ask also takes whatever refilled meanwhile."""
    limiter.acquire(phone, rate, n=int(rate * 10))


def acquire_until_refused(limiter: ThroughputLimiter, phone: str, rate: float) -> list[Grant]:
    grants = [limiter.acquire(phone, rate)]
    while grants[-1].granted and len(grants) < 1000:
        grants.append(limiter.acquire(phone, rate))
    return grants


def test_burst_is_granted_up_to_capacity_then_refused(limiter, phone):
    started = time.monotonic()
    grants = acquire_until_refused(limiter, phone, rate=20)
    elapsed = time.monotonic() - started

    # Capacity is one second of rate (20); tokens refilled during the loop may add a few.
    assert 20 <= len(grants) - 1 <= 20 + 20 * elapsed + 1
    assert grants[-1].granted == 0


def test_refusal_reports_the_seconds_until_the_next_token(limiter, phone):
    drain(limiter, phone, rate=50)

    grant = limiter.acquire(phone, 50)

    assert grant.granted == 0
    assert 0 < grant.retry_after <= 1 / 50


def test_a_granted_acquisition_has_no_retry_after(limiter, phone):
    assert limiter.acquire(phone, 80) == Grant(granted=1, retry_after=0.0)


def test_bucket_refills_at_the_configured_rate(limiter, phone):
    before_drain = time.monotonic()
    drain(limiter, phone, rate=200)
    after_drain = time.monotonic()
    time.sleep(0.5)
    before_refill = time.monotonic()
    grant = limiter.acquire(phone, 200, n=1000)
    after_refill = time.monotonic()

    # The server ran each script somewhere inside its call, hence the band.
    assert 200 * (before_refill - after_drain) - 1 <= grant.granted
    assert grant.granted <= min(200, 200 * (after_refill - before_drain)) + 1


def test_batch_gets_the_tokens_available_and_when_the_next_one_comes(limiter, phone):
    started = time.monotonic()
    limiter.acquire(phone, 100, n=70)

    grant = limiter.acquire(phone, 100, n=50)

    refilled = 100 * (time.monotonic() - started)
    assert 30 <= grant.granted <= 30 + refilled + 1
    assert 0 < grant.retry_after <= 1 / 100


def test_batch_is_granted_whole_when_enough_tokens_are_available(limiter, phone):
    assert limiter.acquire(phone, 100, n=50) == Grant(granted=50, retry_after=0.0)


def test_invalid_requests_are_rejected(limiter, phone):
    with pytest.raises(ValueError, match="n must be"):
        limiter.acquire(phone, 80, n=0)
    with pytest.raises(ValueError, match="rate must be"):
        limiter.acquire(phone, 0)


def test_idle_bucket_expires_once_it_would_be_full_again(limiter, phone, client):
    limiter.acquire(phone, 80)

    # Refilling takes one second; the key lives about one more.
    assert 1000 < client.pttl(throughput_key(phone)) <= 2000


def test_effective_rate_is_the_tier_without_a_penalty(limiter, phone):
    assert limiter.effective_rate(phone, 80) == 80


def test_penalize_halves_the_effective_rate(limiter, phone):
    limiter.penalize(phone)

    # Default recovery is 5 % of the tier per second, so a few ms add almost nothing.
    assert 40 <= limiter.effective_rate(phone, 80) < 41


def test_penalties_within_the_holdoff_do_not_compound(limiter, phone):
    for _ in range(5):
        limiter.penalize(phone)

    assert 500 <= limiter.effective_rate(phone, 1000) < 510


def test_penalties_after_the_holdoff_compound_down_to_the_floor(client, phone):
    limiter = ThroughputLimiter(client, backoff=Backoff(holdoff_seconds=0))

    for _ in range(20):
        limiter.penalize(phone)

    assert limiter.effective_rate(phone, 80) == pytest.approx(1.0, abs=0.1)


def test_effective_rate_recovers_gradually_to_the_tier(client, phone):
    # 200 % of the tier per second: a halving recovers in 0.25 s instead of 10 s.
    limiter = ThroughputLimiter(client, backoff=Backoff(recovery_per_second=2.0))
    limiter.penalize(phone)
    time.sleep(0.05)
    partly = limiter.effective_rate(phone, 80)
    time.sleep(0.3)

    assert 40 < partly < 80
    assert limiter.effective_rate(phone, 80) == 80


def test_penalty_key_expires_once_recovered(limiter, phone, client):
    limiter.penalize(phone)

    # A halving recovers in 10 s at 5 %/s; the key lives about one more.
    assert 10_000 < client.pttl(penalty_key(phone)) <= 11_000


def test_acquire_refills_at_the_penalized_rate(client, phone):
    limiter = ThroughputLimiter(client, backoff=Backoff(recovery_per_second=0.001))
    before_penalty = time.monotonic()
    limiter.penalize(phone)  # also empties the bucket
    after_penalty = time.monotonic()
    time.sleep(0.25)
    before = time.monotonic()
    grant = limiter.acquire(phone, 200, n=1000)

    assert 100 * (before - after_penalty) - 1 <= grant.granted
    assert grant.granted <= 100 * (time.monotonic() - before_penalty) + 1


def test_acquire_shrinks_the_burst_with_the_penalized_rate(client, phone):
    limiter = ThroughputLimiter(client, backoff=Backoff(recovery_per_second=0.001))
    limiter.penalize(phone)
    time.sleep(1.05)  # refilling takes one second at any rate

    grant = limiter.acquire(phone, 100, n=100)

    assert 50 <= grant.granted <= 51


def test_penalize_drops_the_tokens_saved_at_the_old_rate(limiter, phone):
    limiter.acquire(phone, 100, n=10)
    started = time.monotonic()
    limiter.penalize(phone)

    grant = limiter.acquire(phone, 100, n=100)

    assert grant.granted <= 50 * (time.monotonic() - started) + 1


def test_pair_limit_refuses_beyond_the_burst_to_one_recipient(limiter, phone):
    grants = [limiter.acquire_pair(phone, "15550001111") for _ in range(PAIR_BURST + 1)]

    assert [g.granted for g in grants] == [1] * PAIR_BURST + [0]
    assert PAIR_INTERVAL_SECONDS - 1 < grants[-1].retry_after <= PAIR_INTERVAL_SECONDS


def test_pair_limit_does_not_refuse_another_recipient(limiter, phone):
    for _ in range(PAIR_BURST + 1):
        limiter.acquire_pair(phone, "15550001111")

    assert limiter.acquire_pair(phone, "15550002222").granted == 1


def test_pair_limit_is_separate_per_business_number(limiter, phone):
    for _ in range(PAIR_BURST + 1):
        limiter.acquire_pair(phone, "15550001111")

    assert limiter.acquire_pair(f"{phone}-other", "15550001111").granted == 1
    limiter.client.delete(f"civic:rl:{{{phone}-other}}:pair:15550001111")


def acquire_flat_out(
    redis_url: str, phone: str, rate: float, seconds: float, start: Any, results: Any
) -> None:
    """Runs in a spawned process: takes single tokens as fast as possible for ``seconds``."""
    limiter = ThroughputLimiter(redis.Redis.from_url(redis_url))
    limiter.client.ping()  # connect before the clock starts
    start.wait(timeout=60)
    granted, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        granted += limiter.acquire(phone, rate).granted
    results.put(granted)


def test_limiter_is_shared_across_two_worker_processes(phone):
    rate, seconds = 100, 2.0
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(3), context.Queue()
    args = (settings.REDIS_URL, phone, rate, seconds, start, results)
    workers = [context.Process(target=acquire_flat_out, args=args) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        start.wait(timeout=60)  # both workers are up and connected
        counts = [results.get(timeout=60) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=10)

    expected = rate * seconds + rate  # refill over the window plus the initial burst
    assert 0.9 * expected <= sum(counts) <= 1.1 * expected
    assert min(counts) >= 0.25 * sum(counts), counts


async def _async_burst(phone: str) -> list[Grant]:
    client = redis.asyncio.from_url(settings.REDIS_URL)
    try:
        limiter = AsyncThroughputLimiter(client)
        return [await limiter.acquire(phone, 80, n=60), await limiter.acquire(phone, 80, n=60)]
    finally:
        await client.aclose()


def test_async_limiter_grants_a_burst_then_refuses(phone):
    first, second = asyncio.run(_async_burst(phone))

    assert first == Grant(granted=60, retry_after=0.0)
    assert 20 <= second.granted <= 21
    assert 0 < second.retry_after <= 1 / 80


async def _async_penalize_and_pair(phone: str) -> tuple[float, Grant]:
    client = redis.asyncio.from_url(settings.REDIS_URL)
    try:
        limiter = AsyncThroughputLimiter(client)
        await limiter.penalize(phone)
        return await limiter.effective_rate(phone, 1000), await limiter.acquire_pair(phone, "1")
    finally:
        await client.aclose()


def test_async_limiter_penalizes_and_limits_pairs(phone):
    rate, pair_grant = asyncio.run(_async_penalize_and_pair(phone))

    assert 500 <= rate < 510
    assert pair_grant == Grant(granted=1, retry_after=0.0)


def test_async_and_sync_limiters_share_one_bucket(limiter, phone):
    asyncio.run(_async_burst(phone))

    assert limiter.acquire(phone, 80).granted == 0


def test_a_bulk_caller_leaves_the_reserve_for_interactive_sends():
    limiter = ThroughputLimiter()
    number = f"reserve-{uuid.uuid4().hex}"
    try:
        bulk = limiter.acquire(number, 100, n=100, reserve=0.1)
        assert bulk.granted == 90
        assert limiter.acquire(number, 100, n=10, reserve=0.1).granted == 0
        assert limiter.acquire(number, 100, n=10).granted == 10  # the agent's reply
    finally:
        limiter.client.delete(throughput_key(number), penalty_key(number))


def test_the_reserve_holds_back_a_level_not_a_share_of_the_rate(limiter, phone):
    # Bulk leaves 10 % of the burst, yet gets everything that refills above it: over time
    # the full tier, not 90 % of it.
    before_first = time.monotonic()
    first = limiter.acquire(phone, 200, n=1000, reserve=0.1)
    after_first = time.monotonic()
    time.sleep(0.5)
    before = time.monotonic()
    later = limiter.acquire(phone, 200, n=1000, reserve=0.1)

    assert first.granted == 180
    assert 200 * (before - after_first) - 1 <= later.granted
    assert later.granted <= 200 * (time.monotonic() - before_first) + 1


def test_batch_pair_acquisition_grants_each_message_in_order(limiter, phone):
    limiter.acquire_pairs(phone, ["15550001111"] * (PAIR_BURST - 2))

    grants = limiter.acquire_pairs(phone, ["15550001111", "15550002222", "15550001111"] * 2)

    assert [g.granted for g in grants] == [1, 1, 1, 0, 1, 0]
    assert PAIR_INTERVAL_SECONDS - 1 < grants[3].retry_after <= PAIR_INTERVAL_SECONDS


def test_batch_and_single_pair_acquisition_share_one_bucket(limiter, phone):
    limiter.acquire_pairs(phone, ["15550001111"] * PAIR_BURST)

    assert limiter.acquire_pair(phone, "15550001111").granted == 0
    assert limiter.acquire_pairs(phone, []) == []


async def _async_pairs(phone: str) -> list[Grant]:
    client = redis.asyncio.from_url(settings.REDIS_URL)
    try:
        return await AsyncThroughputLimiter(client).acquire_pairs(phone, ["1"] * (PAIR_BURST + 1))
    finally:
        await client.aclose()


def test_async_batch_pair_acquisition_refuses_past_the_burst(phone):
    grants = asyncio.run(_async_pairs(phone))

    assert [g.granted for g in grants] == [1] * PAIR_BURST + [0]
