"""The send API under the production server: ``POST /api/v1/messages`` (API-key bearer
auth, messages:send scope, Idempotency-Key, the credential's Redis token bucket, the send
policy, the message queued) against gunicorn with uvicorn workers as the Dockerfile runs the
web (bsp.asgi, bsp.gunicorn.AsgiWorker, 3 workers), beside a bare authenticated DRF view
(same authentication, scope check and rate limit, answers a constant:
tests/bench/api_send_urls.py) and GET /api/v1/agency, in the same run.

Each send is a text to one of the seeded contacts, whose 24-hour window is open, with its
own Idempotency-Key. The bench credential's bucket is BENCH-ONLY high (1,000,000/s, burst
1,000,000) so the platform is measured, not the limit. Celery workers are not running: the
figure is "accepted" (202), and the queued rows are counted afterwards.

The load generator is one aiohttp process (keep-alive, C concurrent requests); its own
ceiling is measured against a raw aiohttp server answering a constant.

    .venv/bin/python bench/api_send.py [--seconds 10] [--runs 3] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("CIVIC_BENCH_DB", "civic_relay_bench_api")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup

ROOT = _setup.ROOT
SETTINGS = "tests.bench.api_send_settings"
CONTACTS = 2000
LOG = Path(tempfile.gettempdir()) / "api_send_web.log"


def env() -> dict[str, str]:
    return _setup.bench_env() | {"DJANGO_SETTINGS_MODULE": SETTINGS}


def seed() -> tuple[str, list[str]]:
    """An agency with a connected number, CONTACTS contacts with an open window, a key."""
    _setup.prepare_database()
    os.environ.update(env())
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.utils import timezone

    from messaging.models import Contact, Conversation
    from records.audit import Actor
    from tenants import services
    from tenants.api.scopes import Scope
    from tenants.models import ApiCredential
    from tenants.scoping import agency_scope
    from tests.factories import AgencyFactory, PhoneNumberFactory

    agency = AgencyFactory(name="Bench County", slug="bench-county")
    number = PhoneNumberFactory(agency=agency)
    credential, key = services.create_api_credential(
        actor=Actor.system("bench"),
        agency=agency,
        created_by=None,
        name="bench",
        scopes=[s.value for s in Scope],
    )
    now = timezone.now()
    phones = [f"+1415{5000000 + i:07d}" for i in range(CONTACTS)]
    with agency_scope(agency):
        ApiCredential.objects.filter(pk=credential.pk).update(
            rate_limit_per_second=1_000_000, rate_limit_burst=1_000_000
        )
        contacts = Contact.objects.bulk_create(
            [Contact(agency=agency, wa_id=p[1:], phone_e164=p) for p in phones]
        )
        Conversation.objects.bulk_create(
            [
                Conversation(
                    agency=agency,
                    phone_number=number,
                    contact=c,
                    last_inbound_at=now,
                    window_expires_at=now + timedelta(hours=23),
                )
                for c in contacts
            ]
        )
    return key, phones


def server_command(server: str, port: int, workers: int, threads: int) -> list[str]:
    """The web as the Dockerfile runs it (asgi), or as docker-compose's web-api runs it
    (wsgi: gunicorn gthread, the same command line)."""
    common = ["--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
              "--logger-class", "bsp.gunicorn.RedactingLogger"]  # fmt: skip
    if server == "wsgi":
        return [sys.executable, "-m", "gunicorn", "bsp.wsgi", "--worker-class", "gthread",
                "--threads", str(threads), *common]  # fmt: skip
    return [sys.executable, "-m", "gunicorn", "bsp.asgi",
            "--worker-class", "bsp.gunicorn.AsgiWorker", *common]  # fmt: skip


def start_web(server: str, port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    import httpx

    # asgi: the web's pool, as docker-compose.yml gives it (ASGI never reuses a persistent
    # connection); wsgi: a persistent connection per thread (CONN_MAX_AGE), no pool.
    extra = {"DATABASE_POOL_MAX_SIZE": "8" if server == "asgi" else "0"}
    process = subprocess.Popen(
        server_command(server, port, workers, threads),
        cwd=ROOT, env=env() | extra, start_new_session=True,
        stderr=open(LOG, "wb"),  # noqa: SIM115 -- its errors to a log file, not the terminal
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not start")


def start_raw(port: int) -> subprocess.Popen[bytes]:
    code = (
        "from aiohttp import web\n"
        "async def h(r):\n    await r.read()\n    return web.json_response({'ok': True})\n"
        "app = web.Application(); app.router.add_route('*', '/', h)\n"
        f"web.run_app(app, host='127.0.0.1', port={port}, print=None, access_log=None)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    time.sleep(1.5)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    import signal

    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


async def load(
    url: str, method: str, key: str, phones: list[str] | None, seconds: float, conc: int
) -> dict[str, float]:
    import aiohttp

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = 0
    stop_at = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    async def one(session: aiohttp.ClientSession) -> None:
        nonlocal counter
        while time.monotonic() < stop_at:
            counter += 1
            h = dict(headers)
            body = None
            if method == "POST":
                h["Idempotency-Key"] = uuid.uuid4().hex
                to = phones[counter % len(phones)] if phones else "+14155550100"
                body = json.dumps({"to": to, "type": "text", "text": {"body": f"Bench {counter}"}})
            t0 = time.perf_counter()
            async with session.request(method, url, data=body, headers=h) as r:
                await r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
            latencies.append(time.perf_counter() - t0)

    connector = aiohttp.TCPConnector(limit=conc, keepalive_timeout=60)
    async with aiohttp.ClientSession(connector=connector) as session:
        # warm-up: every connection opened, every worker imported
        t_start = time.monotonic()
        await asyncio.gather(*(one(session) for _ in range(conc)))
        elapsed = time.monotonic() - t_start
    latencies.sort()
    n = len(latencies)
    ok = sum(v for s, v in statuses.items() if 200 <= s < 300)
    return {
        "rps": ok / elapsed,
        "n": n,
        "ok": ok,
        "errors": n - ok,
        "statuses": str(statuses),  # type: ignore[dict-item]
        "p50": latencies[n // 2] * 1000,
        "p95": latencies[int(n * 0.95)] * 1000,
        "p99": latencies[int(n * 0.99)] * 1000,
    }


def run(url: str, method: str, key: str, phones: list[str] | None, a: argparse.Namespace) -> dict:
    asyncio.run(load(url, method, key, phones, 2, a.concurrency))  # warm-up
    result = asyncio.run(load(url, method, key, phones, a.seconds, a.concurrency))
    print(
        f"  {method} {url.rsplit(':', 1)[-1]}: {result['rps']:,.0f} req/s ok, "
        f"p50 {result['p50']:.1f} p95 {result['p95']:.1f} p99 {result['p99']:.1f} ms, "
        f"{result['statuses']}",
        flush=True,
    )
    return result


def queued_rows() -> dict[str, int]:
    import psycopg

    # as the superuser: row-level security would hide the agency's rows from the owner role
    admin = _setup.ADMIN_URL.rsplit("/", 1)[0] + f"/{_setup.BENCH_DB}"
    with psycopg.connect(admin) as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM messaging_message WHERE direction = 'out' GROUP BY 1"
        ).fetchall()
    return dict(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4, help="wsgi: threads per worker")
    parser.add_argument("--server", choices=["asgi", "wsgi"], default="asgi")
    a = parser.parse_args()
    print(f"Machine: {_setup.machine()}", flush=True)
    key, phones = seed()

    raw_port = _setup.free_port()
    raw = start_raw(raw_port)
    try:
        print("load generator ceiling (raw aiohttp server, constant answer):", flush=True)
        ceiling = [run(f"http://127.0.0.1:{raw_port}/", "POST", key, None, a) for _ in range(2)]
    finally:
        stop(raw)

    port = _setup.free_port()
    web = start_web(a.server, port, a.workers, a.threads)
    print(f"server: {' '.join(server_command(a.server, port, a.workers, a.threads)[1:])}")
    base = f"http://127.0.0.1:{port}"
    results: dict[str, list[dict]] = {"bare": [], "agency": [], "send": []}
    try:
        for i in range(a.runs):
            print(f"run {i + 1}:", flush=True)
            results["bare"].append(run(f"{base}/bench/api-bare", "POST", key, None, a))
            results["agency"].append(run(f"{base}/api/v1/agency", "GET", key, None, a))
            results["send"].append(run(f"{base}/api/v1/messages", "POST", key, phones, a))
    finally:
        stop(web)

    def med(name: str, field: str) -> float:
        return statistics.median(r[field] for r in results[name])

    print("\nmedians:", flush=True)
    gen = statistics.median(r["rps"] for r in ceiling)
    print(f"  generator ceiling: {gen:,.0f} req/s", flush=True)
    for name in results:
        print(
            f"  {name}: {med(name, 'rps'):,.0f} req/s, p50 {med(name, 'p50'):.1f} "
            f"p95 {med(name, 'p95'):.1f} p99 {med(name, 'p99'):.1f} ms",
            flush=True,
        )
    _setup.report("send accepted", med("send", "rps"), "req/s", "bare DRF", med("bare", "rps"))
    accepted = sum(r["ok"] for r in results["send"])
    print(f"  outbound rows by status: {queued_rows()} (202s answered incl. warm-up > {accepted})")


if __name__ == "__main__":
    main()
