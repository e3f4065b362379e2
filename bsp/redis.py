"""The platform's one Redis client (cache, rate limits, wake-up keys, event channels).

None when ``REDIS_URL`` is unset (the embedded demo): callers then fall back to the
database (drainers are swept by beat, event consumers read the table)."""

from __future__ import annotations

import functools

import redis
from django.conf import settings


@functools.cache
def redis_client() -> redis.Redis | None:
    return redis.Redis.from_url(settings.REDIS_URL) if settings.REDIS_URL else None
