"""Webhook ingestion: signed batches POSTed as Meta does, against gunicorn (the production
command: 3 workers x 4 threads) on PostgreSQL + Redis, with a Celery `webhooks` worker
processing them, everything on this machine.

Each POST carries 10 changes (7 statuses for messages we sent, 3 inbound texts). Prints
events/s acknowledged, p50/p99 acknowledgement latency, events/s fully processed, backlog
when the load stops, and lost events (acknowledged but not stored or not applied). Baseline
in the same run: the same POSTs to a bare Django view on the same server →
`ingest_ratio = ingest / bare`.

The event stream (bsp/events) is measured on and off in the same run (``--stream on,off``):
the worker restarted with ``EVENT_STREAM_ENABLED`` set and, when on, an `events` worker
beside it, so the dispatcher's work counts; `stream_slowdown` compares saturated
processing rates.

    .venv/bin/python bench/webhook_ingest.py [--seconds 60] [--runs 3] [--stream on,off]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup

ROOT = _setup.ROOT
PHONE_ID, WABA = "109000000000002", "209000000000002"
APP_SECRET = "test-app-secret"  # bsp.settings.test, which the bench settings extend
STATUSES_PER_POST, INBOUND_PER_POST = 7, 3
EVENTS_PER_POST = STATUSES_PER_POST + INBOUND_PER_POST
OUTBOUND = 20_000  # messages the statuses refer to
CONCURRENCY = 16  # requests in flight per client process


# --- the load generator (its own processes, raw asyncio HTTP/1.1 keep-alive) -------------


def _body(client: int, n: int, run: int) -> bytes:
    now = str(int(time.time()))
    metadata = {"display_phone_number": "14155550198", "phone_number_id": PHONE_ID}
    changes = []
    for k in range(STATUSES_PER_POST):
        index = (client * 7919 + n * STATUSES_PER_POST + k) % OUTBOUND
        state = ("sent", "delivered", "read")[(n + k) % 3]
        status = {
            "id": f"wamid.bench-out-{index:06d}",
            "status": state,
            "timestamp": now,
            "recipient_id": f"1415555{index % 10000:04d}",
            "pricing": {"billable": True, "pricing_model": "PMP", "category": "utility"},
        }
        value = {"messaging_product": "whatsapp", "metadata": metadata, "statuses": [status]}
        changes.append({"field": "messages", "value": value})
    for k in range(INBOUND_PER_POST):
        wa_id = f"1415556{(n * INBOUND_PER_POST + k) % 5000:04d}"
        message = {
            "from": wa_id,
            "id": f"wamid.bench-in-{run}-{client}-{n}-{k}",
            "timestamp": now,
            "type": "text",
            "text": {"body": f"Question {n}/{k} about my permit"},
        }
        value = {
            "messaging_product": "whatsapp",
            "metadata": metadata,
            "contacts": [{"profile": {"name": f"Citizen {wa_id}"}, "wa_id": wa_id}],
            "messages": [message],
        }
        changes.append({"field": "messages", "value": value})
    payload = {"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": changes}]}
    return json.dumps(payload).replace("/", "\\/").encode()


async def _load(
    port: int, path: str, client: int, run: int, seconds: float, posts_per_s: float
) -> dict:
    """Closed loop (``posts_per_s`` 0: each connection sends as soon as it has an answer) or
    open loop at a fixed rate (latency at a given load, not at saturation)."""
    latencies: list[float] = []
    failures: list[bytes] = []
    counter = iter(range(10**9))
    start = time.monotonic()
    deadline = start + seconds
    interval = CONCURRENCY / posts_per_s if posts_per_s else 0.0

    async def connection(offset: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        next_send = start + offset
        while time.monotonic() < deadline:
            if interval:
                await asyncio.sleep(max(0.0, next_send - time.monotonic()))
                next_send += interval
            body = _body(client, next(counter), run)
            digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            request = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"X-Hub-Signature-256: sha256={digest}\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200"):
                failures.append(head)
            if b"connection: close" in head.lower():
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()

    started = time.time()
    await asyncio.gather(*(connection(i * interval / CONCURRENCY) for i in range(CONCURRENCY)))
    return {"latencies": latencies, "failures": len(failures), "start": started, "end": time.time()}


def _client_process(args: tuple[int, str, int, int, float, float]) -> dict:
    return asyncio.run(_load(*args))


def load(
    port: int, path: str, clients: int, run: int, seconds: float, events_per_s: float = 0
) -> dict:
    """``events_per_s`` 0: as fast as the server answers; else that rate, spread over the
    client processes."""
    posts_per_s = events_per_s / EVENTS_PER_POST / clients
    jobs = [(port, path, c, run, seconds, posts_per_s) for c in range(clients)]
    with multiprocessing.Pool(clients) as pool:
        parts = pool.map(_client_process, jobs)
    latencies = sorted(x for part in parts for x in part["latencies"])
    elapsed = max(p["end"] for p in parts) - min(p["start"] for p in parts)
    return {
        "posts": len(latencies),
        "failures": sum(p["failures"] for p in parts),
        "posts_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


# --- the platform -------------------------------------------------------------------------


def start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=_setup.bench_env(), start_new_session=True)


def start_web(port: int) -> subprocess.Popen:
    process = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bsp.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ]
    )
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def start_workers(stream: str = "on") -> list[subprocess.Popen]:
    """The `webhooks` pool; with the stream on, also an `events` worker (its own process,
    as docker-compose runs it beside housekeeping), so the dispatcher's work is counted but
    never takes a drainer's slot."""
    enabled = "1" if stream == "on" else "0"
    workers = [_setup.start_celery_worker("webhooks", 2, EVENT_STREAM_ENABLED=enabled)]
    if stream == "on":
        workers.append(_setup.start_celery_worker("events", 1))
    return workers


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def seed() -> None:
    from django.utils import timezone

    from messaging.models import Contact, Conversation, Message
    from tenants.models import Agency, BusinessPortfolio, PhoneNumber, WhatsAppBusinessAccount
    from tenants.scoping import agency_scope

    agency = Agency.objects.create(name="Bench County", slug="bench-county")
    with agency_scope(agency):
        portfolio = BusinessPortfolio.objects.create(agency=agency, business_id="2", name="B")
        waba = WhatsAppBusinessAccount.objects.create(
            agency=agency, portfolio=portfolio, waba_id=WABA, name="Bench", access_token="t"
        )
        number = PhoneNumber.objects.create(
            agency=agency,
            waba=waba,
            phone_number_id=PHONE_ID,
            display_phone_number="+1 415 555 0198",
            verified_name="Bench",
            throughput_tier=1000,
        )
        contacts = Contact.objects.bulk_create(
            Contact(agency=agency, wa_id=f"1415555{i:04d}", phone_e164=f"+1415555{i:04d}")
            for i in range(10_000)
        )
        conversations = Conversation.objects.bulk_create(
            Conversation(agency=agency, phone_number=number, contact=c) for c in contacts
        )
        now = timezone.now()
        Message.objects.bulk_create(
            (
                Message(
                    agency=agency,
                    conversation=conversations[i % 10_000],
                    phone_number=number,
                    contact=contacts[i % 10_000],
                    direction="out",
                    type="text",
                    content={"type": "text", "text": {"body": "Your permit is ready."}},
                    status="accepted",
                    wamid=f"wamid.bench-out-{i:06d}",
                    accepted_at=now,
                    sender_type="campaign",
                )
                for i in range(OUTBOUND)
            ),
            batch_size=2000,
        )


def event_counts() -> dict[str, int]:
    from django.db.models import Count

    from messaging.models import WebhookEvent

    return dict(WebhookEvent.objects.values_list("status").annotate(n=Count("id")).order_by())


WEBHOOK_TABLES = (
    "messaging_message",
    "messaging_contact",
    "messaging_conversation",
    "messaging_webhookevent",
)


def one_run(port: int, run: int, seconds: float, clients: int, events_per_s: float) -> dict:
    from messaging.models import Message, WebhookEvent
    from tenants.models import Agency
    from tenants.scoping import agency_scope, system_scope

    _setup.vacuum(*WEBHOOK_TABLES)
    with system_scope():
        before = WebhookEvent.objects.count()
    result = load(port, "/webhooks/whatsapp", clients, run, seconds, events_per_s)
    load_ended = time.monotonic()
    with system_scope():
        counts = event_counts()
    unsettled = ("received", "retrying", "processing")
    backlog = sum(counts.get(status, 0) for status in unsettled)
    while True:
        with system_scope():
            counts = event_counts()
        if sum(counts.get(status, 0) for status in unsettled) == 0:
            break
        if time.monotonic() - load_ended > 600:
            break
        time.sleep(0.5)
    drained = time.monotonic() - load_ended
    with system_scope():
        stored = WebhookEvent.objects.count() - before
        agency_id = Agency.objects.get(slug="bench-county").pk
    with agency_scope(agency_id):
        inbound = Message.objects.filter(wamid__startswith=f"wamid.bench-in-{run}-").count()
    acked = result["posts"] - result["failures"]
    result.update(
        events_per_s=result["posts_per_s"] * EVENTS_PER_POST,
        backlog_at_end=backlog,
        drain_seconds=drained,
        processed_events_per_s=acked * EVENTS_PER_POST / (seconds + drained),
        lost=(acked - stored) + (acked * INBOUND_PER_POST - inbound),
        quarantined=counts.get("quarantined", 0),
        failed=counts.get("failed", 0),
    )
    return result


def _describe(label: str, i: int, r: dict) -> str:
    return (
        f"{label} run {i}: {r['events_per_s']:,.0f} events/s acknowledged "
        f"({r['posts_per_s']:,.0f} POST/s, {r['failures']} non-200), p50 {r['p50_ms']:.1f} ms "
        f"p99 {r['p99_ms']:.1f} ms; processed {r['processed_events_per_s']:,.0f} events/s; "
        f"backlog when the load stopped {r['backlog_at_end']} POSTs, drained in "
        f"{r['drain_seconds']:.1f} s; lost {r['lost']}; quarantined {r['quarantined']}; "
        f"failed {r['failed']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60, help="each run at the target rate")
    parser.add_argument("--rate", type=float, default=3000, help="target events/s")
    parser.add_argument("--saturation-seconds", type=float, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--stream", default="on,off", help="event stream settings to compare")
    args = parser.parse_args()
    _setup.prepare_database()
    _setup.setup_django()
    import redis

    redis.Redis.from_url(_setup.bench_env()["REDIS_URL"]).flushdb()
    seed()
    port = _setup.free_port()
    modes = args.stream.split(",")
    web, workers = start_web(port), []
    by_mode: dict[str, tuple[list[dict], list[dict]]] = {}
    try:
        time.sleep(3)
        bare = [load(port, "/bench/bare", args.clients, 0, 15) for _ in range(args.runs)]
        for m, mode in enumerate(modes):
            workers = start_workers(mode)
            time.sleep(3)
            offset = 1000 * m  # each mode's inbound wamids are new
            saturated = [
                one_run(port, offset + 100 + run, args.saturation_seconds, args.clients, 0)
                for run in range(args.runs)
            ]
            paced = [
                one_run(port, offset + run + 1, args.seconds, args.clients, args.rate)
                for run in range(args.runs)
            ]
            by_mode[mode] = (saturated, paced)
            for worker in workers:
                stop(worker)
            workers = []
    finally:
        for worker in workers:
            stop(worker)
        stop(web)
    print(f"Machine: {_setup.machine()}")
    for mode, (saturated, paced) in by_mode.items():
        print(f"--- event stream {mode}")
        _print_mode(args, bare, saturated, paced)
    if {"on", "off"} <= by_mode.keys():

        def processed(mode: str) -> float:
            return statistics.median(r["processed_events_per_s"] for r in by_mode[mode][0])

        on, off = processed("on"), processed("off")
        print(
            f"saturated processing: stream on {on:,.0f} events/s, off {off:,.0f} events/s; "
            f"stream_slowdown = {(off - on) / off:+.1%}"
        )


def _print_mode(
    args: argparse.Namespace, bare: list[dict], saturated: list[dict], paced: list[dict]
) -> None:
    for i, b in enumerate(bare, 1):
        print(
            f"bare run {i}: {b['posts_per_s'] * EVENTS_PER_POST:,.0f} events/s "
            f"({b['posts_per_s']:,.0f} POST/s) p50 {b['p50_ms']:.1f} ms p99 {b['p99_ms']:.1f} ms"
        )
    for i, r in enumerate(saturated, 1):
        print(_describe("saturation", i, r))
    for i, r in enumerate(paced, 1):
        print(_describe(f"at {args.rate:,.0f} events/s", i, r))
    bare_rate = statistics.median(b["posts_per_s"] * EVENTS_PER_POST for b in bare)
    ingest = statistics.median(r["events_per_s"] for r in saturated)
    _setup.report("webhook ingest, saturated (median)", ingest, "events/s", "bare view", bare_rate)
    print(f"ingest_ratio = {ingest / bare_rate:.2f}")

    def median(key: str) -> float:
        return statistics.median(r[key] for r in paced)

    print(
        f"at {args.rate:,.0f} events/s offered (median of runs): p50 {median('p50_ms'):.1f} ms, "
        f"p99 {median('p99_ms'):.1f} ms, processed {median('processed_events_per_s'):,.0f} "
        f"events/s, backlog when the load stopped {median('backlog_at_end'):,.0f} POSTs, "
        f"lost {sum(r['lost'] for r in paced + saturated)} in all runs"
    )


if __name__ == "__main__":
    main()
