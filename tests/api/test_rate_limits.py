"""Per-credential token buckets in (real) Redis: 429 with Retry-After and RateLimit-*."""

from __future__ import annotations

from tenants.api.ratelimit import KEY_PREFIX
from tests.api.helpers import bearer, make_key


def _limited_key(agency, rate: int, burst: int):
    credential, raw = make_key(agency)
    credential.rate_limit_per_second, credential.rate_limit_burst = rate, burst
    from tenants.scoping import agency_scope

    with agency_scope(agency):
        credential.save(update_fields=["rate_limit_per_second", "rate_limit_burst"])
    from bsp.redis import redis_client

    redis_client().delete(f"{KEY_PREFIX}:{credential.prefix}")
    return credential, raw


def test_every_answer_carries_the_ratelimit_headers(client, agency_a):
    _, raw = _limited_key(agency_a, rate=1, burst=5)
    response = client.get("/api/v1/agency", **bearer(raw))
    assert response["RateLimit-Limit"] == "5"
    assert response["RateLimit-Remaining"] == "4"
    assert response["RateLimit-Policy"] == "5;w=5"
    assert 0 < int(response["RateLimit-Reset"]) <= 5


def test_past_the_burst_the_answer_is_429_with_retry_after(client, agency_a):
    _, raw = _limited_key(agency_a, rate=1, burst=3)
    statuses = [client.get("/api/v1/agency", **bearer(raw)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/agency", **bearer(raw))
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "rate_limited"
    assert response["Retry-After"] == "1"
    assert response["RateLimit-Remaining"] == "0"


def test_each_credential_has_its_own_bucket(client, agency_a):
    _, raw_1 = _limited_key(agency_a, rate=1, burst=1)
    _, raw_2 = _limited_key(agency_a, rate=1, burst=1)
    assert client.get("/api/v1/agency", **bearer(raw_1)).status_code == 200
    assert client.get("/api/v1/agency", **bearer(raw_1)).status_code == 429
    assert client.get("/api/v1/agency", **bearer(raw_2)).status_code == 200


def test_the_default_limit_is_a_setting(client, agency_a, settings):
    settings.API_RATE_LIMIT_PER_SECOND, settings.API_RATE_LIMIT_BURST = 0.01, 2
    credential, raw = make_key(agency_a)
    from bsp.redis import redis_client

    redis_client().delete(f"{KEY_PREFIX}:{credential.prefix}")
    statuses = [client.get("/api/v1/agency", **bearer(raw)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_the_bucket_refills_at_the_rate(client, agency_a):
    import time

    _, raw = _limited_key(agency_a, rate=20, burst=1)
    assert client.get("/api/v1/agency", **bearer(raw)).status_code == 200
    assert client.get("/api/v1/agency", **bearer(raw)).status_code == 429
    time.sleep(0.06)
    assert client.get("/api/v1/agency", **bearer(raw)).status_code == 200


def test_with_redis_down_a_key_gets_503_not_500(client, agency_a, monkeypatch):
    import redis

    from tenants.api import ratelimit

    unreachable = ratelimit.CredentialLimiter(
        redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    )
    monkeypatch.setattr(ratelimit, "limiter", lambda: unreachable)
    monkeypatch.setattr("tenants.middleware.limiter", lambda: unreachable)
    _, raw = make_key(agency_a)
    response = client.get("/api/v1/agency", **bearer(raw))
    assert response.status_code == 503
    assert response.json()["code"] == "temporarily_unavailable"
    assert response["Retry-After"] == "60"
