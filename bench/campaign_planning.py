"""Campaign planning (``messaging.campaigns.planning.plan_campaign``: audience resolution,
skip analysis, cost estimate and messaging-limit check) for a 100,000-recipient campaign on
PostgreSQL as the application role (RLS on). Issue 11 §4: target < 5 s and < 300 MB.

Two audiences of one agency, seeded as a county's contact book looks after a few years:

- **Opted-in contacts** (a marketing template to people opted in to the "parks" topic):
  120,000 contacts, 100,000 of them with a consent history (general opt-ins, later
  opt-outs, topic opt-ins and opt-outs, WhatsApp "stop promotions"), 40 % US numbers (which
  Meta does not deliver marketing to), Canadian and Spanish numbers, unreachable contacts,
  open customer-service windows, a fifth already reached today (the messaging limit).
- **An uploaded CSV** of 100,000 rows (a utility template, values from its columns): blank
  lines, duplicate rows, invalid numbers, numbers the agency has never heard of.

Each figure is the median of several runs, each in a fresh process (so peak RSS is the
planning's own: the process's high-water mark is reset with ``/proc/self/clear_refs``
after Django is set up), beside a baseline measured in the same process: a plain SELECT
of the same contacts' ids and numbers, fetched into Python. The CSV upload itself (parse,
normalise, store) is reported too.

    .venv/bin/python bench/campaign_planning.py [--contacts 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# Its own database, so it can run beside the other benchmarks.
os.environ.setdefault("CIVIC_BENCH_DB", "civic_relay_bench_planning")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup

TARGET_SECONDS, TARGET_MB = 5.0, 300.0
TOPIC = "parks"


def _us(i: int) -> str:
    return f"1415{6000000 + i:07d}"  # San Francisco (US)


def _ca(i: int) -> str:
    return f"1416{6000000 + i:07d}"  # Toronto (Canada: marketing is delivered)


def _es(i: int) -> str:
    return f"346{10000000 + i:08d}"  # Spanish mobiles


def _number(i: int) -> str:
    kind = i % 10
    if kind < 4:
        return _us(i)
    if kind < 6:
        return _ca(i)
    return _es(i)


def seed(contacts: int) -> dict[str, int]:
    """The agency, its number and templates, the contacts with their histories, and the two
    campaigns; their ids."""
    from datetime import timedelta

    from django.utils import timezone

    from messaging.campaigns import services
    from messaging.models import Consent, Contact, Conversation, ReachedContact
    from messaging.policy import WHATSAPP_MARKETING_TOPIC
    from records.audit import Actor
    from templates_mgr.models import MessageTemplate
    from tenants.models import Agency, BusinessPortfolio, PhoneNumber, WhatsAppBusinessAccount
    from tenants.scoping import agency_scope

    rng = random.Random(11)  # noqa: S311 (seeded data, not secrets)
    actor = Actor.system("bench")
    agency = Agency.objects.create(name="Planning County", slug="planning-county")
    now = timezone.now()
    with agency_scope(agency):
        portfolio = BusinessPortfolio.objects.create(
            agency=agency,
            business_id="77",
            name="Planning",
            messaging_limit_tier=BusinessPortfolio.MessagingLimitTier.TIER_100K,
        )
        waba = WhatsAppBusinessAccount.objects.create(
            agency=agency, portfolio=portfolio, waba_id="7700", name="Planning", access_token="t"
        )
        number = PhoneNumber.objects.create(
            agency=agency,
            waba=waba,
            phone_number_id="770001",
            display_phone_number="+1 415 555 0177",
            verified_name="Planning County",
        )
        body = {
            "type": "BODY",
            "text": "Hello {{1}}, {{2}}",
            "example": {"body_text": [["A", "B"]]},
        }
        marketing = MessageTemplate.objects.create(
            agency=agency,
            waba=waba,
            name="summer_programs",
            language="en_US",
            category=MessageTemplate.Category.MARKETING,
            status=MessageTemplate.Status.APPROVED,
            components=[body],
        )
        utility = MessageTemplate.objects.create(
            agency=agency,
            waba=waba,
            name="permit_ready",
            language="en_US",
            category=MessageTemplate.Category.UTILITY,
            status=MessageTemplate.Status.APPROVED,
            components=[body],
        )
        extra = contacts // 5  # contacts who never gave consent (not in any audience)
        rows = Contact.objects.bulk_create(
            [
                Contact(
                    agency=agency,
                    wa_id=_number(i),
                    phone_e164=f"+{_number(i)}",
                    profile_name=f"Resident {i}",
                    attributes={"district": str(i % 7), "permit": f"P-{i}"},
                    unreachable_at=now if i % 50 == 7 else None,  # 2 %: 131026 earlier
                )
                for i in range(contacts + extra)
            ],
            batch_size=5000,
        )
        consents = []
        for i, contact in enumerate(rows[:contacts]):
            at = now - timedelta(days=400 - i % 300)
            roll = rng.random()
            history: list[tuple[str, str]] = []
            if roll < 0.85:
                history.append(("", Consent.Status.OPTED_IN))
                if rng.random() < 0.08:
                    history.append(("", Consent.Status.OPTED_OUT))
            if rng.random() < 0.6:
                history.append((TOPIC, Consent.Status.OPTED_IN))
                if rng.random() < 0.05:
                    history.append((TOPIC, Consent.Status.OPTED_OUT))
            if roll >= 0.85 and not history:
                history.append(("alerts", Consent.Status.OPTED_IN))  # another topic only
            if rng.random() < 0.03:
                history.append((WHATSAPP_MARKETING_TOPIC, Consent.Status.OPTED_OUT))
            for n, (topic, status) in enumerate(history):
                consents.append(
                    Consent(
                        agency=agency,
                        contact=contact,
                        topic=topic,
                        status=status,
                        source=Consent.Source.IMPORT,
                        recorded_at=at + timedelta(days=n),
                    )
                )
        Consent.objects.bulk_create(consents, batch_size=5000)
        Conversation.objects.bulk_create(
            [
                Conversation(
                    agency=agency,
                    phone_number=number,
                    contact=c,
                    window_expires_at=now + timedelta(hours=3) if i % 10 == 3 else None,
                )
                for i, c in enumerate(rows[: contacts // 2])
            ],
            batch_size=5000,
        )
        ReachedContact.objects.bulk_create(
            [
                ReachedContact(
                    agency=agency,
                    portfolio_key=portfolio.pk,
                    contact=c,
                    reached_at=now - timedelta(hours=2),
                )
                for c in rows[:contacts:5]
            ],
            batch_size=5000,
        )
        mapping = {
            "var_1": {"source": "attribute", "value": "profile_name"},
            "var_2": {"source": "attribute", "value": "district"},
        }
        by_contacts = services.create_campaign(
            actor=actor, agency=agency, name="Summer programs", phone_number=number
        )
        services.update_campaign(
            actor=actor,
            campaign=by_contacts,
            template=marketing,
            audience={"source": "contacts", "topic": TOPIC},
            variable_mapping=mapping,
        )
        started = time.perf_counter()
        upload = services.upload_audience_csv(
            actor=actor, agency=agency, file=_csv(contacts, rng), filename="permits.csv"
        )
        upload_seconds = time.perf_counter() - started
        if upload.upload is None:
            raise SystemExit(f"the CSV upload failed: {upload.error}")
        by_csv = services.create_campaign(
            actor=actor, agency=agency, name="Permits ready", phone_number=number
        )
        services.update_campaign(
            actor=actor,
            campaign=by_csv,
            template=utility,
            audience={"source": "csv", "upload_id": upload.upload.pk},
            variable_mapping={
                "var_1": {"source": "column", "value": "name"},
                "var_2": {"source": "column", "value": "permit"},
            },
        )
    return {
        "contacts": by_contacts.pk,
        "csv": by_csv.pk,
        "upload_ms": int(upload_seconds * 1000),
        "upload_rows": upload.upload.row_count,
    }


def _csv(rows: int, rng: random.Random) -> bytes:
    """``rows`` data rows: 2 % repeat an earlier number, 1 % invalid, 5 % numbers the agency
    does not know, a blank line every 1,000 rows; Excel's BOM and CRLF."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Phone", "name", "permit"])
    for i in range(rows):
        roll = rng.random()
        if roll < 0.02 and i:
            phone = "+" + _number(rng.randrange(i))
        elif roll < 0.03:
            phone = f"12{i:04d}"  # too short, no such code
        elif roll < 0.08:
            phone = "+" + _es(5_000_000 + i)  # not a contact
        else:
            phone = "+" + _number(i)
        writer.writerow([phone, f"Resident {i}", f"P-{i}"])
        if i % 1000 == 999:
            out.write("\r\n")
    return b"\xef\xbb\xbf" + out.getvalue().encode()


# --- one measurement, in a fresh process ------------------------------------------------------


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process on this machine (the PostgreSQL backend serving us)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(campaign_id: int) -> dict[str, Any]:
    """Baseline, then plan_campaign, in this process; seconds and peak RSS."""
    _setup.setup_django()
    from django.db import connection

    from messaging.campaigns.models import Campaign
    from messaging.campaigns.planning import plan_campaign
    from tenants.scoping import agency_scope, system_scope

    with system_scope():
        campaign = Campaign.objects.select_related("template", "phone_number__waba").get(
            pk=campaign_id
        )
    with agency_scope(campaign.agency_id), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute("SELECT count(*) FROM messaging_contact")
        cursor.fetchall()
        count_seconds = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute("SELECT id, wa_id FROM messaging_contact ORDER BY id")
        fetched = len(cursor.fetchall())
        fetch_seconds = time.perf_counter() - started
    base_mb = _rss_mb("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        reset = True
    except OSError:
        reset = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = int(cursor.fetchone()[0])
    started, cpu, db_cpu = time.perf_counter(), time.process_time(), _cpu_seconds(backend)
    plan = plan_campaign(campaign)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        # CPU is what the shared machine's load does not inflate (wall time waits for cores).
        "cpu_seconds": time.process_time() - cpu,
        "db_cpu_seconds": _cpu_seconds(backend) - db_cpu,
        "peak_mb": _rss_mb("VmHWM"),
        "base_mb": base_mb,
        "peak_reset": reset,
        "count_seconds": count_seconds,
        "fetch_seconds": fetch_seconds,
        "fetched": fetched,
        "total": plan.total,
        "will_send": plan.will_send,
        "skipped": plan.skipped,
        "cost": str(plan.cost.total) if plan.cost else None,
        "tier_needed": plan.tier.needed if plan.tier else None,
        "problems": plan.problems,
    }


def _child(campaign_id: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(campaign_id)],
        cwd=_setup.ROOT,
        env=_setup.bench_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> list[str]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--measure", type=int)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return []
    print(f"Machine: {_setup.machine()}", flush=True)
    _setup.prepare_database()
    _setup.setup_django()
    started = time.perf_counter()
    ids = seed(args.contacts)
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    _setup.vacuum(
        "messaging_contact",
        "messaging_consent",
        "messaging_conversation",
        "messaging_reachedcontact",
        "campaigns_audienceuploadrow",
    )
    lines = [
        f"CSV upload of {ids['upload_rows']:,} rows (parse, normalise, store): "
        f"{ids['upload_ms'] / 1000:.1f} s"
    ]
    print(lines[0], flush=True)
    for name in ("contacts", "csv"):
        _child(ids[name])  # warm-up (the database's cache), not counted
        runs = [_child(ids[name]) for _ in range(args.runs)]
        last = runs[-1]
        seconds = _setup.median_of([r["seconds"] for r in runs])
        peak = _setup.median_of([r["peak_mb"] for r in runs])
        base = _setup.median_of([r["base_mb"] for r in runs])
        fetch = _setup.median_of([r["fetch_seconds"] for r in runs])
        count = _setup.median_of([r["count_seconds"] for r in runs])
        cpu = _setup.median_of([r["cpu_seconds"] for r in runs])
        db_cpu = _setup.median_of([r["db_cpu_seconds"] for r in runs])
        print(
            f"  {name}: {last['total']:,} recipients, {last['will_send']:,} to send, "
            f"skipped {last['skipped']}, cost {last['cost']}, new for the limit "
            f"{last['tier_needed']}, problems {last['problems']}",
            flush=True,
        )
        lines.append(
            _setup.report(
                f"plan_campaign, {name} audience ({last['total']:,} recipients)",
                seconds * 1000,
                "ms",
                f"plain SELECT of {last['fetched']:,} contacts' id+wa_id",
                fetch * 1000,
            )
        )
        verdict = "within" if seconds < TARGET_SECONDS and peak < TARGET_MB else "OVER"
        line = (
            f"  CPU {cpu:.2f} s in Python + {db_cpu:.2f} s in its PostgreSQL backend; "
            f"peak RSS {peak:.0f} MB (process after Django setup {base:.0f} MB; "
            f"planning adds {peak - base:.0f} MB); count(*) {count * 1000:.0f} ms; "
            f"{verdict} target (< {TARGET_SECONDS:.0f} s, < {TARGET_MB:.0f} MB); "
            f"runs {', '.join(format(r['seconds'], '.2f') for r in runs)} s"
        )
        print(line, flush=True)
        lines.append(line)
    return lines


if __name__ == "__main__":
    main()
