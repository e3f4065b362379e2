"""Integrator webhook deliveries (bsp/integrations) from the event stream to a local
receiver, beside a baseline in the same run.

- **Baseline**: the receiver's own raw POST rate from a plain client (httpx, keep-alive,
  the same concurrency as the sender: WEBHOOK_CONCURRENCY threads) — what the receiver
  and this machine can take at all.
- **Flow**: ``message.status`` events published at ``--rate`` events/s (batches every
  100 ms, over ``--conversations`` conversations) for ``--seconds``; a real Celery worker
  (queues events + integrations, ``--concurrency``) runs the dispatcher, the consumer and the
  sender. Reported: deliveries/s (received ÷ time from the first publish to the last
  receipt), lag p50/p95/max (receipt minus the event's created_at in the stream), and whether
  every event arrived once and each conversation in order.
- **Outage**: the receiver answers 503 for ``--outage`` seconds while events keep
  flowing at ``--outage-rate``, then comes back: reported is the time to catch up after
  it is back, nothing lost, each conversation still in order. (The issue's 10 minutes is
  accepted by the design — a delivery is retried for 24 h — but a run of 10 minutes is
  long for a shared machine; the default outage is 60 s: state it with the figures.)

The receiver is aiohttp in its own process. Workers need plain http to 127.0.0.1 allowed:
this file doubles as their settings module (``CIVIC_WEBHOOK_BENCH_SETTINGS=1``), until
bsp.settings reads WEBHOOK_* from the environment.

    .venv/bin/python bench/integrator_webhooks.py [--rate 3000] [--seconds 20] [--outage 60]
"""

from __future__ import annotations

import os

if os.environ.get("CIVIC_WEBHOOK_BENCH_SETTINGS") == "1" and __name__ != "__main__":
    from bsp.settings.bench import *  # noqa: F403

    WEBHOOK_ALLOW_HTTP = True
    WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    WEBHOOK_RETRY_BASE_SECONDS = 1.0  # an outage of a minute is retried within seconds
    WEBHOOK_RETRY_MAX_SECONDS = 5.0
    WEBHOOK_DRAIN_SHARDS = int(os.environ.get("CIVIC_WEBHOOK_BENCH_SHARDS", "2"))

import argparse
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("CIVIC_BENCH_DB", "civic_relay_bench_hooks")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")


# --- The receiver (its own process) -------------------------------------------------------


def receiver_main(port: int) -> None:
    from aiohttp import web

    state: dict = {"down_until": 0.0, "hits": []}

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        if time.time() < state["down_until"]:
            return web.Response(status=503)
        if request.path == "/raw":
            state["raw"] = state.get("raw", 0) + 1
            return web.Response(status=200)
        event = json.loads(body)
        state["hits"].append(
            (
                time.time(),
                event["created_at"],
                event["id"],
                event["data"]["subject"]["conversation"],
                event["sequence"],
            )
        )
        return web.Response(status=200)

    async def control(request: web.Request) -> web.Response:
        if "down" in request.query:
            state["down_until"] = time.time() + float(request.query["down"])
        if "reset" in request.query:
            state["hits"], state["raw"] = [], 0
        return web.json_response({"raw": state.get("raw", 0), "hits": state["hits"]})

    app = web.Application()
    app.router.add_post("/hooks", hook)
    app.router.add_post("/raw", hook)
    app.router.add_get("/control", control)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# --- The bench -----------------------------------------------------------------------------


def _control(base: str, **params: str) -> dict:
    import httpx

    return httpx.get(f"{base}/control", params=params, timeout=30).json()


def baseline(base: str, seconds: float, threads: int) -> float:
    """Raw POSTs/s to the receiver from a plain keep-alive client, ``threads`` at a time."""
    import httpx

    client = httpx.Client(limits=httpx.Limits(max_connections=threads))
    body = b'{"id":"x"}' * 20
    deadline = time.monotonic() + seconds
    counts = [0] * threads

    def loop(i: int) -> None:
        while time.monotonic() < deadline:
            client.post(f"{base}/raw", content=body)
            counts[i] += 1

    start = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(loop, range(threads)))
    return sum(counts) / (time.monotonic() - start)


def publish_at(agency_id: int, rate: int, seconds: float, conversations: int, start_n: int) -> int:
    """Publish ``rate`` message.status events/s for ``seconds``; how many."""
    from django.db import transaction

    from bsp import events
    from bsp.events import types
    from tenants.scoping import agency_scope

    per_tick, n = max(1, rate // 10), start_n
    begin = time.monotonic()
    tick = 0
    while time.monotonic() - begin < seconds:
        batch = []
        for _ in range(per_tick):
            c = n % conversations + 1
            batch.append(
                events.Event(
                    types.MESSAGE_STATUS,
                    {"message": n, "conversation": c},
                    {"status": "delivered", "n": n},
                )
            )
            n += 1
        with agency_scope(agency_id), transaction.atomic():
            events.publish_many(agency_id, batch)
        tick += 1
        pause = begin + tick * 0.1 - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return n - start_n


def analyse(hits: list, expected: int) -> dict:
    ids = [h[2] for h in hits]
    lags = sorted(h[0] - datetime.fromisoformat(h[1]).timestamp() for h in hits)
    last: dict[int, int] = {}
    out_of_order = 0
    for _, _, _, conversation, sequence in sorted(hits, key=lambda h: h[0]):
        if sequence < last.get(conversation, 0):
            out_of_order += 1
        last[conversation] = sequence
    q = statistics.quantiles(lags, n=100) if len(lags) > 1 else [0.0] * 99
    return {
        "received": len(hits),
        "expected": expected,
        "duplicates": len(ids) - len(set(ids)),
        "out_of_order": out_of_order,
        "lag_p50": q[49],
        "lag_p95": q[94],
        "lag_max": lags[-1] if lags else 0.0,
        "first": min(h[0] for h in hits) if hits else 0.0,
        "last": max(h[0] for h in hits) if hits else 0.0,
    }


def wait_received(base: str, expected: int, timeout: float) -> list:
    deadline = time.monotonic() + timeout
    while True:
        hits = _control(base)["hits"]
        if len({h[2] for h in hits}) >= expected or time.monotonic() > deadline:
            return hits
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--outage", type=float, default=60)
    parser.add_argument("--outage-rate", type=int, default=200)
    parser.add_argument("--baseline-seconds", type=float, default=5)
    parser.add_argument("--shards", type=int, default=2, help="WEBHOOK_DRAIN_SHARDS")
    args = parser.parse_args()

    sys.path.insert(0, str(HERE))
    import _setup

    _setup.prepare_database()
    env = _setup.bench_env() | {
        "DJANGO_SETTINGS_MODULE": "integrator_webhooks",
        "CIVIC_WEBHOOK_BENCH_SETTINGS": "1",
        "CIVIC_WEBHOOK_BENCH_SHARDS": str(args.shards),
        "PYTHONPATH": os.pathsep.join([str(HERE), str(_setup.ROOT)]),
    }
    os.environ.update(env)
    sys.path.insert(0, str(_setup.ROOT))
    import django

    django.setup()
    import redis
    from django.conf import settings

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    from bsp.integrations import services
    from records.audit import Actor
    from tenants.models import Agency
    from tenants.scoping import system_scope

    port = _setup.free_port()
    base = f"http://127.0.0.1:{port}"
    receiver = subprocess.Popen([sys.executable, __file__, "--receiver", str(port)])
    worker = None
    try:
        for _ in range(100):
            try:
                _control(base)
                break
            except Exception:
                time.sleep(0.1)
        threads = getattr(settings, "WEBHOOK_CONCURRENCY", 16)
        raw = baseline(base, args.baseline_seconds, threads)
        with system_scope():
            agency = Agency.objects.create(name="Hooks County", slug="hooks-county")
        services.create_subscription(
            actor=Actor.system("bench"),
            agency=agency,
            url=f"{base}/hooks",
            events=["message.status"],
        )
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bsp",
                "worker",
                "--queues=events,integrations",
                f"--concurrency={args.concurrency}",
                "--pool=prefork",
                "--loglevel=WARNING",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
            cwd=_setup.ROOT,
            env=env,
        )
        time.sleep(4)
        _control(base, reset="1")
        started = time.time()
        sent = publish_at(agency.pk, args.rate, args.seconds, args.conversations, 0)
        published_for = time.time() - started
        hits = wait_received(base, sent, timeout=600)
        flow = analyse(hits, sent)
        rate = flow["received"] / max(1e-9, flow["last"] - started)

        _control(base, reset="1", down=str(args.outage))
        outage_started = time.time()
        threading_sent = publish_at(
            agency.pk, args.outage_rate, args.outage, args.conversations, sent
        )
        back_at = outage_started + args.outage
        hits = wait_received(base, threading_sent, timeout=600)
        outage = analyse(hits, threading_sent)
        caught_up = outage["last"] - back_at

        print(f"Machine: {_setup.machine()}")
        print(f"Baseline raw POST to the receiver ({threads} threads): {raw:,.0f} req/s")
        print(
            f"Flow: offered {args.rate:,} events/s for {args.seconds:.0f} s "
            f"(published {sent:,} in {published_for:.1f} s, {args.conversations} conversations, "
            f"worker concurrency {args.concurrency}, {args.shards} drain shards)"
        )
        print(
            f"  delivered {flow['received']:,}/{sent:,} at {rate:,.0f} deliveries/s "
            f"(ratio to baseline {rate / raw:.2f}); lag p50 {flow['lag_p50']:.2f} s, "
            f"p95 {flow['lag_p95']:.2f} s, max {flow['lag_max']:.2f} s; duplicates "
            f"{flow['duplicates']}, out of order {flow['out_of_order']}"
        )
        print(
            f"Outage: receiver 503 for {args.outage:.0f} s while {threading_sent:,} events "
            f"flowed ({args.outage_rate}/s): received {outage['received']:,}/{threading_sent:,}, "
            f"caught up {caught_up:.1f} s after it came back; duplicates {outage['duplicates']}, "
            f"out of order {outage['out_of_order']}"
        )
    finally:
        for process in (worker, receiver):
            if process is not None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--receiver":
        receiver_main(int(sys.argv[2]))
    else:
        main()
