"""Outbound pipeline: drain 20,000 queued campaign messages for one number through real
Celery workers (Redis broker, PostgreSQL, RLS) to the simulator, while an agent replies.

Prints achieved msg/s (median of 3 runs), enqueue→accepted p50/p99, lost and duplicated
counts, agent-reply latency p95 during the drain, the simulator's raw accept rate measured in
the same run, `send_ratio = platform / raw`, and a tier-80 drain showing the limiter holds.

    .venv/bin/python bench/send_pipeline.py [--messages 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup

ROOT = _setup.ROOT
PHONE_ID, TOKEN, WABA = "109000000000001", "bench-token", "209000000000001"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_simulator(port: int) -> subprocess.Popen:
    config = {
        "limits": {"throughput_mps": 0, "pair_burst": 0, "enforce_window": False},
        "phone_numbers": [
            {
                "id": PHONE_ID,
                "display_phone_number": "14155550199",
                "access_token": TOKEN,
                "waba_id": WABA,
            }
        ],
    }
    path = Path(tempfile.mkstemp(suffix=".json")[1])
    path.write_text(json.dumps(config))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "messaging.simulator",
            "--port",
            str(port),
            "--config",
            str(path),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_sim/health", timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("simulator did not start")


def start_worker(queues: str, concurrency: int, sim_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        **_setup.bench_env(),
        "GRAPH_API_BASE_URL": sim_url,
        "GRAPH_API_VERSION": "v23.0",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bsp",
            "worker",
            f"--queues={queues}",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            f"--hostname={queues}@%h",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def raw_accept_rate() -> float:
    out = subprocess.run(
        [sys.executable, "bench/simulator_accept_rate.py", "--runs", "3", "--messages", "10000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"median accept rate: ([\d,]+)", out).group(1).replace(",", ""))


def seed(agency, number, count: int, campaign_id: int):
    """Queued campaign messages, bulk-inserted (queueing speed is not what we measure)."""
    from django.utils import timezone

    from messaging.models import Contact, Conversation, Message
    from messaging.whatsapp import builders

    base = 14155600000 + campaign_id * 100_000
    contacts = Contact.objects.bulk_create(
        [Contact(agency=agency, wa_id=str(base + i)) for i in range(count)], batch_size=2000
    )
    conversations = Conversation.objects.bulk_create(
        [Conversation(agency=agency, phone_number=number, contact=c) for c in contacts],
        batch_size=2000,
    )
    now = timezone.now()
    content = builders.stored_form(builders.Text("Road closure on Main St tomorrow 8-10am."))
    Message.objects.bulk_create(
        [
            Message(
                agency=agency,
                conversation=conv,
                phone_number=number,
                contact=conv.contact,
                direction="out",
                type="text",
                content=content,
                status="queued",
                sender_type="campaign",
                campaign_id=campaign_id,
                created_at=now,
            )
            for conv in conversations
        ],
        batch_size=2000,
    )


def agent_replies(agency, number, stop: threading.Event, latencies: list[float]) -> None:
    """Agents answer a citizen every 0.25 s, each time another one (as in an inbox; one
    person every 0.25 s would exceed Meta's pair rate); measure enqueue→accepted."""
    from django.db import connection
    from django.utils import timezone

    from messaging import services
    from messaging.models import Contact, Conversation, Message
    from messaging.whatsapp import builders
    from tenants.scoping import agency_scope

    with agency_scope(agency):
        # Another citizen each time, as in an inbox: one person every 0.25 s would exceed
        # Meta's pair rate (and our pair limiter rightly holds those back).
        contacts = []
        for i in range(60):
            contact, _ = Contact.objects.get_or_create(agency=agency, wa_id=f"1415557{i:04d}")
            Conversation.objects.update_or_create(
                agency=agency,
                phone_number=number,
                contact=contact,
                defaults={"window_expires_at": timezone.now() + timedelta(hours=2)},
            )
            contacts.append(contact)
        sent = []
        while not stop.is_set():
            sent.append(
                services.send_message(
                    agency=agency,
                    sender=services.Sender.system("agent"),
                    to=contacts[len(sent) % len(contacts)].wa_id,
                    message=builders.Text("On it!"),
                )
            )
            time.sleep(0.25)
        deadline = time.monotonic() + 10
        while (
            time.monotonic() < deadline
            and Message.objects.filter(pk__in=[m.pk for m in sent], status="queued").exists()
        ):
            time.sleep(0.1)
        for m in Message.objects.filter(pk__in=[m.pk for m in sent], accepted_at__isnull=False):
            latencies.append((m.accepted_at - m.created_at).total_seconds())
    connection.close()


def drain_run(agency, number, count: int, run: int, sim_url: str, with_agent: bool):
    from django.db.models import Count

    from messaging import delivery
    from messaging.models import Message
    from tenants.scoping import agency_scope

    with agency_scope(agency):
        seed(agency, number, count, campaign_id=run)
        stop, latencies = threading.Event(), []
        agent = threading.Thread(target=agent_replies, args=(agency, number, stop, latencies))
        start = time.monotonic()
        for _ in range(2):  # one drainer per worker process
            delivery.schedule_drain(number.pk, agency.pk, force=True)
        if with_agent:
            agent.start()
        in_flight = Message.objects.filter(campaign_id=run, status__in=["queued", "sending"])
        while in_flight.exists() and time.monotonic() - start < 600:
            time.sleep(0.2)
        stop.set()
        if with_agent:
            agent.join()
        rows = Message.objects.filter(campaign_id=run)
        statuses = Counter(dict(rows.values_list("status").annotate(n=Count("id"))))
        done = rows.exclude(accepted_at=None)
        first = done.order_by("accepted_at").values_list("accepted_at", flat=True).first()
        last = done.order_by("-accepted_at").values_list("accepted_at", flat=True).first()
        latency = sorted(
            (a - c).total_seconds()
            for a, c in rows.exclude(accepted_at=None).values_list("accepted_at", "created_at")
        )
    elapsed = (last - first).total_seconds() if first and last else float("nan")
    received = Counter(
        m["payload"].get("biz_opaque_callback_data")
        for m in httpx.get(f"{sim_url}/_sim/phone_numbers/{PHONE_ID}/messages", timeout=60).json()[
            "data"
        ]
    )
    dupes = sum(n - 1 for key, n in received.items() if n > 1 and key)
    return {
        "rate": statuses["accepted"] / elapsed if elapsed else 0,
        "p50": statistics.median(latency) if latency else float("nan"),
        "p99": latency[int(len(latency) * 0.99) - 1] if latency else float("nan"),
        "lost": count - statuses["accepted"],
        "dupes": dupes,
        "statuses": dict(statuses),
        "agent_p95": (sorted(latencies)[int(len(latencies) * 0.95) - 1] if latencies else None),
        "agent_n": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    raw = raw_accept_rate()
    _setup.prepare_database()
    _setup.setup_django()
    from tenants.models import Agency, BusinessPortfolio, PhoneNumber, WhatsAppBusinessAccount
    from tenants.scoping import agency_scope

    port = free_port()
    sim_url = f"http://127.0.0.1:{port}"
    simulator = start_simulator(port)
    agency = Agency.objects.create(name="Bench County", slug="bench-county")
    with agency_scope(agency):
        portfolio = BusinessPortfolio.objects.create(
            agency=agency, business_id="1", name="Bench", messaging_limit_tier="TIER_UNLIMITED"
        )
        waba = WhatsAppBusinessAccount.objects.create(
            agency=agency, portfolio=portfolio, waba_id=WABA, name="Bench", access_token=TOKEN
        )
        number = PhoneNumber.objects.create(
            agency=agency,
            waba=waba,
            phone_number_id=PHONE_ID,
            display_phone_number="+1 415 555 0199",
            verified_name="Bench",
            throughput_tier=1000,
        )
    import redis

    redis.Redis.from_url(_setup.bench_env()["REDIS_URL"]).flushdb()  # the bench's own db
    workers = [start_worker("bulk", 2, sim_url), start_worker("agent_replies", 1, sim_url)]
    try:
        time.sleep(4)
        results = [
            drain_run(agency, number, args.messages, run + 1, sim_url, run == 0)
            for run in range(args.runs)
        ]
        with agency_scope(agency):
            PhoneNumber.objects.filter(pk=number.pk).update(throughput_tier=80)
            number.refresh_from_db()
        slow = drain_run(agency, number, 2400, 99, sim_url, False)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        simulator.terminate()
    rate = statistics.median(r["rate"] for r in results)
    print(f"Machine: {_setup.machine()}")
    for i, r in enumerate(results, 1):
        print(
            f"run {i}: {r['rate']:,.0f} msg/s, p50 {r['p50']:.2f}s p99 {r['p99']:.2f}s, "
            f"lost {r['lost']}, duplicated {r['dupes']}, {r['statuses']}"
        )
    _setup.report(
        "send pipeline, tier 1000, 20k campaign", rate, "msg/s", "simulator raw accept (httpx)", raw
    )
    print(f"send_ratio = platform / raw = {rate / raw:.2f}")
    agent = results[0]
    print(
        f"agent replies during the drain: p95 enqueue->accepted "
        f"{agent['agent_p95']:.3f}s over {agent['agent_n']} replies"
    )
    print(
        f"tier 80: {slow['rate']:.1f} msg/s (limit 80 ± 5%: "
        f"{'holds' if 76 <= slow['rate'] <= 84 else 'OUT OF BAND'}), lost {slow['lost']}, "
        f"duplicated {slow['dupes']}"
    )


if __name__ == "__main__":
    main()
