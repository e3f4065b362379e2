"""Per-credential rate limits of the REST API: a token bucket in Redis.

Each API credential has one bucket of ``burst`` tokens refilled at ``rate`` per second
(``API_RATE_LIMIT_PER_SECOND`` / ``API_RATE_LIMIT_BURST``, or the credential's own
``rate_limit_per_second`` / ``rate_limit_burst``). Every request takes a token; without
one it is answered ``429`` with ``Retry-After``. The take is one Lua script (atomic, one
round trip, EVALSHA) reading the clock with ``redis.call('TIME')``, so every web process
shares one clock and one bucket (the design of ``messaging/ratelimit.py``, which is for
Meta's send limits; tenants may not import messaging).

Headers, on every answer to a credential (draft-ietf-httpapi-ratelimit-headers-07, the
three-field form):

- ``RateLimit-Limit``: the bucket's capacity (the burst);
- ``RateLimit-Remaining``: whole tokens left after this request;
- ``RateLimit-Reset``: seconds until the bucket is full again (rounded up);
- ``RateLimit-Policy``: ``<burst>;w=<seconds to refill from empty>``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import redis
from django.conf import settings

KEY_PREFIX = "civic:api:rl"

_LUA_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local tokens = capacity
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
if b[1] then
  tokens = math.min(capacity, tonumber(b[1]) + rate * math.max(0, now - tonumber(b[2])))
end
local allowed = 0
if tokens >= 1 then
  allowed = 1
  tokens = tokens - 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
           'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
local retry_after = 0
if allowed == 0 then retry_after = (1 - tokens) / rate end
return {allowed, math.floor(tokens), string.format('%.6f', retry_after),
        string.format('%.6f', (capacity - tokens) / rate)}
"""


@dataclass(frozen=True)
class Limit:
    rate: float  # tokens per second
    burst: int  # capacity


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: Limit
    remaining: int
    retry_after: float  # seconds until a token, 0 when allowed
    reset: float  # seconds until the bucket is full

    def headers(self) -> dict[str, str]:
        window = math.ceil(self.limit.burst / self.limit.rate)
        headers = {
            "RateLimit-Limit": str(self.limit.burst),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(math.ceil(self.reset)),
            "RateLimit-Policy": f"{self.limit.burst};w={window}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return headers


def default_limit() -> Limit:
    rate = float(getattr(settings, "API_RATE_LIMIT_PER_SECOND", 100))
    burst = int(getattr(settings, "API_RATE_LIMIT_BURST", 200))
    return Limit(rate=max(rate, 0.001), burst=max(burst, 1))


class CredentialLimiter:
    """Takes one token per request from the credential's bucket."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._take = client.register_script(_LUA_TAKE)

    def take(self, credential_prefix: str, limit: Limit) -> Decision:
        """``credential_prefix``: the key's unique random prefix names its bucket."""
        allowed, remaining, retry_after, reset = self._take(
            keys=[f"{KEY_PREFIX}:{credential_prefix}"], args=[limit.rate, limit.burst]
        )
        return Decision(
            allowed=bool(allowed),
            limit=limit,
            remaining=int(remaining),
            retry_after=float(retry_after),
            reset=float(reset),
        )


_limiters: dict[int, CredentialLimiter] = {}


def limiter() -> CredentialLimiter | None:
    """The limiter on the platform's Redis; None when there is none (the embedded demo)."""
    from bsp.redis import redis_client

    client = redis_client()
    if client is None:
        return None
    key = id(client)
    if key not in _limiters:
        _limiters[key] = CredentialLimiter(client)
    return _limiters[key]
