"""Inbox pages at production size: server time of the conversation list, a 500-message
thread and search, with 100,000 conversations and 1,000,000 messages per agency (two such
agencies, so row-level security and the agency column filter real rows).

The database ``civic_relay_bench_inbox`` is created, migrated and seeded (``seed_load``)
once and reused by later runs (``migrate`` still runs, so new indexes arrive);
``--reseed`` starts it over. Requests go through Django's test ``Client`` in-process (the
whole middleware stack, sessions, the agency scope, templates; no socket or WSGI server),
signed in as an agent of the first agency; the time is the wall time of ``client.get``.
Each page: one checking request (it must answer 200 and show what it should), then
``--runs`` runs of ``--requests`` requests (one, for a page slower than ``--slow-ms``); per
run p50 and p95; the figures are the medians over runs. Baseline, measured in the same runs:
the signed-in dashboard (``/``: same middleware, a template, two small counts).
Query counts come from one extra request per page with the queries captured.
``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of the slowest query of pages over target.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("CIVIC_BENCH_DB", "civic_relay_bench_inbox")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup

TARGET_P95_MS = 50.0
SLUGS = ("load-1", "load-2")
CURSOR_IN_LINK = re.compile(r"[?&;](after|cursor)=([A-Za-z0-9_\-]+)")


def _owner_url() -> str:
    return f"postgres://civic_owner@{_setup.HOST}/{_setup.BENCH_DB}"


def ensure_seeded(reseed: bool, seed_args: list[str]) -> None:
    """Create, migrate and seed the bench database once; later runs only migrate."""
    import psycopg

    with psycopg.connect(_setup.ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [_setup.BENCH_DB]
        ).fetchone()
    if reseed or not exists:
        tick = time.monotonic()
        _setup.prepare_database()
        print(f"created and migrated {_setup.BENCH_DB} in {time.monotonic() - tick:.0f} s")
    else:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=_setup.ROOT,
            env=_setup.bench_env() | {"DATABASE_URL": _owner_url()},
            check=True,
        )
    with psycopg.connect(_owner_url(), autocommit=True) as conn:
        seeded = conn.execute(
            "SELECT count(*) FROM tenants_agency WHERE slug = ANY(%s)", [list(SLUGS)]
        ).fetchone()
    if seeded and seeded[0] == len(SLUGS):
        print(f"reusing {_setup.BENCH_DB} (seeded earlier; --reseed to start over)")
        return
    tick = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "seed_load",
            "--i-know-this-is-not-production",
            "--reset",
            *seed_args,
        ],
        cwd=_setup.ROOT,
        env=_setup.bench_env() | {"DATABASE_OWNER_URL": _owner_url()},
        check=True,
    )
    print(f"seed_load took {time.monotonic() - tick:.0f} s", flush=True)


@dataclass
class Page:
    name: str
    url: str
    expect: str = ""  # a string the page must contain (it really found something)
    check_ms: float = 0.0  # the first request's time (check_pages)


@dataclass
class Result:
    p50: list[float]
    p95: list[float]

    def median_p50(self) -> float:
        return statistics.median(self.p50)

    def median_p95(self) -> float:
        return statistics.median(self.p95)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument("--seed-args", default="", help="passed to seed_load (smaller runs)")
    parser.add_argument("--setup-only", action="store_true", help="create and seed, no pages")
    parser.add_argument(
        "--slow-ms", type=float, default=3000, help="pages slower than this: 1 request a run"
    )
    args = parser.parse_args()

    ensure_seeded(args.reseed, args.seed_args.split())
    if args.setup_only:
        return 0
    _setup.setup_django()
    from django.test import Client

    pages, agent = plan()
    if args.only:
        wanted = set(args.only.split(","))
        pages = [p for p in pages if p.name in wanted or p.name == "baseline"]
    client = Client()
    client.force_login(agent)
    check_pages(client, pages)

    results = {p.name: Result([], []) for p in pages}
    for run in range(args.runs):
        for page in pages:
            # A page that takes seconds gets one request per run (else a run takes hours).
            n = 1 if page.check_ms > args.slow_ms else args.requests
            times = [timed(client, page.url) for _ in range(n)]
            results[page.name].p50.append(percentile(times, 0.5))
            results[page.name].p95.append(percentile(times, 0.95))
        print(f"run {run + 1}/{args.runs} done", flush=True)

    queries = {p.name: query_report(client, p.url) for p in pages}
    print(f"\nMachine: {_setup.machine()}")
    print(
        f"In-process Django test Client, signed in as an agent; {args.runs} runs of "
        f"{args.requests} requests per page; medians over runs. Target p95 < {TARGET_P95_MS} ms."
    )
    baseline = results["baseline"]
    slow = []
    for page in pages:
        r = results[page.name]
        count, slowest_ms, _ = queries[page.name]
        ratio = r.median_p50() / baseline.median_p50()
        verdict = (
            ""
            if page.name == "baseline"
            else (" ✓" if r.median_p95() < TARGET_P95_MS else " — over target")
        )
        single = " (1 request a run)" if page.check_ms > args.slow_ms else ""
        print(
            f"{page.name}{single}: p50 {r.median_p50():.1f} ms, "
            f"p95 {r.median_p95():.1f} ms{verdict} | "
            f"baseline dashboard p50 {baseline.median_p50():.1f} ms | ratio {ratio:.2f} | "
            f"{count} queries, slowest {slowest_ms:.1f} ms"
        )
        if page.name != "baseline" and r.median_p95() >= TARGET_P95_MS:
            slow.append(page)
    if args.explain:
        for page in slow:
            explain(client, page)
    return 0


def timed(client: Any, url: str) -> float:
    tick = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - tick) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return elapsed


def plan() -> tuple[list[Page], Any]:
    """The pages, with ids and search terms taken from the seeded data."""
    from django.contrib.auth.models import User

    from inbox.models import ConversationLabel, Label, Team
    from messaging.models import Contact, Conversation
    from tenants.models import Agency
    from tenants.scoping import agency_scope

    agency = Agency.objects.get(slug=SLUGS[0])
    agent = User.objects.get(username=f"agent01@{SLUGS[0]}.example")
    with agency_scope(agency):
        team = Team.objects.get(name="Benefits")
        label = Label.objects.get(name="urgent")
        thread = Conversation.objects.filter(contact__attributes__seed_load="long_thread").first()
        if thread is None:
            raise SystemExit("no long thread: was seed_load run with the defaults?")
        someone = Contact.objects.order_by("pk")[5000 % Contact.objects.count()]
        surname = someone.profile_name.split()[-1]
        labelled = ConversationLabel.objects.filter(label=label).count()
    print(
        f"agency {agency.slug}: thread {thread.pk}; label 'urgent' on {labelled:,} conversations; "
        f"searching for '{surname}', '{someone.wa_id[-7:]}', 'pothole', 'asbestos'"
    )
    inbox = "/inbox/"
    return [
        Page("baseline", "/"),
        Page("list all open (default)", inbox),
        Page("list any status", f"{inbox}?view=all&status=any"),
        Page("list mine", f"{inbox}?view=mine"),
        Page("list unassigned", f"{inbox}?view=unassigned"),
        Page("list resolved", f"{inbox}?status=resolved"),
        Page("list by team", f"{inbox}?team={team.pk}&status=any"),
        Page("list by label", f"{inbox}?label={label.pk}&status=any"),
        Page("list longest waiting", f"{inbox}?sort=waiting"),
        Page("list page 2 (keyset)", f"{inbox}?status=any&after=CURSOR"),
        Page("thread 500+ messages", f"{inbox}c/{thread.pk}/"),
        Page("search contact name", f"{inbox}?status=any&q={surname}", surname),
        Page("search phone", f"{inbox}?status=any&q={someone.wa_id[-7:]}"),
        Page("search message text", f"{inbox}?status=any&q=pothole"),
        Page("search rare word", f"{inbox}?status=any&q=asbestos"),
    ], agent


def check_pages(client: Any, pages: list[Page]) -> None:
    """Each page answers 200 and shows what it should; page 2 gets page 1's cursor."""
    for page in pages:
        if "CURSOR" in page.url:
            first = client.get(page.url.split("&after=")[0]).content.decode()
            match = CURSOR_IN_LINK.search(first)
            if not match:
                raise SystemExit("page 1 of the list has no next-page link with a cursor")
            page.url = page.url.replace("after=CURSOR", f"{match.group(1)}={match.group(2)}")
        tick = time.perf_counter()
        response = client.get(page.url)
        page.check_ms = (time.perf_counter() - tick) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{page.name}: {page.url} answered {response.status_code}")
        if page.expect and page.expect not in response.content.decode():
            raise SystemExit(f"{page.name}: {page.url} does not show {page.expect!r}")


def query_report(client: Any, url: str) -> tuple[int, float, str]:
    """How many queries one request runs, and the slowest one (time, SQL)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]), default=None)
    if slowest is None:
        return 0, 0.0, ""
    return len(captured), float(slowest["time"]) * 1000, slowest["sql"]


def explain(client: Any, page: Page) -> None:
    from django.db import connection

    from tenants.models import Agency
    from tenants.scoping import agency_scope

    _, ms, sql = query_report(client, page.url)
    print(f"\n== {page.name}: slowest query {ms:.1f} ms\n{sql}\n")
    with agency_scope(Agency.objects.get(slug=SLUGS[0])), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    sys.exit(main())
