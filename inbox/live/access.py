"""Who may keep a stream open: checked when it opens (the view) and again every
``Timing.recheck`` seconds while it runs (``still_allowed``), and how many one user may
hold at once (``StreamSlots``)."""

from __future__ import annotations

import threading
import time
import uuid
from importlib import import_module

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest

from bsp.redis import redis_client
from tenants.middleware import SESSION_AGENCY_KEY
from tenants.models import Membership
from tenants.permissions import Perm
from tenants.selectors import get_membership

PERM = Perm.VIEW_INBOX


def may_stream(membership: Membership | None) -> bool:
    return membership is not None and membership.has_perm(PERM)


def still_allowed(*, session_key: str | None, user_id: int, agency_id: int) -> str | None:
    """None while the session that opened the stream still may: else why not
    (``signed_out``: signed out, expired, password changed, user deactivated;
    ``agency_changed``: another agency chosen in that session; ``forbidden``: membership
    or its permission removed)."""
    if not session_key:
        return "signed_out"
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    probe = HttpRequest()
    probe.session = session
    user = auth.get_user(probe)  # also checks the password hash and is_active
    if not user.is_authenticated or user.pk != user_id:
        return "signed_out"
    chosen = session.get(SESSION_AGENCY_KEY)
    if chosen is not None and chosen != agency_id:
        return "agency_changed"
    if not may_stream(get_membership(agency_id=agency_id, user=user)):
        return "forbidden"
    return None


# Leases: a slot is held while its stream refreshes it (every recheck), so a stream that
# died without releasing (a killed worker) frees its slot after LEASE_SECONDS.
LEASE_SECONDS = 90.0

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class StreamSlots:
    """At most ``cap`` streams per user: across every web process through a Redis sorted
    set (slot → lease expiry), or within this process without Redis (the demo)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._local: dict[int, dict[str, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(user_id: int) -> str:
        return f"civic:live:streams:user:{user_id}"

    def acquire(self, user_id: int) -> str | None:
        """A new slot's id, or None when the user already holds ``cap``."""
        slot, now = uuid.uuid4().hex, time.time()
        client = redis_client()
        if client is not None:
            args = (now, now + LEASE_SECONDS, slot, self.cap, int(LEASE_SECONDS) + 1)
            return slot if client.eval(_ACQUIRE, 1, self.key(user_id), *args) else None
        with self._lock:
            held = {s: t for s, t in self._local.get(user_id, {}).items() if t > now}
            if len(held) >= self.cap:
                return None
            held[slot] = now + LEASE_SECONDS
            self._local[user_id] = held
        return slot

    def refresh(self, user_id: int, slot: str) -> None:
        expires = time.time() + LEASE_SECONDS
        client = redis_client()
        if client is not None:
            client.zadd(self.key(user_id), {slot: expires}, xx=True)
            return
        with self._lock:
            if slot in self._local.get(user_id, {}):
                self._local[user_id][slot] = expires

    def release(self, user_id: int, slot: str) -> None:
        client = redis_client()
        if client is not None:
            client.zrem(self.key(user_id), slot)
            return
        with self._lock:
            self._local.get(user_id, {}).pop(slot, None)

    def held(self, user_id: int) -> int:
        now = time.time()
        client = redis_client()
        if client is not None:
            return int(client.zcount(self.key(user_id), now, "+inf"))
        with self._lock:
            return sum(1 for t in self._local.get(user_id, {}).values() if t > now)
