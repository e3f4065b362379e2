"""Live updates: how soon an open Server-Sent Events client hears of a change, and whether an
agent's reply stays fast while 50 agents hold streams open during a campaign.

Everything real on this machine: gunicorn on the ASGI app (uvicorn workers, as deployed),
Celery workers (webhooks, events, bulk, agent_replies), PostgreSQL with RLS, Redis, the
Cloud API simulator.

(1) Webhook → SSE. A signed inbound message POSTed to /webhooks/whatsapp, as Meta does, one
    every ``1/rate`` s; timed from the POST to the ``message.received`` event reaching an
    open stream (stored, drained by the webhooks worker, published, dispatched by the events
    worker onto the agency's Redis channel, streamed). Baselines measured in the same run:
    ``events.publish`` in a transaction → the same stream (the dispatch and streaming part
    alone), and a bare Redis PUBLISH → subscriber round trip. Target p95 < 500 ms.
(2) 50 agents hold streams open (each a user of its own, in a separate client process)
    while a 20,000-message campaign is queued through ``messaging.services.send_message``
    (``Sender.campaign``, an approved template, opted-in contacts) and drains through the
    bulk worker to the simulator; meanwhile an agent replies every 0.25 s
    (``Sender.staff``, the ``agent_replies`` queue), timed from ``send_message`` to the
    simulator accepting it (``accepted_at - created_at``). Target p95 < 1 s. The streams'
    received events are counted (every queued message publishes ``message.queued`` and
    ``message.status``, so each stream carries ~40,000 events).

    .venv/bin/python bench/live_latency.py [--messages 300] [--rate 20] [--runs 3]
        [--agents 50] [--campaign 20000] [--campaign-runs 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

# Its own database and Redis db (other benchmarks recreate theirs and flush db 8 and 9).
os.environ.setdefault("CIVIC_BENCH_DB", "civic_relay_bench_live")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup

ROOT = _setup.ROOT
PHONE_ID, WABA, TOKEN = "109000000000003", "209000000000003", "bench-live-token"
APP_SECRET = "test-app-secret"  # bsp.settings.test, which the bench settings extend
TEMPLATE = "road_closure_notice"


# --- the platform ---------------------------------------------------------------------------


def start_web(port: int, workers: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bsp.asgi",
            "--worker-class",
            "bsp.gunicorn.AsgiWorker",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=_setup.bench_env(),
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def start_simulator(port: int) -> subprocess.Popen[bytes]:
    config = {
        "limits": {"throughput_mps": 0, "pair_burst": 0, "enforce_window": False},
        "phone_numbers": [
            {
                "id": PHONE_ID,
                "display_phone_number": "14155550197",
                "access_token": TOKEN,
                "waba_id": WABA,
            }
        ],
        "templates": [
            {
                "waba_id": WABA,
                "name": TEMPLATE,
                "language": "en_US",
                "components": [{"type": "BODY", "text": "Road closure on Main St tomorrow."}],
            }
        ],
    }
    path = Path(tempfile.mkstemp(suffix=".json")[1])
    path.write_text(json.dumps(config))
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "messaging.simulator"),
            *("--port", str(port), "--config", str(path), "--log-level", "warning"),
        ],
        cwd=ROOT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_sim/health", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("simulator did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# --- data -------------------------------------------------------------------------------------


def seed(agents: int) -> tuple[Any, Any, list[str]]:
    """The agency, its number (with an approved template) and ``agents`` signed-in agents'
    session keys."""
    from django.test import Client

    from templates_mgr.models import MessageTemplate
    from tenants.middleware import SESSION_AGENCY_KEY
    from tenants.models import (
        Agency,
        BusinessPortfolio,
        Membership,
        PhoneNumber,
        WhatsAppBusinessAccount,
    )
    from tenants.permissions import Role
    from tenants.scoping import agency_scope

    agency = Agency.objects.create(name="Live County", slug="live-county")
    sessions = []
    from django.contrib.auth.models import User

    with agency_scope(agency):
        portfolio = BusinessPortfolio.objects.create(
            agency=agency, business_id="3", name="Live", messaging_limit_tier="TIER_UNLIMITED"
        )
        waba = WhatsAppBusinessAccount.objects.create(
            agency=agency, portfolio=portfolio, waba_id=WABA, name="Live", access_token=TOKEN
        )
        number = PhoneNumber.objects.create(
            agency=agency,
            waba=waba,
            phone_number_id=PHONE_ID,
            display_phone_number="+1 415 555 0197",
            verified_name="Live",
            throughput_tier=1000,
        )
        MessageTemplate.objects.create(
            agency=agency,
            waba=waba,
            name=TEMPLATE,
            language="en_US",
            category=MessageTemplate.Category.UTILITY,
            status=MessageTemplate.Status.APPROVED,
            components=[{"type": "BODY", "text": "Road closure on Main St tomorrow."}],
        )
        for i in range(agents):
            user = User.objects.create_user(f"agent{i}@live.example.gov", f"agent{i}@live.gov")
            Membership.objects.create(agency=agency, user=user, role=Role.AGENT)
            client = Client()
            client.force_login(user)
            session = client.session
            session[SESSION_AGENCY_KEY] = agency.pk
            session.save()
            sessions.append(session.session_key or "")
    return agency, number, sessions


def inbound_body(wamid: str, wa_id: str) -> bytes:
    metadata = {"display_phone_number": "14155550197", "phone_number_id": PHONE_ID}
    message = {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": "Is the road open?"},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": metadata,
        "contacts": [{"profile": {"name": f"Citizen {wa_id}"}, "wa_id": wa_id}],
        "messages": [message],
    }
    change = {"field": "messages", "value": value}
    payload = {"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [change]}]}
    return json.dumps(payload).encode()


# --- an SSE reader ----------------------------------------------------------------------------


class Stream:
    """One open /inbox/stream/: every event's arrival time (perf_counter) by a key of its
    data, and when it was published (its ``created_at``, wall clock) against when it arrived
    (wall clock)."""

    def __init__(self, port: int, session_key: str, key: Any) -> None:
        self.url = f"http://127.0.0.1:{port}/inbox/stream/"
        self.cookies = {"sessionid": session_key}
        self.key = key
        self.arrived: dict[Any, float] = {}
        self.published: dict[Any, tuple[float, float]] = {}  # key → (created_at, arrived)
        self.events = 0
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Stream:
        self.task = asyncio.create_task(self._read())
        await asyncio.wait_for(self.ready.wait(), 30)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _read(self) -> None:
        timeout = httpx.Timeout(10, read=None)
        async with (
            httpx.AsyncClient(cookies=self.cookies, timeout=timeout) as client,
            client.stream("GET", self.url) as response,
        ):
            if response.status_code != 200:
                raise RuntimeError(f"stream refused: {response.status_code}")
            name = None
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                    if name == "hello":
                        self.ready.set()
                elif line.startswith("data: ") and name not in (None, "hello"):
                    self.events += 1
                    event = json.loads(line[6:])
                    found = self.key(event)
                    if found is not None and found not in self.arrived:
                        self.arrived[found] = time.perf_counter()
                        created = datetime.fromisoformat(event["created_at"]).timestamp()
                        self.published[found] = (created, time.time())
                elif not line:
                    name = None


def _received_wamid(event: dict[str, Any]) -> str | None:
    if event.get("type") == "message.received":
        return event["payload"].get("wamid")
    return None


def _subject_marker(event: dict[str, Any]) -> str | None:
    return event.get("subject", {}).get("bench")


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    if not ordered:
        return float("nan"), float("nan")
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


async def _wait_all(stream: Stream, keys: list[Any], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(k in stream.arrived for k in keys):
        await asyncio.sleep(0.05)


# --- (1) webhook → SSE, and the baselines ------------------------------------------------------


async def webhook_to_sse(port: int, session: str, run: int, n: int, rate: float) -> dict:
    sent: dict[str, float] = {}
    posted: dict[str, float] = {}  # wall clock, against the events' created_at
    async with Stream(port, session, _received_wamid) as stream, httpx.AsyncClient() as http:
        await asyncio.sleep(0.5)  # subscribed
        for i in range(n):
            wamid = f"wamid.live-{run}-{i}"
            body = inbound_body(wamid, f"1415558{i % 10000:04d}")
            digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers = {"X-Hub-Signature-256": f"sha256={digest}"}
            sent[wamid], posted[wamid] = time.perf_counter(), time.time()
            response = await http.post(
                f"http://127.0.0.1:{port}/webhooks/whatsapp", content=body, headers=headers
            )
            response.raise_for_status()
            await asyncio.sleep(max(0.0, sent[wamid] + 1 / rate - time.perf_counter()))
        await _wait_all(stream, list(sent), 30)
    latencies = [stream.arrived[w] - t for w, t in sent.items() if w in stream.arrived]
    # Where the time goes: POST → published by the webhooks worker (stored, drained,
    # processed), and published → on the stream (commit, dispatch, Redis, SSE).
    processed = [stream.published[w][0] - posted[w] for w in posted if w in stream.published]
    streamed = [arrived - created for created, arrived in stream.published.values()]
    return {
        "latencies": latencies,
        "missing": len(sent) - len(latencies),
        "to_published": processed,
        "published_to_stream": streamed,
    }


def _publish_marker(agency_id: int, marker: str) -> None:
    from django.db import transaction

    from bsp import events
    from tenants.scoping import agency_scope

    with agency_scope(agency_id), transaction.atomic():
        # A type no consumer of the stream acts on (the inbox's route conversations).
        events.publish(
            agency_id=agency_id,
            type="template.status",
            subject={"template": 0, "bench": marker},
            payload={"name": "bench", "status": "APPROVED", "source": "bench"},
        )


def _close_connection() -> None:
    from django.db import connection

    connection.close()  # this thread's


async def publish_to_sse(port: int, session: str, agency_id: int, n: int, rate: float) -> dict:
    sent: dict[str, float] = {}
    loop = asyncio.get_running_loop()
    # One thread for every publish: one database connection, closed by that thread.
    with ThreadPoolExecutor(max_workers=1) as thread:
        async with Stream(port, session, _subject_marker) as stream:
            await asyncio.sleep(0.5)
            for i in range(n):
                marker = f"m{time.time_ns()}-{i}"
                sent[marker] = time.perf_counter()
                await loop.run_in_executor(thread, _publish_marker, agency_id, marker)
                await asyncio.sleep(max(0.0, sent[marker] + 1 / rate - time.perf_counter()))
            await _wait_all(stream, list(sent), 30)
        await loop.run_in_executor(thread, _close_connection)
    latencies = [stream.arrived[m] - t for m, t in sent.items() if m in stream.arrived]
    return {"latencies": latencies, "missing": len(sent) - len(latencies)}


async def redis_round_trip(url: str, n: int, rate: float) -> dict:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe("civic:bench:live")
    await pubsub.get_message(timeout=5)
    latencies = []
    for i in range(n):
        started = time.perf_counter()
        await client.publish("civic:bench:live", str(i))
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
            if message is not None:
                break
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(1 / rate)
    await pubsub.aclose()
    await client.aclose()
    return {"latencies": latencies, "missing": 0}


# --- (2) 50 agents during a campaign ------------------------------------------------------------


def _agents_process(port: int, sessions: list[str], seconds: float, out: Any) -> None:
    """Hold one stream per session until told to stop; report events received per stream."""

    async def hold() -> list[int]:
        streams = [Stream(port, s, lambda event: None) for s in sessions]
        for stream in streams:
            await stream.__aenter__()
        out.put("ready")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not stop_file.exists():
            await asyncio.sleep(0.2)
        counts = [stream.events for stream in streams]
        for stream in streams:
            await stream.__aexit__(None, None, None)
        return counts

    stop_file = Path(tempfile.gettempdir()) / f"live-bench-stop-{os.getppid()}"
    out.put(asyncio.run(hold()))


def bulk_queue_campaign(agency: Any, count: int, campaign_id: int) -> float:
    """``--queue bulk``: the campaign's rows inserted queued in one go, as the send benchmark
    seeds them (queueing speed is not what this part measures), then one drainer woken."""
    from django.utils import timezone

    from messaging import delivery
    from messaging.models import Contact, Conversation, Message
    from messaging.whatsapp import builders
    from tenants.models import PhoneNumber
    from tenants.scoping import agency_scope

    base = 14155700000 + campaign_id * 100_000
    started = time.monotonic()
    with agency_scope(agency):
        number = PhoneNumber.objects.get(phone_number_id=PHONE_ID)
        contacts = Contact.objects.bulk_create(
            [Contact(agency=agency, wa_id=str(base + i)) for i in range(count)], batch_size=2000
        )
        conversations = Conversation.objects.bulk_create(
            [Conversation(agency=agency, phone_number=number, contact=c) for c in contacts],
            batch_size=2000,
        )
        content = builders.stored_form(builders.Template(name=TEMPLATE, language="en_US"))
        now = timezone.now()
        Message.objects.bulk_create(
            [
                Message(
                    agency=agency,
                    conversation=conversation,
                    phone_number=number,
                    contact=conversation.contact,
                    direction="out",
                    type="template",
                    content=content,
                    status="queued",
                    business_initiated=True,
                    sender_type="campaign",
                    campaign_id=campaign_id,
                    created_at=now,
                )
                for conversation in conversations
            ],
            batch_size=2000,
        )
    delivery.schedule_drain(number.pk, agency.pk, force=True)
    return time.monotonic() - started


def queue_campaign(agency: Any, count: int, campaign_id: int) -> float:
    """``count`` opted-in contacts, then one send_message each; seconds the queueing took."""
    from django.utils import timezone

    from messaging import delivery, services
    from messaging.models import Consent, Contact
    from messaging.whatsapp import builders
    from tenants.scoping import agency_scope

    base = 14155700000 + campaign_id * 100_000
    with agency_scope(agency):
        contacts = Contact.objects.bulk_create(
            [Contact(agency=agency, wa_id=str(base + i)) for i in range(count)], batch_size=2000
        )
        now = timezone.now()
        Consent.objects.bulk_create(
            [
                Consent(
                    agency=agency,
                    contact=c,
                    status=Consent.Status.OPTED_IN,
                    source=Consent.Source.IMPORT,
                    recorded_at=now,
                )
                for c in contacts
            ],
            batch_size=2000,
        )
    message = builders.Template(name=TEMPLATE, language="en_US")
    started = time.monotonic()
    for contact in contacts:
        services.send_message(
            agency=agency,
            sender=services.Sender.campaign(campaign_id),
            to=contact.wa_id,
            message=message,
        )
    # The last sends' wake-ups fall inside the drainer's debounce (one per 5 s): without
    # this, the tail would wait for the sweeper (10 min). The send benchmark does the same.
    delivery.schedule_drain(_number_pk(agency), agency.pk, force=True)
    return time.monotonic() - started


def _number_pk(agency: Any) -> int:
    from tenants.models import PhoneNumber
    from tenants.scoping import agency_scope

    with agency_scope(agency):
        return PhoneNumber.objects.get(phone_number_id=PHONE_ID).pk


def agent_replies(agency: Any, number: Any, stop: threading.Event, out: list[float]) -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from messaging import services
    from messaging.models import Contact, Conversation, Message
    from messaging.whatsapp import builders
    from records.audit import Actor
    from tenants.scoping import agency_scope

    with agency_scope(agency):
        user = User.objects.get(username="agent0@live.example.gov")
        actor = Actor("user", str(user.pk), user.email)
        contacts = []
        for i in range(60):
            contact, _ = Contact.objects.get_or_create(agency=agency, wa_id=f"1415559{i:04d}")
            Conversation.objects.update_or_create(
                agency=agency,
                phone_number=number,
                contact=contact,
                defaults={"window_expires_at": timezone.now() + timedelta(hours=2)},
            )
            contacts.append(contact)
        sent: list[int] = []
        while not stop.is_set():
            row = services.send_message(
                agency=agency,
                sender=services.Sender.staff(user, actor),
                to=contacts[len(sent) % len(contacts)].wa_id,
                message=builders.Text("On it!"),
            )
            sent.append(row.pk)
            time.sleep(0.25)
        deadline = time.monotonic() + 15
        pending = Message.objects.filter(pk__in=sent, accepted_at=None)
        while time.monotonic() < deadline and pending.exists():
            time.sleep(0.1)
        rows = Message.objects.filter(pk__in=sent).values_list("accepted_at", "created_at")
        out.extend((a - c).total_seconds() if a else float("inf") for a, c in rows)
    connection.close()


def campaign_run(
    port: int,
    agency: Any,
    number: Any,
    sessions: list[str],
    count: int,
    campaign_id: int,
    how: str,
) -> dict:
    from messaging.models import Message
    from tenants.scoping import agency_scope

    _setup.vacuum("messaging_message", "messaging_contact", "events_domainevent")
    stop_file = Path(tempfile.gettempdir()) / f"live-bench-stop-{os.getpid()}"
    stop_file.unlink(missing_ok=True)
    # spawn, not fork: a forked child would share (and on exit close) this process's
    # database connections.
    context = multiprocessing.get_context("spawn")
    reports = context.Queue()
    holder = context.Process(target=_agents_process, args=(port, sessions, 1800, reports))
    holder.start()
    if reports.get(timeout=120) != "ready":
        raise RuntimeError("the agents' streams did not open")
    stop, replies = threading.Event(), list[float]()
    agent = threading.Thread(target=agent_replies, args=(agency, number, stop, replies))
    agent.start()
    started = time.monotonic()
    queue = bulk_queue_campaign if how == "bulk" else queue_campaign
    queued_in = queue(agency, count, campaign_id)
    with agency_scope(agency):
        campaign = Message.objects.filter(campaign_id=campaign_id)
        settled = campaign.exclude(status__in=["queued", "sending"])
        # Done when nothing is queued and nothing has settled for 10 s (a send whose outcome
        # is unknown stays `sending` for the reconciler, 15 min later).
        last, still_since = -1, time.monotonic()
        while time.monotonic() - started < 1200:
            done = settled.count()
            if done != last:
                last, still_since = done, time.monotonic()
            queued = campaign.filter(status="queued").exists()
            if done == count or (not queued and time.monotonic() - still_since > 10):
                break
            time.sleep(0.5)
        accepted = campaign.filter(status="accepted").count()
        unknown = campaign.filter(status="sending").count()
    drained_in = time.monotonic() - started
    stop.set()
    agent.join()
    stop_file.touch()
    counts = reports.get(timeout=120)
    holder.join(timeout=30)
    stop_file.unlink(missing_ok=True)
    return {
        "queued_s": queued_in,
        "drained_s": drained_in,
        "accepted": accepted,
        "outcome_unknown": unknown,
        "replies": replies,
        "stream_events": counts,
    }


# --- main ------------------------------------------------------------------------------------


def describe(name: str, result: dict) -> str:
    p50, p95 = percentiles(result["latencies"])
    return (
        f"{name}: p50 {1000 * p50:.1f} ms, p95 {1000 * p95:.1f} ms over "
        f"{len(result['latencies'])} ({result['missing']} missing)"
    )


def breakdown(result: dict) -> str:
    a50, a95 = percentiles(result["to_published"])
    b50, b95 = percentiles(result["published_to_stream"])
    return (
        f"    of which POST → published by the webhooks worker: p50 {1000 * a50:.0f} ms, "
        f"p95 {1000 * a95:.0f} ms; published → on the stream: p50 {1000 * b50:.0f} ms, "
        f"p95 {1000 * b95:.0f} ms (wall clocks of one machine)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300, help="webhook POSTs per run")
    parser.add_argument("--rate", type=float, default=20, help="POSTs per second")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--campaign", type=int, default=20_000)
    parser.add_argument("--campaign-runs", type=int, default=1)
    parser.add_argument(
        "--queue",
        choices=["send_message", "bulk"],
        default="send_message",
        help="how the campaign is queued: one send_message each, or rows inserted at once",
    )
    args = parser.parse_args()
    _setup.prepare_database()
    _setup.setup_django()
    import redis

    redis_url = _setup.bench_env()["REDIS_URL"]
    redis.Redis.from_url(redis_url).flushdb()
    agency, number, sessions = seed(max(args.agents, 1))
    port, sim_port = _setup.free_port(), _setup.free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    simulator = start_simulator(sim_port)
    web = start_web(port, args.web_workers)
    graph = {"GRAPH_API_BASE_URL": sim_url, "GRAPH_API_VERSION": "v23.0"}
    workers = [
        _setup.start_celery_worker("webhooks", 2, **graph),
        _setup.start_celery_worker("events", 1, **graph),
        _setup.start_celery_worker("bulk", 1, **graph),
        _setup.start_celery_worker("agent_replies", 1, **graph),
    ]
    results: dict[str, list[dict]] = {"webhook": [], "publish": [], "redis": []}
    campaigns: list[dict] = []
    try:
        time.sleep(5)
        # Warm-up: the workers' first tasks, the web workers' first streams.
        asyncio.run(webhook_to_sse(port, sessions[0], 0, 20, args.rate))
        for run in range(1, args.runs + 1):
            results["redis"].append(asyncio.run(redis_round_trip(redis_url, args.messages, 50)))
            print(describe(f"run {run} Redis PUBLISH → subscriber", results["redis"][-1]))
            results["publish"].append(
                asyncio.run(publish_to_sse(port, sessions[0], agency.pk, args.messages, args.rate))
            )
            print(describe(f"run {run} publish → SSE", results["publish"][-1]))
            results["webhook"].append(
                asyncio.run(webhook_to_sse(port, sessions[0], run, args.messages, args.rate))
            )
            print(describe(f"run {run} webhook → SSE", results["webhook"][-1]), flush=True)
            print(breakdown(results["webhook"][-1]), flush=True)
        for run in range(1, args.campaign_runs + 1):
            campaigns.append(
                campaign_run(
                    port, agency, number, sessions[: args.agents], args.campaign, run, args.queue
                )
            )
    finally:
        for worker in workers:
            stop(worker)
        stop(web)
        stop(simulator)
    report(args, results, campaigns)


def report(args: argparse.Namespace, results: dict[str, list[dict]], campaigns: list[dict]) -> None:
    print(f"Machine: {_setup.machine()}; gunicorn ASGI x{args.web_workers} uvicorn workers")
    names = {
        "webhook": "webhook POST → message.received on an open stream",
        "publish": "baseline: events.publish in a transaction → the stream",
        "redis": "baseline: Redis PUBLISH → subscriber",
    }
    medians: dict[str, tuple[float, float]] = {}
    for key, name in names.items():
        for i, result in enumerate(results[key], 1):
            print(f"  {describe(f'{name}, run {i}', result)}")
        p50s = [percentiles(r["latencies"])[0] for r in results[key]]
        p95s = [percentiles(r["latencies"])[1] for r in results[key]]
        medians[key] = (statistics.median(p50s), statistics.median(p95s))
        print(
            f"{name} (median of {len(p50s)} runs): p50 {1000 * medians[key][0]:.1f} ms, "
            f"p95 {1000 * medians[key][1]:.1f} ms"
        )
    web_p95, publish_p95 = medians["webhook"][1], medians["publish"][1]
    print(
        f"live_ratio = webhook p95 / publish p95 = {web_p95 / publish_p95:.2f}; "
        f"target p95 < 500 ms: {'met' if web_p95 < 0.5 else 'MISSED'}"
    )
    for i, c in enumerate(campaigns, 1):
        p50, p95 = percentiles(c["replies"])
        events = c["stream_events"]
        print(
            f"campaign run {i}: {args.campaign:,} queued ({args.queue}) in "
            f"{c['queued_s']:.1f} s, drained (accepted {c['accepted']:,}, outcome unknown "
            f"{c['outcome_unknown']}) after "
            f"{c['drained_s']:.1f} s; {len(events)} streams open, events received per stream "
            f"min {min(events):,} max {max(events):,}; agent replies send_message → accepted "
            f"by the simulator: p50 {1000 * p50:.0f} ms, p95 {1000 * p95:.0f} ms over "
            f"{len(c['replies'])} (target p95 < 1 s: {'met' if p95 < 1 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
