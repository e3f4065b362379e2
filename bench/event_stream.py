"""The event stream's cost (bsp/events): webhook processing and the tier-1,000 bulk drain,
each with the stream on and off in the same run, alternated (on, off, off, on, on, off…) so
that drift (the tables growing, other load on the machine) falls on both alike; a first
round of each (not counted) warms up.

In one process, so what is measured is the work itself, not HTTP or the broker:

- **Webhook processing**: POST-shaped bodies (`webhook_ingest._body`: 7 statuses for our
  messages + 3 inbound texts) stored as the endpoint stores them, then processed by the
  drainer's own loop (`claim_batch` + `process_batch`). With the stream on, the dispatcher's
  pass over what was published (to the agency's Redis channel) is counted too. Statuses
  are reset between rounds, so each round makes the same transitions and publishes them.
  Reported: events/s processed and the slowdown; and the time 3,000 events/s would take of
  one worker per second.
- **Bulk drain at tier 1,000** (limiter on, the simulator answering): `drain_phone_number`
  as the bulk worker runs it, plus the dispatcher when on. The tier caps the rate, so the
  cost shows as the drainer's CPU per message; reported with the rate.

    .venv/bin/python bench/event_stream.py [--posts 2000] [--messages 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# Its own database and Redis db, so it can run beside the other benchmarks.
os.environ.setdefault("CIVIC_BENCH_DB", "civic_relay_bench_events")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup
import send_pipeline
import webhook_ingest

OFFERED = 3000  # events/s, the webhook target


def _order(rounds: int) -> list[bool]:
    """on, off, off, on, on, off, …: each mode first as often as second."""
    pairs = [(True, False) if i % 2 == 0 else (False, True) for i in range(rounds)]
    return [mode for pair in pairs for mode in pair]


def _dispatch_all() -> float:
    from bsp.events import dispatch

    start = time.perf_counter()
    while dispatch.dispatch_pending():
        pass
    return time.perf_counter() - start


def webhook_round(run: int, posts: int, stream: bool) -> dict:
    from django.conf import settings

    from bsp.events.models import DomainEvent
    from messaging.models import Message
    from messaging.webhooks import processing
    from messaging.webhooks.receive import store_event
    from tenants.scoping import system_scope

    settings.EVENT_STREAM_ENABLED = stream
    with system_scope():
        Message.objects.filter(wamid__startswith="wamid.bench-out-").update(
            status="accepted", sent_at=None, delivered_at=None, read_at=None, pricing={}
        )
        published_before = DomainEvent.objects.count()
    _setup.vacuum(*webhook_ingest.WEBHOOK_TABLES, "events_domainevent", "events_eventcounter")
    for n in range(posts):
        store_event(webhook_ingest._body(0, n, run), "sha256=bench", "platform")
    start, cpu = time.perf_counter(), time.process_time()
    with system_scope():
        while batch := processing.claim_batch(processing.DRAIN_BATCH):
            processing.process_batch(batch)
    processed, processing_cpu = time.perf_counter() - start, time.process_time() - cpu
    cpu = time.process_time()
    dispatched = _dispatch_all() if stream else 0.0
    dispatch_cpu = time.process_time() - cpu
    with system_scope():
        published = DomainEvent.objects.count() - published_before
    events = posts * webhook_ingest.EVENTS_PER_POST
    seconds = processed + dispatched
    return {
        "stream": stream,
        "events_per_s": events / seconds,
        "processing_events_per_s": events / processed,
        "cpu_ms_per_event": processing_cpu * 1000 / events,
        "dispatch_cpu_ms_per_event": dispatch_cpu * 1000 / events,
        "dispatch_s": dispatched,
        "published": published,
        "worker_share_at_3000": OFFERED * seconds / events,
    }


def drain_round(agency, number, count: int, campaign: int, stream: bool) -> dict:
    from django.conf import settings

    from bsp.events.models import DomainEvent
    from messaging import delivery
    from tenants.scoping import agency_scope

    settings.EVENT_STREAM_ENABLED = stream
    with agency_scope(agency):
        send_pipeline.seed(agency, number, count, campaign)
        published_before = DomainEvent.objects.count()
    _setup.vacuum("messaging_message", "events_domainevent", "events_eventcounter")
    start, cpu = time.perf_counter(), time.process_time()
    with agency_scope(agency):
        while delivery.drain_phone_number(number.pk)["more"]:
            pass
    drained = time.perf_counter() - start
    dispatched = _dispatch_all() if stream else 0.0
    with agency_scope(agency):
        published = DomainEvent.objects.count() - published_before
    return {
        "stream": stream,
        "msg_per_s": count / (drained + dispatched),
        "cpu_ms_per_msg": (time.process_time() - cpu) * 1000 / count,
        "published": published,
    }


def _summary(rounds: list[dict], key: str) -> tuple[float, float]:
    on = statistics.median(r[key] for r in rounds if r["stream"])
    off = statistics.median(r[key] for r in rounds if not r["stream"])
    return on, off


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2000, help="webhook POSTs per round")
    parser.add_argument("--messages", type=int, default=10_000, help="bulk sends per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per mode")
    args = parser.parse_args()
    _setup.prepare_database()
    _setup.setup_django()
    import redis
    from django.conf import settings

    redis.Redis.from_url(_setup.bench_env()["REDIS_URL"]).flushdb()
    webhook_ingest.seed()
    # A first round creates the citizens' conversations (and their events): not counted.
    webhook_round(0, args.posts, True)
    hooks = [webhook_round(run + 1, args.posts, s) for run, s in enumerate(_order(args.rounds))]

    from tenants.models import Agency, BusinessPortfolio, PhoneNumber, WhatsAppBusinessAccount
    from tenants.scoping import agency_scope

    port = _setup.free_port()
    simulator = send_pipeline.start_simulator(port)
    settings.GRAPH_API_BASE_URL, settings.GRAPH_API_VERSION = f"http://127.0.0.1:{port}", "v23.0"
    agency = Agency.objects.create(name="Send County", slug="send-county")
    with agency_scope(agency):
        portfolio = BusinessPortfolio.objects.create(
            agency=agency, business_id="3", name="Send", messaging_limit_tier="TIER_UNLIMITED"
        )
        waba = WhatsAppBusinessAccount.objects.create(
            agency=agency,
            portfolio=portfolio,
            waba_id=send_pipeline.WABA,
            name="Send",
            access_token=send_pipeline.TOKEN,
        )
        number = PhoneNumber.objects.create(
            agency=agency,
            waba=waba,
            phone_number_id=send_pipeline.PHONE_ID,
            display_phone_number="+1 415 555 0199",
            verified_name="Send",
            throughput_tier=1000,
        )
    try:
        drain_round(agency, number, args.messages // 5, 0, True)  # warm-up, not counted
        drains = [
            drain_round(agency, number, args.messages, campaign + 1, s)
            for campaign, s in enumerate(_order(args.rounds))
        ]
    finally:
        simulator.terminate()

    print(f"Machine: {_setup.machine()}")
    for r in hooks:
        print(
            f"webhooks, stream {'on ' if r['stream'] else 'off'}: {r['events_per_s']:,.0f} "
            f"events/s ({r['processing_events_per_s']:,.0f} processing only); "
            f"CPU/event: processing {r['cpu_ms_per_event']:.3f} ms, dispatch "
            f"{r['dispatch_cpu_ms_per_event']:.3f} ms ({r['dispatch_s']:.2f} s); "
            f"{r['published']:,} events published"
        )
    for r in drains:
        print(
            f"drain tier 1,000, stream {'on ' if r['stream'] else 'off'}: "
            f"{r['msg_per_s']:,.0f} msg/s, {r['cpu_ms_per_msg']:.3f} ms CPU/msg, "
            f"{r['published']:,} events published"
        )
    processing_on, processing_off = _summary(hooks, "processing_events_per_s")
    print(
        f"webhook processing alone (median; the dispatcher runs on the `events` queue): "
        f"on {processing_on:,.0f} events/s, off {processing_off:,.0f} events/s; "
        f"processing_slowdown = {(processing_off - processing_on) / processing_off:+.1%}"
    )
    on, off = _summary(hooks, "events_per_s")
    share_on, share_off = _summary(hooks, "worker_share_at_3000")
    cpu_on, cpu_off = _summary(hooks, "cpu_ms_per_event")
    dispatch_cpu, _ = _summary(hooks, "dispatch_cpu_ms_per_event")
    print(
        f"webhook processing + dispatcher (median): on {on:,.0f} events/s, "
        f"off {off:,.0f} events/s; "
        f"stream_slowdown = {(off - on) / off:+.1%}; at {OFFERED:,} events/s one worker "
        f"process would be busy {share_on:.0%} of the time (off: {share_off:.0%}); "
        f"processing CPU {cpu_on:.3f} vs {cpu_off:.3f} ms/event "
        f"({(cpu_on - cpu_off) / cpu_off:+.1%}), dispatcher {dispatch_cpu:.3f} ms/event"
    )
    on, off = _summary(drains, "msg_per_s")
    cpu_on, cpu_off = _summary(drains, "cpu_ms_per_msg")
    print(
        f"tier-1,000 drain (median): on {on:,.0f} msg/s, off {off:,.0f} msg/s "
        f"(rate slowdown {(off - on) / off:+.1%}); drainer CPU {cpu_on:.3f} vs "
        f"{cpu_off:.3f} ms/msg ({(cpu_on - cpu_off) / cpu_off:+.1%})"
    )


if __name__ == "__main__":
    main()
