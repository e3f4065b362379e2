"""The whole loop at Meta's top tier (issue 11 §4): a 100,000-recipient campaign drained at
throughput tier 1,000 msg/s while the simulator sends every status webhook back (sent,
delivered, read: ≈ 3,000 events/s) into the platform, everything on this machine with the
production processes, and an agent replying every 0.25 s meanwhile.

Processes (as deployed: Dockerfile and docker-compose.yml): gunicorn on the ASGI app
(``bsp.gunicorn.AsgiWorker``, 3 workers, each with a pool of 8 PostgreSQL connections:
compose's ``DATABASE_POOL_MAX_SIZE``; ``--web-pool 0`` for the former connection per
request), compose's ``web-webhooks`` (gunicorn WSGI gthread 2 x 4 threads, persistent
connections) where the simulator posts (``--webhooks asgi`` posts to the ASGI web instead),
the compose file's Celery workers (``agent_replies,default`` x4, ``bulk`` x4,
``webhooks,media`` x4, ``housekeeping,events`` x2; prefork), PostgreSQL as the RLS-bound
app role, Redis (db 12), the Cloud API simulator (one uvicorn process) posting signed
webhooks. The bench process itself queues the campaign, samples, and sends the agent's
replies.

Phases, each a fresh campaign of ``--recipients`` messages (the simulator is reset between
phases, so its sends and emission log are the phase's own):

(a) send half alone: the campaign drains, status webhooks off (the simulator's number has
    no callback URL);
(b) ingest half alone: no sends; the simulator posts the statuses of ``--recipients``
    already-accepted messages as if it had accepted them at 1,000/s (``POST
    /_sim/phone_numbers/{id}/replay``: the same dispatcher, lanes, batches and delays as
    real sends) — the same ~3,000 events/s;
(c) both together: the campaign drains and every status comes back;
then (a) and (c) again with the simulator answering each send after 200 ms, as Meta does
(``faults.slow_fraction`` 1.0, ``slow_seconds`` 0.2). (b) involves no send, so latency does
not change it; it is the baseline of both (c) runs.

How the campaign is queued: ``--queue engine`` (the campaign engine's services: create →
plan → schedule, progress from ``CampaignStats``) when ``messaging.campaigns.services``
exists, else ``--queue bulk``: the campaign's rows inserted queued at once (as
bench/send_pipeline.py seeds them; queueing speed is not what the loop measures), one
drainer woken, and the "campaign counters" are a count of the campaign's messages by
status, polled every second (not the engine's counters). Each line of output says which.

Measured, per phase:

- **Sustained send rate**: the campaign messages' ``accepted_at`` between the 5th and the
  95th percentile: 0.9 N / (t95 - t5); so the limiter's initial burst and the tail do not
  count. Also the whole drain (N / (last - first)).
- **Status lag, the message row**: the simulator logs the wall-clock time each status POST
  started (``/_sim/emissions``; complete, per status kind, keyed by our
  ``biz_opaque_callback_data``). A sampler thread in the bench polls every ~100 ms the
  status of a sample of the campaign's messages (every ``--sample-every``-th primary key;
  only those not yet `read`, the lowest 2,000 of them), and records when each row first
  showed each status or a later one. lag = first seen - emitted. It includes up to one
  sampling period (≤ 100 ms, ~50 ms on average) and the POST itself. Both clocks are this
  machine's.
- **Status lag, the campaign's progress**: the counters' curve against the emission curve:
  for the n-th status of a kind (n in steps of N/200), lag = when the counters first
  reached n - when the simulator had emitted n of that kind. Counters "≥ sent" are
  sent + delivered + read (each message is counted in its current status).
- **Lost**: statuses the simulator emitted that the platform never applied: per kind, the
  emitted messages whose ``sent_at`` / ``delivered_at`` / ``read_at`` stayed empty, plus
  those whose final status is below the last one emitted for them. (``read`` also fills
  ``delivered_at``, so a lost `delivered` followed by its `read` does not show there; the
  chain is checked one link further: status items the simulator posted and got a 200 for
  = status items in stored ``WebhookEvent`` bodies, none failed or quarantined.)
- **Duplicated sends**: recipients the simulator received more than one template message
  for in the phase (``/_sim/phone_numbers/{id}/repeated``).
- **Agent reply**: ``messaging.services.send_message`` with ``Sender.staff`` every 0.25 s to
  another citizen (60 with open windows), timed send_message → accepted by the simulator
  (``accepted_at - created_at``), as bench/live_latency.py does.
- **CPU** by process over the phase (``/proc``: utime + stime, with the reaped children of
  PostgreSQL's postmaster, since web requests open a connection each).

Targets (issue 11): sustained ≥ 950 msg/s, status lag p95 < 5 s (row and progress), 0 lost,
0 duplicated, agent reply p95 < 1 s. Ratios print (c) beside (a) and (b).

    .venv/bin/python bench/campaign_loop.py [--recipients 100000] [--runs 1]
        [--queue engine|bulk] [--phases a,b,c,a200,c200] [--web-workers 3]
        [--web-pool 8] [--webhooks wsgi|asgi] [--profile DIR --profile-kinds send,both]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

# Its own database and Redis db: other benchmarks recreate theirs and flush db 7, 8, 9, 14.
os.environ.setdefault("CIVIC_BENCH_DB", "civic_relay_bench_loop")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup

ROOT = _setup.ROOT
PHONE_ID, WABA, TOKEN = "109000000000011", "209000000000011", "bench-loop-token"
APP_SECRET = "test-app-secret"  # bsp.settings.test, which the bench settings extend
TEMPLATE = "road_closure_notice"
AGENT_EMAIL = "agent@loop.example.gov"
ADMIN_EMAIL = "admin@loop.example.gov"
LOGLEVEL = os.environ.get("CIVIC_LOOP_WORKER_LOGLEVEL", "WARNING")
RANK = {"queued": 0, "held": 0, "sending": 1, "accepted": 2, "sent": 3, "failed": 4}
RANK |= {"delivered": 5, "read": 6}
KINDS = ("sent", "delivered", "read")
KIND_RANK = {"sent": 3, "delivered": 5, "read": 6}
# The compose file's workers: queues → prefork processes.
WORKERS = {
    "agent_replies,default": 4,
    "bulk": 4,
    "webhooks,media": 4,
    "housekeeping,events": 2,
}


# --- processes ------------------------------------------------------------------------------


def _wait_http(url: str, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start")


def start_simulator(port: int, web_port: int, lanes: int) -> subprocess.Popen[bytes]:
    config = {
        "default_app_secret": APP_SECRET,
        # The platform's limiter keeps the number at its tier; the simulator only accepts.
        "limits": {"throughput_mps": 0, "pair_burst": 0, "enforce_window": False},
        # Meta-like timings (the defaults: sent ~0.3 s, delivered ~1 s, read ~3 s after
        # acceptance, +50 % jitter), but every message is read: all three statuses come back.
        # Batches as the simulator makes them (up to 20 statuses, 50 ms window); lanes (POSTs
        # in flight) as many as it takes to offer 3,000 events/s: 4 lanes top out near
        # 1,000/s when each POST takes ~30 ms (Meta's parallelism is not documented).
        "webhooks": {"read_probability": 1.0, "lanes": lanes},
        "phone_numbers": [
            {
                "id": PHONE_ID,
                "display_phone_number": "14155550111",
                "access_token": TOKEN,
                "waba_id": WABA,
                "callback_url": f"http://127.0.0.1:{web_port}/webhooks/whatsapp",
                "app_secret": APP_SECRET,
            }
        ],
        "templates": [
            {
                "waba_id": WABA,
                "name": TEMPLATE,
                "language": "en_US",
                "category": "UTILITY",
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
    _wait_http(f"http://127.0.0.1:{port}/_sim/health", "the simulator")
    return process


def graph_env(sim_url: str) -> dict[str, str]:
    return {"GRAPH_API_BASE_URL": sim_url, "GRAPH_API_VERSION": "v23.0"}


def start_web(port: int, workers: int, sim_url: str, pool: int) -> subprocess.Popen[bytes]:
    """gunicorn on the ASGI app. ``pool`` > 0: each worker process has a connection pool of
    that size (compose's ``DATABASE_POOL_MAX_SIZE``); 0: a new connection per request."""
    database = {"DATABASE_POOL_MAX_SIZE": str(pool)} if pool else {"DATABASE_CONN_MAX_AGE": "0"}
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "bsp.asgi"),
            *("--worker-class", "bsp.gunicorn.AsgiWorker"),
            *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
            *("--log-level", "warning"),
        ],
        cwd=ROOT,
        env={**_setup.bench_env(), **graph_env(sim_url), **database},
        start_new_session=True,
    )
    _wait_http(f"http://127.0.0.1:{port}/healthz", "gunicorn")
    return process


def start_webhook_web(port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    """``--webhooks wsgi``: the webhook receiver on its own gunicorn, WSGI with threads and
    persistent connections (as bench/webhook_ingest.py measures it, and compose's
    ``web-webhooks``); the simulator posts there."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "bsp.wsgi"),
            *("--worker-class", "gthread", "--threads", str(threads)),
            *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
            *("--log-level", "warning"),
        ],
        cwd=ROOT,
        env=_setup.bench_env(),
        start_new_session=True,
    )
    _wait_http(f"http://127.0.0.1:{port}/healthz", "gunicorn (webhooks)")
    # Each worker imports the URLconf on its first request (44 % of a 15 s profile at the
    # start of a phase): a few requests on fresh connections so every worker has.
    for _ in range(8 * workers):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
    return process


def start_worker(queues: str, concurrency: int, sim_url: str) -> subprocess.Popen[bytes]:
    name = queues.replace(",", "-")
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "bsp", "worker"),
            f"--queues={queues}",
            f"--concurrency={concurrency}",
            *("--pool=prefork", f"--loglevel={LOGLEVEL}", "--without-mingle", "--without-gossip"),
            "--without-heartbeat",
            f"--hostname={name}@%h",
        ],
        cwd=ROOT,
        env={**_setup.bench_env(), **graph_env(sim_url)},
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# --- CPU by process, from /proc ---------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, int, int, float, float] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    ppid, pgid = int(fields[1]), int(fields[2])
    own = (int(fields[11]) + int(fields[12])) / TICK
    children = (int(fields[13]) + int(fields[14])) / TICK
    return comm, ppid, pgid, pid, own, children


def cpu_snapshot(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds by role: our process groups (leader pid → role), PostgreSQL (its
    processes plus the postmaster's reaped children), Redis, this process; and the machine's
    busy seconds (``machine``)."""
    by_group = {pgid: role for role, pgid in groups.items()}
    totals: defaultdict[str, float] = defaultdict(float)
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _stat(int(entry))
        if stat is None:
            continue
        comm, ppid, pgid, pid, own, children = stat
        if pgid in by_group:
            totals[by_group[pgid]] += own + (children if pid == pgid else 0)
        elif comm in ("postgres", "postmaster"):
            # The postmaster's reaped children: backends of connections that closed.
            totals["postgres"] += own + (children if ppid == 1 or comm == "postmaster" else 0)
        elif comm.startswith("redis-server"):
            totals["redis"] += own
        elif pid == me:
            totals["bench process"] += own
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + values[4]
    totals["machine"] = (sum(values[:8]) - idle) / TICK
    totals["wall"] = time.monotonic()
    return dict(totals)


# --- data -------------------------------------------------------------------------------------


class World:
    """What the phases share: the agency, its number, the agent, the recipients."""

    def __init__(self, recipients: int) -> None:
        from django.contrib.auth.models import User
        from django.utils import timezone

        from messaging.models import Consent, Contact, Conversation
        from templates_mgr.models import MessageTemplate
        from tenants.models import (
            Agency,
            BusinessPortfolio,
            Membership,
            PhoneNumber,
            WhatsAppBusinessAccount,
        )
        from tenants.permissions import Role
        from tenants.scoping import agency_scope

        self.agency = Agency.objects.create(name="Loop County", slug="loop-county")
        with agency_scope(self.agency):
            # 100,000 recipients need the portfolio's top messaging-limit tier.
            portfolio = BusinessPortfolio.objects.create(
                agency=self.agency,
                business_id="11",
                name="Loop",
                messaging_limit_tier=BusinessPortfolio.MessagingLimitTier.UNLIMITED,
            )
            self.waba = WhatsAppBusinessAccount.objects.create(
                agency=self.agency,
                portfolio=portfolio,
                waba_id=WABA,
                name="Loop",
                access_token=TOKEN,
            )
            self.number = PhoneNumber.objects.create(
                agency=self.agency,
                waba=self.waba,
                phone_number_id=PHONE_ID,
                display_phone_number="+1 415 555 0111",
                verified_name="Loop",
                throughput_tier=1000,  # Meta's top standard throughput tier
            )
            self.template = MessageTemplate.objects.create(
                agency=self.agency,
                waba=self.waba,
                name=TEMPLATE,
                language="en_US",
                category=MessageTemplate.Category.UTILITY,
                status=MessageTemplate.Status.APPROVED,
                components=[{"type": "BODY", "text": "Road closure on Main St tomorrow."}],
            )
            self.user = User.objects.create_user(AGENT_EMAIL, AGENT_EMAIL)
            Membership.objects.create(agency=self.agency, user=self.user, role=Role.AGENT)
            self.admin = User.objects.create_user(ADMIN_EMAIL, ADMIN_EMAIL)
            Membership.objects.create(agency=self.agency, user=self.admin, role=Role.AGENCY_ADMIN)
            now = timezone.now()
            # The agent's citizens: each wrote in, so their service window is open.
            self.agent_contacts = Contact.objects.bulk_create(
                [Contact(agency=self.agency, wa_id=f"1415559{i:04d}") for i in range(60)]
            )
            Conversation.objects.bulk_create(
                [
                    Conversation(
                        agency=self.agency,
                        phone_number=self.number,
                        contact=c,
                        window_expires_at=now + timedelta(hours=24),
                    )
                    for c in self.agent_contacts
                ]
            )
            self.contacts = Contact.objects.bulk_create(
                [
                    Contact(
                        agency=self.agency,
                        wa_id=str(14156000000 + i),
                        phone_e164=f"+{14156000000 + i}",
                    )
                    for i in range(recipients)
                ],
                batch_size=5000,
            )
            self.conversations = Conversation.objects.bulk_create(
                [
                    Conversation(agency=self.agency, phone_number=self.number, contact=c)
                    for c in self.contacts
                ],
                batch_size=5000,
            )
            Consent.objects.bulk_create(
                [
                    Consent(
                        agency=self.agency,
                        contact=c,
                        status=Consent.Status.OPTED_IN,
                        source=Consent.Source.IMPORT,
                        recorded_at=now,
                    )
                    for c in self.contacts
                ],
                batch_size=5000,
            )


def engine_available() -> bool:
    """The campaign engine's services, its tasks and its progress consumer all exist."""
    import importlib.util

    names = ("services", "planning", "tasks", "consumers")
    return all(importlib.util.find_spec(f"messaging.campaigns.{name}") for name in names)


def bulk_messages(world: World, campaign_id: int, *, accepted: bool) -> list[int]:
    """The campaign's template messages inserted at once: queued (to drain), or already
    accepted with a wamid (for the ingest half). Primary keys, in order."""
    from django.utils import timezone

    from messaging.models import Message
    from messaging.whatsapp import builders
    from tenants.scoping import agency_scope

    content = builders.stored_form(builders.Template(name=TEMPLATE, language="en_US"))
    now = timezone.now()
    with agency_scope(world.agency):
        rows = Message.objects.bulk_create(
            [
                Message(
                    agency=world.agency,
                    conversation=conversation,
                    phone_number=world.number,
                    contact=conversation.contact,
                    direction="out",
                    type="template",
                    content=content,
                    status="accepted" if accepted else "queued",
                    wamid=f"wamid.loop-{campaign_id}-{i}" if accepted else None,
                    accepted_at=now if accepted else None,
                    business_initiated=True,
                    sender_type="campaign",
                    campaign_id=campaign_id,
                    created_at=now,
                )
                for i, conversation in enumerate(world.conversations)
            ],
            batch_size=5000,
        )
    return [row.pk for row in rows]


# --- the sampler --------------------------------------------------------------------------------


class Sampler(threading.Thread):
    """Every ``period`` s: the status of a sample of the campaign's messages (those not yet
    read, lowest ids first) and the campaign's counters; when each was first seen."""

    def __init__(self, world: World, campaign: Any, sample_every: int, period: float = 0.1):
        super().__init__(daemon=True)
        self.world, self.campaign, self.every, self.period = world, campaign, sample_every, period
        self.stop_flag = threading.Event()
        self.seen: dict[int, dict[str, float]] = {}  # pk → kind → first seen (wall clock)
        self.pending: list[int] = []
        self.known_max = 0
        self.counters: list[tuple[float, dict[str, int]]] = []
        self.polls = 0
        self.poll_seconds: list[float] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        from django.db import connection

        from tenants.scoping import agency_scope

        try:
            with agency_scope(self.world.agency):
                last_discovery, last_count = 0.0, 0.0
                while not self.stop_flag.is_set():
                    started = time.monotonic()
                    if started - last_discovery > 1.0:
                        self._discover()
                        last_discovery = started
                    self._poll_rows()
                    if self.campaign.engine or started - last_count > 1.0:
                        self._poll_counters()
                        last_count = started
                    took = time.monotonic() - started
                    self.polls += 1
                    self.poll_seconds.append(took)
                    self.stop_flag.wait(max(0.0, self.period - took))
        except BaseException as exc:  # reported by the phase
            self.error = exc
        finally:
            connection.close()

    def _discover(self) -> None:

        new = list(
            self.campaign.messages()
            .filter(pk__gt=self.known_max)
            .values_list("pk", flat=True)
            .order_by("pk")
        )
        if new:
            self.known_max = new[-1]
            sample = [pk for pk in new if pk % self.every == 0]
            self.pending.extend(sample)
            for pk in sample:
                self.seen[pk] = {}

    def _poll_rows(self) -> None:
        from messaging.models import Message

        batch = self.pending[:2000]
        if not batch:
            return
        rows = list(Message.objects.filter(pk__in=batch).values_list("pk", "status"))
        at = time.time()
        done = set()
        for pk, status in rows:
            rank, seen = RANK.get(status, 0), self.seen[pk]
            for kind in KINDS:
                if rank >= KIND_RANK[kind] and kind not in seen and status != "failed":
                    seen[kind] = at
            if status in ("read", "failed"):
                done.add(pk)
        if done:
            self.pending = [pk for pk in self.pending if pk not in done]

    def _poll_counters(self) -> None:
        self.counters.append((time.time(), self.campaign.counters()))


class Campaign:
    """One phase's campaign: through the campaign engine (create → plan → schedule; its
    progress counters), or its messages bulk-inserted (counted by status)."""

    def __init__(self, world: World, run_id: int, how: str) -> None:
        self.world, self.run_id, self.engine = world, run_id, how == "engine"
        self.message_campaign_id = run_id
        self.pks: list[int] = []
        self.object: Any = None
        self.expected = len(world.contacts)
        self.plan_s = 0.0
        self.floor = 0  # every message of this campaign has a greater primary key

    def _actor(self) -> Any:
        from records.audit import Actor

        return Actor("user", str(self.world.admin.pk), self.world.admin.email)

    def create(self) -> None:
        """The engine's campaign, a draft to every opted-in contact."""
        from messaging.campaigns import services

        self.object = services.create_campaign(
            actor=self._actor(),
            agency=self.world.agency,
            name=f"Road closure {self.run_id}",
            phone_number=self.world.number,
            created_by=self.world.admin,
            template=self.world.template,
        )
        self.message_campaign_id = self.object.pk

    def queue_engine(self) -> None:
        """Plan (timed), then schedule now: the engine's tasks resolve the audience and
        queue it chunk by chunk while the number's drainer sends."""
        from messaging.campaigns import planning, services

        started = time.monotonic()
        plan = planning.plan_campaign(self.object)
        self.plan_s = time.monotonic() - started
        self.expected = plan.will_send
        services.schedule_campaign(actor=self._actor(), campaign=self.object)

    def queue_bulk(self, *, accepted: bool) -> None:
        if accepted and self.engine:
            # The ingest half with the engine's counters: a campaign that queued everything
            # and had it all accepted, without the sends.
            from messaging.campaigns.models import Campaign as CampaignModel
            from messaging.campaigns.models import CampaignStats

            self.create()
            n = len(self.world.contacts)
            CampaignModel.objects.filter(pk=self.object.pk).update(status="sending")
            CampaignStats.objects.filter(campaign_id=self.object.pk).update(
                recipients=n, accepted=n
            )
        self.pks = bulk_messages(self.world, self.message_campaign_id, accepted=accepted)

    def messages(self) -> Any:
        """The campaign's messages, found by primary key range first: ``campaign_id`` has no
        index (the platform does not need one), and a scan of every earlier phase's rows
        each second was the bench's own load on PostgreSQL."""
        from messaging.models import Message

        return Message.objects.filter(pk__gt=self.floor, campaign_id=self.message_campaign_id)

    def cancel(self) -> None:
        from messaging.campaigns import services

        with contextlib.suppress(services.CampaignError):  # it finished meanwhile
            services.cancel_campaign(actor=self._actor(), campaign=self.object)

    def start_drain(self) -> None:
        from messaging import delivery

        if not self.engine:  # the engine wakes the drainer itself
            delivery.schedule_drain(self.world.number.pk, self.world.agency.pk, force=True)

    def counters(self) -> dict[str, int]:
        """Messages at least sent / delivered / read, as the campaign's progress shows."""
        from django.db.models import Count

        if self.engine:
            from messaging.campaigns.models import CampaignStats

            stats = CampaignStats.objects.get(campaign_id=self.object.pk)
            current = {k: getattr(stats, k) for k in ("accepted", "sent", "delivered", "read")}
        else:
            current = dict(self.messages().values_list("status").annotate(n=Count("id")).order_by())
        sent, delivered, read = (current.get(k, 0) for k in KINDS)
        return {"sent": sent + delivered + read, "delivered": delivered + read, "read": read}


# --- the agent ----------------------------------------------------------------------------------


def agent_replies(world: World, stop_flag: threading.Event, out: list[float]) -> None:
    from django.db import connection

    from messaging import services
    from messaging.models import Message
    from messaging.whatsapp import builders
    from records.audit import Actor
    from tenants.scoping import agency_scope

    with agency_scope(world.agency):
        actor = Actor("user", str(world.user.pk), world.user.email)
        sent: list[int] = []
        while not stop_flag.is_set():
            row = services.send_message(
                agency=world.agency,
                sender=services.Sender.staff(world.user, actor),
                to=world.agent_contacts[len(sent) % len(world.agent_contacts)].wa_id,
                message=builders.Text("On it!"),
            )
            sent.append(row.pk)
            stop_flag.wait(0.25)
        deadline = time.monotonic() + 15
        pending = Message.objects.filter(pk__in=sent, accepted_at=None)
        while time.monotonic() < deadline and pending.exists():
            time.sleep(0.1)
        rows = Message.objects.filter(pk__in=sent).values_list("accepted_at", "created_at")
        out.extend((a - c).total_seconds() if a else float("inf") for a, c in rows)
    connection.close()


# --- profiling (--profile) ---------------------------------------------------------------------


def start_profiles(groups: dict[str, int], seconds: float, out: Path) -> list[Any]:
    """py-spy on every process group (with its subprocesses) for ``seconds``, raw
    collapsed stacks into ``out``; non-blocking so the loop is not paused."""
    py_spy = Path(sys.executable).with_name("py-spy")
    out.mkdir(parents=True, exist_ok=True)
    procs = []
    for role, pid in groups.items():
        path = out / f"{role.replace(' ', '_').replace(',', '-')}.txt"
        procs.append(
            (
                role,
                path,
                subprocess.Popen(
                    [
                        *(str(py_spy), "record", "--pid", str(pid), "--subprocesses"),
                        *("--duration", str(int(seconds)), "--rate", "50", "--nonblocking"),
                        *("--format", "raw", "--output", str(path)),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                ),
            )
        )
    return procs


OWN_PACKAGES = ("messaging/", "tenants/", "bsp/", "records/", "inbox/", "templates_mgr/")


def _frame(text: str) -> tuple[str, str]:
    """``func (package/module.py:123)`` → (``func``, ``package/module.py``)."""
    name, _, where = text.partition(" (")
    return name, where.rsplit(":", 1)[0]


def summarize_profiles(procs: list[Any], top: int = 8) -> str:
    """Per process (py-spy counts only samples where a thread was running): our own
    functions by inclusive share of the samples, and where the samples ended (the leaf
    frame's top-level package: asyncio, psycopg, aiohttp, django, ...)."""
    lines = []
    for role, path, proc in procs:
        proc.wait(timeout=120)
        if not path.exists():
            continue
        own: Counter[str] = Counter()
        leaves: Counter[str] = Counter()
        total = 0
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = [_frame(f) for f in stack.split(";") if " (" in f]
            for name, module in {f for f in frames if f[1].startswith(OWN_PACKAGES)}:
                own[f"{name} ({module})"] += n
            if frames:
                leaves[frames[-1][1].split("/", 1)[0].removesuffix(".py")] += n
        if not total:
            continue
        lines.append(f"  {role}: {total} samples")
        lines.append(
            "    ends in: "
            + ", ".join(f"{k} {100 * n / total:.0f}%" for k, n in leaves.most_common(top))
        )
        for frame, n in own.most_common(top):
            lines.append(f"    {100 * n / total:5.1f}% {frame}")
    return "\n".join(lines)


# --- one phase ----------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q + 0.5) - 1))]


class Sim:
    def __init__(self, url: str, web_port: int) -> None:
        self.url, self.http = url, httpx.Client(base_url=url, timeout=120)
        self.callback = f"http://127.0.0.1:{web_port}/webhooks/whatsapp"

    def prepare(self, *, webhooks: bool, latency: float) -> None:
        self.http.post("/_sim/reset").raise_for_status()
        faults = {"slow_fraction": 1.0 if latency else 0.0, "slow_seconds": latency}
        self.http.patch("/_sim/config", json={"faults": faults}).raise_for_status()
        callback = self.callback if webhooks else None
        response = self.http.patch(
            f"/_sim/phone_numbers/{PHONE_ID}", json={"callback_url": callback}
        )
        response.raise_for_status()

    def emissions(self) -> dict[str, Any]:
        return self.http.get("/_sim/emissions").json()

    def repeated(self) -> dict[str, Any]:
        return self.http.get(
            f"/_sim/phone_numbers/{PHONE_ID}/repeated", params={"type": "template"}
        ).json()

    def replay(self, messages: list[dict[str, str]], rate: float) -> None:
        self.http.post(
            f"/_sim/phone_numbers/{PHONE_ID}/replay", json={"rate": rate, "messages": messages}
        ).raise_for_status()


def run_phase(
    world: World,
    sim: Sim,
    groups: dict[str, int],
    *,
    name: str,
    kind: str,
    latency: float,
    run_id: int,
    how: str,
    sample_every: int,
    timeout: float,
    profile: tuple[Path, float, set[str]] | None = None,
) -> dict[str, Any]:
    """``kind``: "send" (a), "ingest" (b) or "both" (c). ``timeout``: seconds before the
    phase stops waiting for its last statuses (what is left shows as pending)."""
    from django.db.models import Count

    from tenants.scoping import agency_scope

    n = len(world.contacts)
    leftover = _wait_for_quiet(world)
    sim.prepare(webhooks=kind != "send", latency=latency)
    _setup.vacuum(
        "messaging_message",
        "messaging_webhookevent",
        "events_domainevent",
        "messaging_conversation",
    )
    campaign = Campaign(world, run_id, how)
    campaign.floor = _last_message_pk(world)
    queued_in = 0.0
    if kind == "ingest":
        with agency_scope(world.agency):
            campaign.queue_bulk(accepted=True)
    elif campaign.engine:
        with agency_scope(world.agency):
            campaign.create()  # the sampler reads its counters from the start
    else:
        started = time.monotonic()
        campaign.queue_bulk(accepted=False)
        queued_in = time.monotonic() - started
    sampler = Sampler(world, campaign, sample_every)
    sampler.known_max = campaign.floor
    stop_agent, replies = threading.Event(), list[float]()
    agent = threading.Thread(target=agent_replies, args=(world, stop_agent, replies), daemon=True)
    cpu_before = cpu_snapshot(groups)
    started_wall = time.time()
    sampler.start()
    agent.start()
    profiles = (
        start_profiles(groups, profile[1], profile[0] / name.replace(" ", "_")) if profile else []
    )
    if kind == "ingest":
        specs = [
            {
                "wamid": f"wamid.loop-{run_id}-{i}",
                "wa_id": c.wa_id,
                "biz_opaque_callback_data": f"civic-relay:{pk}",
            }
            for i, (pk, c) in enumerate(zip(campaign.pks, world.contacts, strict=True))
        ]
        sim.replay(specs, 1000)
    elif campaign.engine:
        with agency_scope(world.agency):
            campaign.queue_engine()
        n = campaign.expected
    else:
        campaign.start_drain()
    # Done when every message reached its last status (read; accepted without webhooks), or
    # nothing moved for 20 s.
    final = "accepted" if kind == "send" else "read"
    deadline = time.monotonic() + timeout
    with agency_scope(world.agency):
        rows = campaign.messages()
        last: dict[str, int] = {}
        still_since = time.monotonic()
        while time.monotonic() - still_since < 20 and time.monotonic() < deadline:
            counts = dict(rows.values_list("status").annotate(c=Count("id")).order_by())
            # Before the engine queued anything, nothing moving is not the end.
            if counts != last or not counts:
                last, still_since = counts, time.monotonic()
            if counts.get(final, 0) >= n:
                break
            time.sleep(1.0)
        cut = counts.get(final, 0) < n and kind != "ingest" and campaign.engine
        if cut:
            # Out of time: cancel what is not sent yet (as an admin would), so the next phase
            # starts clean, and let what was sent bring its statuses back.
            campaign.cancel()
            _settle(rows, seconds=45)
    ended_wall = time.time()
    _wait_for_counters(campaign, final, n, until=deadline)
    time.sleep(0.5)  # the counters' last pass
    sampler.stop_flag.set()
    sampler.join()
    stop_agent.set()
    agent.join()
    cpu_after = cpu_snapshot(groups)
    if sampler.error:
        raise RuntimeError("the sampler failed") from sampler.error
    if profiles:
        print(f"{name}: where the time goes (py-spy)\n" + summarize_profiles(profiles))
    emissions = sim.emissions()
    repeated: dict[str, Any] = sim.repeated() if kind != "ingest" else {"repeated": {}, "sent": 0}
    result: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "leftover_before": leftover,
        "cut_at_timeout": cut,
        "latency": latency,
        "n": n,
        "how": how if kind != "ingest" else f"{how}: messages inserted accepted",
        "plan_s": campaign.plan_s,
        "queued_s": queued_in,
        "elapsed_s": ended_wall - started_wall,
        "duplicated": sum(c - 1 for c in repeated["repeated"].values()),
        "sim_sent": repeated["sent"],
        "replies": replies,
        "emitted": emissions["counts"],
        "sim_pending": emissions["pending"],
        "sim_dropped": emissions["dropped"],
        "sampler_polls": sampler.polls,
        "poll_p95_ms": 1000 * pct(sampler.poll_seconds, 0.95),
    }
    with agency_scope(world.agency):
        rows = campaign.messages()
        result["statuses"] = dict(rows.values_list("status").annotate(c=Count("id")).order_by())
        accepted = sorted(rows.exclude(accepted_at=None).values_list("accepted_at", flat=True))
        if kind != "ingest" and len(accepted) > 20:
            lo, hi = accepted[int(len(accepted) * 0.05)], accepted[int(len(accepted) * 0.95)]
            result["sustained"] = 0.9 * len(accepted) / max((hi - lo).total_seconds(), 1e-9)
            result["overall"] = len(accepted) / max(
                (accepted[-1] - accepted[0]).total_seconds(), 1e-9
            )
        applied = {
            kind_: set(rows.exclude(**{f"{kind_}_at": None}).values_list("pk", flat=True))
            for kind_ in KINDS
        }
        final_status = dict(rows.values_list("pk", "status"))
    result.update(lag_and_losses(emissions["data"], applied, final_status, sampler, kind))
    result["stored_statuses"], result["webhook_events"] = stored_statuses(world, started_wall)
    result["cpu"] = {
        role: cpu_after.get(role, 0.0) - cpu_before.get(role, 0.0)
        for role in cpu_after
        if role != "wall"
    }
    result["cpu_wall"] = cpu_after["wall"] - cpu_before["wall"]
    return result


def _last_message_pk(world: World) -> int:
    from messaging.models import Message
    from tenants.scoping import agency_scope

    with agency_scope(world.agency):
        return Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _settle(rows: Any, *, seconds: float) -> None:
    """Until nothing of ``rows`` is queued or being sent and their statuses stopped moving
    for 8 s (their statuses came back), or ``seconds``."""
    from django.db.models import Count

    deadline, last, still_since = time.monotonic() + seconds, None, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - still_since < 8:
        counts = dict(rows.values_list("status").annotate(c=Count("id")).order_by())
        if counts != last or counts.get("queued") or counts.get("sending"):
            last, still_since = counts, time.monotonic()
        time.sleep(1.0)


def _wait_for_counters(campaign: Campaign, final: str, n: int, *, until: float) -> None:
    """The rows are done; give the campaign's progress (updated by the events consumer,
    later) until the phase's deadline to show them too, so its lag is measured, not cut off."""
    from tenants.scoping import agency_scope

    if final == "accepted":
        return
    with agency_scope(campaign.world.agency):
        while campaign.counters()[final] < n and time.monotonic() < until:
            time.sleep(0.5)


def _wait_for_quiet(world: World, seconds: float = 90) -> int:
    """Wait until no earlier phase's message is still queued or being sent, so a phase never
    shares the drainer with the last one's tail; how many were left when it gave up."""
    from messaging.models import Message
    from tenants.scoping import agency_scope

    deadline = time.monotonic() + seconds
    with agency_scope(world.agency):
        busy = Message.objects.filter(status__in=("queued", "sending"), sender_type="campaign")
        while (left := busy.count()) and time.monotonic() < deadline:
            time.sleep(1.0)
    return left


def _pk(key: str) -> int | None:
    return int(key.split(":", 1)[1]) if key.startswith("civic-relay:") else None


def _counter_lags(times: list[float], curve: list[tuple[float, int]]) -> list[float]:
    """For the n-th emission (n in steps of len/200): when the counters first reached n
    minus when it was emitted."""
    times = sorted(times)
    lags: list[float] = []
    if not times or not curve:
        return lags
    step, j = max(1, len(times) // 200), 0
    for i in range(step - 1, len(times), step):
        while j < len(curve) and curve[j][1] < i + 1:
            j += 1
        lags.append(float("inf") if j == len(curve) else max(0.0, curve[j][0] - times[i]))
    return lags


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": pct(values, 0.5),
        "p95": pct(values, 0.95),
        "max": max(values, default=float("nan")),
    }


def lag_and_losses(
    data: dict[str, Any],
    applied: dict[str, set[int]],
    final_status: dict[int, str],
    sampler: Sampler,
    kind: str,
) -> dict[str, Any]:
    """Lags from the POST (``row_lag``, ``counter_lag``) and from when the status was due
    at the simulator (``*_due``: includes the wait in its lanes when the platform answers
    slowly); losses per kind."""
    out: dict[str, Any] = {"lost": {}, "negative": 0}
    for name in ("row_lag", "row_lag_due", "counter_lag", "counter_lag_due"):
        out[name] = {}
    everything: dict[str, list[float]] = {
        name: [] for name in ("row_lag", "row_lag_due", "counter_lag", "counter_lag_due")
    }
    for status in KINDS:
        entry = data.get(status, {"times": [], "due": [], "keys": []})
        emitted: dict[int, tuple[float, float]] = {}
        for t, due, key in zip(entry["times"], entry["due"], entry["keys"], strict=True):
            pk = _pk(key)
            if pk is not None and pk in final_status and pk not in emitted:
                emitted[pk] = (t, due)
        out["lost"][status] = sum(
            1
            for pk in emitted
            if pk not in applied[status] or RANK.get(final_status[pk], 0) < KIND_RANK[status]
        )
        posted, due_lags = [], []
        for pk, seen in sampler.seen.items():
            if pk in emitted and status in seen:
                lag = seen[status] - emitted[pk][0]
                out["negative"] += lag < 0
                posted.append(max(0.0, lag))
                due_lags.append(max(0.0, seen[status] - emitted[pk][1]))
        curve = [(t, c[status]) for t, c in sampler.counters]
        per = {
            "row_lag": posted,
            "row_lag_due": due_lags,
            "counter_lag": _counter_lags([v[0] for v in emitted.values()], curve),
            "counter_lag_due": _counter_lags([v[1] for v in emitted.values()], curve),
        }
        for name, values in per.items():
            out[name][status] = _summary(values)
            everything[name] += values
    for name, values in everything.items():
        out[name]["all"] = _summary(values)
    # Emission rate: statuses per second between the 5th and 95th percentile of all times.
    every = sorted(t for s in KINDS for t in data.get(s, {"times": []})["times"])
    if len(every) > 20:
        lo, hi = every[int(len(every) * 0.05)], every[int(len(every) * 0.95)]
        out["emission_rate"] = 0.9 * len(every) / max(hi - lo, 1e-9)
    return out


def stored_statuses(world: World, since: float) -> tuple[int, dict[str, int]]:
    """Status items in the webhook bodies stored since ``since``, and the stored events by
    processing status (one link of the lost-status chain)."""
    import psycopg

    owner = f"postgres://civic_owner@{_setup.HOST}/{_setup.BENCH_DB}"
    with psycopg.connect(owner) as conn:
        items = conn.execute(
            """
            SELECT count(*) FROM messaging_webhookevent w,
                jsonb_array_elements(convert_from(w.body, 'UTF8')::jsonb -> 'entry') e,
                jsonb_array_elements(e -> 'changes') c,
                jsonb_array_elements(COALESCE(c -> 'value' -> 'statuses', '[]'::jsonb)) s
            WHERE w.received_at >= to_timestamp(%s)
            """,
            (since,),
        ).fetchone()
        by_status = conn.execute(
            "SELECT status, count(*) FROM messaging_webhookevent"
            " WHERE received_at >= to_timestamp(%s) GROUP BY status",
            (since,),
        ).fetchall()
    return int(items[0] if items else 0), dict(by_status)


# --- report ---------------------------------------------------------------------------------


def describe(r: dict[str, Any]) -> str:
    p50, p95 = pct(r["replies"], 0.5), pct(r["replies"], 0.95)
    parts = [f"{r['name']} [{r['how']}, {r['n']:,} recipients, {r['elapsed_s']:.0f} s]"]
    if "sustained" in r:
        parts.append(
            f"send sustained {r['sustained']:,.0f} msg/s (whole drain {r['overall']:,.0f})"
        )
    if r["emitted"]:
        parts.append(
            f"emitted {sum(r['emitted'].values()):,} statuses "
            f"({r.get('emission_rate', 0):,.0f}/s), "
            f"stored {r['stored_statuses']:,}; webhook events {r['webhook_events']}"
        )
        for name, title in (
            ("row_lag", "row lag from the POST"),
            ("counter_lag", "progress lag from the POST"),
            ("row_lag_due", "row lag from due"),
            ("counter_lag_due", "progress lag from due"),
        ):
            lags = r[name]
            parts.append(
                f"{title} p50/p95: "
                + ", ".join(
                    f"{k} {lags[k]['p50']:.2f}/{lags[k]['p95']:.2f}s" for k in (*KINDS, "all")
                )
                + f" (max {lags['all']['max']:.2f}s, n {lags['all']['n']})"
            )
        parts.append(
            f"lost {r['lost']} (sim dropped {r['sim_dropped']}, still pending {r['sim_pending']})"
        )
    parts.append(f"duplicated {r['duplicated']} (simulator got {r['sim_sent']:,} template sends)")
    parts.append(f"statuses {r['statuses']}")
    if r.get("cut_at_timeout"):
        parts.append("cut at the phase timeout: the rest of the campaign was cancelled")
    if r.get("leftover_before"):
        parts.append(f"an earlier phase still had {r['leftover_before']:,} messages unsent")
    parts.append(
        f"agent reply p50/p95 {1000 * p50:.0f}/{1000 * p95:.0f} ms over {len(r['replies'])}"
    )
    cpu = r["cpu"]
    wall = r["cpu_wall"]
    parts.append(
        "CPU (cores busy over the phase) "
        + ", ".join(f"{k} {v / wall:.2f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]))
    )
    return "\n    ".join(parts)


def median(results: list[dict[str, Any]], getter: Any) -> float:
    values = [getter(r) for r in results]
    values = [v for v in values if v == v]  # not NaN
    return statistics.median(values) if values else float("nan")


def summary(by_phase: dict[str, list[dict[str, Any]]]) -> None:
    print("\n=== medians of runs, with the halves as baselines (ratios)")
    a, b, c = by_phase.get("a", []), by_phase.get("b", []), by_phase.get("c", [])
    a2, c2 = by_phase.get("a200", []), by_phase.get("c200", [])

    def rate(rs: list[dict[str, Any]]) -> float:
        return median(rs, lambda r: r.get("sustained", float("nan")))

    def lag(rs: list[dict[str, Any]], which: str) -> float:
        return median(rs, lambda r: r[which]["all"]["p95"] if r.get(which) else float("nan"))

    def agent(rs: list[dict[str, Any]]) -> float:
        return median(rs, lambda r: pct(r["replies"], 0.95))

    def ratio(x: float, y: float) -> str:
        return f"{x / y:.2f}" if y and y == y and x == x else "n/a"

    for label, send_alone, both in (
        ("Meta answers at once", a, c),
        ("Meta answers after 200 ms", a2, c2),
    ):
        if not both:
            continue
        print(f"-- {label}")
        print(
            f"  sustained send rate: together {rate(both):,.0f} msg/s | send half alone "
            f"{rate(send_alone):,.0f} | ratio {ratio(rate(both), rate(send_alone))} "
            f"(target >= 950: {'met' if rate(both) >= 950 else 'MISSED'})"
        )
        for which, title in (
            ("row_lag", "message row, from the POST"),
            ("counter_lag", "campaign progress, from the POST"),
            ("row_lag_due", "message row, from due at the simulator"),
            ("counter_lag_due", "campaign progress, from due at the simulator"),
        ):
            print(
                f"  status lag p95 ({title}): together {lag(both, which):.2f} s | ingest half "
                f"alone {lag(b, which):.2f} s | ratio {ratio(lag(both, which), lag(b, which))} "
                f"(target < 5 s: {'met' if lag(both, which) < 5 else 'MISSED'})"
            )
        lost = sum(sum(r["lost"].values()) for r in both)
        dup = sum(r["duplicated"] for r in both + send_alone)
        print(f"  lost {lost} (target 0), duplicated {dup} (target 0), over all runs")
        print(
            f"  agent reply p95: together {1000 * agent(both):.0f} ms | send half alone "
            f"{1000 * agent(send_alone):.0f} ms | ingest half alone {1000 * agent(b):.0f} ms "
            f"(target < 1 s: {'met' if agent(both) < 1 else 'MISSED'})"
        )


PHASES = {
    "a": ("(a) send half alone", "send", 0.0),
    "b": ("(b) ingest half alone", "ingest", 0.0),
    "c": ("(c) both together", "both", 0.0),
    "a200": ("(a) send half alone, Meta 200 ms", "send", 0.2),
    "c200": ("(c) both together, Meta 200 ms", "both", 0.2),
}


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # the processes are stopped in main's finally


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--phases", default="a,b,c,a200,c200")
    parser.add_argument("--queue", choices=["engine", "bulk", "auto"], default="auto")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument(
        "--web-pool", type=int, default=8, help="connections per web process; 0: one per request"
    )
    parser.add_argument(
        "--webhooks",
        choices=["asgi", "wsgi"],
        default="wsgi",
        help="where the simulator posts: the ASGI web, or a WSGI gthread gunicorn of its own",
    )
    parser.add_argument("--webhook-workers", type=int, default=2)
    parser.add_argument("--webhook-threads", type=int, default=4)
    parser.add_argument("--sample-every", type=int, default=20)
    parser.add_argument("--phase-timeout", type=float, default=400)
    parser.add_argument("--sim-lanes", type=int, default=16, help="webhook POSTs in flight")
    parser.add_argument(
        "--workers", default="", help="override: queues=procs;... e.g. 'bulk=1;webhooks,media=2'"
    )
    parser.add_argument("--profile", default="", help="py-spy every process into this folder")
    parser.add_argument("--profile-seconds", type=float, default=30)
    parser.add_argument(
        "--profile-kinds", default="both", help="kinds (send, ingest, both) or phases (c200)"
    )
    parser.add_argument("--json", default="", help="write every phase's raw results here")
    args = parser.parse_args()
    profile = None
    if args.profile:
        profile = (Path(args.profile), args.profile_seconds, set(args.profile_kinds.split(",")))
    how = args.queue
    if how == "auto":
        how = "engine" if engine_available() else "bulk"
    layout = dict(WORKERS)
    for part in filter(None, args.workers.split(";")):
        queues, procs = part.split("=")
        layout[queues] = int(procs)
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    _setup.prepare_database()
    _setup.setup_django()
    import redis

    redis.Redis.from_url(_setup.bench_env()["REDIS_URL"]).flushdb()
    started = time.monotonic()
    world = World(args.recipients)
    print(
        f"seeded {args.recipients:,} recipients in {time.monotonic() - started:.0f} s", flush=True
    )
    web_port, sim_port = _setup.free_port(), _setup.free_port()
    hook_port = _setup.free_port() if args.webhooks == "wsgi" else web_port
    sim_url = f"http://127.0.0.1:{sim_port}"
    simulator = start_simulator(sim_port, hook_port, args.sim_lanes)
    web = start_web(web_port, args.web_workers, sim_url, args.web_pool)
    hooks = (
        start_webhook_web(hook_port, args.webhook_workers, args.webhook_threads)
        if args.webhooks == "wsgi"
        else None
    )
    workers = {q: start_worker(q, p, sim_url) for q, p in layout.items()}
    groups = {"simulator": simulator.pid, "gunicorn": web.pid}
    if hooks is not None:
        groups["gunicorn webhooks"] = hooks.pid
    groups |= {f"celery {q}": w.pid for q, w in workers.items()}
    sim = Sim(sim_url, hook_port)
    by_phase: dict[str, list[dict[str, Any]]] = {}
    run_id = 0
    try:
        time.sleep(5)
        for run in range(1, args.runs + 1):
            for key in args.phases.split(","):
                name, kind, latency = PHASES[key]
                run_id += 1
                result = run_phase(
                    world,
                    sim,
                    groups,
                    name=f"run {run} {name}",
                    kind=kind,
                    latency=latency,
                    run_id=run_id,
                    how=how,
                    sample_every=args.sample_every,
                    timeout=args.phase_timeout,
                    # --profile-kinds names kinds (send, ingest, both) or phases (c200).
                    profile=profile if profile and {key, kind} & profile[2] else None,
                )
                by_phase.setdefault(key, []).append(result)
                print(describe(result), flush=True)
                if args.json:  # after every phase: a run cut short keeps what it measured
                    Path(args.json).write_text(json.dumps(by_phase, default=str, indent=1))
    finally:
        for worker in workers.values():
            stop(worker)
        stop(web)
        if hooks is not None:
            stop(hooks)
        stop(simulator)
    print(
        f"\nMachine: {_setup.machine()}; load average before: {load_before}; "
        f"gunicorn ASGI x{args.web_workers} (pool {args.web_pool or 'off'}); webhooks on "
        + (
            f"WSGI gthread {args.webhook_workers}x{args.webhook_threads}"
            if hooks is not None
            else "the ASGI web"
        )
        + "; workers "
        + ", ".join(f"{q} x{p}" for q, p in layout.items())
        + f"; campaign queued by: {how}"
    )
    summary(by_phase)
    if args.json:
        Path(args.json).write_text(json.dumps(by_phase, default=str, indent=1))


if __name__ == "__main__":
    main()
