"""Outbound pipeline: drain 20,000 queued campaign messages for one number through real
Celery workers (Redis broker, PostgreSQL, RLS) to the simulator, while an agent replies.

Two figures, each as a ratio to the simulator's raw accept rate measured in the same run:

(a) the drain rate with the number at tier 1,000 msg/s and the limiter on (what production
    does; the limiter itself allows at most ~1,000/s plus the initial burst), and
(b) the platform's capacity with the limiter lifted: BENCH-ONLY, the number's stored tier is
    overwritten with 1,000,000 msg/s, which no real number has.

Also: enqueue→accepted p50/p99, lost and duplicated counts, agent-reply latency p95 during the
first drain, and a tier-80 drain showing the limiter holds. The raw baselines: a tight raw
asyncio client (one process, 32 in flight: the simulator's own rate) and the httpx clients the
earlier figures were measured against.

    .venv/bin/python bench/send_pipeline.py [--messages 20000] [--runs 3]
        [--bulk-procs 1] [--drainers 1]
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

# Its own database and Redis db: other benchmarks recreate civic_relay_bench and flush db 9,
# and developers run them side by side.
os.environ.setdefault("CIVIC_BENCH_DB", "civic_relay_bench_send")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup

ROOT = _setup.ROOT
PHONE_ID, TOKEN, WABA = "109000000000001", "bench-token", "209000000000001"
LIFTED_TIER = 1_000_000  # bench-only: no real number has it; lifts the limiter for (b)


def start_simulator(port: int, latency: float = 0.0) -> subprocess.Popen:
    config = {
        "limits": {"throughput_mps": 0, "pair_burst": 0, "enforce_window": False},
        # Meta answers in a few hundred ms; the local simulator in well under one.
        "faults": {"slow_fraction": 1.0 if latency else 0.0, "slow_seconds": latency},
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
    return _setup.start_celery_worker(
        queues, concurrency, GRAPH_API_BASE_URL=sim_url, GRAPH_API_VERSION="v23.0"
    )


def raw_accept_rate(client: str, clients: int, concurrency: int) -> float:
    out = subprocess.run(
        [
            sys.executable,
            "bench/simulator_accept_rate.py",
            "--runs=3",
            "--messages=10000",
            f"--client={client}",
            f"--clients={clients}",
            f"--concurrency={concurrency}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"median accept rate: ([\d,]+)", out)
    if found is None:
        raise RuntimeError(f"no accept rate in the simulator benchmark's output:\n{out}")
    return float(found.group(1).replace(",", ""))


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
        sent: list[Message] = []
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


def vacuum() -> None:
    """What autovacuum would do between campaigns: each message is updated twice, and the
    table has 15 indexes (see `_setup.vacuum`)."""
    _setup.vacuum("messaging_message", "messaging_contact")


def drain_run(agency, number, count: int, run: int, sim_url: str, with_agent: bool, drainers: int):
    from django.db.models import Count

    from messaging import delivery
    from messaging.models import Message
    from tenants.scoping import agency_scope

    # Each run counts its own sends (and the simulator does not grow across runs).
    httpx.post(f"{sim_url}/_sim/reset", timeout=30).raise_for_status()
    vacuum()
    with agency_scope(agency):
        seed(agency, number, count, campaign_id=run)
        stop, latencies = threading.Event(), list[float]()
        agent = threading.Thread(target=agent_replies, args=(agency, number, stop, latencies))
        start = time.monotonic()
        # Production wakes one drainer when a campaign is queued (more when queueing it takes
        # longer than the wake-up debounce); they share the number through SKIP LOCKED.
        for _ in range(drainers):
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


def set_tier(agency, number, tier: int) -> None:
    from tenants.models import PhoneNumber
    from tenants.scoping import agency_scope

    with agency_scope(agency):
        # .update(): the lifted tier is not one of the model's choices, on purpose.
        PhoneNumber.objects.filter(pk=number.pk).update(throughput_tier=tier)
        number.refresh_from_db()


def print_runs(title: str, results: list[dict], raws: dict[str, float]) -> float:
    rate = statistics.median(r["rate"] for r in results)
    print(f"\n{title}")
    for i, r in enumerate(results, 1):
        print(
            f"  run {i}: {r['rate']:,.0f} msg/s, p50 {r['p50']:.2f}s p99 {r['p99']:.2f}s, "
            f"lost {r['lost']}, duplicated {r['dupes']}, {r['statuses']}"
        )
    for name, raw in raws.items():
        _setup.report(f"  median of {len(results)}", rate, "msg/s", name, raw)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--meta-latency", type=float, default=0.0, help="seconds the simulator takes per send"
    )
    parser.add_argument(
        "--bulk-procs",
        type=int,
        default=1,
        help="prefork processes of the bulk worker",
    )
    parser.add_argument("--drainers", type=int, default=1, help="drain tasks per campaign")
    args = parser.parse_args()
    raws = {
        "simulator raw accept (raw asyncio, 1 process x 32)": raw_accept_rate("raw", 1, 32),
        "simulator raw accept (httpx, 3 processes x 6)": raw_accept_rate("httpx", 3, 6),
    }
    _setup.prepare_database()
    _setup.setup_django()
    from tenants.models import Agency, BusinessPortfolio, PhoneNumber, WhatsAppBusinessAccount
    from tenants.scoping import agency_scope

    port = _setup.free_port()
    sim_url = f"http://127.0.0.1:{port}"
    simulator = start_simulator(port, args.meta_latency)
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
    workers = [
        start_worker("bulk", args.bulk_procs, sim_url),
        start_worker("agent_replies", 1, sim_url),
    ]
    run_ids, drainers = iter(range(1, 1000)), args.drainers
    try:
        time.sleep(4)
        limited = [
            drain_run(agency, number, args.messages, next(run_ids), sim_url, run == 0, drainers)
            for run in range(args.runs)
        ]
        set_tier(agency, number, LIFTED_TIER)
        lifted = [
            drain_run(agency, number, args.messages, next(run_ids), sim_url, False, drainers)
            for _ in range(args.runs)
        ]
        set_tier(agency, number, 80)
        slow = drain_run(agency, number, 2400, next(run_ids), sim_url, False, drainers)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        simulator.terminate()
    print(
        f"Machine: {_setup.machine()}; bulk worker: prefork x{args.bulk_procs}, "
        f"{args.drainers} drain task(s) per campaign"
    )
    print("raw baselines: " + ", ".join(f"{k} {v:,.0f} msg/s" for k, v in raws.items()))
    rate = print_runs("(a) tier 1,000 msg/s, limiter on", limited, raws)
    print(f"  drain / tier = {rate / 1000:.2f}")
    capacity = print_runs(
        f"(b) capacity, limiter lifted (BENCH-ONLY tier override {LIFTED_TIER:,} msg/s)",
        lifted,
        raws,
    )
    raw = next(iter(raws.values()))
    print(f"\nsend_ratio (a) = {rate / raw:.2f}, (b) = {capacity / raw:.2f} (vs the raw client)")
    agent = limited[0]
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
