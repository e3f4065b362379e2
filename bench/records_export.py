"""Benchmark: exporting seed_load's messages in each format (issue 12 §5).

Messages/s and peak RSS per format, each format in a fresh process (so its peak RSS is its
own), beside a plain ``COPY (SELECT … the same rows …) TO STDOUT`` in the same run as the
baseline. Targets: JSONL/CSV ≥ 20,000 msg/s, RSMF and EML ≥ 5,000 msg/s, peak RSS < 300 MB.

    .venv/bin/python bench/records_export.py                      # 1,000,000 messages
    .venv/bin/python bench/records_export.py --messages 200000    # smaller
    .venv/bin/python bench/records_export.py --formats jsonl,csv --reuse

The database ``civic_relay_bench_exports`` (``CIVIC_BENCH_DB``) is created, migrated and
seeded once (one agency); ``--reuse`` keeps an earlier seed of the same size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("CIVIC_BENCH_DB", "civic_relay_bench_exports")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup

SLUG = "exp-1"
TARGETS = {"jsonl": 20_000, "csv": 20_000, "rsmf": 5_000, "eml": 5_000, "mbox": 5_000, "pdf": 0}


def _owner_url() -> str:
    return f"postgres://civic_owner@{_setup.HOST}/{_setup.BENCH_DB}"


def seed(messages: int, reuse: bool) -> None:
    import psycopg

    if reuse:
        try:
            with psycopg.connect(_owner_url(), autocommit=True) as conn:
                conn.execute("SELECT set_config('app.all_agencies', 'on', false)")
                row = conn.execute(
                    "SELECT count(*) FROM messaging_message m"
                    " JOIN tenants_agency a ON a.id = m.agency_id WHERE a.slug = %s",
                    [SLUG],
                ).fetchone()
            if row and row[0] >= messages * 0.95:
                subprocess.run(  # the code may have new migrations since the seed
                    [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                    cwd=_setup.ROOT,
                    env=_setup.bench_env() | {"DATABASE_URL": _owner_url()},
                    check=True,
                )
                print(f"reusing {_setup.BENCH_DB}: {row[0]:,} messages", flush=True)
                return
        except psycopg.OperationalError:
            pass
    tick = time.monotonic()
    _setup.prepare_database()
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "seed_load",
            "--i-know-this-is-not-production",
            "--agencies",
            "1",
            "--slug-prefix",
            "exp",
            "--messages",
            str(messages),
            "--conversations",
            str(max(1, messages // 10)),
            "--agents",
            "5",
        ],
        cwd=_setup.ROOT,
        env=_setup.bench_env() | {"DATABASE_OWNER_URL": _owner_url()},
        check=True,
    )
    print(f"seeded {messages:,} messages in {time.monotonic() - tick:.0f} s", flush=True)


def copy_baseline() -> tuple[int, float]:
    """COPY of the same rows (the agency's messages with the joined columns) to nowhere."""
    import psycopg

    sql = (
        "COPY (SELECT m.id, m.conversation_id, m.wamid, m.direction, m.type, m.content,"
        " m.content_history, m.status, m.created_at, m.received_at, m.delivered_at, m.read_at,"
        " c.wa_id, c.profile_name, p.display_phone_number, md.sha256"
        " FROM messaging_message m JOIN tenants_agency a ON a.id = m.agency_id"
        " JOIN messaging_contact c ON c.id = m.contact_id"
        " JOIN tenants_phonenumber p ON p.id = m.phone_number_id"
        " LEFT JOIN messaging_mediaobject md ON md.id = m.media_id"
        " WHERE a.slug = %s AND m.type NOT IN ('edit', 'revoke') ORDER BY m.id) TO STDOUT"
    )
    with psycopg.connect(_owner_url()) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT set_config('app.all_agencies', 'on', false)")  # RLS is forced
        rows = 0
        tick = time.monotonic()
        with cursor.copy(psycopg.sql.SQL(sql).format(), [SLUG]) as copy:
            for data in copy:
                rows += bytes(data).count(b"\n")
        return rows, time.monotonic() - tick


def child(fmt: str) -> None:
    _setup.setup_django()
    from django.conf import settings

    from records.exports.services import build
    from records.selection import Selection
    from records.signing import write_new_key
    from tenants.models import Agency
    from tenants.scoping import system_scope

    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        key = Path(tmp) / "key.pem"
        write_new_key(key)
        settings.RECORDS_SIGNING_KEY = ""
        settings.RECORDS_SIGNING_KEY_FILE = str(key)
        with system_scope():
            agency = Agency.objects.get(slug=SLUG)
        tick = time.monotonic()
        built = build(agency.pk, Selection(), fmt, Path(tmp) / "out")
        seconds = time.monotonic() - tick
        size = sum(p.stat().st_size for p in built.path.rglob("*") if p.is_file())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures = {
        "messages": built.messages,
        "seconds": seconds,
        "peak_mb": usage.ru_maxrss / 1024,  # Linux reports KiB
        "bytes": size,
        "cpu": usage.ru_utime + usage.ru_stime,
    }
    print(json.dumps(figures))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--formats", default="jsonl,csv,rsmf,eml,mbox,pdf")
    parser.add_argument("--reuse", action="store_true", help="keep an earlier seed of this size")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    seed(args.messages, args.reuse)
    rows, seconds = copy_baseline()
    baseline = rows / seconds
    print(f"machine: {_setup.machine()}")
    print(
        f"COPY … TO STDOUT: {rows:,} rows in {seconds:.1f} s = {baseline:,.0f} rows/s", flush=True
    )
    failed = False
    for fmt in args.formats.split(","):
        result = subprocess.run(
            [sys.executable, __file__, "--child", fmt],
            cwd=_setup.ROOT,
            env=_setup.bench_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            print(f"{fmt}: FAILED\n{result.stderr[-2000:]}")
            failed = True
            continue
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        rate = figures["messages"] / figures["seconds"]
        target = TARGETS.get(fmt, 0)
        verdict = "" if not target else (" ok" if rate >= target else f" BELOW target {target:,}")
        rss = " ok" if figures["peak_mb"] < 300 else " ABOVE 300 MB"
        print(
            f"{fmt}: {figures['messages']:,} messages in {figures['seconds']:.1f} s"
            f" = {rate:,.0f} msg/s{verdict}"
            f" | peak RSS {figures['peak_mb']:.0f} MB{rss} | {figures['bytes'] / 2**20:,.0f} MiB"
            f" | COPY ratio {rate / baseline:.3f}"
            f" | {figures['messages'] / figures['cpu']:,.0f} msg per CPU-second of the exporter",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
