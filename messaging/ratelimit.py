"""Redis token buckets for Meta's send limits, shared by every worker and process.

Two limits from ../shared/cloud-api.md section 7 are enforced *before* a send:

- **Throughput** (7.1, error ``130429``): 80 or 1,000 messages/s per phone number. One bucket
  per number, rate = the number's tier, capacity = ``THROUGHPUT_BURST_SECONDS`` of that rate
  (Meta measures per second; our simulator's bucket is sized the same way).
- **Pair rate** (7.2, error ``131056``): "about 1 message per 6 s per (business number, user)
  pair ... bursts up to ~45 messages in 6 s are allowed but borrow future quota". One bucket
  per (number, wa_id): ``PAIR_BURST`` tokens refilled at one per ``PAIR_INTERVAL_SECONDS``.

Both buckets run in one Lua script (atomic, one round trip) that reads the clock with
``redis.call('TIME')``: every process shares the Redis server's clock, so skewed worker
clocks cannot mint extra tokens. Needs Redis >= 5 (effects replication allows TIME before a
write). The script is registered once per client and called by EVALSHA.

When Meta still answers ``130429`` (it also counts *inbound* messages, a coexistence number
is capped at 20 mps, or our stored tier is stale), ``penalize`` lowers the number's rate
multiplicatively and it recovers additively: see ``Backoff``.

Nothing here sleeps: callers get a ``Grant`` and retry (``task.retry(countdown=...)``) or
wait ``retry_after`` themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio

KEY_PREFIX = "civic:rl"
THROUGHPUT_BURST_SECONDS = 1.0
BULK_RESERVE = 0.1  # bulk leaves 10 % of a number's burst (not of its rate) for agent replies
PAIR_BURST = 45  # cloud-api.md 7.2: "bursts up to ~45 messages in 6 s"
PAIR_INTERVAL_SECONDS = 6.0  # cloud-api.md 7.2: "about 1 message per 6 s" per pair


@dataclass(frozen=True)
class Grant:
    """``granted`` tokens (0..n) taken now; when fewer than asked, ``retry_after`` is the
    number of seconds until the next token (0.0 when everything was granted)."""

    granted: int
    retry_after: float


@dataclass(frozen=True)
class Backoff:
    """How a ``130429`` slows a number down (AIMD, as TCP congestion control).

    The penalty is a factor of the tier rate stored in Redis, so it holds for both tiers and
    survives a tier change. All processes must use the same values (the defaults).
    """

    # Halve: the overshoot is of unknown size, and halving reaches even a 1000 -> 80 tier
    # mismatch within four cuts.
    decrease: float = 0.5
    # +5 % of the tier per second: one halving is undone in 10 s. Slow enough that a
    # persistent cause (inbound spike, stale tier) costs about one 130429 per probe, fast
    # enough that a transient one delays a 1,000 mps campaign by seconds, not minutes.
    recovery_per_second: float = 0.05
    # Answers arriving within a second of a cut echo the same overshoot (Meta counts per
    # second, and a batch has dozens of requests in flight): they must not compound.
    holdoff_seconds: float = 1.0
    # Never stop sending altogether; and bound the factor so recovery takes at most ~20 s.
    min_rate: float = 1.0
    min_factor: float = 0.001

    def __post_init__(self) -> None:
        # The scripts divide by the recovery and by the rate; reject values that would stall.
        if not (0 < self.decrease < 1 and 0 < self.min_factor <= 1):
            raise ValueError("decrease and min_factor must be fractions in (0, 1)")
        if not (self.recovery_per_second > 0 and self.min_rate > 0 and self.holdoff_seconds >= 0):
            raise ValueError("recovery_per_second and min_rate must be positive")


# Shared Lua helpers. Timestamps are float seconds from TIME (microsecond precision fits a
# double); values are written with string.format because Lua's default number formatting
# keeps only 14 significant digits.
_LUA_COMMON = """
local function now_seconds()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

-- Penalty factor (<= 1) at `now` after additive recovery since the last cut, and its time.
local function penalty_factor(key, now, recovery)
  local p = redis.call('HMGET', key, 'factor', 'ts')
  if not p[1] then return 1, nil end
  local ts = tonumber(p[2])
  return math.min(1, tonumber(p[1]) + recovery * math.max(0, now - ts)), ts
end

-- Take up to n tokens from the bucket at `key` (refilled at `rate`/s up to `capacity`),
-- leaving `reserve` tokens in it. Returns the number granted and, when fewer than n, the
-- seconds until the next token: at least 1 us, so that it is > 0 exactly then.
local function take(key, now, rate, capacity, n, reserve)
  local tokens = capacity
  local b = redis.call('HMGET', key, 'tokens', 'ts')
  if b[1] then
    tokens = math.min(capacity, tonumber(b[1]) + rate * math.max(0, now - tonumber(b[2])))
  end
  local granted = math.max(0, math.min(n, math.floor(tokens - reserve)))
  tokens = tokens - granted
  local retry_after = 0
  if granted < n then retry_after = math.max(0.000001, (reserve + 1 - tokens) / rate) end
  redis.call('HSET', key, 'tokens', string.format('%.17g', tokens),
             'ts', string.format('%.6f', now))
  -- Once refilled the bucket equals a missing key, so an idle one may disappear then.
  redis.call('PEXPIRE', key, math.ceil(capacity / rate * 1000) + 1000)
  return granted, retry_after
end
"""

# KEYS: bucket [, penalty]. ARGV: tier rate, tier capacity, n, recovery/s, min rate,
# reserve (a fraction of the capacity this caller must leave in the bucket).
# Returns {granted, retry_after as a string (Lua numbers become integers in replies)}.
_LUA_ACQUIRE = (
    _LUA_COMMON
    + """
local now = now_seconds()
local tier_rate, tier_capacity, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local factor = 1
if #KEYS > 1 then factor = penalty_factor(KEYS[2], now, tonumber(ARGV[4])) end
local rate = math.max(math.min(tonumber(ARGV[5]), tier_rate), tier_rate * factor)
-- The burst shrinks with the rate: a penalized number must not keep a full second of tier.
local capacity = math.max(1, tier_capacity * rate / tier_rate)
local reserve = capacity * (tonumber(ARGV[6]) or 0)
local granted, retry_after = take(KEYS[1], now, rate, capacity, n, reserve)
return {granted, string.format('%.6f', retry_after)}
"""
)

# KEYS: one pair bucket per message, in send order (a recipient may appear more than once,
# and then takes a token per message). ARGV: rate, capacity.
# Returns, per key, {granted (0 or 1), retry_after as a string}.
_LUA_ACQUIRE_PAIRS = (
    _LUA_COMMON
    + """
local now = now_seconds()
local rate, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local replies = {}
for i, key in ipairs(KEYS) do
  local granted, retry_after = take(key, now, rate, capacity, 1, 0)
  replies[i] = {granted, string.format('%.6f', retry_after)}
end
return replies
"""
)

# KEYS: penalty, bucket. ARGV: decrease, min factor, recovery/s, holdoff s.
# Returns the factor now in force, as a string.
_LUA_PENALIZE = (
    _LUA_COMMON
    + """
local now = now_seconds()
local recovery = tonumber(ARGV[3])
local factor, ts = penalty_factor(KEYS[1], now, recovery)
if ts and now - ts < tonumber(ARGV[4]) then return string.format('%.6f', factor) end
factor = math.max(tonumber(ARGV[2]), factor * tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'factor', string.format('%.17g', factor),
           'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((1 - factor) / recovery * 1000) + 1000)
-- Drop the tokens saved up at the old rate, so the cut takes effect at once.
redis.call('HSET', KEYS[2], 'tokens', '0', 'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[2], 60000)
return string.format('%.6f', factor)
"""
)

# KEYS: penalty. ARGV: recovery/s. Returns the factor as a string.
_LUA_FACTOR = (
    _LUA_COMMON
    + """
local factor = penalty_factor(KEYS[1], now_seconds(), tonumber(ARGV[1]))
return string.format('%.6f', factor)
"""
)


# The hash tag {phone_number_id} keeps a number's keys in one Redis Cluster slot, which a
# script touching several of them requires.
def throughput_key(phone_number_id: str) -> str:
    return f"{KEY_PREFIX}:{{{phone_number_id}}}:tp"


def penalty_key(phone_number_id: str) -> str:
    return f"{KEY_PREFIX}:{{{phone_number_id}}}:penalty"


def pair_key(phone_number_id: str, wa_id: str) -> str:
    return f"{KEY_PREFIX}:{{{phone_number_id}}}:pair:{wa_id}"


def _check_request(rate: float, n: int) -> None:
    if not rate > 0:
        raise ValueError(f"rate must be positive, got {rate!r}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n!r}")


def _acquire_args(rate: float, n: int, backoff: Backoff, reserve: float = 0.0) -> list[float | int]:
    _check_request(rate, n)
    rate = float(rate)  # not an IntEnum (a model's choices): redis-py would send its repr
    return [
        rate,
        rate * THROUGHPUT_BURST_SECONDS,
        int(n),
        backoff.recovery_per_second,
        backoff.min_rate,
        float(reserve),
    ]


def _pair_args() -> list[float | int]:
    # No penalty key is passed, so the last two values are unused.
    return [1 / PAIR_INTERVAL_SECONDS, PAIR_BURST, 1, 0, 0]


def _pairs_args() -> list[float]:
    return [1 / PAIR_INTERVAL_SECONDS, PAIR_BURST]


def _penalize_args(backoff: Backoff) -> list[float]:
    return [
        backoff.decrease,
        backoff.min_factor,
        backoff.recovery_per_second,
        backoff.holdoff_seconds,
    ]


def _grant(reply: list[Any]) -> Grant:
    return Grant(granted=int(reply[0]), retry_after=float(reply[1]))


def _rate(tier_rate: float, factor: Any, backoff: Backoff) -> float:
    return max(min(backoff.min_rate, tier_rate), tier_rate * float(factor))


@functools.cache
def _default_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def _redis_url() -> str:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if not settings.REDIS_URL:
        raise ImproperlyConfigured("REDIS_URL is required by the rate limiter")
    return str(settings.REDIS_URL)


class ThroughputLimiter:
    """Throughput and pair-rate buckets in Redis (blocking client).

    ``client`` defaults to a shared client for ``settings.REDIS_URL``.
    """

    def __init__(self, client: redis.Redis | None = None, *, backoff: Backoff | None = None):
        self.client = client if client is not None else _default_client(_redis_url())
        self.backoff = backoff or Backoff()
        self._acquire = self.client.register_script(_LUA_ACQUIRE)
        self._acquire_pairs = self.client.register_script(_LUA_ACQUIRE_PAIRS)
        self._penalize = self.client.register_script(_LUA_PENALIZE)
        self._factor = self.client.register_script(_LUA_FACTOR)

    def acquire(
        self, phone_number_id: str, rate: float, n: int = 1, *, reserve: float = 0.0
    ) -> Grant:
        """Take up to ``n`` send tokens for a number whose throughput tier is ``rate``/s.

        ``reserve`` (0..1) is the share of the bucket this caller must leave untouched: bulk
        senders pass ``BULK_RESERVE`` so interactive replies always find tokens, while bulk
        still gets the whole rate when nobody else sends. It is a level, not a share of the
        rate: bulk gets everything that refills above it (the full tier over time), and a
        reply is served from the reserve at once, which refills before bulk gets more.
        """
        keys = [throughput_key(phone_number_id), penalty_key(phone_number_id)]
        return _grant(self._acquire(keys, _acquire_args(rate, n, self.backoff, reserve)))

    def acquire_pair(self, phone_number_id: str, wa_id: str) -> Grant:
        """Take one token for a message from this number to the user ``wa_id``."""
        return _grant(self._acquire([pair_key(phone_number_id, wa_id)], _pair_args()))

    def acquire_pairs(self, phone_number_id: str, wa_ids: Sequence[str]) -> list[Grant]:
        """``acquire_pair`` for a batch in one round trip: one Grant per message, in order."""
        if not wa_ids:
            return []
        keys = [pair_key(phone_number_id, wa_id) for wa_id in wa_ids]
        return [_grant(reply) for reply in self._acquire_pairs(keys, _pairs_args())]

    def penalize(self, phone_number_id: str) -> float:
        """Record a ``130429``; returns the penalty factor now in force (1.0 = none)."""
        keys = [penalty_key(phone_number_id), throughput_key(phone_number_id)]
        return float(self._penalize(keys, _penalize_args(self.backoff)))

    def effective_rate(self, phone_number_id: str, tier_rate: float) -> float:
        """The rate ``acquire`` currently applies to this number, in messages/s."""
        factor = self._factor([penalty_key(phone_number_id)], [self.backoff.recovery_per_second])
        return _rate(tier_rate, factor, self.backoff)


class AsyncThroughputLimiter:
    """``ThroughputLimiter`` for asyncio code: same script, same keys, same semantics.

    ``client`` defaults to a new client for ``settings.REDIS_URL`` (async clients belong to
    one event loop, so none is shared).
    """

    def __init__(
        self, client: redis.asyncio.Redis | None = None, *, backoff: Backoff | None = None
    ):
        self.client = client if client is not None else redis.asyncio.from_url(_redis_url())
        self.backoff = backoff or Backoff()
        self._acquire = self.client.register_script(_LUA_ACQUIRE)
        self._acquire_pairs = self.client.register_script(_LUA_ACQUIRE_PAIRS)
        self._penalize = self.client.register_script(_LUA_PENALIZE)
        self._factor = self.client.register_script(_LUA_FACTOR)

    async def acquire(
        self, phone_number_id: str, rate: float, n: int = 1, *, reserve: float = 0.0
    ) -> Grant:
        """Take up to ``n`` send tokens (see ``ThroughputLimiter.acquire``)."""
        keys = [throughput_key(phone_number_id), penalty_key(phone_number_id)]
        return _grant(await self._acquire(keys, _acquire_args(rate, n, self.backoff, reserve)))

    async def acquire_pair(self, phone_number_id: str, wa_id: str) -> Grant:
        """Take one token for a message from this number to the user ``wa_id``."""
        return _grant(await self._acquire([pair_key(phone_number_id, wa_id)], _pair_args()))

    async def acquire_pairs(self, phone_number_id: str, wa_ids: Sequence[str]) -> list[Grant]:
        """``acquire_pair`` for a batch in one round trip: one Grant per message, in order."""
        if not wa_ids:
            return []
        keys = [pair_key(phone_number_id, wa_id) for wa_id in wa_ids]
        return [_grant(reply) for reply in await self._acquire_pairs(keys, _pairs_args())]

    async def penalize(self, phone_number_id: str) -> float:
        """Record a ``130429``; returns the penalty factor now in force (1.0 = none)."""
        keys = [penalty_key(phone_number_id), throughput_key(phone_number_id)]
        return float(await self._penalize(keys, _penalize_args(self.backoff)))

    async def effective_rate(self, phone_number_id: str, tier_rate: float) -> float:
        """The rate ``acquire`` currently applies to this number, in messages/s."""
        keys = [penalty_key(phone_number_id)]
        factor = await self._factor(keys, [self.backoff.recovery_per_second])
        return _rate(tier_rate, factor, self.backoff)
